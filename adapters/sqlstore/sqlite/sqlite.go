// Package sqlite is Firstline's default store: one SQLite file, opened with
// github.com/mattn/go-sqlite3. It implements bot.Store (the engine's and the
// handoff flow's transactions), outbox.Store (the dispatcher),
// bot.PaymentSource (the built-in payments table) and the admin operations
// the CLI and demo seeding use.
//
// SQLite allows one writer at a time. The Store therefore keeps two
// connection pools on the same file: a single connection for transactions and
// writes, so writers queue in Go (honouring their contexts) instead of
// failing with SQLITE_BUSY, and a pool of read-only connections for reads
// made outside transactions (Due, payments, admin listings), which WAL mode
// lets run alongside a writer. busy_timeout still covers other processes,
// such as `firstline link` run against the file of a running server.
//
// Storage conventions: times are INTEGER Unix nanoseconds, read back in UTC,
// with NULL for the zero time.Time; empty optional keys and references are
// NULL, so unique indexes and foreign keys apply only to values that are set.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
)

// Compile-time checks that Store provides what the rest of Firstline needs.
var (
	_ bot.Store         = (*Store)(nil)
	_ outbox.Store      = (*Store)(nil)
	_ bot.PaymentSource = (*Store)(nil)
	_ bot.Tx            = (*tx)(nil)
)

// busyTimeout is how long a connection waits for a lock held by another
// connection or process before SQLite reports SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is a Firstline store in one SQLite file. It is safe for concurrent
// use. Create it with Open and release it with Close.
type Store struct {
	// db holds exactly one connection; every transaction and write goes
	// through it, so writers are serialized by the pool rather than by
	// SQLite's busy handler.
	db *sql.DB
	// read is a pool of query-only connections for reads outside
	// transactions. Under WAL they see the last committed state and never
	// wait for the writer.
	read *sql.DB
	// now is the clock used for times the caller left zero.
	now func() time.Time
	// path is the database file; lock, once Exclusive took it, is the
	// open lock file beside it, closed by Close.
	path string
	lock io.Closer
}

// Open opens the SQLite database at path, creating the file if needed, and
// applies any migrations not yet applied. path is a file name; ":memory:"
// is rejected because the Store's two connection pools would each see a
// different, empty database.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, fmt.Errorf("sqlite: open %q: a database file path is required", path)
	}
	if strings.ContainsRune(path, '?') {
		// The driver reads connection options after '?', so such a path
		// would silently lose part of its name.
		return nil, fmt.Errorf("sqlite: open %q: path must not contain '?'", path)
	}

	busy := fmt.Sprint(busyTimeout.Milliseconds())
	writeDSN := path + "?" + url.Values{
		"_txlock":       {"immediate"}, // take the write lock at BEGIN: read-then-write in WithTx cannot deadlock
		"_busy_timeout": {busy},
		"_foreign_keys": {"on"},
		"_journal_mode": {"WAL"},
		// FULL, not the driver's NORMAL: with NORMAL a power loss can undo
		// the last commits, and a message acknowledged to a platform must
		// survive that (promise 2: nothing is lost).
		"_synchronous": {"FULL"},
	}.Encode()
	readDSN := path + "?" + url.Values{
		"_busy_timeout": {busy},
		"_query_only":   {"on"},
	}.Encode()

	db, err := sql.Open("sqlite3", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &Store{db: db, now: time.Now, path: path}
	// Migrate before opening the read pool: the first connection creates the
	// file and switches it to WAL, which read-only connections cannot do.
	if err := retryBusy(ctx, busyTimeout, func() error { return s.migrate(ctx) }); err != nil {
		db.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite3", readDSN)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read = read
	if err := read.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return s, nil
}

// retryBusy runs f again while it fails with SQLITE_BUSY or SQLITE_LOCKED,
// for at most limit. The busy handler does not cover every lock conflict:
// when several processes open a new file at once, switching it to WAL and
// upgrading a read lock to a write lock fail at once (SQLite's deadlock
// avoidance) rather than wait, and the connection that lost simply has to
// try again. Every migration step is idempotent, so a repeat is safe.
func retryBusy(ctx context.Context, limit time.Duration, f func() error) error {
	deadline := time.Now().Add(limit)
	wait := 5 * time.Millisecond
	for {
		err := f()
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's "database is locked" or "table is
// locked".
func isBusy(err error) bool {
	var e sqlite3.Error
	return errors.As(err, &e) && (e.Code == sqlite3.ErrBusy || e.Code == sqlite3.ErrLocked)
}

// Close closes the database. Pending transactions are waited for by
// database/sql; call it last, after the dispatcher and engine have stopped.
func (s *Store) Close() error {
	var errs []error
	if s.read != nil {
		if err := s.read.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	// Let SQLite refresh its query-planner statistics, as it recommends
	// before closing a long-lived connection; failing that is harmless.
	_, _ = s.db.Exec("PRAGMA optimize")
	if err := s.db.Close(); err != nil {
		errs = append(errs, err)
	}
	// Last: the lock says no process is answering on this file, which
	// holds only once the connections are closed.
	if s.lock != nil {
		if err := s.lock.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Ping checks that the database can be reached for reads and writes, for
// the readiness probe.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// WithTx runs fn in an immediate transaction: committed when fn returns nil,
// rolled back when it returns an error (returned unchanged) or panics (the
// panic continues). Transactions are serialized, so fn may read and then
// write without lost updates.
//
// fn must use only the bot.Tx it is given: Store methods that write would
// wait for the connection fn holds, and Store reads do not see fn's
// uncommitted writes.
func (s *Store) WithTx(ctx context.Context, fn func(bot.Tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	done := false
	defer func() {
		// Reached without done on a panic or runtime.Goexit (t.FatalXxx in
		// tests); the only connection must go back to the pool either way.
		if !done {
			_ = sqlTx.Rollback()
		}
	}()

	if err := fn(&tx{tx: sqlTx, now: s.now}); err != nil {
		done = true
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rbErr))
		}
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// execOne runs a statement meant to change exactly one row and reports
// whether it did.
func execOne(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// notFound turns sql.ErrNoRows into bot.ErrNotFound, which callers outside
// the store can test for.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return bot.ErrNotFound
	}
	return err
}

// isUniqueViolation reports whether err is a UNIQUE constraint violation,
// such as a second open conversation at one key.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// nanos stores a time as Unix nanoseconds, and the zero time as NULL.
type nanos time.Time

// Value implements driver.Valuer.
func (t nanos) Value() (driver.Value, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	n := tt.UnixNano()
	// UnixNano is undefined outside about 1678–2262; refuse rather than
	// store a time that reads back as another.
	if !time.Unix(0, n).Equal(tt) {
		return nil, fmt.Errorf("time %s out of range", tt)
	}
	return n, nil
}

// timeDest scans Unix nanoseconds into a UTC time, and NULL into the zero time.
type timeDest struct{ t *time.Time }

// Scan implements sql.Scanner.
func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

// orNull stores the zero value of T (0, "") as NULL.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// nullable scans a column that may be NULL into dst, NULL becoming the
// zero value: the inverse of orNull.
type nullable[T any] struct{ dst *T }

// Scan implements sql.Scanner.
func (n nullable[T]) Scan(src any) error {
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.dst = v.V
	return nil
}

func orZero[T any](dst *T) nullable[T] { return nullable[T]{dst} }

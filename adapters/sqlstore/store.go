// Package sqlstore is Firstline's store: one SQL implementation of
// app.Store over database/sql, on SQLite (one file, the default, with
// github.com/mattn/go-sqlite3) or PostgreSQL (several replicas, with
// github.com/jackc/pgx/v5 behind database/sql). The queries are written
// once, with PostgreSQL's $n placeholders; a dialect (sqlite.go,
// postgres.go) holds what truly differs: how to connect, the schema and its
// migrations, how times are stored, row locks, case folding, how a batch of
// outbox rows is claimed, and leadership among replicas.
//
// Correctness under concurrency comes from the database:
//
//   - SQLite allows one writer at a time. Its Store keeps two connection
//     pools on the file: a single connection for transactions and writes,
//     so writers queue in Go (honouring their contexts) instead of failing
//     with SQLITE_BUSY, and a pool of read-only connections for reads
//     outside transactions, which WAL mode lets run beside the writer.
//   - PostgreSQL runs transactions at once, at READ COMMITTED. Reading a
//     conversation (by id or the open one at a key) or a handoff (by id or
//     by thread) inside WithTx locks its row until commit, so two replicas
//     handling one conversation or one handoff take turns, and a
//     transaction may read, decide and write back without losing another's
//     update. Handoff transitions are conditional UPDATEs: of concurrent
//     claims on any connections exactly one changes the row. The outbox's
//     Claim locks the rows it picks with FOR UPDATE SKIP LOCKED and leases
//     them in the same statement, so replicas drain the outbox together.
//
// Storage conventions: times are INTEGER Unix nanoseconds on SQLite and
// TIMESTAMPTZ (microseconds) on PostgreSQL, read back in UTC, with NULL for
// the zero time.Time; empty optional keys and references are NULL, so
// unique indexes and foreign keys apply only to values that are set.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/stats"
)

// Compile-time checks that Store provides what Firstline needs.
var (
	_ app.Store     = (*Store)(nil)
	_ stats.Records = (*Store)(nil)
	_ bot.Tx        = (*tx)(nil)
)

// Store is a Firstline store in a SQLite file or a PostgreSQL database. It
// is safe for concurrent use; several Stores (replicas) may share one
// PostgreSQL database. Create it with Open and release it with Close.
type Store struct {
	d dialect
	// db runs transactions and writes; read runs reads outside
	// transactions (on PostgreSQL the same pool). w and r run the store's
	// queries on them.
	db   *sql.DB
	read *sql.DB
	w, r conn
	// now is the clock used for times the caller left zero.
	now func() time.Time
	// retries counts transactions run again after a conflict (see WithTx).
	retries atomic.Int64
	// closers are closed by Close after the pools, in order.
	closers []io.Closer
}

// Open opens the database that FIRSTLINE_DB names, a SQLite file or a
// postgres:// URL, and applies the migrations it has not had yet.
func Open(ctx context.Context, db string) (*Store, error) {
	if IsPostgres(db) {
		return OpenPostgres(ctx, db)
	}
	return OpenSQLite(ctx, db)
}

// IsPostgres reports whether db names a PostgreSQL server rather than a
// SQLite file.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Close closes the database. It waits for operations and transactions in
// progress; call it last, after the dispatcher and the engine have stopped.
func (s *Store) Close() error {
	errs := []error{s.d.beforeClose(s)}
	if s.read != s.db {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.db.Close())
	// Last: what closers release (the SQLite file lock, the PostgreSQL
	// pool) must outlive the connections.
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return s.errorf("close: %w", err)
	}
	return nil
}

// Ping checks that the database can be reached for reads and writes, for
// the readiness probe.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.errorf("ping%s: %w", s.d.where(), s.d.redact(err))
	}
	if s.read != s.db {
		if err := s.read.PingContext(ctx); err != nil {
			return s.errorf("ping reader: %w", err)
		}
	}
	return nil
}

// Lead makes this process the leader of name among the replicas sharing
// the database, for work that must run once across the fleet (the Discord
// gateway). On SQLite, which serves one process, it always is.
func (s *Store) Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error) {
	return s.d.lead(ctx, s, name)
}

const (
	// retryBaseDelay and retryMaxDelay bound the randomized wait before a
	// transaction is run again: long enough for the transaction it lost to
	// to commit, short enough not to be felt in a chat.
	retryBaseDelay = time.Millisecond
	retryMaxDelay  = 50 * time.Millisecond
)

// WithTx runs fn in a transaction: committed when fn returns nil, rolled
// back when it returns an error (returned as it is) or panics (the panic
// continues). Conflicting writers are serialized (SQLite: one writer,
// BEGIN IMMEDIATE; PostgreSQL: the row locks of tx.go), so fn may read and
// then write without lost updates, also against other replicas.
//
// On PostgreSQL fn may be run more than once: when the transaction loses a
// conflict that retrying resolves, it is rolled back and run again, a few
// times at most, after a short random wait. These conflicts are a deadlock
// (40P01) or serialization failure (40001), a failed BEGIN (nothing ran
// yet), and creating the open conversation at a key where fn found none,
// because another replica created it at the same moment: the second run
// finds that conversation. fn must therefore be safe to re-run: do its work
// only through tx, and reset what it captures at its start. The engine's and
// the handoff flow's transactions are; the side effects they have inside fn
// are log lines and metric counts, which a retry may repeat.
//
// fn must use only the bot.Tx it is given: Store methods run on other
// connections, do not see fn's uncommitted writes and may wait for fn's
// locks (on SQLite, for the one connection fn holds).
func (s *Store) WithTx(ctx context.Context, fn func(bot.Tx) error) error {
	for attempt := 1; ; attempt++ {
		retry, err := s.runTx(ctx, func(t *tx) error { return fn(t) })
		if err == nil || !retry || attempt >= s.d.maxTxAttempts() || ctx.Err() != nil {
			return err
		}
		s.retries.Add(1)
		delay := min(retryBaseDelay<<attempt, retryMaxDelay)
		timer := time.NewTimer(rand.N(delay) + time.Microsecond)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return err
		}
	}
}

// View implements bot.Store: fn reads in a transaction of the read pool
// (on SQLite, a query-only connection that never waits for the writer; on
// PostgreSQL, a read-only snapshot), which takes no row locks and cannot
// write.
func (s *Store) View(ctx context.Context, fn func(bot.Tx) error) error {
	rtx, err := s.read.BeginTx(ctx, s.d.readTxOptions())
	if err != nil {
		return s.errorf("begin read: %w", s.d.redact(err))
	}
	defer func() { _ = rtx.Rollback() }() // read-only: nothing to undo
	return fn(&tx{conn: conn{rtx, viewDialect{s.d}}, now: s.now})
}

// viewDialect is the dialect of View's transactions: a read-only
// transaction may not lock rows (PostgreSQL refuses SELECT … FOR UPDATE
// in one), and has no writes to order them against.
type viewDialect struct{ dialect }

func (viewDialect) lockRow() string { return "" }

// runTx runs fn in one transaction and reports whether a failure is worth
// another attempt.
func (s *Store) runTx(ctx context.Context, fn func(*tx) error) (retry bool, err error) {
	sqlTx, err := s.db.BeginTx(ctx, s.d.txOptions())
	if err != nil {
		// BEGIN has no effect of its own, so it can always be tried again:
		// the connection was typically closed by the server (a restart, a
		// failover, an idle timeout of a proxy).
		return ctx.Err() == nil, s.errorf("begin: %w", s.d.redact(err))
	}
	t := &tx{conn: conn{sqlTx, s.d}, now: s.now}
	ended := false
	defer func() {
		// Reached without ended on a panic or runtime.Goexit (t.FatalXxx
		// in tests): the panic goes on, the transaction must not, and the
		// connection must go back to the pool.
		if !ended {
			_ = sqlTx.Rollback()
		}
	}()
	err = fn(t)
	ended = true
	if err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, s.errorf("rollback: %w", rbErr))
		}
		return t.raced || s.d.conflict(err), err
	}
	if err := sqlTx.Commit(); err != nil {
		return t.raced || s.d.conflict(err), s.errorf("commit: %w", err)
	}
	return false, nil
}

// write runs fn in a short transaction of its own, for store methods that
// change several rows together outside WithTx.
func (s *Store) write(ctx context.Context, fn func(*tx) error) error {
	_, err := s.runTx(ctx, fn)
	return err
}

// errorf is an error of this store, named by its dialect ("sqlite: …",
// "postgres: …").
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf(s.d.name()+": "+format, args...)
}

// execOne runs a statement meant to change exactly one row;
// bot.ErrNotFound when it changed none.
func (s *Store) execOne(ctx context.Context, query string, args ...any) error {
	ok, err := s.w.execOne(ctx, query, args...)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	return s.d.redact(err)
}

// tx implements bot.Tx on one transaction.
type tx struct {
	conn
	now func() time.Time
	// missed holds the keys at which ActiveConversation found no open
	// conversation in this transaction.
	missed map[bot.ConversationKey]bool
	// raced is set when CreateConversation collided with a conversation
	// another transaction created at a key this one had found empty: the
	// get-or-create race between replicas, which WithTx resolves by running
	// the transaction again.
	raced bool
}

func (t *tx) errorf(format string, args ...any) error {
	return fmt.Errorf(t.d.name()+": "+format, args...)
}

// sqlRunner is what *sql.DB and *sql.Tx have in common.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with $n placeholders on a pool or in a
// transaction, in its dialect's terms.
type conn struct {
	run sqlRunner
	d   dialect
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.run.ExecContext(ctx, c.d.query(query), c.d.args(args)...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.run.QueryRowContext(ctx, c.d.query(query), c.d.args(args)...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.run.QueryContext(ctx, c.d.query(query), c.d.args(args)...)
}

// execOne runs a statement meant to change at most one row and reports
// whether it did.
func (c conn) execOne(ctx context.Context, query string, args ...any) (bool, error) {
	n, err := c.execN(ctx, query, args...)
	return n > 0, err
}

// execN runs a statement and returns how many rows it changed.
func (c conn) execN(ctx context.Context, query string, args ...any) (int, error) {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// insert runs an INSERT into a table with an id column and returns the id
// of the row it stored; inserted is false when it stored none (ON
// CONFLICT DO NOTHING).
func (t *tx) insert(ctx context.Context, query string, args ...any) (id int64, inserted bool, err error) {
	return t.d.insert(ctx, t, query, args)
}

// querier runs queries: a conn, or a tx.
type querier interface {
	query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and scans every row with scan. No rows is a nil
// slice.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
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

// notFound turns sql.ErrNoRows into bot.ErrNotFound, which callers outside
// the store can test for.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return bot.ErrNotFound
	}
	return err
}

// stamp is a time as a query argument; the dialect stores it (args), the
// zero time as NULL.
type stamp time.Time

// mapStamps returns args with every stamp replaced by what store makes of
// it, in a copy: the caller's slice stays as it was.
func mapStamps(args []any, store func(time.Time) any) []any {
	var out []any
	for i, a := range args {
		st, ok := a.(stamp)
		if !ok {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = store(time.Time(st))
	}
	if out == nil {
		return args
	}
	return out
}

// timeCol scans a time column into a UTC time, and NULL into the zero
// time: SQLite's nanoseconds or PostgreSQL's TIMESTAMPTZ.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.Unix(0, v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

// orNull stores the zero value of T (0, "") as NULL. Columns stored this
// way are read back with COALESCE.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// placeholders returns n placeholders from $first on: "$2, $3, $4".
func placeholders(first, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(ps, ", ")
}

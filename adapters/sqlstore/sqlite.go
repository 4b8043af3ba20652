package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/firstlinehq/firstline/bot"
)

// busyTimeout is how long a SQLite connection waits for a lock held by
// another connection or process before it reports SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// sqliteDialect is SQLite's side of the store: one file, one writer.
type sqliteDialect struct{ path string }

// OpenSQLite opens the SQLite database at path, creating the file if
// needed, and applies any migrations not yet applied. path is a file name;
// ":memory:" is rejected because the Store's two connection pools would
// each see a different, empty database.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, fmt.Errorf("sqlite: open %q: a database file path is required", path)
	}
	if strings.ContainsRune(path, '?') {
		// The driver reads connection options after '?', so such a path
		// would silently lose part of its name.
		return nil, fmt.Errorf("sqlite: open %q: path must not contain '?'", path)
	}
	busy := fmt.Sprint(busyTimeout.Milliseconds())
	const stmtCache = "128"
	writeDSN := path + "?" + url.Values{
		"_txlock":       {"immediate"}, // take the write lock at BEGIN: read-then-write in WithTx cannot deadlock
		"_busy_timeout": {busy},
		"_foreign_keys": {"on"},
		"_journal_mode": {"WAL"},
		// FULL, not the driver's NORMAL: with NORMAL a power loss can undo
		// the last commits, and a message acknowledged to a platform must
		// survive that (promise 2: nothing is lost).
		"_synchronous": {"FULL"},
		// Statements prepared once per connection, not on every call:
		// the store runs a few dozen distinct ones, and preparing them
		// again was a tenth of the server's CPU under load.
		"_stmt_cache_size": {stmtCache},
	}.Encode()
	readDSN := path + "?" + url.Values{
		"_busy_timeout":    {busy},
		"_query_only":      {"on"},
		"_stmt_cache_size": {stmtCache},
	}.Encode()

	db, err := sql.Open("sqlite3", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Exactly one connection: every transaction and write goes through it,
	// so writers are serialized by the pool rather than by SQLite's busy
	// handler. busy_timeout still covers other processes, such as
	// `firstline link` run against the file of a running server.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	d := sqliteDialect{path: path}
	s := &Store{d: d, db: db, w: conn{db, d}, now: time.Now}
	// Migrate before opening the read pool: the first connection creates
	// the file and switches it to WAL, which read-only connections cannot.
	if err := retryBusy(ctx, busyTimeout, func() error { return s.migrateSQLite(ctx) }); err != nil {
		db.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite3", readDSN)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	// Query-only connections for reads outside transactions: under WAL
	// they see the last committed state and never wait for the writer.
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read, s.r = read, conn{read, d}
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

// migrateSQLite applies the migrations that schema_migrations does not list
// yet, each in its own transaction so a failure leaves the database at the
// last complete version.
func (s *Store) migrateSQLite(ctx context.Context) error {
	// In a BEGIN IMMEDIATE transaction, not as a bare statement: a bare
	// CREATE ... IF NOT EXISTS reads the schema first and then upgrades to
	// a write, and in WAL mode that upgrade fails at once (SQLITE_BUSY, no
	// busy wait) when another process starting on the same file wrote in
	// between.
	err := s.write(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: migrate: create schema_migrations: %w", err)
	}
	ms, err := migrations("sqlite")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range ms {
		// The check is made inside the (immediate) transaction, so two
		// processes starting on the same file at once apply each
		// migration once. Foreign keys are enforced here too, and PRAGMA
		// foreign_keys cannot be changed inside a transaction: a
		// migration that rebuilds a table must copy rows in an order that
		// keeps references valid.
		err := s.write(ctx, func(t *tx) error {
			var applied bool
			if err := t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&applied); err != nil || applied {
				return err
			}
			if _, err := t.run.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := t.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, stamp(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// ErrInUse is returned by Exclusive when another process answers customers
// on the same database file.
var ErrInUse = errors.New("another firstline process is answering on this database")

// ErrNoLock is returned by Exclusive where the system or the file system
// has no flock. The Store is usable: a second process on the file is not
// refused, and leases left by a stopped one run out as with several
// replicas instead of being taken back at once.
var ErrNoLock = errors.New("no file lock available")

// Recovered counts what Exclusive took back from a process that stopped
// without cleaning up.
type Recovered struct {
	// TurnLeases are conversations whose turn a dead process had started:
	// their unanswered messages are answered at once rather than when the
	// lease would have run out.
	TurnLeases int
	// Claims are outbox rows a dead process had claimed for sending: they
	// are due at once, still marked maybe sent, so the platform is asked
	// whether it has them before they are sent again.
	Claims int
}

// Exclusive makes this Store the only one answering customers on its
// SQLite file, as `firstline serve` and `firstline chat` need: SQLite
// serves one process, and PostgreSQL is the way to run several (there,
// replicas share the database and Exclusive does nothing). It takes an
// advisory lock on a file beside the database (path + ".lock"), held until
// Close, and fails with ErrInUse while another process holds it, or with
// ErrNoLock where no lock can be taken.
//
// Holding the lock proves that whoever took a turn lease or claimed an
// outbox row before is gone: the kernel drops the lock when a process
// dies, even by kill -9. Exclusive therefore releases those at once, so a
// restart after a crash answers and sends what was in flight without
// waiting for leases meant to tell a slow replica from a dead one. A row
// claimed again this way may skip the rest of a retry delay once.
func (s *Store) Exclusive(ctx context.Context) (Recovered, error) {
	d, ok := s.d.(sqliteDialect)
	if !ok {
		return Recovered{}, nil
	}
	if len(s.closers) > 0 {
		return Recovered{}, errors.New("sqlite: exclusive: already held")
	}
	lock, err := lockFile(d.path + ".lock")
	if errors.Is(err, ErrNoLock) {
		return Recovered{}, err
	}
	if err != nil {
		return Recovered{}, fmt.Errorf("sqlite: %s: %w", d.path, err)
	}
	s.closers = append(s.closers, lock)

	var r Recovered
	err = s.write(ctx, func(t *tx) error {
		var err error
		if r.TurnLeases, err = t.execN(ctx, `DELETE FROM turn_leases`); err != nil {
			return err
		}
		now := stamp(s.now())
		r.Claims, err = t.execN(ctx, `UPDATE outbox SET next_attempt_at = $1
			WHERE status = 'pending' AND in_flight AND next_attempt_at > $1`, now)
		return err
	})
	if err != nil {
		return Recovered{}, fmt.Errorf("sqlite: exclusive: release leases of a stopped process: %w", err)
	}
	return r, nil
}

func (sqliteDialect) name() string  { return "sqlite" }
func (sqliteDialect) where() string { return "" }

// query turns $n into ?n, SQLite's numbered parameters.
func (sqliteDialect) query(q string) string { return strings.ReplaceAll(q, "$", "?") }

// args stores times as Unix nanoseconds, the zero time as NULL.
func (sqliteDialect) args(args []any) []any {
	return mapStamps(args, func(t time.Time) any { return nanos(t) })
}

// nanos is a time as SQLite stores it: Unix nanoseconds, NULL for the zero
// time. UnixNano is undefined outside about 1678–2262: such a time is an
// error rather than one that reads back as another.
type nanos time.Time

// Value implements driver.Valuer.
func (t nanos) Value() (driver.Value, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	n := tt.UnixNano()
	if !time.Unix(0, n).Equal(tt) {
		return nil, fmt.Errorf("time %s out of range", tt)
	}
	return n, nil
}

// One writer at a time: nothing to lock or skip.
func (sqliteDialect) lockRow() string { return "" }

func (sqliteDialect) lockWrites(string) string { return "" }
func (sqliteDialect) lockKeyShare() string     { return "" }
func (sqliteDialect) skipLocked() string       { return "" }

// bytewise: SQLite's default collation (BINARY) is byte by byte.
func (sqliteDialect) bytewise(col string) string { return col }

// equalFold folds ASCII only, as NOCASE does; the indexes on references
// and emails are NOCASE.
func (sqliteDialect) equalFold(col, param string) string {
	return col + " = " + param + " COLLATE NOCASE"
}

// isFalse: booleans are integers, and the partial indexes say "= 0".
func (sqliteDialect) isFalse(col string) string { return col + " = 0" }

// later: SQLite's two-argument MAX is NULL when an argument is; times are
// integers, and 0 is before any stored one.
func (sqliteDialect) later(a, b string) string { return "MAX(" + a + ", COALESCE(" + b + ", 0))" }

// noLimit: SQLite's LIMIT -1.
func (sqliteDialect) noLimit() any { return -1 }

// txOptions: the write connection's DSN makes every transaction BEGIN
// IMMEDIATE.
func (sqliteDialect) txOptions() *sql.TxOptions     { return nil }
func (sqliteDialect) readTxOptions() *sql.TxOptions { return nil }

// One writer: a transaction never loses to another, so none is run again.
func (sqliteDialect) maxTxAttempts() int      { return 1 }
func (sqliteDialect) conflict(err error) bool { return false }

// uniqueViolation: SQLite's error does not name the index; a table has
// one unique key a transaction may collide on.
func (sqliteDialect) uniqueViolation(err error, _ string) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

func (sqliteDialect) foreignKeyViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}

// redact: a SQLite path carries no password.
func (sqliteDialect) redact(err error) error { return err }

// insert reads the id from the connection: cheaper than RETURNING, which
// the driver runs as a query.
func (sqliteDialect) insert(ctx context.Context, t *tx, query string, args []any) (int64, bool, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	id, err := res.LastInsertId()
	return id, err == nil, err
}

// claim selects the due rows and leases them in one write transaction.
// It looks on a read connection first: a dispatcher woken with nothing due
// (the rows it was woken for are already being sent) then costs the one
// writer nothing.
func (sqliteDialect) claim(ctx context.Context, s *Store, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error) {
	if due, err := queryAll(ctx, s.r, scanOutgoing, dueQuery, stamp(now), 1); err != nil || len(due) == 0 {
		return nil, err
	}
	var out []bot.Outgoing
	err := s.write(ctx, func(t *tx) error {
		var err error
		if out, err = queryAll(ctx, t, scanOutgoing, dueQuery, stamp(now), limit); err != nil {
			return err
		}
		until := stamp(now.Add(lease))
		for _, m := range out {
			if _, err := t.exec(ctx, `UPDATE outbox SET next_attempt_at = $1, in_flight = TRUE WHERE id = $2`, until, m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// lead: SQLite has one process by design, so it is always the leader,
// until it releases.
func (sqliteDialect) lead(ctx context.Context, _ *Store, _ string) (<-chan struct{}, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }, nil
}

// beforeClose lets SQLite refresh its query-planner statistics, as it
// recommends before closing a long-lived connection; failing that is
// harmless.
func (sqliteDialect) beforeClose(s *Store) error {
	_, _ = s.db.Exec("PRAGMA optimize")
	return nil
}

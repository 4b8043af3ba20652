// Package postgres is Firstline's store for running several replicas
// against one PostgreSQL database, with github.com/jackc/pgx/v5. It
// implements bot.Store (the engine's and the handoff flow's transactions),
// outbox.Store (the dispatcher), bot.PaymentSource (the built-in payments
// table) and the admin operations the CLI and demo seeding use, with the
// same behaviour as store/sqlite: both pass store/storetest.
//
// Where SQLite serializes every transaction, PostgreSQL runs them at once,
// so correctness across replicas comes from explicit locking:
//
//   - Transactions run at READ COMMITTED. Reading a conversation (by id or
//     the open one at a key) or a handoff (by id or by thread) inside WithTx
//     locks its row until commit, so two replicas handling one conversation
//     or one handoff take turns, and a transaction may read, decide and
//     write back without losing another's update.
//   - Handoff transitions (claim, unclaim, resolve) are conditional UPDATEs:
//     of concurrent claims on any connections exactly one changes the row.
//   - The outbox's Claim locks the head rows it picks with FOR UPDATE SKIP
//     LOCKED and pushes their next attempt past the lease in the same
//     statement, so replicas drain the outbox together and never get the
//     same row.
//   - Migrations run under a session-level advisory lock, so replicas
//     starting at once apply each migration once.
//
// Storage conventions: times are TIMESTAMPTZ (microseconds), read back in
// UTC, with NULL for the zero time.Time; empty optional keys and references
// are NULL, so unique indexes and foreign keys apply only to values that are
// set; ids are BIGINT identity columns.
//
// Connection strings are pgx's (postgres://user:password@host:port/db?…);
// pool_max_conns=N bounds this store's connections (default: the larger of 4
// and GOMAXPROCS). Errors never carry the password. It needs PostgreSQL 10
// or later (identity columns); CI runs it against 15.
package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

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

// Store is a Firstline store in a PostgreSQL database. It is safe for
// concurrent use, and several Stores (replicas) may share one database.
// Create it with Open and release it with Close.
type Store struct {
	pool *pgxpool.Pool
	// secret is the password of the connection string, kept only to
	// scrub it from errors: pgx's connect errors carry the configuration.
	secret string
	// where names the database in errors: host, port and database, never
	// the user's password.
	where string
	// schema is the schema Firstline's tables are in (the first of the
	// search_path that exists). Leadership is scoped to it, so that
	// deployments sharing a database in separate schemas do not take each
	// other's locks.
	schema string
	// now is the clock used for times the caller left zero.
	now func() time.Time
	// retries counts transactions re-run after a conflict (see WithTx).
	retries atomic.Int64
}

// Open connects to the PostgreSQL database that url names and applies any
// migrations not yet applied. It fails when the server cannot be reached.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := parseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where(cfg.ConnConfig), redact(err, cfg.ConnConfig.Password))
	}
	s := &Store{
		pool:   pool,
		secret: cfg.ConnConfig.Password,
		where:  where(cfg.ConnConfig),
		// To the microsecond PostgreSQL keeps, so that the times the store
		// fills in and writes back equal what reading them returns.
		now: func() time.Time { return time.Now().Truncate(time.Microsecond) },
	}
	// Migrations hold a session advisory lock, so they run on a connection
	// of their own that never goes back to the pool.
	if err := migrateWith(ctx, dialer(cfg.ConnConfig)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", s.where, err)
	}
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&s.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: read the current schema: %w", s.where, redact(err, s.secret))
	}
	return s, nil
}

// Close closes the store's connections. It waits for operations and
// transactions in progress to end; call it last, after the dispatcher and
// the engine have stopped.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers, for the readiness probe.
func (s *Store) Ping(ctx context.Context) error {
	err := s.withConn(ctx, func(conn *pgx.Conn) error { return conn.Ping(ctx) })
	if err != nil {
		return fmt.Errorf("postgres: ping %s: %w", s.where, err)
	}
	return nil
}

const (
	// maxTxAttempts bounds how often WithTx runs fn for one call.
	maxTxAttempts = 8
	// retryBaseDelay and retryMaxDelay bound the randomized wait before a
	// transaction is run again: long enough for the transaction it lost to
	// to commit, short enough not to be felt in a chat.
	retryBaseDelay = time.Millisecond
	retryMaxDelay  = 50 * time.Millisecond
)

// WithTx runs fn in a READ COMMITTED transaction: committed when fn returns
// nil, rolled back when it returns an error (returned as it is) or panics
// (the panic continues). Conversations and handoffs that fn reads are
// locked until the end of the transaction, so fn may read and then write
// without lost updates, also against other replicas.
//
// fn may be run more than once: when the transaction loses a conflict that
// retrying resolves, it is rolled back and run again, a few times at most,
// after a short random wait. These conflicts are a deadlock (40P01) or
// serialization failure (40001), a failed BEGIN (nothing ran yet), and
// creating the open conversation at a key where fn found none, because
// another replica created it at the same moment: the second run finds that
// conversation. fn must therefore be safe to re-run: do its work only
// through tx, and reset what it captures at its start. The engine's and the
// handoff flow's transactions are; the side effects they have inside fn are
// log lines and metric counts, which a retry may repeat.
//
// fn must use only the bot.Tx it is given: Store methods run on other
// connections, do not see fn's uncommitted writes and may wait for fn's
// locks.
func (s *Store) WithTx(ctx context.Context, fn func(bot.Tx) error) error {
	for attempt := 1; ; attempt++ {
		retry, err := s.runTx(ctx, fn)
		if err == nil || !retry || attempt == maxTxAttempts || ctx.Err() != nil {
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

// runTx runs fn in one transaction and reports whether a failure is worth
// another attempt.
func (s *Store) runTx(ctx context.Context, fn func(bot.Tx) error) (retry bool, err error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: begin: %w", s.redact(err))
	}
	// Release checks the connection: one left inside a transaction (a
	// failed rollback) or broken is closed, not reused.
	defer pc.Release()

	// Explicit, not the server default: the store's locking (see tx.go) is
	// designed for READ COMMITTED, where each statement sees what committed
	// before it and a row lock wait ends with the row's newest version.
	pgTx, err := pc.Conn().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		// BEGIN has no effect of its own, so it can always be tried again
		// on another connection: this one was typically closed by the
		// server (a restart, a failover, an idle timeout of a proxy).
		return ctx.Err() == nil, fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{tx: pgTx, now: s.now}
	ended := false
	defer func() {
		// Reached without ended on a panic or runtime.Goexit (t.FatalXxx
		// in tests): the panic goes on, the transaction must not.
		if !ended {
			_ = rollback(ctx, pgTx) // Release drops the connection if this failed
		}
	}()

	err = fn(t)
	ended = true
	if err != nil {
		if rbErr := rollback(ctx, pgTx); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("postgres: rollback: %w", rbErr))
		}
		return t.raced || isConflict(err), err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return t.raced || isConflict(err), fmt.Errorf("postgres: commit: %w", err)
	}
	return false, nil
}

// rollback ends tx. It uses a context of its own: the caller's may be the
// reason for the rollback (cancelled), and an open transaction must not be
// left on the connection.
func rollback(ctx context.Context, tx pgx.Tx) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	err := tx.Rollback(ctx)
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}

// isConflict reports whether err is a conflict with a concurrent
// transaction that running the transaction again resolves.
func isConflict(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", // serialization_failure
		"40P01": // deadlock_detected
		return true
	}
	return false
}

// isUniqueViolation reports whether err violates the unique index or
// constraint named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// isForeignKeyViolation reports whether err is a reference to a row that
// does not exist.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// withConn runs fn on a pooled connection, for work outside WithTx: each
// statement commits on its own.
func (s *Store) withConn(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.redact(err)
	}
	defer pc.Release()
	return fn(pc.Conn())
}

// parseConfig parses a connection string for a pool. pgxpool reads its own
// settings from it (pool_max_conns, pool_max_conn_lifetime, ...) and
// leaves the rest for the server.
func parseConfig(connString string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, redact(fmt.Errorf("parse connection string: %w", err), secretsIn(connString)...)
	}
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, runtime.GOMAXPROCS(0)))
	}
	// Load spreads again after a failover or when replicas are added
	// behind a proxy.
	if !strings.Contains(connString, "pool_max_conn_lifetime") {
		cfg.MaxConnLifetime = time.Hour
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["application_name"]; !ok {
		// So that a DBA looking at pg_stat_activity sees whose sessions these are.
		rp["application_name"] = "firstline"
	}
	return cfg, nil
}

// dialer returns a function that opens a connection with cfg. Its errors
// are redacted: pgconn.ConnectError carries the whole configuration,
// password included, for anyone who unwraps it.
func dialer(cfg *pgx.ConnConfig) func(ctx context.Context) (*pgx.Conn, error) {
	secrets := []string{cfg.Password}
	return func(ctx context.Context) (*pgx.Conn, error) {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, redact(fmt.Errorf("connect: %w", err), secrets...)
		}
		return conn, nil
	}
}

// where names the database cfg connects to, for error messages.
func where(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// querier is what *pgx.Conn and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and scans every row with scan. No rows is a nil
// slice, as from store/sqlite.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
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
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// notFound turns pgx.ErrNoRows into bot.ErrNotFound, which callers outside
// the store can test for.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.ErrNotFound
	}
	return err
}

// ts is a time as a query argument: the zero time is NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeCol scans a TIMESTAMPTZ column into a UTC time, and NULL into the
// zero time: the inverse of ts.
type timeCol struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (c timeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*c.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("scan time: infinite timestamp")
	default:
		*c.t = v.Time.UTC()
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

// sortByID orders outbox rows oldest first.
func sortByID(ms []bot.Outgoing) {
	slices.SortFunc(ms, func(a, b bot.Outgoing) int { return cmp.Compare(a.ID, b.ID) })
}

// closeTimeout bounds the polite goodbye to the server when a connection
// is closed.
const closeTimeout = 5 * time.Second

// closeConn closes conn, telling the server goodbye when it still listens.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx) // the connection is gone either way
}

// redact scrubs the connection's password from a pool error.
func (s *Store) redact(err error) error {
	return redact(err, s.secret)
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/firstlinehq/firstline/bot"
)

// postgresDialect is PostgreSQL's side of the store: several replicas on
// one database. Connection strings are pgx's
// (postgres://user:password@host:port/db?…); pool_max_conns=N bounds a
// replica's connections (default: the larger of 4 and GOMAXPROCS). Errors
// never carry the password. It needs PostgreSQL 10 or later (identity
// columns); CI runs it against 15.
type postgresDialect struct {
	// conn is the configuration of the pool's connections, for the
	// sessions of their own that advisory locks need.
	conn *pgx.ConnConfig
	// secret is the password of the connection string, kept only to
	// scrub it from errors: pgx's connect errors carry the configuration.
	secret string
	// at names the database in errors: host, port and database.
	at string
	// schema is the schema Firstline's tables are in (the first of the
	// search_path that exists). Leadership is scoped to it, so that
	// deployments sharing a database in separate schemas do not take each
	// other's locks.
	schema string
}

// OpenPostgres connects to the PostgreSQL database that url names and
// applies any migrations not yet applied. It fails when the server cannot
// be reached.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	cfg, err := parseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	d := postgresDialect{conn: cfg.ConnConfig, secret: cfg.ConnConfig.Password, at: where(cfg.ConnConfig)}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", d.at, d.redact(err))
	}
	// Migrations hold a session advisory lock, so they run on a connection
	// of their own that never goes back to the pool.
	if err := migratePostgres(ctx, d); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", d.at, err)
	}
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&d.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: read the current schema: %w", d.at, d.redact(err))
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{
		d: d, db: db, read: db, w: conn{db, d}, r: conn{db, d},
		// To the microsecond PostgreSQL keeps, so that the times the store
		// fills in and writes back equal what reading them returns.
		now:     func() time.Time { return time.Now().Truncate(time.Microsecond) },
		closers: []io.Closer{closerFunc(pool.Close)},
	}, nil
}

// MigratePostgres applies the migrations that the database url names has
// not had yet, for `firstline migrate` ahead of a deploy. OpenPostgres does
// the same, so running it first is optional; it is safe while replicas run
// or start.
func MigratePostgres(ctx context.Context, url string) error {
	cfg, err := parseConfig(url)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	d := postgresDialect{conn: cfg.ConnConfig, secret: cfg.ConnConfig.Password, at: where(cfg.ConnConfig)}
	if err := migratePostgres(ctx, d); err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", d.at, err)
	}
	return nil
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

// where names the database cfg connects to, for error messages.
func where(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// dial opens a connection outside the pool: an advisory lock belongs to a
// session, which must never be handed to other work. Its errors are
// redacted: pgconn.ConnectError carries the whole configuration, password
// included, for anyone who unwraps it.
func (d postgresDialect) dial(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, d.conn)
	if err != nil {
		return nil, d.redact(fmt.Errorf("connect: %w", err))
	}
	return conn, nil
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

// migrationLock is the key of the session-level advisory lock under which
// migrations run, the same for every replica and version of Firstline:
// "FIRSTLNE" in ASCII. It is per database; the tables go into the first
// schema of the connection's search_path.
const migrationLock int64 = 0x46_49_52_53_54_4c_4e_45

// lockPoll is how often a process waiting for another's migrations asks
// for the lock again.
const lockPoll = 50 * time.Millisecond

// migratePostgres applies the embedded migrations that schema_migrations
// does not list yet, each in its own transaction so that a failure leaves
// the database at the last complete version, on a connection of its own,
// closed afterwards. It holds the advisory lock throughout, so processes
// starting at once apply each migration once, and none of them reads a
// half-migrated schema as complete.
func migratePostgres(ctx context.Context, d postgresDialect) (err error) {
	ms, err := migrations("postgres")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	conn, err := d.dial(ctx)
	if err != nil {
		return err
	}
	// Closing the session releases the lock for certain, also when
	// unlocking failed.
	defer closeConn(conn)
	if err := lockMigrations(ctx, conn); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	// Under the lock: CREATE TABLE IF NOT EXISTS is not safe against a
	// concurrent CREATE of the same table (it can fail on the catalog's
	// unique index), the lock makes it so.
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[v] = true
	}
	// Versions this binary does not know are left alone: during a rolling
	// deploy, replicas of the previous version run on the newer schema.
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx sends the file with the simple protocol,
			// which runs several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// lockMigrations takes the migration lock on conn's session, waiting for
// another process to finish its migrations. It asks with
// pg_try_advisory_lock rather than waiting in pg_advisory_lock, so a
// caller that gives up (ctx) leaves no backend queued for the lock.
func lockMigrations(ctx context.Context, conn *pgx.Conn) error {
	for {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, migrationLock).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		timer := time.NewTimer(lockPoll/2 + rand.N(lockPoll))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

func (postgresDialect) name() string    { return "postgres" }
func (d postgresDialect) where() string { return " " + d.at }

// query: the store's queries are written for PostgreSQL.
func (postgresDialect) query(q string) string { return q }

// args passes times as they are, the zero time as NULL.
func (postgresDialect) args(args []any) []any {
	return mapStamps(args, func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	})
}

// Row locks. FOR NO KEY UPDATE rather than FOR UPDATE: it serializes
// transactions that read a row to change it, but does not block the
// FOR KEY SHARE locks that inserting a message, handoff or outbox row
// referencing the conversation takes for its foreign key.
func (postgresDialect) lockRow() string { return ` FOR NO KEY UPDATE` }

// lockWrites: SHARE ROW EXCLUSIVE conflicts with itself and with every
// writer, and lets readers (the engine's lookups) through.
func (postgresDialect) lockWrites(table string) string {
	return `LOCK TABLE ` + table + ` IN SHARE ROW EXCLUSIVE MODE`
}
func (postgresDialect) lockKeyShare() string { return ` FOR KEY SHARE` }

// skipLocked: rows another transaction holds are left to the next run.
func (postgresDialect) skipLocked() string { return ` FOR UPDATE SKIP LOCKED` }

// bytewise orders as SQLite does, whatever the database's collation.
func (postgresDialect) bytewise(col string) string { return col + ` COLLATE "C"` }

// equalFold folds case with lower(), which follows the database's locale.
func (postgresDialect) equalFold(col, param string) string {
	return "lower(" + col + ") = lower(" + param + ")"
}

func (postgresDialect) isFalse(col string) string { return "NOT " + col }

// later: GREATEST ignores NULLs.
func (postgresDialect) later(a, b string) string { return "GREATEST(" + a + ", " + b + ")" }

// noLimit: LIMIT NULL.
func (postgresDialect) noLimit() any { return nil }

// txOptions: explicit, not the server default: the store's locking is
// designed for READ COMMITTED, where each statement sees what committed
// before it and a row lock wait ends with the row's newest version.
func (postgresDialect) txOptions() *sql.TxOptions {
	return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
}

// readTxOptions: a report reads one snapshot and takes no row locks.
func (postgresDialect) readTxOptions() *sql.TxOptions {
	return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
}

func (postgresDialect) maxTxAttempts() int { return 8 }

// conflict: a serialization failure or a deadlock another run resolves.
func (postgresDialect) conflict(err error) bool {
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

func (postgresDialect) uniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

func (postgresDialect) foreignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// redact scrubs the connection's password from a connection error.
func (d postgresDialect) redact(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || errors.Is(err, sql.ErrNoRows) {
		return err // a statement's error: no configuration in it
	}
	return redact(err, d.secret)
}

// insert returns the id with RETURNING; no row is no insert.
func (postgresDialect) insert(ctx context.Context, t *tx, query string, args []any) (int64, bool, error) {
	ids, err := queryAll(ctx, t, scanID, query+` RETURNING id`, args...)
	if err != nil || len(ids) == 0 {
		return 0, false, err
	}
	return ids[0], true, nil
}

// claimQuery picks the due rows like dueQuery, locks them, skipping rows
// another dispatcher is claiming this instant, and leases them until $3,
// all in one statement. A row another dispatcher claimed and committed
// since this statement's snapshot is locked, then re-checked on its newest
// version (READ COMMITTED), whose next attempt is in the future (or which
// is sent): skipped too. That is why headsFrom tests o.status again.
const claimQuery = `WITH claimed AS (
		SELECT o.id, ` + parentRef + ` AS parent_ref, o.next_attempt_at AS was_due, o.in_flight AS was_in_flight
		` + headsFrom + `
		ORDER BY o.id
		LIMIT $2
		FOR UPDATE OF o SKIP LOCKED
	)
	UPDATE outbox o SET next_attempt_at = $3, in_flight = TRUE
	FROM claimed c
	WHERE o.id = c.id
	RETURNING ` + outgoingColsHead + `c.parent_ref` + outgoingColsMid + `c.was_due` + outgoingColsTail + `c.was_in_flight`

// claim selects, locks and leases the due rows in one statement, so
// dispatchers on several replicas never get the same row, and none waits
// for another's rows.
func (postgresDialect) claim(ctx context.Context, s *Store, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error) {
	return queryAll(ctx, s.r, scanOutgoing, claimQuery, stamp(now), limit, stamp(now.Add(lease)))
}

// Lead intervals: how often a candidate tries for the lock, and how often
// the leader checks that its session (and so its lock) is still alive.
const (
	leadRetry = time.Second
	leadCheck = 2 * time.Second
)

// lead makes this replica the one leader of name among all replicas on the
// database. Replicas are those using the same schema of the same database.
// It blocks until the lock is taken or ctx ends. The lock is a session
// advisory lock on a connection of its own: when the leader dies, its
// session ends and another replica takes over within about a second.
//
// lost is closed when leadership is lost (the session broke, or release
// was called); release gives it up. Work done as leader must stop when
// lost is closed: another replica may be leader by then.
func (d postgresDialect) lead(ctx context.Context, _ *Store, name string) (<-chan struct{}, func(), error) {
	key := leadKey(d.schema, name)
	for {
		conn, err := d.dial(ctx)
		if err == nil {
			var got bool
			err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got)
			if err == nil && got {
				lost, release := hold(conn)
				return lost, release, nil
			}
			closeConn(conn)
		}
		// Not the leader, or the database is unreachable: keep trying, as
		// the other replicas do; the caller's context bounds the wait.
		t := time.NewTimer(leadRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
	}
}

// hold watches a leader's session until it breaks or release is called.
func hold(conn *pgx.Conn) (<-chan struct{}, func()) {
	lost := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lost)
		defer closeConn(conn) // ending the session releases the lock for certain
		t := time.NewTicker(leadCheck)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), leadCheck)
				err := conn.Ping(ctx)
				cancel()
				if err != nil {
					return // the caller learns it from lost
				}
			}
		}
	}()
	var once sync.Once
	release := func() {
		once.Do(func() { close(stop) })
		<-done
	}
	return lost, release
}

// leadKey maps a leadership name in a schema to an advisory lock key,
// apart from the migration lock's key. Advisory locks are per database, so
// the schema is part of the key: two deployments in separate schemas of one
// database each have their own leader.
func leadKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("firstline/lead/" + schema + "/" + name))
	return int64(h.Sum64() &^ (1 << 63))
}

func (postgresDialect) beforeClose(*Store) error { return nil }

// closerFunc is a Close without an error, as a closer.
type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

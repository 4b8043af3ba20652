package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrationFiles holds the schema, one numbered file per change
// (0001_init.sql, 0002_….sql), numbered like store/sqlite's where the
// change is the same. Files are never edited once released: a change to the
// schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the session-level advisory lock under which
// migrations run, the same for every replica and version of Firstline:
// "FIRSTLNE" in ASCII. It is per database; the tables go into the first
// schema of the connection's search_path.
const migrationLock int64 = 0x46_49_52_53_54_4c_4e_45

// lockPoll is how often a process waiting for another's migrations asks
// for the lock again.
const lockPoll = 50 * time.Millisecond

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations") // sorted by name
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		if len(ms) > 0 && version <= ms[len(ms)-1].version {
			return nil, fmt.Errorf("migration %s: version %d is not above %s", name, version, ms[len(ms)-1].name)
		}
		b, err := fs.ReadFile(migrationFiles, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: name, sql: string(b)})
	}
	return ms, nil
}

// Migrate applies the migrations that the database url names has not had
// yet, for `firstline migrate` ahead of a deploy. Open does the same, so
// running it first is optional; it is safe while replicas run or start.
func Migrate(ctx context.Context, url string) error {
	cfg, err := parseConfig(url)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := migrateWith(ctx, dialer(cfg.ConnConfig)); err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", where(cfg.ConnConfig), err)
	}
	return nil
}

// migrateWith applies the migrations on a connection of its own, closed
// afterwards: it holds a session advisory lock, which must never reach a
// pool.
func migrateWith(ctx context.Context, dial func(ctx context.Context) (*pgx.Conn, error)) error {
	conn, err := dial(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	return migrate(ctx, conn)
}

// migrate applies the embedded migrations that schema_migrations does not
// list yet, each in its own transaction so that a failure leaves the
// database at the last complete version. It holds the advisory lock
// throughout, so processes starting at once apply each migration once, and
// none of them reads a half-migrated schema as complete.
//
// On any failure after the lock is taken, conn is closed: a connection that
// might still hold the session lock must not go back to a pool.
func migrate(ctx context.Context, conn *pgx.Conn) (err error) {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := lockMigrations(ctx, conn); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer func() {
		// The caller's context may be why we are leaving; unlock anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrationLock); uerr != nil || err != nil {
			// Closing the session releases the lock for certain.
			closeConn(conn)
		}
	}()

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
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
	}
	// Versions this binary does not know are left alone: during a rolling
	// deploy, replicas of the previous version run on the newer schema.
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
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

// apply runs one migration and records it, in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// No arguments: pgx sends the file with the simple protocol, which
		// runs several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
		return err
	})
}

package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3"
)

// database is the FIRSTLINE_DB of one run, fresh: a SQLite file in the
// run's folder, or a schema of its own on the -pg server.
type database struct {
	dsn string
	// drop removes the schema (PostgreSQL); SQLite's file goes with the
	// folder.
	drop func(context.Context) error
}

func freshDatabase(ctx context.Context, pg, dir string) (database, error) {
	if pg == "" {
		return database{dsn: filepath.Join(dir, "firstline.db"), drop: func(context.Context) error { return nil }}, nil
	}
	return freshSchema(ctx, pg)
}

// freshSchema creates an empty schema on the server at base and returns
// a URL whose search_path is that schema.
func freshSchema(ctx context.Context, base string) (database, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return database{}, fmt.Errorf("-pg: want a postgres:// URL")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "loadbench_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()
	if err := pgExec(ctx, base, "CREATE SCHEMA "+ident); err != nil {
		return database{}, fmt.Errorf("-pg: create schema %s: %w", name, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	drop := func(ctx context.Context) error {
		if err := pgExec(ctx, base, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			return fmt.Errorf("-pg: drop schema %s: %w", name, err)
		}
		return nil
	}
	return database{dsn: u.String(), drop: drop}, nil
}

func pgExec(ctx context.Context, dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, stmt)
	return err
}

// sqliteCommitRate is how many single-row INSERT transactions per second
// a SQLite file in dir commits, opened as the store opens its own
// (journal_mode=WAL, synchronous=FULL, BEGIN IMMEDIATE, one connection).
func sqliteCommitRate(ctx context.Context, dir string, n int) (float64, error) {
	dsn := filepath.Join(dir, "commits.db") + "?" + url.Values{
		"_txlock": {"immediate"}, "_journal_mode": {"WAL"}, "_synchronous": {"FULL"},
	}.Encode()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return 0, fmt.Errorf("sqlite commit rate: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := checkSQLiteMode(ctx, db); err != nil {
		return 0, fmt.Errorf("sqlite commit rate: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE commits (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("sqlite commit rate: %w", err)
	}
	rate, err := commitRate(n, func(i int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO commits (body) VALUES (?)`, fmt.Sprintf("row %d", i)); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite commit rate: %w", err)
	}
	return rate, nil
}

// checkSQLiteMode makes sure the connection runs as measured: WAL, FULL.
func checkSQLiteMode(ctx context.Context, db *sql.DB) error {
	var mode string
	var sync int
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") || sync != 2 {
		return fmt.Errorf("journal_mode=%s synchronous=%d; want wal and 2 (FULL)", mode, sync)
	}
	return nil
}

// pgCommitRate is the same measurement on the PostgreSQL schema at dsn.
func pgCommitRate(ctx context.Context, dsn string, n int) (float64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("postgres commit rate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE TABLE loadbench_commits (id bigserial PRIMARY KEY, body text NOT NULL)`); err != nil {
		return 0, fmt.Errorf("postgres commit rate: %w", err)
	}
	rate, err := commitRate(n, func(i int) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO loadbench_commits (body) VALUES ($1)`, fmt.Sprintf("row %d", i)); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres commit rate: %w", err)
	}
	return rate, nil
}

// commitRate runs commit n times and returns the commits per second.
func commitRate(n int, commit func(i int) error) (float64, error) {
	start := time.Now()
	for i := range n {
		if err := commit(i); err != nil {
			return 0, fmt.Errorf("commit %d: %w", i+1, err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

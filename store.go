package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/outbox"
	"github.com/firstlinehq/firstline/store/postgres"
	"github.com/firstlinehq/firstline/store/sqlite"
)

// appStore is what the commands need of a store: the engine's and the
// dispatcher's interfaces, the built-in payment source, and the admin
// operations. SQLite and PostgreSQL both provide it.
type appStore interface {
	bot.Store
	outbox.Store
	bot.PaymentSource
	Ping(ctx context.Context) error
	Close() error
	Link(ctx context.Context, l bot.Link) error
	Unlink(ctx context.Context, id bot.Identity) error
	Links(ctx context.Context) ([]bot.Link, error)
	PutCustomer(ctx context.Context, c bot.Customer) error
	PutPayment(ctx context.Context, p bot.Payment) error
	CustomerCount(ctx context.Context) (int, error)
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error)
	statsStore
}

// isPostgres reports whether FIRSTLINE_DB names a PostgreSQL server.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the database FIRSTLINE_DB names and applies its
// migrations.
func openStore(ctx context.Context, db string) (appStore, error) {
	if isPostgres(db) {
		// The URL may carry a password: postgres' errors name the server
		// without it, so the URL is not repeated here.
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("FIRSTLINE_DB: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", db, err)
	}
	return st, nil
}

// exclusiveStore is a store that one process at a time answers on (SQLite).
type exclusiveStore interface {
	Exclusive(ctx context.Context) (sqlite.Recovered, error)
}

// takeOver makes this process the one answering on a SQLite file, before
// the engine and the dispatcher start: a second `serve` or `chat` on the
// same file is refused (SQLite serves one process; PostgreSQL is the way
// to run several), and what a crashed predecessor left leased is taken
// back at once. PostgreSQL stores are shared by replicas and skip this.
func takeOver(ctx context.Context, st appStore, db string, log *slog.Logger) error {
	ex, ok := st.(exclusiveStore)
	if !ok {
		return nil
	}
	r, err := ex.Exclusive(ctx)
	if errors.Is(err, sqlite.ErrNoLock) {
		log.Warn("cannot lock the database file: a second process on it is not refused, and a restart after a crash waits for the leases of unfinished work to run out",
			"db", db, "err", err)
		return nil
	}
	if errors.Is(err, sqlite.ErrInUse) {
		return fmt.Errorf("database %s is in use by another firstline serve or chat; stop it, or use another FIRSTLINE_DB (several replicas need PostgreSQL)", db)
	}
	if err != nil {
		return fmt.Errorf("open database %s: %w", db, err)
	}
	if r != (sqlite.Recovered{}) {
		log.Info("taking over from a process that stopped mid-work",
			"turns", r.TurnLeases, "outgoing_messages", r.Claims)
	}
	return nil
}

// dbForLog is FIRSTLINE_DB as it may appear in logs and messages: a
// PostgreSQL connection string without its passwords.
func dbForLog(db string) string {
	if !isPostgres(db) {
		return db
	}
	return postgres.Redacted(db)
}

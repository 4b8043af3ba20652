package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/adapters/sqlstore/storetest"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
)

// mustOpen opens a store on a new file in a temporary directory.
func mustOpenSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	return mustOpenSQLitePath(t, filepath.Join(t.TempDir(), "firstline.db"))
}

func mustOpenSQLitePath(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLiteStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) app.Store { return mustOpenSQLite(t) })
}

// embeddedMigrations lists the migration files, as Open embeds them.
func embeddedMigrations(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "sqlite", "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	return names
}

func TestSQLiteMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firstline.db")

	// Data written after the first Open survives the second: re-running
	// migrations neither fails nor recreates tables.
	s := mustOpenSQLitePath(t, path)
	if err := s.PutCustomer(t.Context(), bot.Customer{ID: "C-1"}); err != nil {
		t.Fatalf("PutCustomer: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = mustOpenSQLitePath(t, path)
	if n, err := s.CustomerCount(t.Context()); err != nil || n != 1 {
		t.Errorf("CustomerCount after reopening = %d, %v; want 1", n, err)
	}
	// A third store on the same file while the second is open.
	mustOpenSQLitePath(t, path)

	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("query schema_migrations: %v", err)
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var version int
		var appliedAt int64
		if err := rows.Scan(&version, &appliedAt); err != nil {
			t.Fatal(err)
		}
		if age := time.Since(time.Unix(0, appliedAt)); age < 0 || age > time.Minute {
			t.Errorf("migration %d applied_at is %v ago", version, age)
		}
		versions = append(versions, version)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	files := embeddedMigrations(t)
	var want []int
	for _, f := range files {
		prefix, _, _ := strings.Cut(filepath.Base(f), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			t.Fatalf("migration file %s: %v", f, err)
		}
		want = append(want, v)
	}
	if !slices.Equal(versions, want) {
		t.Errorf("schema_migrations versions = %v, want %v (one per file)", versions, want)
	}

	var mode string
	if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestOpenConcurrently starts two processes' worth of stores on one new
// file at once, as `firstline migrate` and a server might.
func TestSQLiteOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firstline.db")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := sqlstore.OpenSQLite(t.Context(), path)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestSQLiteOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"empty", ""},
		{"in memory", ":memory:"},
		{"query string", filepath.Join(t.TempDir(), "x.db?mode=ro")},
		{"missing directory", filepath.Join(t.TempDir(), "missing", "x.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sqlstore.OpenSQLite(t.Context(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.path)
			}
			if !strings.HasPrefix(err.Error(), "sqlite: ") {
				t.Errorf("Open error %q does not say where it comes from", err)
			}
		})
	}
}

// TestNanoseconds: SQLite keeps the full precision of time.Time, beyond
// the microseconds the shared suite can expect of every store.
func TestSQLiteNanoseconds(t *testing.T) {
	s := mustOpenSQLite(t)
	ctx := t.Context()
	opened := time.Date(2025, 6, 2, 9, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Console, Channel: "tty"}, State: bot.StateBot, OpenedAt: opened}
	var got bot.Conversation
	err := s.WithTx(ctx, func(tx bot.Tx) error {
		if err := tx.CreateConversation(ctx, &c); err != nil {
			return err
		}
		var err error
		got, err = tx.Conversation(ctx, c.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.OpenedAt.Equal(opened) || got.OpenedAt.Location() != time.UTC {
		t.Errorf("OpenedAt = %v, want %v in UTC", got.OpenedAt, opened)
	}

	// Times int64 nanoseconds cannot hold are refused, not corrupted.
	far := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Console, Channel: "far"}, State: bot.StateBot,
		OpenedAt: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.WithTx(ctx, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &far) }); err == nil {
		t.Error("CreateConversation with a time in the year 3000 succeeded, want an error")
	}
}

// TestForeignKeys: references are enforced, so a bug cannot leave a
// handoff without its conversation.
func TestSQLiteForeignKeys(t *testing.T) {
	s := mustOpenSQLite(t)
	ctx := t.Context()
	err := s.WithTx(ctx, func(tx bot.Tx) error {
		return tx.CreateHandoff(ctx, &bot.Handoff{ConversationID: 999, Trigger: bot.TriggerPhrase})
	})
	if err == nil {
		t.Error("CreateHandoff for a conversation that does not exist succeeded")
	}
}

// TestSQLiteDefaults: fields a caller leaves zero get the values the
// engine would have set, and are written back.
func TestSQLiteDefaults(t *testing.T) {
	checkDefaults(t, mustOpenSQLite(t), time.Now(), func(stream string) bool { return stream != "" })
}

// checkDefaults creates a conversation, a handoff and an outgoing message
// with their defaults left zero, and checks what was written back: times
// not before before, and a stream that wantStream accepts.
func checkDefaults(t *testing.T, s *sqlstore.Store, before time.Time, wantStream func(string) bool) {
	t.Helper()
	ctx := t.Context()
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Console, Channel: "tty"}}
	h := bot.Handoff{Trigger: bot.TriggerButton}
	o := bot.Outgoing{Platform: bot.Console, Channel: "tty", Kind: bot.KindReply, Text: "hi"}
	err := s.WithTx(ctx, func(tx bot.Tx) error {
		if err := tx.CreateConversation(ctx, &c); err != nil {
			return err
		}
		h.ConversationID = c.ID
		if err := tx.CreateHandoff(ctx, &h); err != nil {
			return err
		}
		return tx.Enqueue(ctx, &o)
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != bot.StateBot || c.OpenedAt.Before(before) {
		t.Errorf("conversation defaults: state %q, opened %v", c.State, c.OpenedAt)
	}
	if h.State != bot.HandoffWaiting || h.CreatedAt.Before(before) {
		t.Errorf("handoff defaults: state %q, created %v", h.State, h.CreatedAt)
	}
	if !wantStream(o.Stream) || o.Status != bot.OutPending || !o.NextAttemptAt.Equal(o.CreatedAt) || o.CreatedAt.Before(before) {
		t.Errorf("outgoing defaults: stream %q, status %q, created %v, next attempt %v", o.Stream, o.Status, o.CreatedAt, o.NextAttemptAt)
	}
}

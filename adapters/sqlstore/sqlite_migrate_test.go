package sqlstore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/bot"
)

// mustSQLiteAt creates a SQLite database at path holding the embedded
// migrations up to version, applied as OpenSQLite applies them (foreign
// keys on, each in a transaction recorded in schema_migrations), and
// returns a plain connection to it, closed at the end of the test.
func mustSQLiteAt(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path+"?_foreign_keys=on&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		t.Fatalf("create schema_migrations: %v", err)
	}
	applied := 0
	for _, name := range embeddedMigrations(t) {
		prefix, _, _ := strings.Cut(filepath.Base(name), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			t.Fatalf("migration file %s: %v", name, err)
		}
		if v > version {
			break
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, string(b)); err != nil {
			tx.Rollback()
			t.Fatalf("migrate %s: %v", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		applied = v
	}
	if applied != version {
		t.Fatalf("migrations reach version %d, not %d", applied, version)
	}
	return db
}

// TestSQLiteMigrateDirectory: migration 0010 rebuilds identities and
// verifications without their foreign keys to customers; a database from
// before keeps its rows, and then takes links to customers the table does
// not hold.
func TestSQLiteMigrateDirectory(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "firstline.db")
	db := mustSQLiteAt(t, path, 9)

	t0 := time.Date(2025, time.June, 2, 9, 30, 0, 123456789, time.UTC) // SQLite keeps nanoseconds
	ns := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO customers (id, name, email) VALUES ('C-1', 'Ada', 'ada@example.com'), ('C-2', 'Grace', '')`, nil},
		{`INSERT INTO identities (platform, workspace, user_id, customer_id, created_at) VALUES
			('slack', 'T1', 'U1', 'C-1', ?), ('discord', '', 'D1', 'C-2', ?)`, []any{ns(0), ns(time.Minute)}},
		{`INSERT INTO verifications (platform, workspace, user_id, conversation_id, step, customer_id, code_hash,
				expires_at, attempts, sends, sends_since, locked_until, updated_at) VALUES
			('slack', 'T1', 'U2', 5, 'code', 'C-1', 's:h', ?, 2, 1, ?, NULL, ?),
			('discord', '', 'D2', NULL, 'email', NULL, '', NULL, 0, 0, NULL, ?, ?)`,
			[]any{ns(10 * time.Minute), ns(0), ns(time.Minute), ns(time.Hour), ns(2 * time.Minute)}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("at migration 9: %v", err)
		}
	}
	// At migration 9 the links still reference the table: the setup is
	// the schema from before.
	if _, err := db.ExecContext(ctx, `INSERT INTO identities (platform, workspace, user_id, customer_id, created_at)
		VALUES ('slack', 'T1', 'U9', 'C-404', 0)`); err == nil {
		t.Fatal("at migration 9, a link to an unknown customer was taken: the foreign key is not there")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustOpenSQLitePath(t, path)
	wantLinks := []bot.Link{
		{Identity: bot.Identity{Platform: bot.Discord, User: "D1"}, CustomerID: "C-2", CreatedAt: t0.Add(time.Minute)},
		{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}, CustomerID: "C-1", CreatedAt: t0},
	}
	links, err := s.Links(ctx)
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	if diff := cmp.Diff(wantLinks, links); diff != "" {
		t.Errorf("links after migration 10 (-want +got):\n%s", diff)
	}
	wantVerifications := []bot.Verification{
		{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U2"}, ConversationID: 5, Step: bot.VerifyCode,
			CustomerID: "C-1", CodeHash: "s:h", ExpiresAt: t0.Add(10 * time.Minute), Attempts: 2, Sends: 1,
			SendsSince: t0, UpdatedAt: t0.Add(time.Minute)},
		{Identity: bot.Identity{Platform: bot.Discord, User: "D2"}, Step: bot.VerifyEmail,
			LockedUntil: t0.Add(time.Hour), UpdatedAt: t0.Add(2 * time.Minute)},
	}
	for _, want := range wantVerifications {
		var got bot.Verification
		err := s.WithTx(ctx, func(tx bot.Tx) error {
			var err error
			got, err = tx.Verification(ctx, want.Identity)
			return err
		})
		if err != nil {
			t.Errorf("Verification(%+v) after migration 10: %v", want.Identity, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("verification after migration 10 (-want +got):\n%s", diff)
		}
	}
	if got, err := s.Customer(ctx, "C-1"); err != nil || got != (bot.Customer{ID: "C-1", Name: "Ada", Email: "ada@example.com"}) {
		t.Errorf("Customer(C-1) after migration 10 = %+v, %v", got, err)
	}

	// Now links and verifications may name a customer of the company's
	// API, which the table does not hold.
	apiUser := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U9"}
	if err := s.Link(ctx, bot.Link{Identity: apiUser, CustomerID: "C-API-9", CreatedAt: t0}); err != nil {
		t.Errorf("Link to a customer the table does not hold: %v", err)
	}
	err = s.WithTx(ctx, func(tx bot.Tx) error {
		return tx.PutVerification(ctx, bot.Verification{Identity: apiUser, Step: bot.VerifyCode, CustomerID: "C-API-9", UpdatedAt: t0})
	})
	if err != nil {
		t.Errorf("PutVerification naming a customer the table does not hold: %v", err)
	}

	// The rebuilt tables have no foreign keys left, the file is sound, and
	// the indexes of the rebuilt tables are back.
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, table := range []string{"identities", "verifications"} {
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_list(?)`, table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d foreign keys (%v), want none", table, n, err)
		}
	}
	var check string
	if err := raw.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	for _, index := range []string{"identities_customer", "verifications_customer", "verifications_conversation", "verifications_updated"} {
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, index).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d, %v; want it", index, n, err)
		}
	}

	// Removing a customer still takes its links and ends its
	// verifications, with no foreign key to do it.
	r, err := s.RemoveCustomer(ctx, "C-1", true, nil)
	if err != nil {
		t.Fatalf("RemoveCustomer(C-1): %v", err)
	}
	if r != (bot.Removed{Links: 1}) {
		t.Errorf("RemoveCustomer(C-1) = %+v, want 1 link", r)
	}
	var v bot.Verification
	err = s.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		v, err = tx.Verification(ctx, wantVerifications[0].Identity)
		return err
	})
	if err != nil || v.CustomerID != "" {
		t.Errorf("verification after removing its customer = %+v, %v; want no customer", v, err)
	}
}

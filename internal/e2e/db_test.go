package e2e

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the store uses
)

// store is the bot's SQLite file, opened read-only: the test looks, the
// product's code does not interpret. WAL lets it read while the bot
// writes.
type store struct{ db *sql.DB }

func openReadOnly(t *testing.T, path string) store {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return store{db}
}

// dedupeKeys returns the dedupe keys of every stored platform message.
func (s store) dedupeKeys(t *testing.T) map[string]bool {
	t.Helper()
	ctx, cancel := withTimeout()
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT dedupe_key FROM messages WHERE dedupe_key IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// count runs a COUNT query.
func (s store) count(t *testing.T, query string) int {
	t.Helper()
	ctx, cancel := withTimeout()
	defer cancel()
	var n int
	if err := s.db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// unsentQuery counts the outbox rows not sent (pending or dead).
const unsentQuery = `SELECT COUNT(*) FROM outbox WHERE status <> 'sent'`

// unsent describes the outbox rows not sent, for a failure message.
func (s store) unsent(t *testing.T) string {
	t.Helper()
	ctx, cancel := withTimeout()
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, channel, status, attempts, last_error, substr(text, 1, 60)
		FROM outbox WHERE status <> 'sent' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, attempts int
		var kind, channel, status, lastErr, text string
		if err := rows.Scan(&id, &kind, &channel, &status, &attempts, &lastErr, &text); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("#%d %s to %s %s after %d attempts (%q): %q", id, kind, channel, status, attempts, lastErr, text))
	}
	return strings.Join(out, "; ")
}

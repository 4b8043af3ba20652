package e2e

import (
	"database/sql"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the store uses
)

// store is the bot's SQLite file, opened read-only once the bot stopped:
// the test looks, the product's code does not interpret.
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

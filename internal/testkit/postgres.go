package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot/app"
)

// PostgresEnv names the variable that points tests at a PostgreSQL server
// (.ci/run sets it); tests needing PostgreSQL skip without it.
const PostgresEnv = "FIRSTLINE_TEST_PG"

// PostgresSchema creates an empty schema of its own on the FIRSTLINE_TEST_PG
// server and returns a URL whose search_path points at it, so each test
// gets a fresh database without creating one; the schema is dropped at the
// end. It skips the test when FIRSTLINE_TEST_PG is not set.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL case", PostgresEnv)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "firstline_kit_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		admin.Close(ctx)
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a PostgreSQL store on a fresh schema (see PostgresSchema),
// for WithStore.
func Postgres(t testing.TB) app.Store {
	t.Helper()
	st, err := sqlstore.OpenPostgres(context.Background(), PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

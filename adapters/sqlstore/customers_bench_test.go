package sqlstore_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// BenchmarkImportCustomers measures `firstline customers import` of a
// large file: 100,000 customers into an empty store, and the same rows
// again (all unchanged). Opening the store and the first import of the
// "again" case are not timed.
//
//	FIRSTLINE_TEST_PG=… go test -run '^$' -bench BenchmarkImportCustomers -benchtime 1x -count 3 ./adapters/sqlstore/
func BenchmarkImportCustomers(b *testing.B) {
	const n = 100_000
	cs := make([]bot.Customer, n)
	for i := range cs {
		cs[i] = bot.Customer{ID: fmt.Sprintf("C-%06d", i), Name: fmt.Sprintf("Customer %d", i),
			Email: fmt.Sprintf("customer%d@example.com", i)}
	}
	sqlite := func(b *testing.B) *sqlstore.Store {
		s, err := sqlstore.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	postgres := func(b *testing.B) *sqlstore.Store {
		s, err := sqlstore.OpenPostgres(b.Context(), testkit.PostgresSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("sqlite/100k", func(b *testing.B) { benchImport(b, sqlite, cs, false) })
	b.Run("sqlite/100k-again", func(b *testing.B) { benchImport(b, sqlite, cs, true) })
	b.Run("postgres/100k", func(b *testing.B) { benchImport(b, postgres, cs, false) })
}

// benchImport imports cs into a store open returns empty, b.N times, each
// time in a new store; with again, the store holds cs already.
func benchImport(b *testing.B, open func(*testing.B) *sqlstore.Store, cs []bot.Customer, again bool) {
	ctx := b.Context()
	want := bot.ImportResult{Added: len(cs)}
	if again {
		want = bot.ImportResult{Unchanged: len(cs)}
	}
	b.StopTimer()
	for range b.N {
		s := open(b)
		if again {
			if res, err := s.ImportCustomers(ctx, cs, false); err != nil || res.Added != len(cs) {
				b.Fatalf("first import = %+v, %v", res, err)
			}
		}
		b.StartTimer()
		res, err := s.ImportCustomers(ctx, cs, false)
		b.StopTimer()
		if err != nil {
			b.Fatalf("ImportCustomers: %v", err)
		}
		if res.Added != want.Added || res.Unchanged != want.Unchanged || res.Updated != 0 || len(res.Conflicts) != 0 {
			b.Fatalf("ImportCustomers = %d added, %d updated, %d unchanged, %d conflicts; want %+v",
				res.Added, res.Updated, res.Unchanged, len(res.Conflicts), want)
		}
		if err := s.Close(); err != nil {
			b.Fatalf("Close: %v", err)
		}
	}
}

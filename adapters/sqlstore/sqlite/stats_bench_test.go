package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/firstlinehq/firstline/adapters/sqlstore/sqlite"
	"github.com/firstlinehq/firstline/adapters/sqlstore/storetest"
)

// go test -run '^$' -bench BenchmarkConversationRecords -benchtime 10x ./store/sqlite/
func BenchmarkConversationRecords(b *testing.B) {
	storetest.BenchmarkRecords(b, func(b *testing.B) storetest.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, 10000)
}

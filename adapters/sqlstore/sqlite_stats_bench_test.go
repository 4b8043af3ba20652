package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/adapters/sqlstore/storetest"
	"github.com/firstlinehq/firstline/bot/app"
)

// go test -run '^$' -bench BenchmarkSQLiteConversationRecords -benchtime 10x ./adapters/sqlstore/
func BenchmarkSQLiteConversationRecords(b *testing.B) {
	storetest.BenchmarkRecords(b, func(b *testing.B) app.Store {
		s, err := sqlstore.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, 10000)
}

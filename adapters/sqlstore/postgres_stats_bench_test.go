package sqlstore_test

import (
	"testing"

	"github.com/firstlinehq/firstline/adapters/sqlstore/storetest"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// FIRSTLINE_TEST_PG=… go test -run '^$' -bench BenchmarkPostgresConversationRecords -benchtime 10x ./adapters/sqlstore/
func BenchmarkPostgresConversationRecords(b *testing.B) {
	storetest.BenchmarkRecords(b, func(b *testing.B) app.Store { return testkit.Postgres(b) }, 10000)
}

package postgres_test

import (
	"testing"

	"github.com/firstlinehq/firstline/adapters/sqlstore/storetest"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// FIRSTLINE_TEST_PG=… go test -run '^$' -bench BenchmarkConversationRecords -benchtime 10x ./store/postgres/
func BenchmarkConversationRecords(b *testing.B) {
	storetest.BenchmarkRecords(b, func(b *testing.B) storetest.Store { return testkit.Postgres(b) }, 10000)
}

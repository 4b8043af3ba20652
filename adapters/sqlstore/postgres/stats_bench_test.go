package postgres_test

import (
	"testing"

	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/store/storetest"
)

// FIRSTLINE_TEST_PG=… go test -run '^$' -bench BenchmarkConversationRecords -benchtime 10x ./store/postgres/
func BenchmarkConversationRecords(b *testing.B) {
	storetest.BenchmarkRecords(b, func(b *testing.B) storetest.Store { return testkit.Postgres(b) }, 10000)
}

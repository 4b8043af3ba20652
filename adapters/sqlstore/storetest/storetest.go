// Package storetest is the contract test suite of Firstline's stores. Every
// store (SQLite today, PostgreSQL for several replicas) runs the same suite
// from its own tests, so the engine, the handoff flow and the outbox
// dispatcher can rely on one behaviour whichever database is configured:
//
//	func TestSQLiteStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "test.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Times used by the suite have microsecond precision, the finest that
// PostgreSQL keeps; a store that keeps more checks that itself.
package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
)

// Store is the store under test: everything Firstline needs of its
// database, as bot/app declares it.
type Store = app.Store

// Run runs the contract suite. open is called once per subtest and must
// return an empty store, closed by a t.Cleanup it registers. Subtests do
// not run in parallel with each other, so stores may share a server.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"Conversations/CreateGetUpdate", testConversationCreateGetUpdate},
		{"Conversations/OneOpenPerKey", testConversationOneOpenPerKey},
		{"Conversations/ConcurrentGetOrCreate", testConversationConcurrentGetOrCreate},
		{"Messages/Dedupe", testMessageDedupe},
		{"Messages/ByDedupeKey", testMessageByDedupeKey},
		{"Messages/Recent", testMessagesRecent},
		{"Messages/Processed", testMessagesProcessed},
		{"Handoffs/CreateGet", testHandoffCreateGet},
		{"Handoffs/OpenHandoff", testHandoffOpen},
		{"Handoffs/ClaimUnclaimResolve", testHandoffClaimUnclaimResolve},
		{"Handoffs/ConcurrentClaim", testHandoffConcurrentClaim},
		{"Handoffs/Rate", testHandoffRate},
		{"Handoffs/QueuePosition", testHandoffQueuePosition},
		{"Handoffs/ByThread", testHandoffByThread},
		{"Outbox/EnqueueDue", testOutboxEnqueueDue},
		{"Outbox/Streams", testOutboxStreams},
		{"Outbox/EmptyStream", testOutboxEmptyStream},
		{"Outbox/Parents", testOutboxParents},
		{"Outbox/NotFound", testOutboxNotFound},
		{"Payments", testPayments},
		{"Payments/ReferenceCase", testPaymentReferenceCase},
		{"Customers", testCustomers},
		{"Identities", testIdentities},
		{"Tx/RollbackOnError", testRollbackOnError},
		{"Tx/RollbackOnPanic", testRollbackOnPanic},
		{"Tx/ReadThenWrite", testReadThenWrite},
		{"Tx/ConcurrentReadersAndWriters", testConcurrentReadersAndWriters},
		{"Times", testTimes},
		{"Conversations/Open", testOpenConversations},
		{"Messages/LastDedupeKey", testLastDedupeKey},
		{"Handoffs/OpenHandoffs", testOpenHandoffs},
		{"Identities/ByEmail", testCustomerByEmail},
		{"Identities/LinkIdentity", testLinkIdentity},
		{"Outbox/Defer", testOutboxDefer},
		{"Outbox/StreamTail", testOutboxStreamTail},
		{"Outbox/Claim", testOutboxClaim},
		{"Outbox/ClaimQueued", testOutboxClaimQueued},
		{"Outbox/MaybeSent", testOutboxMaybeSent},
		{"Outbox/Unsure", testOutboxUnsure},
		{"Outbox/ClaimRows", testOutboxClaimRows},
		{"Tx/ReadsAreStable", testReadsAreStable},
		{"Queue/Reping", testQueueReping},
		{"Queue/ConcurrentReping", testQueueConcurrentReping},
		{"Queue/Notice", testQueueNotice},
		{"Queue/Claimed", testQueueClaimed},
		{"Privacy/AuditAppendAndQuery", testAuditAppendAndQuery},
		{"Privacy/CustomerData", testCustomerData},
		{"Privacy/EraseCustomer", testEraseCustomer},
		{"Privacy/EraseByAuthor", testEraseByAuthor},
		{"Privacy/Feedback", testFeedback},
		{"Privacy/Intakes", testIntakes},
		{"Privacy/UnlinkIdentity", testUnlinkIdentity},
		{"Privacy/RetentionMessages", testRetentionMessages},
		{"Privacy/RetentionOutbox", testRetentionOutbox},
		{"Privacy/RetentionScrub", testRetentionScrub},
		{"Privacy/Verifications", testVerifications},
		{"Privacy/VerifyBudgets", testVerifyBudgets},
		{"Privacy/TokenBudget", testTokenBudget},
		{"Turns/Leases", testTurnLeases},
		{"Turns/LeaseRace", testTurnLeaseRace},
		{"Turns/MarkProcessedRace", testMarkProcessedRace},
		{"Turns/Stranded", testStrandedConversations},
		{"Turns/ViewHolder", testViewTurnHolder},
		{"Stats/Topic", testStatsTopic},
		{"Stats/Usage", testStatsUsage},
		{"Stats/Records", testStatsRecords},
		{"Stats/Queue", testStatsQueue},
		{"Stats/OutboxPending", testStatsOutboxPending},
		{"Customers/Import", testImportCustomers},
		{"Customers/ImportConflicts", testImportConflicts},
		{"Customers/ImportAllOrNothing", testImportAllOrNothing},
		{"Customers/ImportConcurrent", testImportConcurrent},
		{"Customers/List", testListCustomers},
		{"Customers/ByEmail", testCustomersByEmail},
		{"Customers/Remove", testRemoveCustomer},
		{"Customers/DirectoryLinks", testDirectoryLinks},
		{"Privacy/ConnectStates", testConnectStates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

// at returns a fixed instant plus d. It has microsecond precision so that
// every store can keep it exactly.
func at(d time.Duration) time.Time {
	return time.Date(2025, time.June, 2, 9, 30, 0, 123456000, time.UTC).Add(d)
}

// mustTx runs fn in a transaction and returns its value, failing the test
// on any error. fn reports failures by returning them, never by t.Fatal,
// so the transaction is always ended by the store.
func mustTx[T any](t *testing.T, s Store, fn func(tx bot.Tx) (T, error)) T {
	t.Helper()
	var v T
	err := s.WithTx(t.Context(), func(tx bot.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	if err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	return v
}

// mustDo runs fn in a transaction, failing the test on any error.
func mustDo(t *testing.T, s Store, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.WithTx(t.Context(), fn); err != nil {
		t.Fatalf("WithTx: %v", err)
	}
}

// txErr runs fn in a transaction and returns the error WithTx returned.
func txErr(t *testing.T, s Store, fn func(tx bot.Tx) error) error {
	t.Helper()
	return s.WithTx(t.Context(), fn)
}

// wantNotFound fails the test unless err wraps bot.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("%s: err = %v, want bot.ErrNotFound", what, err)
	}
}

// wantDiff fails the test when got differs from want. Times compare with
// time.Time.Equal.
func wantDiff(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// key returns a distinct conversation key for each n.
func key(n int) bot.ConversationKey {
	return bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D1", Thread: fmt.Sprintf("1700000000.%06d", n)}
}

// mustConversation creates an open conversation at k.
func mustConversation(t *testing.T, s Store, k bot.ConversationKey) bot.Conversation {
	t.Helper()
	c := bot.Conversation{
		Key:      k,
		State:    bot.StateBot,
		Private:  true,
		User:     "U1",
		UserName: "Ada",
		OpenedAt: at(0),
	}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(t.Context(), &c) })
	if c.ID == 0 {
		t.Fatal("CreateConversation did not set ID")
	}
	return c
}

// mustHandoff creates a waiting handoff of conversation convID.
func mustHandoff(t *testing.T, s Store, convID int64, created time.Time) bot.Handoff {
	t.Helper()
	h := bot.Handoff{
		ConversationID: convID,
		State:          bot.HandoffWaiting,
		Trigger:        bot.TriggerPhrase,
		Reason:         "asked for a person",
		AgentPlatform:  bot.Slack,
		AgentChannel:   "C-AGENTS",
		CreatedAt:      created,
	}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateHandoff(t.Context(), &h) })
	if h.ID == 0 {
		t.Fatal("CreateHandoff did not set ID")
	}
	return h
}

// mustEnqueue stores m in the outbox and returns it with its ID.
func mustEnqueue(t *testing.T, s Store, m bot.Outgoing) bot.Outgoing {
	t.Helper()
	mustDo(t, s, func(tx bot.Tx) error { return tx.Enqueue(t.Context(), &m) })
	if m.ID == 0 {
		t.Fatal("Enqueue did not set ID")
	}
	return m
}

// mustCustomer stores a customer with the given id.
func mustCustomer(t *testing.T, s Store, id string) {
	t.Helper()
	if err := s.PutCustomer(t.Context(), bot.Customer{ID: id, Name: "Customer " + id, Email: id + "@example.com"}); err != nil {
		t.Fatalf("PutCustomer(%s): %v", id, err)
	}
}

package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// The contract of bot.TurnLeases, and MarkProcessed's report, on which the
// engine's "answered once across replicas" rests.

// testTurnLeases walks one conversation's lease through two replicas:
// taken, refused while it runs (noting a wanted turn), released, taken by
// the other, not renewable by the one that lost it, taken over once it ran
// out; and it stays apart from another conversation's lease.
func testTurnLeases(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	other := mustConversation(t, s, key(2))
	const a, b = "replica-a", "replica-b"
	lease := func(owner string, now, until time.Time) bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.LeaseTurn(ctx, c.ID, owner, now, until) })
	}
	renew := func(owner string, until time.Time) bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.RenewTurn(ctx, c.ID, owner, until) })
	}
	type released struct{ Held, Wanted bool }
	release := func(owner string) released {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (released, error) {
			held, wanted, err := tx.ReleaseTurn(ctx, c.ID, owner)
			return released{held, wanted}, err
		})
	}
	steps := []struct {
		name string
		do   func() any
		want any
	}{
		{"a takes the free lease", func() any { return lease(a, at(0), at(10*time.Second)) }, true},
		{"b is refused while it runs", func() any { return lease(b, at(5*time.Second), at(15*time.Second)) }, false},
		{"a takes its own lease again", func() any { return lease(a, at(6*time.Second), at(16*time.Second)) }, true},
		{"b is refused again", func() any { return lease(b, at(7*time.Second), at(17*time.Second)) }, false},
		{"a releases: b wanted a turn", func() any { return release(a) }, released{Held: true, Wanted: true}},
		{"a has nothing left to release", func() any { return release(a) }, released{}},
		{"b takes the free lease", func() any { return lease(b, at(8*time.Second), at(18*time.Second)) }, true},
		{"a cannot renew b's lease", func() any { return renew(a, at(40*time.Second)) }, false},
		{"b renews", func() any { return renew(b, at(30*time.Second)) }, true},
		{"a is refused before the renewed end", func() any { return lease(a, at(29*time.Second), at(39*time.Second)) }, false},
		{"a takes it over at its end", func() any { return lease(a, at(30*time.Second), at(40*time.Second)) }, true},
		{"b lost it", func() any { return release(b) }, released{}},
		{"b cannot renew it", func() any { return renew(b, at(50*time.Second)) }, false},
		// a's refusal before the takeover was b's business, not a's.
		{"a releases, nothing wanted", func() any { return release(a) }, released{Held: true}},
	}
	for _, st := range steps {
		wantDiff(t, st.name, st.want, st.do())
	}

	// Leases of different conversations are independent.
	if !lease(a, at(time.Minute), at(2*time.Minute)) {
		t.Fatal("a could not take the free lease again")
	}
	took := mustTx(t, s, func(tx bot.Tx) (bool, error) {
		return tx.LeaseTurn(ctx, other.ID, b, at(time.Minute), at(2*time.Minute))
	})
	if !took {
		t.Error("b could not take another conversation's lease while a holds this one's")
	}
	if got := release(a); !got.Held || got.Wanted {
		t.Errorf("a's release = %+v; want held, nothing wanted (b's lease is another conversation's)", got)
	}
}

// testTurnLeaseRace: of replicas taking a free lease at the same moment,
// exactly one gets it.
func testTurnLeaseRace(t *testing.T, s Store) {
	c := mustConversation(t, s, key(1))
	const replicas = 8
	got := make(chan bool, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			<-start
			var took bool
			err := s.WithTx(t.Context(), func(tx bot.Tx) error {
				var err error
				took, err = tx.LeaseTurn(t.Context(), c.ID, fmt.Sprintf("replica-%d", i), at(0), at(time.Minute))
				return err
			})
			if err != nil {
				t.Errorf("replica-%d: LeaseTurn: %v", i, err)
			}
			got <- took
		})
	}
	close(start)
	wg.Wait()
	close(got)
	n := 0
	for took := range got {
		if took {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of %d replicas took the lease at once, want exactly 1", n, replicas)
	}
}

// testMarkProcessedRace: of transactions marking one message at once,
// exactly one reports that it changed it.
func testMarkProcessedRace(t *testing.T, s Store) {
	c := mustConversation(t, s, key(1))
	m := mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Text: "hello", CreatedAt: at(0)})
	const replicas = 8
	var mu sync.Mutex
	changed := 0
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range replicas {
		wg.Go(func() {
			<-start
			var ok bool
			err := s.WithTx(t.Context(), func(tx bot.Tx) error {
				var err error
				ok, err = tx.MarkProcessed(t.Context(), m.ID)
				return err
			})
			if err != nil {
				t.Errorf("MarkProcessed: %v", err)
			}
			mu.Lock()
			if ok {
				changed++
			}
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if changed != 1 {
		t.Errorf("%d of %d concurrent MarkProcessed calls reported a change, want exactly 1", changed, replicas)
	}
}

// testStrandedConversations: a conversation is stranded when a customer
// message of it, older than the grace, is unprocessed and no lease of it
// runs; oldest message first, up to the limit.
func testStrandedConversations(t *testing.T, s Store) {
	ctx := t.Context()
	msg := func(convID int64, role bot.Role, created time.Time, processed bool) bot.Message {
		t.Helper()
		return mustMessage(t, s, bot.Message{ConversationID: convID, Role: role, Text: "text",
			Processed: processed, CreatedAt: created})
	}
	leased := func(convID int64, owner string, now, until time.Time) {
		t.Helper()
		took := mustTx(t, s, func(tx bot.Tx) (bool, error) {
			return tx.LeaseTurn(ctx, convID, owner, now, until)
		})
		if !took {
			t.Fatalf("could not lease conversation %d", convID)
		}
	}
	now, before := at(time.Minute), at(50*time.Second)

	expired := mustConversation(t, s, key(1)) // its replica died: the lease ran out
	msg(expired.ID, bot.RoleCustomer, at(0), false)
	leased(expired.ID, "replica-x", at(0), at(30*time.Second))

	free := mustConversation(t, s, key(2)) // stored, never leased
	firstFree := msg(free.ID, bot.RoleCustomer, at(time.Second), false)
	msg(free.ID, bot.RoleCustomer, at(2*time.Second), false)

	running := mustConversation(t, s, key(3)) // a replica is answering it
	msg(running.ID, bot.RoleCustomer, at(0), false)
	leased(running.ID, "replica-x", at(0), at(2*time.Minute))

	young := mustConversation(t, s, key(4)) // its replica starts its turn any moment
	msg(young.ID, bot.RoleCustomer, at(55*time.Second), false)

	answered := mustConversation(t, s, key(5))
	msg(answered.ID, bot.RoleCustomer, at(0), true)
	msg(answered.ID, bot.RoleBot, at(time.Second), false) // only customer messages wait for a turn
	msg(answered.ID, bot.RoleAgent, at(time.Second), false)

	stranded := func(limit int) []int64 {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) ([]int64, error) { return tx.StrandedConversations(ctx, now, before, limit) })
	}
	wantDiff(t, "StrandedConversations", []int64{expired.ID, free.ID}, stranded(10))
	wantDiff(t, "StrandedConversations with limit 1", []int64{expired.ID}, stranded(1))

	mustDo(t, s, func(tx bot.Tx) error {
		_, err := tx.MarkProcessed(ctx, firstFree.ID)
		return err
	})
	wantDiff(t, "StrandedConversations after one of two messages was processed", []int64{expired.ID, free.ID}, stranded(10))
	leased(expired.ID, "replica-y", now, at(2*time.Minute)) // another replica took it over
	wantDiff(t, "StrandedConversations after a takeover", []int64{free.ID}, stranded(10))
}

package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// The handoff timers (bot.HandoffQueue): re-ping digests, notices to
// waiting customers, and claims whose agent went quiet. Each change must
// happen once even when several replicas tick at the same moment.

// mustHandoffIn creates a waiting handoff of a new conversation, announced
// in agent channel channel.
func mustHandoffIn(t *testing.T, s Store, n int, channel string, created time.Time) bot.Handoff {
	t.Helper()
	c := mustConversation(t, s, key(n))
	h := bot.Handoff{
		ConversationID: c.ID, State: bot.HandoffWaiting, Trigger: bot.TriggerPhrase,
		AgentPlatform: bot.Slack, AgentChannel: channel, CreatedAt: created,
	}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateHandoff(t.Context(), &h) })
	return h
}

func waiting(t *testing.T, s Store, channel string) []bot.QueuedHandoff {
	t.Helper()
	return mustTx(t, s, func(tx bot.Tx) ([]bot.QueuedHandoff, error) {
		return tx.WaitingHandoffs(t.Context(), bot.Slack, channel)
	})
}

func reping(t *testing.T, s Store, now time.Time) []bot.QueuedHandoff {
	t.Helper()
	return mustTx(t, s, func(tx bot.Tx) ([]bot.QueuedHandoff, error) {
		return tx.Reping(t.Context(), bot.Slack, "C-AGENTS", now, 5*time.Minute)
	})
}

// queueSummary is what the tests compare of a queued handoff.
type queueSummary struct {
	ID         int64
	Position   int
	Repings    int
	RepingedAt time.Time
}

func summarize(qs []bot.QueuedHandoff) []queueSummary {
	var out []queueSummary
	for _, q := range qs {
		out = append(out, queueSummary{q.Handoff.ID, q.Position, q.Repings, q.RepingedAt})
	}
	return out
}

func testQueueReping(t *testing.T, s Store) {
	ctx := t.Context()
	h1 := mustHandoffIn(t, s, 1, "C-AGENTS", at(0))
	other := mustHandoffIn(t, s, 2, "C-OTHER", at(time.Minute)) // ranks in the queue, not in the digest
	h2 := mustHandoffIn(t, s, 3, "C-AGENTS", at(2*time.Minute))
	h3 := mustHandoffIn(t, s, 4, "C-AGENTS", at(4*time.Minute))
	claimed := mustHandoffIn(t, s, 5, "C-AGENTS", at(0))
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, claimed.ID, "UA", "A", at(time.Minute)) })

	if got := reping(t, s, at(4*time.Minute)); got != nil {
		t.Fatalf("Reping before anything waited 5m = %+v, want nil", summarize(got))
	}
	// h1 has waited 5m: one digest, listing all three, oldest first.
	wantDiff(t, "digest at 5m", []queueSummary{
		{h1.ID, 1, 1, at(5 * time.Minute)},
		{h2.ID, 3, 0, at(5 * time.Minute)},
		{h3.ID, 4, 0, at(5 * time.Minute)},
	}, summarize(reping(t, s, at(5*time.Minute))))
	// Everyone was mentioned at 5m: no digest before 10m, even though h2
	// has now waited more than 5m since it was opened.
	if got := reping(t, s, at(9*time.Minute)); got != nil {
		t.Fatalf("Reping at 9m = %+v, want nil", summarize(got))
	}
	wantDiff(t, "digest at 10m", []queueSummary{
		{h1.ID, 1, 2, at(10 * time.Minute)},
		{h2.ID, 3, 1, at(10 * time.Minute)},
		{h3.ID, 4, 1, at(10 * time.Minute)},
	}, summarize(reping(t, s, at(10*time.Minute))))
	if got := waiting(t, s, "C-OTHER"); len(got) != 1 || got[0].Handoff.ID != other.ID || got[0].Repings != 0 || !got[0].RepingedAt.IsZero() {
		t.Errorf("the other channel's handoff = %+v, want untouched", summarize(got))
	}

	// A resolved handoff leaves the queue, and the others move up.
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h1.ID, at(11*time.Minute)) })
	wantDiff(t, "waiting after h1 resolved", []queueSummary{
		{h2.ID, 2, 1, at(10 * time.Minute)},
		{h3.ID, 3, 1, at(10 * time.Minute)},
	}, summarize(waiting(t, s, "C-AGENTS")))
}

// Two replicas (or more) ticking at the same moment: exactly one records
// the digest, so agents get one post.
func testQueueConcurrentReping(t *testing.T, s Store) {
	ctx := t.Context()
	for i := range 5 {
		mustHandoffIn(t, s, i+1, "C-AGENTS", at(time.Duration(i)*time.Second))
	}
	const replicas = 8
	var digests atomic.Int32
	var wg sync.WaitGroup
	for i := range replicas {
		// Replicas' clocks differ a little.
		now := at(10*time.Minute + time.Duration(i)*time.Millisecond)
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				got, err := tx.Reping(ctx, bot.Slack, "C-AGENTS", now, 5*time.Minute)
				if err == nil && got != nil {
					if len(got) != 5 {
						t.Errorf("digest lists %d handoffs, want 5", len(got))
					}
					digests.Add(1)
				}
				return err
			})
			if err != nil {
				t.Errorf("WithTx: %v", err)
			}
		})
	}
	wg.Wait()
	if n := digests.Load(); n != 1 {
		t.Errorf("%d of %d replicas recorded a digest, want exactly 1", n, replicas)
	}
	for _, q := range waiting(t, s, "C-AGENTS") {
		if q.Repings != 1 {
			t.Errorf("handoff %d: Repings = %d after one digest, want 1", q.Handoff.ID, q.Repings)
		}
	}
}

func testQueueNotice(t *testing.T, s Store) {
	ctx := t.Context()
	h := mustHandoffIn(t, s, 1, "C-AGENTS", at(0))
	q := waiting(t, s, "C-AGENTS")[0]
	if q.Notice != (bot.Notice{}) {
		t.Fatalf("new handoff's notice = %+v, want zero", q.Notice)
	}
	set := func(n bot.Notice) bool {
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.SetNotice(ctx, h.ID, n) })
	}
	told := bot.Notice{Seq: 0, Position: 3, PositionAt: at(time.Minute), Availability: bot.AvailabilityClosed, AvailabilityAt: at(time.Minute)}
	if !set(told) {
		t.Fatal("SetNotice from the version read = false")
	}
	if set(told) {
		t.Error("SetNotice from a stale version = true")
	}
	told.Seq = 1
	wantDiff(t, "notice read back", told, waiting(t, s, "C-AGENTS")[0].Notice)

	// Replicas that read the same version: one tells the customer.
	const replicas = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range replicas {
		next := told
		next.Position = 2
		next.PositionAt = at(time.Duration(i+2) * time.Minute)
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				ok, err := tx.SetNotice(ctx, h.ID, next)
				if ok {
					wins.Add(1)
				}
				return err
			})
			if err != nil {
				t.Errorf("WithTx: %v", err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d of %d concurrent SetNotice won, want exactly 1", n, replicas)
	}

	// Once claimed, the customer is no longer waiting: nothing to tell.
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h.ID, "UA", "A", at(time.Hour)) })
	if set(bot.Notice{Seq: 2, Position: 1}) {
		t.Error("SetNotice of a claimed handoff = true")
	}
	if len(waiting(t, s, "C-AGENTS")) != 0 {
		t.Error("a claimed handoff is still listed as waiting")
	}
}

func addMessage(t *testing.T, s Store, convID int64, role bot.Role, author string, created time.Time) {
	t.Helper()
	m := bot.Message{ConversationID: convID, Role: role, Author: author, Text: string(role), Processed: true, CreatedAt: created}
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.AddMessage(t.Context(), &m) })
}

func claimed(t *testing.T, s Store) []bot.ClaimedHandoff {
	t.Helper()
	return mustTx(t, s, func(tx bot.Tx) ([]bot.ClaimedHandoff, error) {
		return tx.ClaimedHandoffs(t.Context(), bot.Slack, "C-AGENTS")
	})
}

func testQueueClaimed(t *testing.T, s Store) {
	ctx := t.Context()
	h := mustHandoffIn(t, s, 1, "C-AGENTS", at(0))
	mustHandoffIn(t, s, 2, "C-AGENTS", at(0)) // waiting: not listed
	addMessage(t, s, h.ConversationID, bot.RoleCustomer, "U-CUST", at(time.Minute))
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h.ID, "UA", "Alex", at(2*time.Minute)) })

	got := claimed(t, s)
	if len(got) != 1 {
		t.Fatalf("ClaimedHandoffs = %d handoffs, want 1", len(got))
	}
	c := got[0]
	if c.Handoff.ID != h.ID || !c.AgentSeenAt.Equal(at(2*time.Minute)) || !c.AgentRepliedAt.IsZero() || !c.CustomerWaitingSince.IsZero() {
		t.Errorf("just claimed: %+v; want seen at the claim, no reply, the customer's earlier message not counted", c)
	}

	// A note counts as the agent being there, but not as a reply; another
	// agent's words count for nothing.
	addMessage(t, s, h.ConversationID, bot.RoleNote, "UA", at(3*time.Minute))
	addMessage(t, s, h.ConversationID, bot.RoleNote, "UB", at(9*time.Minute))
	addMessage(t, s, h.ConversationID, bot.RoleAgent, "UA", at(4*time.Minute))
	addMessage(t, s, h.ConversationID, bot.RoleCustomer, "U-CUST", at(5*time.Minute))
	addMessage(t, s, h.ConversationID, bot.RoleCustomer, "U-CUST", at(6*time.Minute))
	c = claimed(t, s)[0]
	if !c.AgentSeenAt.Equal(at(4*time.Minute)) || !c.AgentRepliedAt.Equal(at(4*time.Minute)) || !c.CustomerWaitingSince.Equal(at(5*time.Minute)) {
		t.Errorf("after messages: seen %s, replied %s, customer waiting since %s; want 4m, 4m, 5m", c.AgentSeenAt, c.AgentRepliedAt, c.CustomerWaitingSince)
	}

	// The agent wrote after what the caller read: not returned.
	stale := c
	stale.AgentSeenAt = at(3 * time.Minute)
	if mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ReturnToQueue(ctx, stale) }) {
		t.Error("ReturnToQueue returned a handoff whose agent wrote after AgentSeenAt")
	}
	// Of replicas returning it at once, one does.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				ok, err := tx.ReturnToQueue(ctx, c)
				if ok {
					wins.Add(1)
				}
				return err
			})
			if err != nil {
				t.Errorf("WithTx: %v", err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d concurrent ReturnToQueue won, want exactly 1", n)
	}
	back := handoff(t, s, h.ID)
	if back.State != bot.HandoffWaiting || back.AgentID != "" || back.AgentName != "" || !back.ClaimedAt.IsZero() {
		t.Errorf("returned handoff = %+v, want waiting with no agent", back)
	}

	// Claimed again by another agent: the old read no longer applies.
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h.ID, "UB", "Bo", at(10*time.Minute)) })
	if mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ReturnToQueue(ctx, c) }) {
		t.Error("ReturnToQueue undid another agent's claim")
	}
	if c := claimed(t, s)[0]; !c.AgentSeenAt.Equal(at(10*time.Minute)) || !c.AgentRepliedAt.IsZero() {
		t.Errorf("new agent: seen %s, replied %s; want the claim and no reply", c.AgentSeenAt, c.AgentRepliedAt)
	}
}

package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// handoff reads handoff id.
func handoff(t *testing.T, s Store, id int64) bot.Handoff {
	t.Helper()
	return mustTx(t, s, func(tx bot.Tx) (bot.Handoff, error) { return tx.Handoff(t.Context(), id) })
}

func testHandoffCreateGet(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))
	wantDiff(t, "Handoff", h, handoff(t, s, h.ID))

	err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.Handoff(ctx, h.ID+1000); return err })
	wantNotFound(t, "Handoff(unknown)", err)

	ann := mustEnqueue(t, s, announcement(c.ID, h.ID))
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, h.ID, ann.ID) })
	h.AnnounceID = ann.ID
	wantDiff(t, "Handoff after SetAnnounce", h, handoff(t, s, h.ID))

	err = txErr(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, h.ID+1000, ann.ID) })
	wantNotFound(t, "SetAnnounce(unknown handoff)", err)
}

func testHandoffOpen(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	other := mustConversation(t, s, key(2))
	openHandoff := func(convID int64) (bot.Handoff, error) {
		var h bot.Handoff
		err := txErr(t, s, func(tx bot.Tx) error {
			var err error
			h, err = tx.OpenHandoff(ctx, convID)
			return err
		})
		return h, err
	}

	_, err := openHandoff(c.ID)
	wantNotFound(t, "OpenHandoff with no handoff", err)

	h := mustHandoff(t, s, c.ID, at(0))
	mustHandoff(t, s, other.ID, at(time.Second))
	got, err := openHandoff(c.ID)
	if err != nil || got.ID != h.ID {
		t.Fatalf("OpenHandoff(waiting) = %d, %v; want %d", got.ID, err, h.ID)
	}
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h.ID, "UA", "Grace", at(time.Minute)) })
	got, err = openHandoff(c.ID)
	if err != nil || got.ID != h.ID || got.State != bot.HandoffClaimed {
		t.Fatalf("OpenHandoff(claimed) = %d in state %q, %v; want %d claimed", got.ID, got.State, err, h.ID)
	}
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h.ID, at(2*time.Minute)) })
	_, err = openHandoff(c.ID)
	wantNotFound(t, "OpenHandoff after resolve", err)

	// A later handoff of the same conversation is the open one.
	h2 := mustHandoff(t, s, c.ID, at(time.Hour))
	got, err = openHandoff(c.ID)
	if err != nil || got.ID != h2.ID {
		t.Fatalf("OpenHandoff(second handoff) = %d, %v; want %d", got.ID, err, h2.ID)
	}
}

func testHandoffClaimUnclaimResolve(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))

	claim := func(agent string, when time.Time) bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h.ID, agent, "Agent "+agent, when) })
	}
	unclaim := func() bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.UnclaimHandoff(ctx, h.ID) })
	}
	resolve := func(when time.Time) bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h.ID, when) })
	}

	if unclaim() {
		t.Error("UnclaimHandoff(waiting) = true, want false")
	}
	if !claim("UA", at(time.Minute)) {
		t.Fatal("ClaimHandoff(waiting) = false, want true")
	}
	want := h
	want.State, want.AgentID, want.AgentName, want.ClaimedAt = bot.HandoffClaimed, "UA", "Agent UA", at(time.Minute)
	wantDiff(t, "claimed Handoff", want, handoff(t, s, h.ID))

	if claim("UB", at(2*time.Minute)) {
		t.Error("ClaimHandoff(claimed) = true, want false")
	}
	wantDiff(t, "Handoff after a losing claim", want, handoff(t, s, h.ID))

	// Unclaiming returns the handoff to the queue as it was before.
	if !unclaim() {
		t.Fatal("UnclaimHandoff(claimed) = false, want true")
	}
	wantDiff(t, "unclaimed Handoff", h, handoff(t, s, h.ID))
	if unclaim() {
		t.Error("UnclaimHandoff twice = true, want false")
	}

	if !claim("UB", at(3*time.Minute)) {
		t.Fatal("ClaimHandoff after unclaim = false, want true")
	}
	if !resolve(at(4 * time.Minute)) {
		t.Fatal("ResolveHandoff(claimed) = false, want true")
	}
	want = h
	want.State, want.AgentID, want.AgentName = bot.HandoffResolved, "UB", "Agent UB"
	want.ClaimedAt, want.ResolvedAt = at(3*time.Minute), at(4*time.Minute)
	wantDiff(t, "resolved Handoff", want, handoff(t, s, h.ID))

	if resolve(at(5 * time.Minute)) {
		t.Error("ResolveHandoff(resolved) = true, want false")
	}
	if claim("UC", at(5*time.Minute)) {
		t.Error("ClaimHandoff(resolved) = true, want false")
	}
	if unclaim() {
		t.Error("UnclaimHandoff(resolved) = true, want false")
	}
	wantDiff(t, "Handoff after changes to a resolved one", want, handoff(t, s, h.ID))

	// Resolving while still waiting closes duplicates.
	dup := mustHandoff(t, s, c.ID, at(6*time.Minute))
	if !mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, dup.ID, at(7*time.Minute)) }) {
		t.Error("ResolveHandoff(waiting) = false, want true")
	}

	// Transitions of a handoff that does not exist are errors, not "lost the race".
	missing := h.ID + 1000
	for name, fn := range map[string]func(tx bot.Tx) error{
		"ClaimHandoff":   func(tx bot.Tx) error { _, err := tx.ClaimHandoff(ctx, missing, "UA", "A", at(0)); return err },
		"UnclaimHandoff": func(tx bot.Tx) error { _, err := tx.UnclaimHandoff(ctx, missing); return err },
		"ResolveHandoff": func(tx bot.Tx) error { _, err := tx.ResolveHandoff(ctx, missing, at(0)); return err },
	} {
		wantNotFound(t, name+"(unknown)", txErr(t, s, fn))
	}
}

// testHandoffConcurrentClaim is the "exactly one agent wins" promise: many
// agents press Claim at once, each in a transaction of its own.
func testHandoffConcurrentClaim(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))

	const agents = 50
	var wins atomic.Int32
	winner := make(chan string, agents)
	var wg sync.WaitGroup
	for i := range agents {
		agent := fmt.Sprintf("U%02d", i)
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				ok, err := tx.ClaimHandoff(ctx, h.ID, agent, "Agent "+agent, at(time.Minute))
				if ok {
					wins.Add(1)
					winner <- agent
				}
				return err
			})
			if err != nil {
				t.Errorf("agent %s: WithTx: %v", agent, err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of %d concurrent claims won, want exactly 1", n, agents)
	}
	if got, want := handoff(t, s, h.ID).AgentID, <-winner; got != want {
		t.Errorf("stored AgentID = %q, want the winner %q", got, want)
	}
}

func testHandoffRate(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h.ID, at(time.Minute)) })

	mustDo(t, s, func(tx bot.Tx) error { return tx.RateHandoff(ctx, h.ID, 4) })
	if got := handoff(t, s, h.ID).Rating; got != 4 {
		t.Errorf("Rating = %d, want 4", got)
	}
	for _, r := range []int{0, 6, -1} {
		if err := txErr(t, s, func(tx bot.Tx) error { return tx.RateHandoff(ctx, h.ID, r) }); err == nil {
			t.Errorf("RateHandoff(%d) succeeded, want an error", r)
		}
	}
	if got := handoff(t, s, h.ID).Rating; got != 4 {
		t.Errorf("Rating after invalid ratings = %d, want 4", got)
	}
	err := txErr(t, s, func(tx bot.Tx) error { return tx.RateHandoff(ctx, h.ID+1000, 5) })
	wantNotFound(t, "RateHandoff(unknown)", err)
}

func testHandoffQueuePosition(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	// Created out of order and with a tie: the queue is by CreatedAt, then ID.
	h1 := mustHandoff(t, s, c.ID, at(time.Minute))
	h2 := mustHandoff(t, s, c.ID, at(2*time.Minute))
	h3 := mustHandoff(t, s, c.ID, at(2*time.Minute))
	h0 := mustHandoff(t, s, c.ID, at(0))

	positions := func() []int {
		t.Helper()
		var ps []int
		for _, h := range []bot.Handoff{h0, h1, h2, h3} {
			ps = append(ps, mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.QueuePosition(ctx, h.ID) }))
		}
		return ps
	}
	wantDiff(t, "positions of h0..h3", []int{1, 2, 3, 4}, positions())

	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h1.ID, "UA", "A", at(time.Hour)) })
	wantDiff(t, "positions after claiming h1", []int{1, 0, 2, 3}, positions())

	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h0.ID, at(time.Hour)) })
	wantDiff(t, "positions after resolving h0", []int{0, 0, 1, 2}, positions())

	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.UnclaimHandoff(ctx, h1.ID) })
	wantDiff(t, "positions after unclaiming h1", []int{0, 1, 2, 3}, positions())
}

func testHandoffByThread(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))
	other := mustHandoff(t, s, c.ID, at(time.Second))
	ann := mustEnqueue(t, s, announcement(c.ID, h.ID))
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, h.ID, ann.ID) })

	// A reply from a different message that has the same id in another channel.
	decoy := announcement(c.ID, other.ID)
	decoy.Channel = "C-OTHER"
	decoy = mustEnqueue(t, s, decoy)
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, other.ID, decoy.ID) })

	byThread := func(p bot.Platform, channel, ref string) (bot.Handoff, error) {
		var got bot.Handoff
		err := txErr(t, s, func(tx bot.Tx) error {
			var err error
			got, err = tx.HandoffByThread(ctx, p, channel, ref)
			return err
		})
		return got, err
	}

	_, err := byThread(bot.Slack, "C-AGENTS", "1700000001.000200")
	wantNotFound(t, "HandoffByThread before the announcement is sent", err)

	if err := s.MarkSent(ctx, ann.ID, "1700000001.000200", at(time.Minute)); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	if err := s.MarkSent(ctx, decoy.ID, "1700000001.000200", at(time.Minute)); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	got, err := byThread(bot.Slack, "C-AGENTS", "1700000001.000200")
	if err != nil || got.ID != h.ID {
		t.Fatalf("HandoffByThread = %d, %v; want %d", got.ID, err, h.ID)
	}
	got, err = byThread(bot.Slack, "C-OTHER", "1700000001.000200")
	if err != nil || got.ID != other.ID {
		t.Fatalf("HandoffByThread(other channel) = %d, %v; want %d", got.ID, err, other.ID)
	}

	for _, tt := range []struct {
		p       bot.Platform
		channel string
		ref     string
	}{
		{bot.Discord, "C-AGENTS", "1700000001.000200"},
		{bot.Slack, "C-NONE", "1700000001.000200"},
		{bot.Slack, "C-AGENTS", "1700000001.000201"},
		{bot.Slack, "C-AGENTS", ""},
	} {
		_, err := byThread(tt.p, tt.channel, tt.ref)
		wantNotFound(t, fmt.Sprintf("HandoffByThread(%s, %s, %q)", tt.p, tt.channel, tt.ref), err)
	}
}

// announcement is the outbox row announcing handoff handoffID in the agent channel.
func announcement(convID, handoffID int64) bot.Outgoing {
	return bot.Outgoing{
		Platform:       bot.Slack,
		Workspace:      "T-AGENTS",
		Channel:        "C-AGENTS",
		Stream:         "agents",
		Kind:           bot.KindAnnounce,
		Text:           "New handoff",
		Mention:        true,
		ConversationID: convID,
		HandoffID:      handoffID,
		CreatedAt:      at(0),
	}
}

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// The contract of what a turn does without a commit of its own: claiming
// the reply it queued (Outbox.ClaimQueued), reading in a View, and finding
// out who holds a turn lease (TurnLeases.TurnHolder).

// testOutboxClaimQueued: a row claimed by the transaction that queued it
// is not claimed again by a dispatcher within the lease, is after it (as
// maybe sent), and is only claimed when it is first in its stream and due.
func testOutboxClaimQueued(t *testing.T, s Store) {
	claimQueued := func(m bot.Outgoing, now time.Time) (bot.Outgoing, bool) {
		t.Helper()
		type got struct {
			m  bot.Outgoing
			ok bool
		}
		g := mustTx(t, s, func(tx bot.Tx) (got, error) {
			if err := tx.Enqueue(t.Context(), &m); err != nil {
				return got{}, err
			}
			row, ok, err := tx.ClaimQueued(t.Context(), m.ID, now, now.Add(time.Minute))
			if ok && row.ID != m.ID {
				return got{}, errors.New("ClaimQueued returned another row")
			}
			return got{row, ok}, err
		})
		return g.m, g.ok
	}

	first, ok := claimQueued(reply("conv:1", at(0)), at(0))
	if !ok || first.MaybeSent || first.Text != "Your payment PAY-1001 is settled." || first.Stream != "conv:1" {
		t.Fatalf("claim of a stream's only row: %+v, %v; want it, not maybe sent", first, ok)
	}
	if rows, err := s.Claim(t.Context(), at(30*time.Second), 10, time.Minute); err != nil || len(rows) != 0 {
		t.Fatalf("a dispatcher claimed %d rows within the courier's lease (%v)", len(rows), err)
	}
	if _, ok := claimQueued(reply("conv:1", at(time.Second)), at(time.Second)); ok {
		t.Error("claimed a row queued behind one still in flight")
	}
	if _, ok := claimQueued(reply("conv:2", at(time.Hour)), at(0)); ok {
		t.Error("claimed a row that is not due yet")
	}
	child := reply("conv:3", at(0))
	child.ParentID = mustEnqueue(t, s, reply("conv:parent", at(0))).ID
	if _, ok := claimQueued(child, at(0)); ok {
		t.Error("claimed a row whose parent is not sent")
	}

	// The courier died with the row: after the lease a dispatcher claims
	// it, and looks before it sends again.
	rows, err := s.Claim(t.Context(), at(2*time.Minute), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var again *bot.Outgoing
	for i := range rows {
		if rows[i].ID == first.ID {
			again = &rows[i]
		}
	}
	if again == nil || !again.MaybeSent {
		t.Fatalf("after the lease, claimed %+v; want row %d back, maybe sent", rows, first.ID)
	}
}

// testViewTurnHolder: a View reads what committed and cannot write;
// TurnHolder says who holds a lease, in a View too.
func testViewTurnHolder(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	holder := func() (string, time.Time) {
		t.Helper()
		var owner string
		var until time.Time
		err := s.View(ctx, func(tx bot.Tx) error {
			var err error
			owner, until, err = tx.TurnHolder(ctx, c.ID)
			return err
		})
		if err != nil {
			t.Fatalf("turn holder: %v", err)
		}
		return owner, until
	}
	if owner, until := holder(); owner != "" || !until.IsZero() {
		t.Errorf("holder of a conversation nobody leased: %q until %v", owner, until)
	}
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.LeaseTurn(ctx, c.ID, "replica-a", at(0), at(time.Minute)) })
	if owner, until := holder(); owner != "replica-a" || !until.Equal(at(time.Minute)) {
		t.Errorf("holder = %q until %v; want replica-a until %v", owner, until, at(time.Minute))
	}
	err := s.View(ctx, func(tx bot.Tx) error {
		conv, err := tx.Conversation(ctx, c.ID)
		if err != nil {
			return err
		}
		conv.State = bot.StateWaiting
		return tx.UpdateConversation(ctx, conv)
	})
	if err == nil {
		t.Error("a View wrote")
	}
	got := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	if got.State != c.State {
		t.Errorf("state after a View's write = %q, want %q unchanged", got.State, c.State)
	}
}

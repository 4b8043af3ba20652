package storetest

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// StreamTail is the newest row of a handoff's stream, whatever its status,
// and says whether it may still change: it is pending and no dispatcher is
// sending it. ReplacePending changes such a row only. A row may be queued
// to go later than it is made.
func testOutboxStreamTail(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))
	other := mustHandoff(t, s, mustConversation(t, s, key(2)).ID, at(0))
	type tailOf struct {
		m       bot.Outgoing
		mutable bool
	}
	tail := func(handoffID int64, stream string) tailOf {
		t.Helper()
		var got tailOf
		mustDo(t, s, func(tx bot.Tx) error {
			var err error
			got.m, got.mutable, err = tx.StreamTail(ctx, handoffID, stream)
			return err
		})
		return got
	}
	replace := func(id int64, text string) bool {
		t.Helper()
		var ok bool
		mustDo(t, s, func(tx bot.Tx) error {
			var err error
			ok, err = tx.ReplacePending(ctx, id, text)
			return err
		})
		return ok
	}
	post := func(stream string, created, due time.Time) bot.Outgoing {
		m := reply(stream, created)
		m.Kind, m.Author, m.HandoffID, m.ConversationID = bot.KindThread, "customer-words", h.ID, c.ID
		m.NextAttemptAt = due
		return mustEnqueue(t, s, m)
	}
	if got := tail(h.ID, "s"); got.m.ID != 0 || got.mutable {
		t.Errorf("StreamTail of an empty stream: %+v", got)
	}
	first := post("s", at(0), time.Time{})
	second := post("s", at(time.Second), at(4*time.Second))
	if second.NextAttemptAt != at(4*time.Second) {
		t.Errorf("Enqueue with a later NextAttemptAt: due %v", second.NextAttemptAt)
	}
	got := tail(h.ID, "s")
	if !got.mutable || got.m.ID != second.ID || !got.m.NextAttemptAt.Equal(at(4*time.Second)) || got.m.Status != bot.OutPending {
		t.Fatalf("StreamTail = %+v; want the newest row %d, due at 4s, mutable", got, second.ID)
	}
	if !replace(second.ID, "merged") {
		t.Fatal("ReplacePending of a pending row: false")
	}
	if got := tail(h.ID, "s"); got.m.Text != "merged" || got.m.Author != "customer-words" || got.m.Kind != bot.KindThread {
		t.Errorf("after ReplacePending: %+v", got)
	}
	if got := tail(h.ID, "other"); got.m.ID != 0 {
		t.Errorf("StreamTail of another stream: %+v", got)
	}
	if got := tail(other.ID, "s"); got.m.ID != 0 {
		t.Errorf("StreamTail of another handoff: %+v", got)
	}
	// A row queued for later is not due before its time.
	wantDiff(t, "Due at 2s", []int64{first.ID}, due(t, s, at(2*time.Second), 10))

	// Once a dispatcher claims a row, it can no longer change.
	claimed, err := s.Claim(ctx, at(time.Second), 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != first.ID {
		t.Fatalf("Claim at 1s: %+v, %v; want row %d", claimed, err, first.ID)
	}
	if replace(first.ID, "too late") {
		t.Errorf("ReplacePending changed row %d while it was being sent", first.ID)
	}
	if err := s.MarkSent(ctx, first.ID, "ts-1", at(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	claimed, err = s.Claim(ctx, at(4*time.Second), 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != second.ID {
		t.Fatalf("Claim at 4s: %+v, %v; want row %d", claimed, err, second.ID)
	}
	if got := tail(h.ID, "s"); got.mutable || got.m.ID != second.ID {
		t.Errorf("StreamTail of a row being sent: %+v; want it, not mutable", got)
	}
	if err := s.MarkSent(ctx, second.ID, "ts-2", at(4500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := tail(h.ID, "s"); got.mutable || got.m.Status != bot.OutSent || !got.m.SentAt.Equal(at(4500*time.Millisecond)) {
		t.Errorf("StreamTail of a sent row: %+v; want sent at 4.5s", got)
	}
}

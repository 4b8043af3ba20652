package storetest

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// PendingTail is the newest row of a stream while it may still change: it
// is pending and no dispatcher is sending it. ReplacePending changes such a
// row only.
func testOutboxPendingTail(t *testing.T, s Store) {
	ctx := t.Context()
	tail := func(stream string) (bot.Outgoing, bool) {
		t.Helper()
		var m bot.Outgoing
		var ok bool
		mustDo(t, s, func(tx bot.Tx) error {
			var err error
			m, ok, err = tx.PendingTail(ctx, stream)
			return err
		})
		return m, ok
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
	if _, ok := tail("empty"); ok {
		t.Error("PendingTail of an empty stream: ok")
	}
	first := reply("s", at(0))
	first.Author = "customer-words"
	first = mustEnqueue(t, s, first)
	second := mustEnqueue(t, s, reply("s", at(time.Second)))
	got, ok := tail("s")
	if !ok || got.ID != second.ID {
		t.Fatalf("PendingTail = %+v, %v; want the newest row %d", got, ok, second.ID)
	}
	if !replace(second.ID, "merged") {
		t.Fatal("ReplacePending of a pending row: false")
	}
	if got, _ := tail("s"); got.Text != "merged" || got.Author != "" || got.Kind != bot.KindReply {
		t.Errorf("after ReplacePending: %+v", got)
	}
	if got, ok := tail("other"); ok {
		t.Errorf("PendingTail of another stream: %+v", got)
	}
	// Once a dispatcher claims the rows, they are no longer pending tails.
	claimed, err := s.Claim(ctx, at(time.Hour), 10, time.Minute)
	if err != nil || len(claimed) == 0 {
		t.Fatalf("Claim: %d rows, %v", len(claimed), err)
	}
	for _, m := range claimed {
		if m.Stream != "s" {
			continue
		}
		if _, ok := tail("s"); ok && m.ID == second.ID {
			t.Error("a row being sent is a pending tail")
		}
		if replace(m.ID, "too late") {
			t.Errorf("ReplacePending changed row %d while it was being sent", m.ID)
		}
	}
}

package storetest

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// due returns the IDs of the rows Due returns.
func due(t *testing.T, s Store, now time.Time, limit int) []int64 {
	t.Helper()
	rows, err := s.Due(t.Context(), now, limit)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// reply is a reply to a customer, in stream.
func reply(stream string, created time.Time) bot.Outgoing {
	return bot.Outgoing{
		Platform:  bot.Slack,
		Workspace: "T1",
		Channel:   "D1",
		Stream:    stream,
		Kind:      bot.KindReply,
		Text:      "Your payment PAY-1001 is settled.",
		CreatedAt: created,
	}
}

func testOutboxEnqueueDue(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))

	m := bot.Outgoing{
		Platform:  bot.Discord,
		Workspace: "G1",
		Channel:   "C1",
		Thread:    "TH1",
		Stream:    "conv:1",
		Kind:      bot.KindRelay,
		Author:    "Grace",
		Text:      "Hi, I'm looking into it.",
		Buttons: []bot.Button{
			{Action: bot.ActionRate, Label: "5", Value: "5"},
			{Action: bot.ActionTalkToPerson, Label: "Talk to a person"},
		},
		Mention:        true,
		ConversationID: c.ID,
		HandoffID:      h.ID,
		CreatedAt:      at(time.Minute),
	}
	m = mustEnqueue(t, s, m)
	plain := mustEnqueue(t, s, reply("conv:2", at(time.Minute)))

	rows, err := s.Due(ctx, at(time.Minute), 10)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	want := m
	want.Status, want.Attempts, want.NextAttemptAt = bot.OutPending, 0, at(time.Minute)
	wantPlain := plain
	wantPlain.Status, wantPlain.NextAttemptAt = bot.OutPending, at(time.Minute)
	wantDiff(t, "Due rows", []bot.Outgoing{want, wantPlain}, rows)

	// Rows are due at their creation time, not before.
	wantDiff(t, "Due before creation", []int64{}, due(t, s, at(time.Minute-time.Microsecond), 10))
	wantDiff(t, "Due with limit 1", []int64{m.ID}, due(t, s, at(time.Hour), 1))

	// A row enqueued without a creation time is due at once.
	now := mustEnqueue(t, s, reply("conv:3", time.Time{}))
	if !contains(due(t, s, time.Now().Add(time.Second), 10), now.ID) {
		t.Error("a row enqueued with a zero CreatedAt is not due now")
	}

	if err := s.MarkSent(ctx, m.ID, "MSG-1", at(2*time.Minute)); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	if contains(due(t, s, at(time.Hour), 10), m.ID) {
		t.Error("a sent row is still due")
	}
}

func contains(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// testOutboxStreams checks delivery order: one row at a time per stream, in
// ID order, a failing row holding back its own stream and no other.
func testOutboxStreams(t *testing.T, s Store) {
	ctx := t.Context()
	a1 := mustEnqueue(t, s, reply("A", at(0)))
	b1 := mustEnqueue(t, s, reply("B", at(0)))
	a2 := mustEnqueue(t, s, reply("A", at(0)))
	b2 := mustEnqueue(t, s, reply("B", at(0)))
	a3 := mustEnqueue(t, s, reply("A", at(0)))

	now := at(time.Minute)
	wantDiff(t, "Due: the head of each stream", []int64{a1.ID, b1.ID}, due(t, s, now, 10))

	// a1 fails: it is retried later and holds back A, but not B.
	if err := s.MarkRetry(ctx, a1.ID, "slack: rate limited", now.Add(time.Minute)); err != nil {
		t.Fatalf("MarkRetry: %v", err)
	}
	wantDiff(t, "Due after a1 failed", []int64{b1.ID}, due(t, s, now, 10))

	rows, err := s.Due(ctx, now.Add(time.Minute), 10)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	if len(rows) != 2 || rows[0].ID != a1.ID {
		t.Fatalf("Due at a1's next attempt: %v, want a1 and b1", rows)
	}
	if got := rows[0]; got.Attempts != 1 || got.LastError != "slack: rate limited" || !got.NextAttemptAt.Equal(now.Add(time.Minute)) {
		t.Errorf("a1 after MarkRetry: attempts %d, last error %q, next attempt %v; want 1, the error, %v",
			got.Attempts, got.LastError, got.NextAttemptAt, now.Add(time.Minute))
	}

	if err := s.MarkSent(ctx, b1.ID, "B-1", now); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	wantDiff(t, "Due after b1 was sent", []int64{b2.ID}, due(t, s, now, 10))

	// a1 fails again and is given up: A moves on.
	if err := s.MarkRetry(ctx, a1.ID, "slack: 500", now.Add(2*time.Minute)); err != nil {
		t.Fatalf("MarkRetry: %v", err)
	}
	if err := s.MarkDead(ctx, a1.ID, "slack: channel_not_found"); err != nil {
		t.Fatalf("MarkDead: %v", err)
	}
	wantDiff(t, "Due after a1 died", []int64{a2.ID, b2.ID}, due(t, s, now, 10))
	wantDiff(t, "Due with limit 1, oldest first", []int64{a2.ID}, due(t, s, now, 1))

	if err := s.MarkSent(ctx, a2.ID, "A-2", now); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	wantDiff(t, "Due after a2 was sent", []int64{b2.ID, a3.ID}, due(t, s, now, 10))
}

// testOutboxEmptyStream: a row that names no stream is ordered with the
// rows to the same place, and with no others.
func testOutboxEmptyStream(t *testing.T, s Store) {
	ctx := t.Context()
	first := mustEnqueue(t, s, reply("", at(0)))
	second := mustEnqueue(t, s, reply("", at(0)))
	elsewhere := reply("", at(0))
	elsewhere.Channel = "D2"
	elsewhere = mustEnqueue(t, s, elsewhere)

	now := at(time.Minute)
	wantDiff(t, "Due", []int64{first.ID, elsewhere.ID}, due(t, s, now, 10))
	if err := s.MarkRetry(ctx, first.ID, "timeout", now.Add(time.Hour)); err != nil {
		t.Fatalf("MarkRetry: %v", err)
	}
	wantDiff(t, "Due while the first row waits", []int64{elsewhere.ID}, due(t, s, now, 10))
	if err := s.MarkSent(ctx, first.ID, "M1", now); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	wantDiff(t, "Due after the first row was sent", []int64{second.ID, elsewhere.ID}, due(t, s, now, 10))
}

// testOutboxParents: a threaded row waits until its parent is delivered and
// then carries the parent's platform id; a dead parent releases it unthreaded.
func testOutboxParents(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))

	parent := mustEnqueue(t, s, announcement(c.ID, h.ID))
	child := announcement(c.ID, h.ID)
	child.Kind, child.Stream, child.ParentID, child.Mention = bot.KindThread, "thread:1", parent.ID, false
	child = mustEnqueue(t, s, child)

	now := at(time.Minute)
	wantDiff(t, "Due with the parent pending", []int64{parent.ID}, due(t, s, now, 10))

	// A parent that failed once is still pending: the child keeps waiting.
	if err := s.MarkRetry(ctx, parent.ID, "timeout", now); err != nil {
		t.Fatalf("MarkRetry: %v", err)
	}
	wantDiff(t, "Due with the parent retrying", []int64{parent.ID}, due(t, s, now, 10))

	if err := s.MarkSent(ctx, parent.ID, "1700000001.000200", now); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	rows, err := s.Due(ctx, now, 10)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	if len(rows) != 1 || rows[0].ID != child.ID || rows[0].ParentID != parent.ID || rows[0].ParentRef != "1700000001.000200" {
		t.Fatalf("Due after the parent was sent = %+v, want the child with ParentRef 1700000001.000200", rows)
	}

	// A dead parent.
	deadParent := mustEnqueue(t, s, announcement(c.ID, h.ID))
	orphan := announcement(c.ID, h.ID)
	orphan.Kind, orphan.Stream, orphan.ParentID = bot.KindThread, "thread:2", deadParent.ID
	orphan = mustEnqueue(t, s, orphan)
	if err := s.MarkSent(ctx, child.ID, "1700000001.000300", now); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	wantDiff(t, "Due with the second parent pending", []int64{deadParent.ID}, due(t, s, now, 10))
	if err := s.MarkDead(ctx, deadParent.ID, "channel_not_found"); err != nil {
		t.Fatalf("MarkDead: %v", err)
	}
	rows, err = s.Due(ctx, now, 10)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	if len(rows) != 1 || rows[0].ID != orphan.ID || rows[0].ParentRef != "" {
		t.Fatalf("Due after the parent died = %+v, want the orphan with an empty ParentRef", rows)
	}
}

func testOutboxNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	m := mustEnqueue(t, s, reply("A", at(0)))
	missing := m.ID + 1000
	wantNotFound(t, "MarkSent(unknown)", s.MarkSent(ctx, missing, "X", at(0)))
	wantNotFound(t, "MarkRetry(unknown)", s.MarkRetry(ctx, missing, "boom", at(0)))
	wantNotFound(t, "MarkDead(unknown)", s.MarkDead(ctx, missing, "boom"))
}

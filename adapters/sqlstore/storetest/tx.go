package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// writeEverything writes one row of each kind the engine writes in a turn.
func writeEverything(t *testing.T, tx bot.Tx, k bot.ConversationKey) error {
	ctx := t.Context()
	c := bot.Conversation{Key: k, State: bot.StateBot, User: "U1", OpenedAt: at(0)}
	if err := tx.CreateConversation(ctx, &c); err != nil {
		return err
	}
	m := bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Text: "human please", DedupeKey: "slack:T1:D1:1.0", CreatedAt: at(0)}
	if _, err := tx.AddMessage(ctx, &m); err != nil {
		return err
	}
	h := bot.Handoff{ConversationID: c.ID, State: bot.HandoffWaiting, Trigger: bot.TriggerPhrase, CreatedAt: at(0)}
	if err := tx.CreateHandoff(ctx, &h); err != nil {
		return err
	}
	o := announcement(c.ID, h.ID)
	return tx.Enqueue(ctx, &o)
}

// wantNothingWritten checks that writeEverything left no trace.
func wantNothingWritten(t *testing.T, s Store, k bot.ConversationKey) {
	t.Helper()
	ctx := t.Context()
	err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.ActiveConversation(ctx, k); return err })
	wantNotFound(t, "ActiveConversation after rollback", err)
	stranded := mustTx(t, s, func(tx bot.Tx) ([]int64, error) {
		return tx.StrandedConversations(ctx, at(1000*time.Hour), at(1000*time.Hour), 10)
	})
	if len(stranded) != 0 {
		t.Errorf("unprocessed messages after rollback, in conversations %v; want none", stranded)
	}
	if ids := due(t, s, at(1000*time.Hour), 10); len(ids) != 0 {
		t.Errorf("Due after rollback: outbox rows %v, want none", ids)
	}
	// The dedupe key is free again: the rolled-back message was never stored.
	c := mustConversation(t, s, k)
	m := bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Text: "human please", DedupeKey: "slack:T1:D1:1.0"}
	if !mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.AddMessage(ctx, &m) }) {
		t.Error("AddMessage after rollback = false: the rolled-back message's dedupe key is taken")
	}
}

func testRollbackOnError(t *testing.T, s Store) {
	errBoom := errors.New("boom")
	k := key(1)
	err := s.WithTx(t.Context(), func(tx bot.Tx) error {
		if err := writeEverything(t, tx, k); err != nil {
			return fmt.Errorf("unexpected: %w", err)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want fn's error", err)
	}
	wantNothingWritten(t, s, k)
}

func testRollbackOnPanic(t *testing.T, s Store) {
	k := key(1)
	var writeErr error
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic to reach the caller", r)
			}
		}()
		_ = s.WithTx(t.Context(), func(tx bot.Tx) error {
			writeErr = writeEverything(t, tx, k)
			panic("boom")
		})
	}()
	if writeErr != nil {
		t.Fatalf("writing: %v", writeErr)
	}
	// The store is usable after the panic, and nothing was written.
	wantNothingWritten(t, s, k)
}

// testReadThenWrite: transactions that read a value and write it back
// changed never lose an update, however many run at once.
func testReadThenWrite(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	const n = 25
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.WithTx(ctx, func(tx bot.Tx) error {
				cur, err := tx.Conversation(ctx, c.ID)
				if err != nil {
					return err
				}
				cur.Misses++
				return tx.UpdateConversation(ctx, cur)
			})
			if err != nil {
				t.Errorf("WithTx: %v", err)
			}
		})
	}
	wg.Wait()
	got := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	if got.Misses != n {
		t.Errorf("Misses = %d after %d increments", got.Misses, n)
	}
}

// testConcurrentReadersAndWriters runs the engine's writers and the
// dispatcher's reads and marks at once: nothing fails for being busy.
func testConcurrentReadersAndWriters(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1001")
	const writers, turns = 8, 10
	convs := make([]bot.Conversation, writers)
	for i := range convs {
		convs[i] = mustConversation(t, s, key(i))
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range turns {
				err := s.WithTx(ctx, func(tx bot.Tx) error {
					m := bot.Message{ConversationID: convs[w].ID, Role: bot.RoleCustomer, Text: "hi",
						DedupeKey: fmt.Sprintf("slack:%d:%d", w, i), CreatedAt: at(time.Duration(i) * time.Second)}
					if _, err := tx.AddMessage(ctx, &m); err != nil {
						return err
					}
					o := reply(fmt.Sprintf("conv:%d", w), at(0))
					return tx.Enqueue(ctx, &o)
				})
				if err != nil {
					t.Errorf("writer %d: WithTx: %v", w, err)
					return
				}
			}
		})
	}

	// The dispatcher delivers until every row is sent. Failures end the
	// loop rather than the test, so the writers are always waited for.
	sent := 0
	deadline := time.Now().Add(20 * time.Second)
dispatch:
	for sent < writers*turns && time.Now().Before(deadline) {
		rows, err := s.Due(ctx, at(time.Hour), 100)
		if err != nil {
			t.Errorf("Due: %v", err)
			break
		}
		if _, err := s.CustomerPayments(ctx, "C-1001", 5); err != nil {
			t.Errorf("CustomerPayments: %v", err)
			break
		}
		for _, r := range rows {
			if err := s.MarkSent(ctx, r.ID, fmt.Sprint("M", r.ID), at(time.Hour)); err != nil {
				t.Errorf("MarkSent: %v", err)
				break dispatch
			}
			sent++
		}
	}
	wg.Wait()
	if sent != writers*turns {
		t.Errorf("delivered %d rows, want %d", sent, writers*turns)
	}
	for _, c := range convs {
		ms := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, c.ID, 100) })
		if len(ms) != turns {
			t.Errorf("conversation %d: %d messages, want %d", c.ID, len(ms), turns)
		}
	}
}

// testTimes checks that times come back equal to what was stored, in UTC,
// and that the zero time stays zero, whatever zone they were given in.
func testTimes(t *testing.T, s Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	local := at(0).In(zone)
	now := time.Now().Truncate(time.Microsecond) // with a monotonic reading dropped, as a store must

	checks := []struct {
		name      string
		got, want time.Time
	}{}
	check := func(name string, got, want time.Time) {
		checks = append(checks, struct {
			name      string
			got, want time.Time
		}{name, got, want})
	}

	c := bot.Conversation{Key: key(1), State: bot.StateBot, OpenedAt: local, LastMessageAt: now}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
	gotC := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	check("Conversation.OpenedAt", gotC.OpenedAt, local)
	check("Conversation.LastMessageAt", gotC.LastMessageAt, now)
	check("Conversation.ClosedAt", gotC.ClosedAt, time.Time{})

	// The Unix epoch is a time like any other, not "unset".
	epoch := time.Unix(0, 0)
	m := bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "x", CreatedAt: epoch}
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.AddMessage(ctx, &m) })
	gotM := mustTx(t, s, func(tx bot.Tx) (bot.Message, error) { return tx.Message(ctx, m.ID) })
	check("Message.CreatedAt (epoch)", gotM.CreatedAt, epoch)

	h := mustHandoff(t, s, c.ID, local)
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h.ID, "UA", "A", now) })
	gotH := handoff(t, s, h.ID)
	check("Handoff.CreatedAt", gotH.CreatedAt, local)
	check("Handoff.ClaimedAt", gotH.ClaimedAt, now)
	check("Handoff.ResolvedAt", gotH.ResolvedAt, time.Time{})

	o := mustEnqueue(t, s, reply("times", local))
	if err := s.MarkRetry(ctx, o.ID, "later", local.Add(time.Second)); err != nil {
		t.Fatalf("MarkRetry: %v", err)
	}
	rows, err := s.Due(ctx, local.Add(time.Second), 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Due = %v, %v; want one row", rows, err)
	}
	check("Outgoing.CreatedAt", rows[0].CreatedAt, local)
	check("Outgoing.NextAttemptAt", rows[0].NextAttemptAt, local.Add(time.Second))
	check("Outgoing.SentAt", rows[0].SentAt, time.Time{})

	mustCustomer(t, s, "C-1")
	if err := s.PutPayment(ctx, bot.Payment{Reference: "PAY-1", CustomerID: "C-1", Amount: "1.00", Currency: "EUR",
		Status: bot.PaymentPending, CreatedAt: local}); err != nil {
		t.Fatalf("PutPayment: %v", err)
	}
	p, err := s.Payment(ctx, "PAY-1")
	if err != nil {
		t.Fatalf("Payment: %v", err)
	}
	check("Payment.CreatedAt", p.CreatedAt, local)
	check("Payment.UpdatedAt", p.UpdatedAt, time.Time{})

	if err := s.Link(ctx, bot.Link{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"},
		CustomerID: "C-1", CreatedAt: local}); err != nil {
		t.Fatalf("Link: %v", err)
	}
	links, err := s.Links(ctx)
	if err != nil || len(links) != 1 {
		t.Fatalf("Links = %v, %v; want one link", links, err)
	}
	check("Link.CreatedAt", links[0].CreatedAt, local)

	for _, c := range checks {
		switch {
		case c.want.IsZero() && !c.got.IsZero():
			t.Errorf("%s = %v, want the zero time", c.name, c.got)
		case !c.got.Equal(c.want):
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		case !c.want.IsZero() && c.got.Location() != time.UTC:
			t.Errorf("%s is in %v, want UTC", c.name, c.got.Location())
		}
	}
}

package retention_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/retention"
)

var now = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func mustStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustDo(t *testing.T, s bot.Store, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.WithTx(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// seed stores a conversation with messages of the given ages, a resolved
// and rated handoff, and the replies sent, and returns the conversation.
func seed(t *testing.T, s bot.Store, ages ...time.Duration) bot.Conversation {
	t.Helper()
	ctx := t.Context()
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D1"},
		State: bot.StateBot, Private: true, User: "U1", UserName: "Ada", OpenedAt: now.Add(-120 * day)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
	for _, age := range ages {
		m := bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Text: "card and address details", CreatedAt: now.Add(-age)}
		mustDo(t, s, func(tx bot.Tx) error { _, err := tx.AddMessage(ctx, &m); return err })
		c.LastMessageAt = m.CreatedAt
	}
	h := bot.Handoff{ConversationID: c.ID, Trigger: bot.TriggerModel, Reason: "The AI assistant handed off: customer quoted their address",
		CreatedAt: now.Add(-100 * day)}
	mustDo(t, s, func(tx bot.Tx) error {
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		if err := tx.CreateHandoff(ctx, &h); err != nil {
			return err
		}
		if _, err := tx.ResolveHandoff(ctx, h.ID, now.Add(-99*day)); err != nil {
			return err
		}
		return tx.RateHandoff(ctx, h.ID, 4)
	})
	return c
}

func TestRunOnce(t *testing.T) {
	s := mustStore(t)
	ctx := t.Context()
	c := seed(t, s, 120*day, 100*day, 91*day, 89*day, time.Hour)
	job, err := retention.New(retention.Config{Store: s, Retention: 90 * day, Batch: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r, err := job.RunOnce(ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if r.Messages != 3 {
		t.Errorf("scrubbed %d messages, want the 3 older than 90 days", r.Messages)
	}
	var left []bot.Message
	var conv bot.Conversation
	var h bot.Handoff
	var audit []bot.AuditEntry
	mustDo(t, s, func(tx bot.Tx) error {
		var err error
		if left, err = tx.RecentMessages(ctx, c.ID, 10); err != nil {
			return err
		}
		if conv, err = tx.Conversation(ctx, c.ID); err != nil {
			return err
		}
		if h, err = tx.Handoff(ctx, 1); err != nil {
			return err
		}
		audit, err = tx.AuditEntries(ctx, bot.AuditQuery{})
		return err
	})
	var words []string
	for _, m := range left {
		if m.Text != "" {
			words = append(words, m.Text)
		}
	}
	if len(left) != 5 || len(words) != 2 {
		t.Errorf("%d messages left, %d with words; want all 5 rows, words only in the 2 younger than 90 days", len(left), len(words))
	}
	// The counts survive: the conversation and the rated handoff stay,
	// with their times; the words go.
	if conv.OpenedAt.IsZero() || conv.UserName != "Ada" {
		t.Errorf("conversation = %+v; want it kept (its last message is recent, so its name too)", conv)
	}
	if h.Rating != 4 || h.Trigger != bot.TriggerModel || h.ResolvedAt.IsZero() || h.Reason != "" {
		t.Errorf("handoff = %+v; want rating, trigger and times kept, the reason cleared", h)
	}
	if len(audit) != 1 || audit[0].Actor != retention.Actor || audit[0].Action != bot.AuditRetention {
		t.Errorf("audit log = %+v, want one retention entry", audit)
	}

	again, err := job.RunOnce(ctx)
	if err != nil || !again.Zero() {
		t.Errorf("second run = %+v, %v; want nothing left to do", again, err)
	}
}

// Replicas may run the job at the same moment: each run only deletes what
// is still there, and together they delete everything once.
func TestConcurrentRuns(t *testing.T) {
	s := mustStore(t)
	var ages []time.Duration
	for i := range 50 {
		ages = append(ages, 91*day+time.Duration(i)*time.Minute)
	}
	seed(t, s, ages...)
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range 3 {
		job, err := retention.New(retention.Config{Store: s, Retention: 90 * day, Batch: 7, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			r, err := job.RunOnce(t.Context())
			if err != nil {
				t.Errorf("RunOnce: %v", err)
			}
			mu.Lock()
			total += r.Messages
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 50 {
		t.Errorf("runs scrubbed %d messages together, want 50", total)
	}
}

func TestRunStops(t *testing.T) {
	s := mustStore(t)
	job, err := retention.New(retention.Config{Store: s, Retention: 90 * day, Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- job.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after its context was cancelled")
	}
}

func TestNewChecks(t *testing.T) {
	if _, err := retention.New(retention.Config{Retention: day}); err == nil {
		t.Error("New without a store: no error")
	}
	if _, err := retention.New(retention.Config{Store: mustStore(t)}); err == nil {
		t.Error("New without a retention period: no error")
	}
}

package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
)

type senderFunc func(ctx context.Context, m bot.Outgoing) (string, error)

func (f senderFunc) Send(ctx context.Context, m bot.Outgoing) (string, error) { return f(ctx, m) }

type fixture struct {
	ctx   context.Context
	store *sqlstore.Store
	now   time.Time
	mu    sync.Mutex
}

func (f *fixture) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{ctx: context.Background(), store: st, now: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
}

func (f *fixture) enqueue(t *testing.T, stream, text string) bot.Outgoing {
	t.Helper()
	m := bot.Outgoing{Platform: bot.Slack, Channel: "D1", Stream: stream, Kind: bot.KindReply, Text: text, CreatedAt: f.Now()}
	err := f.store.WithTx(f.ctx, func(tx bot.Tx) error { return tx.Enqueue(f.ctx, &m) })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) dispatcher(t *testing.T, s outbox.Sender, maxAttempts int) *outbox.Dispatcher {
	t.Helper()
	d, err := outbox.New(outbox.Config{
		Store: f.store, Senders: map[bot.Platform]outbox.Sender{bot.Slack: s},
		Now: f.Now, MaxAttempts: maxAttempts, BaseBackoff: time.Second, MaxBackoff: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// due lists pending rows as if at now+ahead.
func (f *fixture) due(t *testing.T, ahead time.Duration) []bot.Outgoing {
	t.Helper()
	rows, err := f.store.Due(f.ctx, f.Now().Add(ahead), 100)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestStoredBeforeDelivered(t *testing.T) {
	f := newFixture(t)
	m := f.enqueue(t, "conv:1", "hello")
	var checked bool
	d := f.dispatcher(t, senderFunc(func(ctx context.Context, got bot.Outgoing) (string, error) {
		// At the moment of sending, the row is in the store, still pending.
		for _, r := range f.due(t, time.Hour) {
			if r.ID == got.ID && r.Text == "hello" {
				checked = true
			}
		}
		return "ts-1", nil
	}), 5)
	if n, err := d.Flush(f.ctx); err != nil || n != 1 {
		t.Fatalf("flush = %d, %v", n, err)
	}
	if !checked {
		t.Errorf("row %d was not pending in the store while being sent", m.ID)
	}
	if rows := f.due(t, time.Hour); len(rows) != 0 {
		t.Errorf("sent row still due: %+v", rows)
	}
}

func TestFailingSenderLeavesRowPending(t *testing.T) {
	f := newFixture(t)
	f.enqueue(t, "conv:1", "first")
	f.enqueue(t, "conv:1", "second")
	other := f.enqueue(t, "conv:2", "other conversation")
	var sent []string
	fail := true
	d := f.dispatcher(t, senderFunc(func(_ context.Context, m bot.Outgoing) (string, error) {
		if fail && m.Stream == "conv:1" {
			return "", errors.New("platform down")
		}
		sent = append(sent, m.Text)
		return "ok", nil
	}), 5)
	if _, err := d.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	// A stuck conversation does not hold back another.
	if len(sent) != 1 || sent[0] != other.Text {
		t.Fatalf("sent %q; want only the other conversation's message", sent)
	}
	rows := f.due(t, time.Hour)
	if len(rows) != 1 || rows[0].Text != "first" || rows[0].Attempts != 1 || rows[0].LastError == "" {
		t.Fatalf("due after failure = %+v; want the first row pending with one attempt", rows)
	}
	// Recovery: order within the conversation is kept.
	fail = false
	f.advance(time.Hour)
	if _, err := d.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"other conversation", "first", "second"}
	if len(sent) != 3 || sent[1] != want[1] || sent[2] != want[2] {
		t.Errorf("sent %q; want %q", sent, want)
	}
}

func TestPermanentFailureAndMaxAttemptsMarkDead(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		attempts int
	}{
		{"permanent", outbox.Permanent(errors.New("channel_not_found")), 1},
		{"max attempts", errors.New("timeout"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.enqueue(t, "conv:1", "doomed")
			f.enqueue(t, "conv:1", "next")
			var tries int
			var sent []string
			d := f.dispatcher(t, senderFunc(func(_ context.Context, m bot.Outgoing) (string, error) {
				if m.Text == "doomed" {
					tries++
					return "", tt.err
				}
				sent = append(sent, m.Text)
				return "ok", nil
			}), 3)
			for i := 0; i < 5; i++ {
				if _, err := d.Flush(f.ctx); err != nil {
					t.Fatal(err)
				}
				f.advance(time.Hour)
			}
			if tries != tt.attempts {
				t.Errorf("%d tries; want %d", tries, tt.attempts)
			}
			// A dead row releases its stream.
			if len(sent) != 1 || sent[0] != "next" {
				t.Errorf("sent %q; want the next message delivered", sent)
			}
		})
	}
}

func TestRetryAfterIsRespected(t *testing.T) {
	f := newFixture(t)
	f.enqueue(t, "conv:1", "rate limited")
	d := f.dispatcher(t, senderFunc(func(context.Context, bot.Outgoing) (string, error) {
		return "", outbox.RetryAfter(errors.New("ratelimited"), 30*time.Minute)
	}), 5)
	if _, err := d.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if rows := f.due(t, 29*time.Minute); len(rows) != 0 {
		t.Errorf("row due before Retry-After: %+v", rows)
	}
	rows := f.due(t, 31*time.Minute)
	if len(rows) != 1 {
		t.Fatalf("row not due after Retry-After")
	}
	if rows[0].Attempts != 0 {
		t.Errorf("a rate limit counted as %d failed attempts; want 0", rows[0].Attempts)
	}
}

func TestNoSenderForPlatformKeepsRow(t *testing.T) {
	f := newFixture(t)
	f.enqueue(t, "conv:1", "to slack")
	d, err := outbox.New(outbox.Config{Store: f.store, Senders: map[bot.Platform]outbox.Sender{}, Now: f.Now})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d.Flush(f.ctx); err != nil || n != 0 {
		t.Fatalf("flush = %d, %v", n, err)
	}
	if rows := f.due(t, time.Hour); len(rows) != 1 {
		t.Errorf("row lost when no adapter runs: %+v", rows)
	}
	// However long the adapter stays away, the row is kept: it is not the
	// message's failure, and no attempt is counted towards giving up.
	var dead []int64
	d, err = outbox.New(outbox.Config{Store: f.store, Senders: map[bot.Platform]outbox.Sender{}, Now: f.Now,
		MaxAttempts: 3, OnDead: func(_ context.Context, m bot.Outgoing, _ string) error { dead = append(dead, m.ID); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		f.advance(time.Hour)
		if _, err := d.Flush(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	rows := f.due(t, time.Hour)
	if len(rows) != 1 || rows[0].Status != bot.OutPending || rows[0].Attempts != 0 || len(dead) != 0 {
		t.Errorf("after 20 passes without an adapter: rows %+v, dead %v; want the row pending with no attempt counted", rows, dead)
	}
}

// A pass claims no more rows than it sends at once: a row claimed only to
// wait for a free slot could outlive its lease and be claimed, and sent,
// by another replica too.
func TestClaimsOnlyWhatItSends(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.enqueue(t, fmt.Sprintf("conv:%d", i), "hello")
	}
	started := make(chan struct{}, 5)
	unblock := make(chan struct{})
	d, err := outbox.New(outbox.Config{Store: f.store, Now: f.Now, Parallel: 2,
		Senders: map[bot.Platform]outbox.Sender{bot.Slack: senderFunc(func(ctx context.Context, _ bot.Outgoing) (string, error) {
			started <- struct{}{}
			<-unblock
			return "ts", nil
		})}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := d.Flush(f.ctx); done <- err }()
	<-started
	<-started
	if rows := f.due(t, 0); len(rows) != 3 {
		t.Errorf("while 2 sends run: %d rows still claimable, want 3 (only what is being sent is claimed)", len(rows))
	}
	close(unblock)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rows := f.due(t, time.Hour); len(rows) != 0 {
		t.Errorf("after the flush: %d rows left", len(rows))
	}
}

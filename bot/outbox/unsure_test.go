package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
)

// TestMaybeSent: a retry after a failure that may have reached the
// platform (a timeout, a 5xx) is marked MaybeSent, so the adapter looks
// before it posts again; one after a refusal to take the message (a rate
// limit) is not, unless an earlier attempt may have sent it.
func TestMaybeSent(t *testing.T) {
	tests := []struct {
		name string
		errs []error // what the first sends answer, in order
		want []bool  // MaybeSent on each send
	}{
		{"timeout", []error{errors.New("context deadline exceeded")}, []bool{false, true}},
		{"rate limit", []error{outbox.RetryAfter(errors.New("429"), time.Second)}, []bool{false, false}},
		{"timeout, then rate limit", []error{errors.New("503"), outbox.RetryAfter(errors.New("429"), time.Second)}, []bool{false, true, true}},
		{"success", nil, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.enqueue(t, "conv:1", "hello")
			var got []bool
			d := f.dispatcher(t, senderFunc(func(_ context.Context, m bot.Outgoing) (string, error) {
				got = append(got, m.MaybeSent)
				if i := len(got) - 1; i < len(tt.errs) {
					return "", tt.errs[i]
				}
				return "ts-1", nil
			}), 5)
			for range len(tt.want) {
				if _, err := d.Flush(f.ctx); err != nil {
					t.Fatal(err)
				}
				f.advance(time.Hour)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d sends, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("send %d: MaybeSent %v, want %v", i+1, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestStopMidSend: a send the dispatcher's context interrupts is released
// at once, marked as maybe sent, so that shutdown's last flush (or the next
// start) sends it without waiting for the lease, looking first; a send
// that succeeded as the context ended is recorded, not sent again.
func TestStopMidSend(t *testing.T) {
	f := newFixture(t)
	f.enqueue(t, "conv:1", "interrupted")
	f.enqueue(t, "conv:2", "made it")
	var mu sync.Mutex
	var sends []bot.Outgoing
	ctx, cancel := context.WithCancel(f.ctx)
	started := make(chan struct{}, 2)
	d := f.dispatcher(t, senderFunc(func(ctx context.Context, m bot.Outgoing) (string, error) {
		mu.Lock()
		sends = append(sends, m)
		mu.Unlock()
		started <- struct{}{}
		<-ctx.Done()
		if m.Text == "made it" {
			return "ts-2", nil // the platform answered as the context ended
		}
		return "", ctx.Err()
	}), 5)
	done := make(chan error, 1)
	go func() {
		_, err := d.Flush(ctx)
		done <- err
	}()
	<-started
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("flush = %v, want it stopped", err)
	}

	// The last flush, with time standing still: no lease to wait for.
	var last []bot.Outgoing
	d = f.dispatcher(t, senderFunc(func(_ context.Context, m bot.Outgoing) (string, error) {
		last = append(last, m)
		return "ts-1", nil
	}), 5)
	if _, err := d.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if len(last) != 1 || last[0].Text != "interrupted" || !last[0].MaybeSent || last[0].Attempts != 0 {
		t.Fatalf("last flush sent %+v; want only the interrupted message, maybe sent, no attempt counted", last)
	}
}

// TestOnDead: a row given up is reported once, with the reason, before it
// is marked dead; a failing report does not keep the row alive.
func TestOnDead(t *testing.T) {
	for _, failReport := range []bool{false, true} {
		f := newFixture(t)
		m := f.enqueue(t, "conv:1", "doomed")
		var reports []string
		d, err := outbox.New(outbox.Config{
			Store: f.store, Now: f.Now, MaxAttempts: 2,
			Senders: map[bot.Platform]outbox.Sender{bot.Slack: senderFunc(func(context.Context, bot.Outgoing) (string, error) {
				return "", errors.New("503 service unavailable")
			})},
			OnDead: func(_ context.Context, got bot.Outgoing, reason string) error {
				reports = append(reports, reason)
				if got.ID != m.ID {
					t.Errorf("reported row %d, want %d", got.ID, m.ID)
				}
				// Reported before it is marked dead: still pending.
				if rows := f.due(t, 24*time.Hour); len(rows) != 1 {
					t.Errorf("row already gone when reported")
				}
				if failReport {
					return errors.New("database is locked")
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if _, err := d.Flush(f.ctx); err != nil {
				t.Fatal(err)
			}
			f.advance(24 * time.Hour)
		}
		if len(reports) != 1 || reports[0] != "503 service unavailable" {
			t.Errorf("reports %q, want one with the last error", reports)
		}
		if rows := f.due(t, 24*time.Hour); len(rows) != 0 {
			t.Errorf("row still pending: %+v", rows)
		}
	}
}

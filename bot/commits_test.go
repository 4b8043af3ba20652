package bot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// countingStore counts the store's write transactions that can stand
// between a message and its answer: every WithTx, and every Claim that
// claimed rows. The records of sends (MarkSent) come after a send, not
// before it, and are not counted.
type countingStore struct {
	app.Store
	writes atomic.Int64
}

func (s *countingStore) WithTx(ctx context.Context, fn func(bot.Tx) error) error {
	s.writes.Add(1)
	return s.Store.WithTx(ctx, fn)
}

func (s *countingStore) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error) {
	rows, err := s.Store.Claim(ctx, now, limit, lease)
	if len(rows) > 0 {
		s.writes.Add(1)
	}
	return rows, err
}

// sendCounter records how many writes the store had made when each
// message reached the platform.
type sendCounter struct {
	store *countingStore
	mu    sync.Mutex
	at    map[string]int64 // text → writes before it was sent
}

func (c *sendCounter) Send(_ context.Context, m bot.Outgoing) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at[m.Text] = c.store.writes.Load()
	return "ts", nil
}

// TestTwoCommitsBeforeTheReply: from a customer's message to its answer on
// the platform, the store commits twice: the message (before the platform
// is acknowledged) and the answer with its outbox row. No lease, claim or
// other write waits in between; the record of the send comes after it.
// The greeting of a new conversation goes out after the message's commit
// alone. Both stores, with a model that answers at once.
func TestTwoCommitsBeforeTheReply(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		if open == nil {
			open = testkit.SQLite
		}
		cs := &countingStore{}
		sc := &sendCounter{store: cs, at: map[string]int64{}}
		h := testkit.New(t,
			testkit.WithStore(func(tb testing.TB) app.Store { cs.Store = open(tb); return cs }),
			testkit.WithModel(testkit.ModelFunc(func(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
				return bot.ModelResponse{Text: "answer to " + req.Messages[len(req.Messages)-1].Content}, nil
			})),
			testkit.WithSenders(func(testkit.Parts) (map[bot.Platform]outbox.Sender, error) {
				return map[bot.Platform]outbox.Sender{bot.Slack: sc}, nil
			}))

		for i, text := range []string{"first question", "second question"} {
			before := cs.writes.Load()
			acc, err := h.Engine.Accept(h.Ctx, h.DM("U-ada", text))
			if err != nil || !acc.Pending {
				t.Fatalf("accept %q: %+v, %v", text, acc, err)
			}
			if i == 0 {
				h.Flush() // the greeting goes out while the model thinks
			}
			if err := h.Engine.Process(h.Ctx, acc.ConversationID); err != nil {
				t.Fatal(err)
			}
			h.Flush()
			sc.mu.Lock()
			got, answered := sc.at["answer to "+text]
			greeted, hello := int64(0), false
			for txt, n := range sc.at {
				if i == 0 && txt != "answer to first question" {
					greeted, hello = n, true
				}
			}
			sc.mu.Unlock()
			if !answered {
				t.Fatalf("%q was never answered", text)
			}
			if n := got - before; n > 2 {
				t.Errorf("%q: the answer reached the platform after %d writes; want at most 2 (the message, the answer)", text, n)
			}
			if i == 0 && (!hello || greeted-before > 1) {
				t.Errorf("the greeting reached the platform after %d writes (sent: %v); want 1, the message's", greeted-before, hello)
			}
		}
	})
}

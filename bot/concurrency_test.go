package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestSlowModelBusyBot: with every turn slot taken by model calls that
// hang, a request for a person, in another conversation or in the very
// conversation whose turn hangs, reaches the agents at once; the hanging
// turns, once the model answers, are delivered in order, and the one whose
// customer went to a person meanwhile is dropped.
func TestSlowModelBusyBot(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 8)
	model := testkit.ModelFunc(func(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
		last := req.Messages[len(req.Messages)-1].Content
		started <- last
		select {
		case <-release:
		case <-ctx.Done():
			return bot.ModelResponse{}, ctx.Err()
		}
		return bot.ModelResponse{Text: "answer to " + last}, nil
	})
	h := testkit.New(t, testkit.WithModel(model), testkit.WithEngine(func(c *bot.Config) { c.MaxConcurrentTurns = 2 }))
	submit := func(user, text string) bot.Accepted {
		t.Helper()
		acc, err := h.Engine.Accept(h.Ctx, h.DM(user, text))
		if err != nil {
			t.Fatal(err)
		}
		if acc.Pending {
			h.Engine.Submit(h.Ctx, acc.ConversationID)
		}
		return acc
	}
	// Two hanging turns take both slots; a third waits for one.
	submit("U-ada", "first question")
	submit("U-grace", "grace's question")
	for range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the model calls did not start")
		}
	}
	submit("U-linus", "linus's question")

	// A request for a person, from a customer whose turns all wait.
	start := time.Now()
	if acc := submit("U-zoe", "I want to talk to a human"); acc.Pending {
		t.Fatal("a request for a person waits for a model turn")
	}
	h.Flush()
	if n := len(testkit.Only(h.Platform.All(), bot.KindAnnounce)); n != 1 {
		t.Fatalf("%d handoff cards while the model hangs, want 1", n)
	}
	// The same, from Ada, whose turn hangs right now.
	submit("U-ada", "forget it, get me a person")
	h.Flush()
	if n := len(testkit.Only(h.Platform.All(), bot.KindAnnounce)); n != 2 {
		t.Fatalf("%d handoff cards, want 2", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the requests for a person took %v", d)
	}

	answered := func() []string {
		h.Flush()
		var out []string
		for _, r := range testkit.Replies(h.Platform.All()) {
			if strings.HasPrefix(r, "answer to") {
				out = append(out, r)
			}
		}
		return out
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); len(answered()) < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond) // real concurrency: the turns run on their own
	}
	ctx, cancel := context.WithTimeout(h.Ctx, 10*time.Second)
	defer cancel()
	if err := h.Engine.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	answers := answered()
	want := map[string]bool{"answer to grace's question": true, "answer to linus's question": true}
	for _, a := range answers {
		if !want[a] {
			t.Errorf("unexpected answer %q (Ada went to a person: her turn's answer is dropped)", a)
		}
		delete(want, a)
	}
	if len(want) != 0 {
		t.Errorf("answers %q; missing %v", answers, want)
	}
}

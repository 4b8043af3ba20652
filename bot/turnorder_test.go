package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/rules"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/prompts"
)

// Customers write while the bot thinks. These tests hold each model call
// until the test releases it, store messages in the meantime, and check
// what the model is shown: the messages a turn has to answer come after
// every answer already given, whatever their ids, so none reads as
// answered.

// strictModel answers the customer messages after the last assistant
// message of what it is shown, and nothing else: "answer to A | B". Shown
// none (every customer message reads as answered), it answers empty, which
// the engine takes for a failed model and hands the customer off.
type strictModel struct {
	started chan []string // the messages each call answers
	release chan struct{}
}

func newStrictModel() *strictModel {
	return &strictModel{started: make(chan []string, 16), release: make(chan struct{}, 16)}
}

func (m *strictModel) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	var open []string
	for _, msg := range req.Messages {
		switch msg.Role {
		case bot.ChatUser:
			open = append(open, msg.Content)
		case bot.ChatAssistant:
			open = nil
		}
	}
	m.started <- open
	select {
	case <-m.release:
	case <-ctx.Done():
		return bot.ModelResponse{}, ctx.Err()
	}
	if len(open) == 0 {
		return bot.ModelResponse{}, nil
	}
	return bot.ModelResponse{Text: "answer to " + strings.Join(open, " | ")}, nil
}

func (m *strictModel) Name() string { return "strict test model" }

// await waits for a model call to start and returns what it answers.
func (m *strictModel) await(t *testing.T) []string {
	t.Helper()
	select {
	case open := <-m.started:
		return open
	case <-time.After(10 * time.Second):
		t.Fatal("the model was not called")
		return nil
	}
}

// quiet checks that no model call started.
func (m *strictModel) quiet(t *testing.T) {
	t.Helper()
	select {
	case open := <-m.started:
		t.Errorf("an unexpected model call, answering %q", open)
	default:
	}
}

// typing is a harness whose customer Ada writes while turns run.
type typing struct {
	h *testkit.Harness
	m *strictModel
}

func newTyping(t *testing.T, open func(testing.TB) app.Store, model bot.Model) *typing {
	t.Helper()
	set := testkit.Prompts(map[string]string{prompts.FileHours: testkit.AlwaysOpen})
	opts := []testkit.Option{testkit.WithPrompts(func() *prompts.Set { return set })}
	w := &typing{m: newStrictModel()}
	if model == nil {
		model = w.m
	}
	opts = append(opts, testkit.WithModel(model))
	if open != nil {
		opts = append(opts, testkit.WithStore(open))
	}
	w.h = testkit.New(t, opts...)
	t.Cleanup(func() {
		close(w.m.release)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.h.Engine.Drain(ctx); err != nil {
			t.Errorf("drain: %v", err)
		}
	})
	return w
}

// write stores a message of Ada's; with submit, it starts its turn too, as
// the adapters do.
func (w *typing) write(t *testing.T, text string, submit bool) {
	t.Helper()
	acc, err := w.h.Engine.Accept(w.h.Ctx, w.h.DM("U-ada", text))
	if err != nil || !acc.Pending {
		t.Fatalf("accept %q: %+v, %v", text, acc, err)
	}
	if submit {
		w.h.Engine.Submit(w.h.Ctx, acc.ConversationID)
	}
}

// drain waits for the turns started to end and delivers the outbox.
func (w *typing) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(w.h.Ctx, 10*time.Second)
	defer cancel()
	if err := w.h.Engine.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	w.h.Flush()
}

// replies returns the replies sent and whether a handoff was announced.
func (w *typing) replies() ([]string, bool) {
	all := w.h.Platform.All()
	return testkit.Replies(all), len(testkit.Only(all, bot.KindAnnounce)) > 0
}

func (w *typing) answers() []string {
	var out []string
	for _, r := range testkit.Replies(w.h.Platform.All()) {
		if strings.HasPrefix(r, "answer to") {
			out = append(out, r)
		}
	}
	return out
}

// TestSecondQuickMessage: Ada's second line arrives while the model answers
// her first; it is stored before the first answer is. Each is answered,
// in order, once: the second turn is shown the second message after the
// first answer.
func TestSecondQuickMessage(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		w := newTyping(t, open, nil)
		w.write(t, "first", true)
		if got := w.m.await(t); !slices.Equal(got, []string{"first"}) {
			t.Fatalf("the first turn answers %q", got)
		}
		w.write(t, "second", true)
		w.m.release <- struct{}{}
		if got := w.m.await(t); !slices.Equal(got, []string{"second"}) {
			t.Fatalf("the second turn answers %q; want the second message, after the first answer", got)
		}
		w.m.release <- struct{}{}
		w.drain(t)
		w.m.quiet(t)
		want := []string{"answer to first", "answer to second"}
		if got := w.answers(); !slices.Equal(got, want) {
			t.Errorf("answers %q; want %q", got, want)
		}
		if _, handedOff := w.replies(); handedOff {
			t.Error("a handoff was opened: a turn had nothing to answer")
		}
	})
}

// TestThreeMessagesDuringOneTurn: what arrives during a turn is answered
// together in the next one, once.
func TestThreeMessagesDuringOneTurn(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		w := newTyping(t, open, nil)
		w.write(t, "first", true)
		w.m.await(t)
		for _, text := range []string{"second", "third", "fourth"} {
			w.write(t, text, true)
		}
		w.m.release <- struct{}{}
		if got := w.m.await(t); !slices.Equal(got, []string{"second", "third", "fourth"}) {
			t.Fatalf("the second turn answers %q; want the three messages", got)
		}
		w.m.release <- struct{}{}
		w.drain(t)
		w.m.quiet(t)
		want := []string{"answer to first", "answer to second | third | fourth"}
		if got := w.answers(); !slices.Equal(got, want) {
			t.Errorf("answers %q; want %q", got, want)
		}
	})
}

// TestCrashBetweenReplyAndNextTurn: the process dies after it stored the
// first answer and before the turn of the message that arrived meanwhile.
// The next start answers that message, once, and not the first again.
func TestCrashBetweenReplyAndNextTurn(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		w := newTyping(t, open, nil)
		w.write(t, "first", true)
		w.m.await(t)
		w.write(t, "second", false) // stored; its turn never starts
		w.m.release <- struct{}{}
		w.drain(t)

		// The next start, on the same store.
		set := testkit.Prompts(map[string]string{prompts.FileHours: testkit.AlwaysOpen})
		m := newStrictModel()
		close(m.release)
		restarted, err := bot.New(bot.Config{
			Store: w.h.Store, Model: m, Payments: w.h.Store, Directory: w.h.Store, Escalator: w.h.Handoffs,
			Prompts: func() *prompts.Set { return set }, Now: w.h.Clock.Now, Notify: w.h.Disp.Notify, IdleTimeout: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := restarted.Recover(w.h.Ctx); err != nil || n != 1 {
			t.Fatalf("recovery at the next start: %d conversations, %v; want 1", n, err)
		}
		if got := m.await(t); !slices.Equal(got, []string{"second"}) {
			t.Fatalf("the recovered turn answers %q; want the second message only", got)
		}
		if n, err := restarted.Recover(w.h.Ctx); err != nil || n != 0 {
			t.Errorf("a second recovery: %d conversations, %v; want none", n, err)
		}
		w.h.Flush()
		m.quiet(t)
		want := []string{"answer to first", "answer to second"}
		if got := w.answers(); !slices.Equal(got, want) {
			t.Errorf("answers %q; want %q", got, want)
		}
	})
}

// heldModel holds a model's first call until released.
type heldModel struct {
	bot.Model
	started chan struct{}
	release chan struct{}
	first   bool
}

func (m *heldModel) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	if !m.first {
		m.first = true // turns of one conversation run one at a time
		m.started <- struct{}{}
		<-m.release
	}
	return m.Model.Complete(ctx, req)
}

// TestSecondQuickMessageOffline: the same with the offline rules model,
// which answers what the customer wrote last: the second line is answered
// on its own, not taken for a failed model.
func TestSecondQuickMessageOffline(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		set := testkit.Prompts(map[string]string{prompts.FileHours: testkit.AlwaysOpen})
		held := &heldModel{Model: rules.New(func() *prompts.Set { return set }), started: make(chan struct{}, 1), release: make(chan struct{})}
		w := newTyping(t, open, held)
		w.write(t, "hello", true)
		select {
		case <-held.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the model was not called")
		}
		w.write(t, "what are your opening hours?", true)
		close(held.release)
		// Both turns run on their own; Drain would stop the second.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			w.h.Flush()
			if r, _ := w.replies(); len(r) >= 2 {
				break
			}
		}
		w.drain(t)
		replies, handedOff := w.replies()
		if handedOff {
			t.Errorf("a handoff was opened; replies %q", replies)
		}
		if len(replies) != 2 {
			t.Errorf("replies %q; want one to each message", replies)
		}
	})
}

package bot_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/prompts"
)

// Two replicas on one database: each test runs two engines, A (the
// harness's) and B, on one store, SQLite and, with FIRSTLINE_TEST_PG,
// PostgreSQL. They share the handoff flow and the outbox, as replicas
// share the database; the clock is the harness's.

// replicaModel answers "NAME: answer to TEXT" for the newest customer
// message (which may come before an earlier answer: a message that arrives
// during a turn is stored before that turn's answer). While hold is set, each call reports on started and waits for
// a value on release.
type replicaModel struct {
	name    string
	hold    atomic.Bool
	started chan string
	release chan struct{}
	calls   atomic.Int32
}

func newReplicaModel(name string) *replicaModel {
	return &replicaModel{name: name, started: make(chan string, 8), release: make(chan struct{}, 8)}
}

func (m *replicaModel) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	m.calls.Add(1)
	last := ""
	for _, msg := range req.Messages {
		if msg.Role == bot.ChatUser {
			last = msg.Content
		}
	}
	if m.hold.Load() {
		m.started <- last
		select {
		case <-m.release:
		case <-ctx.Done():
			return bot.ModelResponse{}, ctx.Err()
		}
	}
	return bot.ModelResponse{Text: m.name + ": answer to " + last}, nil
}

func (m *replicaModel) Name() string { return "replica model " + m.name }

// awaitStart waits for a held model call to start and returns its text.
func (m *replicaModel) awaitStart(t *testing.T) string {
	t.Helper()
	select {
	case text := <-m.started:
		return text
	case <-time.After(10 * time.Second):
		t.Fatalf("model %s was not called", m.name)
		return ""
	}
}

// replicas is A and B on one store.
type replicas struct {
	h      *testkit.Harness
	a, b   *bot.Engine
	ma, mb *replicaModel
	lease  time.Duration
}

func newReplicas(t *testing.T, open func(testing.TB) app.Store, lease time.Duration) *replicas {
	t.Helper()
	set := testkit.Prompts(map[string]string{prompts.FileHours: testkit.AlwaysOpen})
	current := func() *prompts.Set { return set }
	r := &replicas{ma: newReplicaModel("A"), mb: newReplicaModel("B"), lease: lease}
	opts := []testkit.Option{
		testkit.WithPrompts(current),
		testkit.WithModel(r.ma),
		testkit.WithEngine(func(c *bot.Config) { c.Replica, c.TurnLease = "replica-a", lease }),
	}
	if open != nil {
		opts = append(opts, testkit.WithStore(open))
	}
	r.h = testkit.New(t, opts...)
	r.a = r.h.Engine
	var err error
	r.b, err = bot.New(bot.Config{
		Store: r.h.Store, Model: r.mb, Payments: r.h.Store, Directory: r.h.Store, Escalator: r.h.Handoffs, Prompts: current,
		Now: r.h.Clock.Now, Notify: r.h.Disp.Notify, IdleTimeout: time.Hour,
		Replica: "replica-b", TurnLease: lease,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Turns left waiting on a held model end with the test.
		close(r.ma.release)
		close(r.mb.release)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, e := range []*bot.Engine{r.a, r.b} {
			if err := e.Drain(ctx); err != nil {
				t.Errorf("drain: %v", err)
			}
		}
	})
	return r
}

// accept stores a customer message on engine e and returns its
// conversation.
func (r *replicas) accept(t *testing.T, e *bot.Engine, text string) int64 {
	t.Helper()
	acc, err := e.Accept(r.h.Ctx, r.h.DM("U-ada", text))
	if err != nil || !acc.Pending {
		t.Fatalf("accept %q: %+v, %v", text, acc, err)
	}
	return acc.ConversationID
}

// answers returns the model answers delivered so far.
func (r *replicas) answers(t *testing.T) []string {
	t.Helper()
	r.h.Flush()
	var out []string
	for _, text := range testkit.Replies(r.h.Platform.All()) {
		if strings.Contains(text, ": answer to ") {
			out = append(out, text)
		}
	}
	return out
}

// awaitAnswers polls until n answers were delivered (turns run on their
// own goroutines) and returns them.
func (r *replicas) awaitAnswers(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.answers(t)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recoverOn runs one recovery pass on e and returns how many conversations
// it took up.
func (r *replicas) recoverOn(t *testing.T, e *bot.Engine) int {
	t.Helper()
	n, err := e.RecoverStranded(r.h.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// onStores runs a test on SQLite and, with FIRSTLINE_TEST_PG, PostgreSQL.
func onStores(t *testing.T, run func(t *testing.T, open func(testing.TB) app.Store)) {
	t.Run("sqlite", func(t *testing.T) { run(t, nil) })
	t.Run("postgres", func(t *testing.T) { run(t, testkit.Postgres) })
}

// TestReplicasAnswerOnce: while A answers a conversation, B neither
// answers the same messages (a start-up recovery, a redelivery) nor a new
// message of the conversation that reached it; it leaves that to A, which
// answers it in one more turn. Each message is answered once, in order.
func TestReplicasAnswerOnce(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		r := newReplicas(t, open, time.Hour)
		r.ma.hold.Store(true)
		conv := r.accept(t, r.a, "first question")
		r.a.Submit(r.h.Ctx, conv)
		r.ma.awaitStart(t)

		// B at the same moment: recovery at its start, then a message of
		// the same conversation that Slack delivered to B.
		if _, err := r.b.Recover(r.h.Ctx); err != nil {
			t.Fatal(err)
		}
		r.accept(t, r.b, "second question")
		if err := r.b.Process(r.h.Ctx, conv); err != nil {
			t.Fatal(err)
		}
		if n := r.mb.calls.Load(); n != 0 {
			t.Fatalf("B called its model %d times while A was answering the conversation", n)
		}

		r.ma.release <- struct{}{} // A's first turn
		if got := r.ma.awaitStart(t); got != "second question" {
			t.Fatalf("A's second turn answers %q, want the second question", got)
		}
		r.ma.release <- struct{}{}
		want := []string{"A: answer to first question", "A: answer to second question"}
		if got := r.awaitAnswers(t, len(want)); !slices.Equal(got, want) {
			t.Errorf("answers = %q, want %q", got, want)
		}
		if n := r.recoverOn(t, r.b); n != 0 {
			t.Errorf("B found %d stranded conversations after A answered everything", n)
		}
	})
}

// TestReplicaStalledPastItsLease: A's turn outlives its lease without
// renewing it (the process froze, or lost the database); B takes the
// conversation over and answers; A's late answer is dropped.
func TestReplicaStalledPastItsLease(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		// Renewed every 20 minutes of real time: not within this test.
		r := newReplicas(t, open, time.Hour)
		r.ma.hold.Store(true)
		conv := r.accept(t, r.a, "a question")
		r.a.Submit(r.h.Ctx, conv)
		r.ma.awaitStart(t)

		// A's turn runs on the lease A took with the message, a third of a
		// lease long, which A renews halfway through (not within this
		// test, in real time).
		r.h.Clock.Advance(r.lease / 6)
		if n := r.recoverOn(t, r.b); n != 0 {
			t.Fatalf("B took up %d conversations while A's lease ran", n)
		}
		r.h.Clock.Advance(r.lease)
		if n := r.recoverOn(t, r.b); n != 1 {
			t.Fatalf("B took up %d conversations after A's lease ran out, want 1", n)
		}
		if got := r.awaitAnswers(t, 1); !slices.Equal(got, []string{"B: answer to a question"}) {
			t.Fatalf("answers = %q, want B's", got)
		}

		r.ma.release <- struct{}{} // A wakes up and finishes
		ctx, cancel := context.WithTimeout(r.h.Ctx, 10*time.Second)
		defer cancel()
		if err := r.a.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r.answers(t); !slices.Equal(got, []string{"B: answer to a question"}) {
			t.Errorf("answers = %q; A's late answer must be dropped", got)
		}
	})
}

// TestTurnLeaseRenewed: a turn that takes longer than the lease keeps it,
// renewing it while the model works; B leaves the conversation alone.
func TestTurnLeaseRenewed(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		// A short lease, renewed every 100 ms of real time; lease times
		// come from the harness's clock.
		r := newReplicas(t, open, 300*time.Millisecond)
		r.ma.hold.Store(true)
		conv := r.accept(t, r.a, "a slow question")
		r.a.Submit(r.h.Ctx, conv)
		r.ma.awaitStart(t)

		// An hour of model time: the lease ran out, until A renews it.
		r.h.Clock.Advance(time.Hour)
		stranded := func() bool {
			now := r.h.Clock.Now()
			var ids []int64
			err := r.h.Store.WithTx(r.h.Ctx, func(tx bot.Tx) error {
				var err error
				ids, err = tx.StrandedConversations(r.h.Ctx, now, now, 10)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return len(ids) > 0
		}
		for deadline := time.Now().Add(10 * time.Second); stranded(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("A did not renew its lease within 10 s")
			}
		}
		if n := r.recoverOn(t, r.b); n != 0 {
			t.Fatalf("B took up %d conversations while A renewed its lease", n)
		}
		r.ma.release <- struct{}{}
		if got := r.awaitAnswers(t, 1); !slices.Equal(got, []string{"A: answer to a slow question"}) {
			t.Errorf("answers = %q, want A's only", got)
		}
	})
}

// TestStrandedMessageRecovered: A stored a message and died before its
// turn; after a grace for A's own turn, B answers it, once.
func TestStrandedMessageRecovered(t *testing.T) {
	onStores(t, func(t *testing.T, open func(testing.TB) app.Store) {
		r := newReplicas(t, open, time.Hour)
		r.accept(t, r.a, "where is my parcel?") // and A dies

		if n := r.recoverOn(t, r.b); n != 0 {
			t.Fatalf("B took up %d conversations within the grace", n)
		}
		r.h.Clock.Advance(r.lease/3 + time.Second)
		if n := r.recoverOn(t, r.b); n != 1 {
			t.Fatalf("B took up %d conversations after the grace, want 1", n)
		}
		if got := r.awaitAnswers(t, 1); !slices.Equal(got, []string{"B: answer to where is my parcel?"}) {
			t.Fatalf("answers = %q, want B's", got)
		}
		if n := r.recoverOn(t, r.b); n != 0 {
			t.Errorf("B took up %d conversations again after answering", n)
		}
	})
}

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// TestKill9 is the crash test of issue 6, on the real binary: `firstline
// serve` in Socket Mode against a fake Slack and a fake model, on a SQLite
// file, under a steady stream of customer messages, requests for a person,
// and agents claiming, relaying and resolving in the agent channel. The
// process is killed with SIGKILL at random moments (a seeded RNG; the seed
// is printed, FIRSTLINE_TEST_SEED replays it) and started again on the
// same database, at least ten times; then the load stops, the bot drains
// and is stopped cleanly, and what Slack saw is checked against the
// database:
//
//   - every customer message the bot acknowledged is stored;
//   - every one was answered, passed to an agent, or opened a handoff,
//     exactly once as Slack saw it;
//   - every handoff was announced exactly once, and every agent's relay
//     reached the customer exactly once;
//   - no outbox row reached Slack twice (each post carries its row's id).
//
// Run it with -v to see the figures.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the binary a dozen times: not with -short")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FIRSTLINE_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FIRSTLINE_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (FIRSTLINE_TEST_SEED=%d replays the same kill times and workload choices)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	slack := fakeslack.New(t)
	// Slack answers a post some 40 ms after it made it, as the real API
	// takes its time: a kill in between leaves a message the bot never
	// learned was posted, which the next process must find, not repeat.
	slack.SetLatency(40 * time.Millisecond)
	model := newFakeModel(t)
	const customers = 12
	for i := 1; i <= customers; i++ {
		id := fmt.Sprintf("U-c%02d", i)
		// The cards name the customer by display name: agents find the
		// customer's DM from it.
		slack.AddUser(id, fakeslack.User{Handle: id[2:], Display: "Customer " + id[2:], RealName: "Customer " + id[2:]})
	}
	db := t.TempDir() + "/firstline.db"
	srv := newServer(t,
		"FIRSTLINE_DB="+db,
		"FIRSTLINE_LOG_LEVEL=info",
		"OPENAI_BASE_URL="+model.baseURL(), "FIRSTLINE_MODEL=e2e-model",
		"SLACK_BOT_TOKEN="+fakeslack.BotToken, "SLACK_APP_TOKEN="+fakeslack.AppToken,
		"SLACK_API_URL="+slack.APIURL(), "SLACK_AGENT_CHANNEL="+agentChannel,
	)
	w := newWorld(t, slack)
	start := time.Now()
	srv.start()

	// The load: customers until stop; agents until the customers are
	// done (a customer's last request for a person still needs one).
	stop, agentsStop := make(chan struct{}), make(chan struct{})
	var people, agents, work sync.WaitGroup
	for i := 1; i <= customers; i++ {
		crng := rand.New(rand.NewPCG(seed, uint64(100+i)))
		people.Go(func() { w.customer(fmt.Sprintf("U-c%02d", i), crng, stop) })
	}
	agents.Go(func() { w.agents(agentsStop, &work) })

	// The crashes: up 0.3–2.5 s after it is ready, then kill -9 and start
	// again at once, as a supervisor would.
	const kills = 12
	for range kills {
		time.Sleep(time.Duration(300+rng.IntN(2200)) * time.Millisecond)
		srv.kill()
		srv.start()
	}
	close(stop)
	people.Wait()
	close(agentsStop)
	agents.Wait()
	work.Wait()

	// Let it drain: every message dealt with, every relay delivered, the
	// outbox empty.
	w.patience = 60 * time.Second
	live := openReadOnly(t, db)
	if !w.await(func() bool { return len(w.missing()) == 0 && live.count(t, unsentQuery) == 0 }) {
		t.Logf("not drained after %v: missing %v; outbox: %s", w.patience, w.missing(), live.unsent(t))
	}
	code, took := srv.stop(30 * time.Second)
	if code != 0 {
		t.Errorf("firstline exited with %d after SIGTERM", code)
	}
	w.index()
	f := w.figures(t, live)
	f.kills, f.elapsed, f.shutdown = kills, time.Since(start), took
	f.avoided = srv.logCount("not posting it again")
	t.Logf("figures: %s", f)
	for _, msg := range w.failures {
		t.Error(msg)
	}
	if f.lost != 0 || f.doubles != 0 || f.unstored != 0 {
		t.Errorf("lost %d, doubles %d, acknowledged but not stored %d; want 0 each", f.lost, f.doubles, f.unstored)
	}
	if f.acknowledged < f.messages {
		t.Errorf("%d of %d customer messages acknowledged: Slack would redeliver the rest", f.acknowledged, f.messages)
	}
}

// figures are what TestKill9 reports.
type figures struct {
	kills, messages, acknowledged, answered, passedOn, handoffs, relays int
	lost, doubles, unstored, pending, avoided                           int
	elapsed, shutdown                                                   time.Duration
}

func (f figures) String() string {
	return fmt.Sprintf("kills=%d messages=%d acknowledged=%d answered=%d passed-to-agents=%d handoffs=%d relays=%d lost=%d doubles=%d "+
		"doubles-avoided=%d not-stored=%d outbox-pending=%d elapsed=%v shutdown=%v",
		f.kills, f.messages, f.acknowledged, f.answered, f.passedOn, f.handoffs, f.relays, f.lost, f.doubles,
		f.avoided, f.unstored, f.pending, f.elapsed.Round(100*time.Millisecond), f.shutdown.Round(10*time.Millisecond))
}

// missing lists the customer messages not dealt with yet and the relays
// not delivered yet.
func (w *world) missing() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.customers {
		if w.answers[m.token]+w.thread[m.token]+w.trigger[m.token] == 0 {
			out = append(out, m.token)
		}
	}
	for _, tok := range w.relays {
		if w.relayed[tok] == 0 {
			out = append(out, tok)
		}
	}
	return out
}

// figures checks the ledger and the database and counts. Every problem is
// also reported as a test error naming it.
func (w *world) figures(t *testing.T, db store) figures {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var f figures
	f.messages = len(w.customers)
	stored := db.dedupeKeys(t)
	for _, m := range w.customers {
		if w.slack.Acked(m.envelope) > 0 {
			f.acknowledged++
			if !stored["slack:"+fakeslack.Team+":"+m.channel+":"+m.ts] {
				f.unstored++
				t.Errorf("message %s (ts %s) acknowledged but not stored", m.token, m.ts)
			}
		}
		a, th, tr := w.answers[m.token], w.thread[m.token], w.trigger[m.token]
		f.answered += min(a, 1)
		f.passedOn += min(th+tr, 1)
		switch n := a + th + tr; {
		case n == 0:
			f.lost++
			t.Errorf("message %s was never answered nor passed to an agent", m.token)
		case n > 1:
			f.doubles += n - 1
			t.Errorf("message %s dealt with %d times (answers %d, thread %d, cards %d)", m.token, n, a, th, tr)
		}
	}
	for _, tok := range w.relays {
		switch n := w.relayed[tok]; {
		case n == 0:
			f.lost++
			t.Errorf("relay %s never reached the customer", tok)
		case n > 1:
			f.doubles += n - 1
			t.Errorf("relay %s reached the customer %d times", tok, n)
		}
	}
	f.relays = len(w.relays)
	f.handoffs = len(w.cards)
	for n, c := range w.cards {
		if c > 1 {
			f.doubles += c - 1
			t.Errorf("handoff #%s announced %d times", n, c)
		}
	}
	if n := db.count(t, `SELECT COUNT(*) FROM handoffs`); n != len(w.cards) {
		f.lost += max(0, n-len(w.cards))
		t.Errorf("%d handoffs stored, %d announced", n, len(w.cards))
	}
	var doubled []string
	for key, n := range w.posted {
		if n > 1 {
			doubled = append(doubled, fmt.Sprintf("%s×%d", key, n))
		}
	}
	sort.Strings(doubled)
	if len(doubled) > 0 {
		t.Errorf("outbox rows posted more than once (row/part×posts): %s", strings.Join(doubled, " "))
	}
	for ch, marks := range w.inDM {
		if marks[markGreeting] > 1 {
			f.doubles += marks[markGreeting] - 1
			t.Errorf("%s greeted %d times", ch, marks[markGreeting])
		}
	}
	f.pending = db.count(t, unsentQuery)
	if f.pending != 0 {
		t.Errorf("%d outbox rows not sent at the end: %s", f.pending, db.unsent(t))
	}
	return f
}

// withTimeout is a context for one database query.
func withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

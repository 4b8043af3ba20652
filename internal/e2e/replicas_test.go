package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for reading what the replicas stored

	"github.com/firstlinehq/firstline/internal/fakediscord"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestReplicas is issue 8's test on the real binary: three `firstline
// serve` replicas on one PostgreSQL schema (FIRSTLINE_TEST_PG; skipped
// without it), after `firstline migrate`, against a fake Slack in Socket
// Mode (one connection per replica, events spread over them), a fake
// Discord (one replica at a time holds the gateway) and a fake model that
// answers at once. Customers write on both platforms, some several messages
// in a row (so one conversation's messages reach different replicas); two
// agents press Claim on every handoff at the same moment, their presses
// reaching different replicas. A few seconds in, the replica holding the
// Discord gateway is killed (SIGKILL). Then:
//
//   - every customer message is stored and answered (or passed to an
//     agent) exactly once, on both platforms; no message is lost;
//   - every claim race has exactly one winner: the customer is told once
//     that a person joined;
//   - every relay reaches the customer once, no outbox row reaches a
//     platform twice;
//   - a survivor takes the gateway over within seconds (its /readyz says
//     "discord: gateway holder"), and fetches back what Discord customers
//     wrote meanwhile.
//
// Run it with -v to see the figures.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas on PostgreSQL for most of a minute: not with -short")
	}
	pg := testkit.PostgresSchema(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FIRSTLINE_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FIRSTLINE_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (FIRSTLINE_TEST_SEED=%d replays the workload choices)", seed, seed)
	start := time.Now()

	slack := fakeslack.New(t)
	slack.SetLatency(20 * time.Millisecond)
	dc := fakediscord.New(t)
	model := newFakeModel(t)
	const slackCustomers, burstCustomers, discordCustomers = 8, 2, 4
	for i := 1; i <= slackCustomers; i++ {
		id := fmt.Sprintf("U-c%02d", i)
		slack.AddUser(id, fakeslack.User{Handle: id[2:], Display: "Customer " + id[2:], RealName: "Customer " + id[2:]})
	}
	for i := 1; i <= burstCustomers; i++ {
		id := fmt.Sprintf("U-b%02d", i)
		slack.AddUser(id, fakeslack.User{Handle: id[2:], Display: "Customer " + id[2:], RealName: "Customer " + id[2:]})
	}
	env := []string{
		"FIRSTLINE_DB=" + pg,
		"FIRSTLINE_LOG_LEVEL=info",
		"OPENAI_BASE_URL=" + model.baseURL(), "FIRSTLINE_MODEL=e2e-model",
		"SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_APP_TOKEN=" + fakeslack.AppToken,
		"SLACK_API_URL=" + slack.APIURL(), "SLACK_AGENT_CHANNEL=" + agentChannel,
		"DISCORD_BOT_TOKEN=" + fakediscord.Token, "DISCORD_API_URL=" + dc.APIURL(),
		// Customers here write faster than people do.
		"FIRSTLINE_RATE_PER_USER=off", "FIRSTLINE_RATE_PER_WORKSPACE=off",
	}
	migrate(t, env)
	const replicas = 3
	fleet := make([]*server, replicas)
	for i := range fleet {
		fleet[i] = newServer(t, env...)
		fleet[i].start()
	}
	holder := awaitHolder(t, fleet)
	if n, _ := dc.Counts(); n != 1 {
		t.Fatalf("%d gateway sessions with every replica up, want 1", n)
	}

	w := newWorld(t, slack)
	d := newDiscordSide(t, dc, discordCustomers)
	races := &claimRaces{w: w, db: openPostgres(t, pg), dms: map[string]int{}}
	stop, agentsStop := make(chan struct{}), make(chan struct{})
	var people, agents, work sync.WaitGroup
	for i := 1; i <= slackCustomers; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(100+i)))
		people.Go(func() { w.customer(fmt.Sprintf("U-c%02d", i), rng, stop) })
	}
	for i := 1; i <= burstCustomers; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(200+i)))
		people.Go(func() { w.burstCustomer(fmt.Sprintf("U-b%02d", i), rng, stop) })
	}
	for i := range discordCustomers {
		rng := rand.New(rand.NewPCG(seed, uint64(300+i)))
		people.Go(func() { d.customer(i, rng, stop) })
	}
	agents.Go(func() { races.run(agentsStop, &work) })

	// Kill the gateway holder once every Discord customer is in a
	// conversation (a message to a new conversation while no replica holds
	// the gateway is lost with Discord itself: it is never fetched back)
	// and some load has run.
	time.Sleep(4 * time.Second)
	if !d.awaitEveryoneAnswered(30 * time.Second) {
		t.Fatal("not every Discord customer was answered before the kill")
	}
	// The model slows down for a moment, so that the replica dies with
	// turns in flight: the others answer them once its leases run out.
	model.setDelay(1500 * time.Millisecond)
	time.Sleep(time.Second)
	inFlight := append(w.missing(), d.missing()...)
	killed := time.Now()
	fleet[holder].kill()
	model.setDelay(0)
	recovered := make(chan time.Duration, 1)
	go func() {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			w.index()
			if !overlaps(inFlight, append(w.missing(), d.missing()...)) {
				recovered <- time.Since(killed)
				return
			}
		}
		recovered <- -1
	}()
	survivors := append(append([]*server(nil), fleet[:holder]...), fleet[holder+1:]...)
	identified := make(chan time.Duration, 1)
	go func() {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if n, _ := dc.Counts(); n >= 2 {
				identified <- time.Since(killed)
				return
			}
		}
		identified <- -1
	}()
	awaitHolder(t, survivors)
	takeover := time.Since(killed)
	identify := <-identified

	time.Sleep(6 * time.Second) // load on the survivors, and the killed replica's leases run out
	close(stop)
	people.Wait()
	close(agentsStop)
	agents.Wait()
	work.Wait()

	// Drain: every message dealt with, every relay delivered, the outbox
	// empty (rows the killed replica had claimed wait for their lease).
	w.patience = 60 * time.Second
	db := openPostgres(t, pg)
	if !w.await(func() bool { return len(w.missing()) == 0 && len(d.missing()) == 0 && db.count(t, unsentQuery) == 0 }) {
		t.Logf("not drained after %v: missing %v %v; outbox: %s", w.patience, w.missing(), d.missing(), db.unsent(t))
	}
	for _, s := range survivors {
		if code, _ := s.stop(30 * time.Second); code != 0 {
			t.Errorf("a replica exited with %d after SIGTERM", code)
		}
	}

	w.index()
	f := w.figures(t, db)
	df := d.figures(t, db)
	for _, msg := range append(w.failures, d.failures()...) {
		t.Error(msg)
	}
	doubleClaims := races.check(t)
	inFlightDone := <-recovered
	recoveries := 0
	for _, s := range survivors {
		recoveries += s.logCount("answering messages that no replica was answering")
	}
	t.Logf("figures: replicas=%d kills=1 messages=%d (slack %d, discord %d) answered=%d passed-to-agents=%d "+
		"handoffs=%d claim-races=%d double-claims=%d relays=%d lost=%d duplicates=%d "+
		"in-flight-at-kill=%d (all dealt with %v after the kill; recovery passes that took turns over: %d) gateway-takeover=%v (new gateway session after %v) elapsed=%v",
		replicas, f.messages+df.messages, f.messages, df.messages, f.answered+df.answered, f.passedOn,
		f.handoffs, races.count(), doubleClaims, f.relays, f.lost+df.lost, f.doubles+df.doubles,
		len(inFlight), inFlightDone.Round(100*time.Millisecond), recoveries,
		takeover.Round(10*time.Millisecond), identify.Round(10*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	if f.lost+df.lost != 0 || f.doubles+df.doubles != 0 || f.unstored+df.unstored != 0 || doubleClaims != 0 {
		t.Errorf("lost %d, duplicates %d, not stored %d, double claims %d; want 0 each",
			f.lost+df.lost, f.doubles+df.doubles, f.unstored+df.unstored, doubleClaims)
	}
	if len(inFlight) == 0 {
		t.Error("no message was in flight when the replica was killed: the test did not test recovery")
	}
	if inFlightDone < 0 {
		t.Error("the messages in flight at the kill were not all dealt with within 60 s")
	}
	if identify < 0 {
		t.Error("no new Discord gateway session within 30 s of the kill")
	}
	if takeover > 10*time.Second {
		t.Errorf("the gateway was taken over %v after the kill; want within seconds", takeover)
	}
}

// migrate runs `firstline migrate`, as an operator does ahead of a deploy.
func migrate(t *testing.T, env []string) {
	t.Helper()
	cmd := exec.Command(binary, "migrate")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "migrations applied") {
		t.Fatalf("firstline migrate: %v\n%s", err, out)
	}
}

// readyz returns the running process's /readyz status and body; 0 when it
// does not answer.
func (s *server) readyz() (int, string) {
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	if p == nil {
		return 0, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// awaitHolder waits until exactly one of servers says on /readyz that it
// holds the Discord gateway, and returns its index. It fails the test when
// two say so at once.
func awaitHolder(t *testing.T, servers []*server) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		holders := []int{}
		for i, s := range servers {
			if code, body := s.readyz(); code == http.StatusOK && strings.Contains(body, "discord: gateway holder") {
				holders = append(holders, i)
			}
		}
		switch {
		case len(holders) > 1:
			t.Fatalf("replicas %v all say they hold the Discord gateway", holders)
		case len(holders) == 1:
			return holders[0]
		case time.Now().After(deadline):
			t.Fatal("no replica held the Discord gateway within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openPostgres opens the replicas' schema for the checks, as db_test.go
// opens the SQLite file.
func openPostgres(t *testing.T, url string) store {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return store{db}
}

// burstCustomer writes two messages in a row, then waits for both to be
// answered, until stop: Socket Mode spreads the two over the replicas, so
// two replicas hold messages of one conversation at once.
func (w *world) burstCustomer(user string, rng *rand.Rand, stop <-chan struct{}) {
	ch := fakeslack.DMChannel(user)
	for {
		select {
		case <-stop:
			return
		default:
		}
		first := w.say(user, ch, "First, where is my parcel? Reference %s", false)
		second := w.say(user, ch, "And can I change the address? Reference %s", false)
		if !w.await(func() bool { return w.handled(first) > 0 && w.handled(second) > 0 }) {
			w.fail("%s: messages %s and %s were not both answered within %v", user, first, second, w.patience)
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
	}
}

// overlaps reports whether a and b have a token in common.
func overlaps(a, b []string) bool {
	in := map[string]bool{}
	for _, x := range a {
		in[x] = true
	}
	for _, x := range b {
		if in[x] {
			return true
		}
	}
	return false
}

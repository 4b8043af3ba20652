package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakediscord"
	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// The parts of TestReplicas' world beyond world_test.go's Slack customers:
// Discord customers, and agents racing each other to claim.

// discordSide is the Discord customers of TestReplicas: each writes in a
// direct message, waits for the answer, and writes again.
type discordSide struct {
	t        *testing.T
	dc       *fakediscord.Server
	patience time.Duration
	dms      []string // each customer's DM channel
	users    []string

	mu    sync.Mutex
	seq   int
	sent  []discordMsg
	fails []string
}

// discordMsg is a message a Discord customer wrote.
type discordMsg struct{ token, dm, id string }

func newDiscordSide(t *testing.T, dc *fakediscord.Server, customers int) *discordSide {
	d := &discordSide{t: t, dc: dc, patience: 75 * time.Second}
	for i := range customers {
		user := fmt.Sprintf("13000000000000001%02d", i)
		dm := fmt.Sprintf("14000000000000001%02d", i)
		dc.AddUser(fakediscord.User{ID: user, Username: fmt.Sprintf("dcust%02d", i), GlobalName: fmt.Sprintf("Discord customer %02d", i)})
		dc.AddChannel(fakediscord.Channel{ID: dm, Type: 1, Recipient: user})
		d.users, d.dms = append(d.users, user), append(d.dms, dm)
	}
	return d
}

// customer is customer i's day until stop.
func (d *discordSide) customer(i int, rng *rand.Rand, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		d.mu.Lock()
		d.seq++
		tok := fmt.Sprintf("T%d", 50000+d.seq) // apart from the Slack side's tokens
		d.mu.Unlock()
		id := d.dc.Say(d.dms[i], d.users[i], "When does my parcel arrive? Reference "+tok)
		d.mu.Lock()
		d.sent = append(d.sent, discordMsg{token: tok, dm: d.dms[i], id: id})
		d.mu.Unlock()
		if !d.await(d.patience, func() bool { return d.answers()[tok] > 0 }) {
			d.fail("discord customer %d: message %s was not answered within %v", i, tok, d.patience)
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
	}
}

// answers counts the answers naming each token, as Discord saw them.
func (d *discordSide) answers() map[string]int {
	out := map[string]int{}
	for _, dm := range d.dms {
		for _, s := range d.dc.SentTo(dm) {
			if strings.Contains(s.Content, "Answer to") {
				for _, tok := range tokenRe.FindAllString(s.Content, -1) {
					out[tok]++
				}
			}
		}
	}
	return out
}

// awaitEveryoneAnswered waits until every customer had an answer.
func (d *discordSide) awaitEveryoneAnswered(patience time.Duration) bool {
	return d.await(patience, func() bool {
		answered := d.answers()
		d.mu.Lock()
		defer d.mu.Unlock()
		seen := map[string]bool{}
		for _, m := range d.sent {
			if answered[m.token] > 0 {
				seen[m.dm] = true
			}
		}
		return len(seen) == len(d.dms)
	})
}

func (d *discordSide) await(patience time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(15 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// missing lists the messages not answered yet.
func (d *discordSide) missing() []string {
	answered := d.answers()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, m := range d.sent {
		if answered[m.token] == 0 {
			out = append(out, m.token)
		}
	}
	return out
}

func (d *discordSide) fail(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fails = append(d.fails, fmt.Sprintf(format, args...))
}

func (d *discordSide) failures() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.fails...)
}

// discordFigures are the Discord side's counts.
type discordFigures struct{ messages, answered, lost, doubles, unstored int }

// figures checks what Discord saw against the database: every message
// stored and answered once, no message created twice from one outbox row
// (the nonce names the row), no customer greeted twice.
func (d *discordSide) figures(t *testing.T, db store) discordFigures {
	t.Helper()
	answered := d.answers()
	stored := db.dedupeKeys(t)
	d.mu.Lock()
	defer d.mu.Unlock()
	var f discordFigures
	f.messages = len(d.sent)
	for _, m := range d.sent {
		if !stored["discord:"+m.id] {
			f.unstored++
			t.Errorf("discord message %s (%s) was not stored", m.token, m.id)
		}
		switch n := answered[m.token]; {
		case n == 0:
			f.lost++
			t.Errorf("discord message %s was never answered", m.token)
		case n > 1:
			f.doubles += n - 1
			t.Errorf("discord message %s answered %d times", m.token, n)
		default:
			f.answered++
		}
	}
	created := map[string]int{}
	for _, s := range d.dc.AllSends() {
		if s.Method == "POST" && !s.Deduped && s.Nonce != "" {
			created[s.Nonce]++
		}
	}
	for nonce, n := range created {
		if n > 1 {
			f.doubles += n - 1
			t.Errorf("discord: outbox row %s created %d messages", nonce, n)
		}
	}
	for _, dm := range d.dms {
		greetings := 0
		for _, s := range d.dc.SentTo(dm) {
			if strings.Contains(s.Content, markGreeting) {
				greetings++
			}
		}
		if greetings > 1 {
			f.doubles += greetings - 1
			t.Errorf("discord DM %s greeted %d times", dm, greetings)
		}
	}
	return f
}

// claimRaces are the agents of TestReplicas: on every handoff card, two
// agents press Claim at the same moment, their presses on different
// replicas' connections; the winner relays a message and resolves.
type claimRaces struct {
	w  *world
	db store

	mu  sync.Mutex
	n   int
	dms map[string]int // customer DM → claim races on its handoffs
}

// The agents who race.
var racers = [2]string{"U-alex", "U-sam"}

// run starts a race for every card that appears, until stop.
func (r *claimRaces) run(stop <-chan struct{}, done *sync.WaitGroup) {
	taken := 0
	for {
		r.w.index()
		r.w.mu.Lock()
		cards := append([]string(nil), r.w.cardTS[taken:]...)
		r.w.mu.Unlock()
		for _, ts := range cards {
			taken++
			done.Go(func() { r.race(ts) })
		}
		select {
		case <-stop:
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// race is both agents pressing Claim on a card at once (again while it
// shows no effect: a press on a connection that dies is lost, and people
// press again), then the winner's relay and resolve, each checked by its
// effect in the customer's DM.
func (r *claimRaces) race(card string) {
	w := r.w
	w.mu.Lock()
	dm := w.cardDM[card]
	w.mu.Unlock()
	claim, ok := claimButton(w.slack, card)
	if dm == "" || !ok {
		w.fail("card %s names no customer or has no Claim button", card)
		return
	}
	r.mu.Lock()
	r.n++
	r.dms[dm]++
	r.mu.Unlock()
	joined, resolved := w.dmCount(dm, markJoined), w.dmCount(dm, markResolved)
	claimed := false
	for try := 0; try < 6 && !claimed; try++ {
		w.slack.PressTogether(
			fakeslack.Pressed{User: racers[0], Channel: agentChannel, TS: card, Button: claim},
			fakeslack.Pressed{User: racers[1], Channel: agentChannel, TS: card, Button: claim},
		)
		for deadline := time.Now().Add(w.patience / 5); time.Now().Before(deadline) && !claimed; time.Sleep(15 * time.Millisecond) {
			w.index()
			claimed = w.dmCount(dm, markJoined) > joined
		}
	}
	if !claimed {
		w.fail("handoff %s of card %s: no agent's claim took effect", claim.Value, card)
		return
	}
	winner, err := r.winner(claim.Value)
	if err != nil {
		w.fail("handoff %s: %v", claim.Value, err)
		return
	}
	// Agents write in the card's thread once the bot knows it (a card
	// posted by the killed replica is recorded when its lease runs out).
	if !w.await(func() bool { return r.cardKnown(claim.Value) }) {
		w.fail("handoff %s: its card was never recorded as posted", claim.Value)
		return
	}
	tok := w.token()
	w.slack.Say(winner, agentChannel, "relay from the agent, reference "+tok, card)
	w.mu.Lock()
	w.relays = append(w.relays, tok)
	w.mu.Unlock()
	if !w.await(func() bool { return w.relayCount(tok) > 0 }) {
		w.fail("%s: relay %s did not reach the customer within %v", winner, tok, w.patience)
	}
	w.slack.Say(winner, agentChannel, "resolve", card)
	if !w.await(func() bool { return w.dmCount(dm, markResolved) > resolved }) {
		w.fail("%s: resolving card %s had no effect within %v", winner, card, w.patience)
	}
}

// winner is the agent the database says claimed a handoff.
func (r *claimRaces) winner(handoffID string) (string, error) {
	ctx, cancel := withTimeout()
	defer cancel()
	var agent string
	err := r.db.db.QueryRowContext(ctx, `SELECT agent_id FROM handoffs WHERE id = $1`, handoffID).Scan(&agent)
	if err != nil {
		return "", fmt.Errorf("read the claiming agent: %w", err)
	}
	if agent != racers[0] && agent != racers[1] {
		return "", fmt.Errorf("claimed by %q, not by one of %v", agent, racers)
	}
	return agent, nil
}

// cardKnown reports whether a handoff's card is recorded as posted.
func (r *claimRaces) cardKnown(handoffID string) bool {
	ctx, cancel := withTimeout()
	defer cancel()
	var n int
	err := r.db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs h JOIN outbox o ON o.id = h.announce_id
		WHERE h.id = $1 AND o.platform_msg_id IS NOT NULL`, handoffID).Scan(&n)
	return err == nil && n == 1
}

func (r *claimRaces) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// check reports, as test errors and a count, the customers told more
// often that a person joined than their handoffs were raced for: a race
// with two winners.
func (r *claimRaces) check(t *testing.T) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	doubles := 0
	for dm, races := range r.dms {
		if joined := r.w.dmCount(dm, markJoined); joined > races {
			doubles += joined - races
			t.Errorf("%s: told %d times that a person joined, after %d claim races", dm, joined, races)
		}
	}
	return doubles
}

// claimButton returns the Claim button of the card posted at ts.
func claimButton(slack *fakeslack.Server, ts string) (fakeslack.Button, bool) {
	for _, p := range slack.Posts() {
		if p.Method != "chat.postMessage" || p.Channel != agentChannel || p.TS != ts {
			continue
		}
		for _, b := range p.Buttons() {
			if strings.HasPrefix(b.ActionID, "firstline_claim") {
				return b, true
			}
		}
	}
	return fakeslack.Button{}, false
}

package e2e

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// The agent channel of the e2e workspace.
const agentChannel = "CAGENTS"

var (
	handoffRe  = regexp.MustCompile(`Handoff #(\d+)`)
	customerRe = regexp.MustCompile(`Customer (c\d+)`)
)

// world is the Slack workspace of the e2e tests, around internal/fakeslack:
// customers and agents who write as people do (one message, then they wait
// for its effect), and a ledger of what the bot posted, indexed as it comes
// in, from which the checks are made.
type world struct {
	t     *testing.T
	slack *fakeslack.Server
	seq   atomic.Int64 // token numbers
	// patience bounds every wait for the bot: generous, since the bot is
	// killed and restarted under the customers' feet, and a message a
	// killed process was sending waits for its lease to run out.
	patience time.Duration
	// handoffs bounds the handoffs open at once: every handoff posts some
	// four messages in the agent channel, and Slack takes about one a
	// second per channel.
	handoffs chan struct{}

	mu      sync.Mutex
	indexed int                       // posts indexed so far
	answers map[string]int            // token → model answers in a DM naming it
	thread  map[string]int            // token → customer messages passed to a handoff thread
	trigger map[string]int            // token → cards whose newest customer message has it
	relayed map[string]int            // token → agent relays delivered to a DM
	cards   map[string]int            // handoff number → cards posted
	cardTS  []string                  // the cards' ts, in order
	cardDM  map[string]string         // card ts → the customer's DM channel
	posted  map[string]int            // "outbox id/part" → posts carrying it
	inDM    map[string]map[string]int // DM channel → marker text → posts

	customers []customerMsg // every customer message sent
	relays    []string      // every relay token agents sent
	failures  []string      // what scripts could not do, reported at the end
}

// customerMsg is a message a customer sent.
type customerMsg struct {
	token, channel, ts, envelope string
	human                        bool // a request for a person
}

// Markers: texts the ledger counts per DM channel.
const (
	markResolved = "marked this conversation as resolved"
	markGreeting = "AI support assistant"
	markJoined   = "has joined"
)

func newWorld(t *testing.T, slack *fakeslack.Server) *world {
	return &world{t: t, slack: slack, patience: 75 * time.Second, handoffs: make(chan struct{}, 2), cardDM: map[string]string{},
		answers: map[string]int{}, thread: map[string]int{}, trigger: map[string]int{}, relayed: map[string]int{},
		cards: map[string]int{}, posted: map[string]int{}, inDM: map[string]map[string]int{}}
}

// token returns a new token for a message.
func (w *world) token() string { return fmt.Sprintf("T%04d", w.seq.Add(1)) }

// index reads the posts that came in since the last call.
func (w *world) index() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.slack.PostsSince(w.indexed) {
		w.indexed++
		if p.Method != "chat.postMessage" {
			continue // updates of cards change nothing the checks count
		}
		if id, part, ok := p.OutboxID(); ok {
			w.posted[id+"/"+strconv.Itoa(part)]++
		}
		text := p.Section()
		switch {
		case strings.HasPrefix(p.Channel, "D"):
			count(w.inDM, p.Channel, text, markResolved, markGreeting, markJoined)
			if strings.Contains(text, "Answer to") {
				for _, tok := range tokenRe.FindAllString(text, -1) {
					w.answers[tok]++
				}
			}
			if strings.Contains(text, "(support): relay") {
				for _, tok := range tokenRe.FindAllString(text, -1) {
					w.relayed[tok]++
				}
			}
		case p.Channel == agentChannel && p.ThreadTS == "":
			if m := handoffRe.FindStringSubmatch(text); m != nil {
				w.cards[m[1]]++
				w.cardTS = append(w.cardTS, p.TS)
				if c := customerRe.FindStringSubmatch(text); c != nil {
					w.cardDM[p.TS] = fakeslack.DMChannel("U-" + c[1])
				}
				if toks := tokenRe.FindAllString(lastCustomerLine(text), -1); len(toks) > 0 {
					w.trigger[toks[0]]++
				}
			}
		case p.Channel == agentChannel:
			for _, tok := range tokenRe.FindAllString(text, -1) {
				w.thread[tok]++
			}
		}
	}
}

func count(m map[string]map[string]int, key, text string, markers ...string) {
	for _, mk := range markers {
		if strings.Contains(text, mk) {
			if m[key] == nil {
				m[key] = map[string]int{}
			}
			m[key][mk]++
		}
	}
}

// lastCustomerLine is the newest customer message a card shows.
func lastCustomerLine(card string) string {
	last := ""
	for _, l := range strings.Split(card, "\n") {
		if strings.Contains(l, "customer: ") {
			last = l
		}
	}
	return last
}

// handled counts how a customer's message was dealt with: answered by the
// model, passed to a handoff thread, or the trigger of a handoff card.
func (w *world) handled(tok string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.answers[tok] + w.thread[tok] + w.trigger[tok]
}

func (w *world) dmCount(channel, marker string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inDM[channel][marker]
}

func (w *world) relayCount(tok string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.relayed[tok]
}

// fail records what a script could not do; scripts run in goroutines of
// their own and must not stop the test.
func (w *world) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = append(w.failures, fmt.Sprintf(format, args...))
}

// await polls cond (indexing new posts) until it holds or patience runs
// out; it reports whether it held.
func (w *world) await(cond func() bool) bool {
	deadline := time.Now().Add(w.patience)
	for time.Now().Before(deadline) {
		w.index()
		if cond() {
			return true
		}
		time.Sleep(15 * time.Millisecond)
	}
	return false
}

// customer is one customer's day until stop: questions, now and then a
// request for a person followed by a message to the agent, each message
// sent once the previous one was dealt with, as a person chatting would.
func (w *world) customer(user string, rng *rand.Rand, stop <-chan struct{}) {
	ch := fakeslack.DMChannel(user)
	for {
		select {
		case <-stop:
			return
		default:
		}
		if rng.IntN(4) == 0 && w.takeHandoff() {
			w.askForPerson(user, ch)
			<-w.handoffs
		} else if tok := w.say(user, ch, "When does my parcel arrive? Reference %s", false); !w.await(func() bool { return w.handled(tok) > 0 }) {
			w.fail("%s: message %s was not answered within %v", user, tok, w.patience)
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
	}
}

// takeHandoff reports whether another handoff may open now.
func (w *world) takeHandoff() bool {
	select {
	case w.handoffs <- struct{}{}:
		return true
	default:
		return false
	}
}

// askForPerson asks for a person, writes to the agent, and waits until the
// agent resolved the handoff.
func (w *world) askForPerson(user, ch string) {
	resolved := w.dmCount(ch, markResolved)
	tok := w.say(user, ch, "I want to talk to a human, reference %s", true)
	if !w.await(func() bool { return w.handled(tok) > 0 }) {
		w.fail("%s: request for a person %s reached no agent within %v", user, tok, w.patience)
		return
	}
	tok = w.say(user, ch, "Are you there? It is about %s", false)
	if !w.await(func() bool { return w.handled(tok) > 0 }) {
		w.fail("%s: message %s to the agent was not passed on within %v", user, tok, w.patience)
	}
	if !w.await(func() bool { return w.dmCount(ch, markResolved) > resolved }) {
		w.fail("%s: handoff not resolved within %v", user, w.patience)
	}
}

// say sends a customer's message (format takes the token) and returns its
// token.
func (w *world) say(user, ch, format string, human bool) string {
	tok := w.token()
	ts, env := w.slack.DM(user, fmt.Sprintf(format, tok))
	w.mu.Lock()
	w.customers = append(w.customers, customerMsg{token: tok, channel: ch, ts: ts, envelope: env, human: human})
	w.mu.Unlock()
	return tok
}

// agents take every card that appears until stop, each with an agent of
// its own: claim, a word to the customer, resolve.
func (w *world) agents(stop <-chan struct{}, done *sync.WaitGroup) {
	taken := 0
	agents := []string{"U-alex", "U-sam"}
	for {
		w.index()
		w.mu.Lock()
		cards := append([]string(nil), w.cardTS[taken:]...)
		w.mu.Unlock()
		for _, ts := range cards {
			agent := agents[taken%len(agents)]
			taken++
			done.Go(func() { w.work(agent, ts) })
		}
		select {
		case <-stop:
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// work is an agent handling one handoff: claim, relay a message, resolve,
// each checked by its effect in the customer's DM. A claim is written
// again when it shows no effect for a while: the bot ignores words in a
// thread it does not know yet (it learns it once the card is recorded as
// posted, which after a crash may wait for the card's lease), as an agent
// would write again.
func (w *world) work(agent, card string) {
	w.mu.Lock()
	dm := w.cardDM[card]
	w.mu.Unlock()
	if dm == "" {
		w.fail("%s: card %s names no customer", agent, card)
		return
	}
	joined, resolved := w.dmCount(dm, markJoined), w.dmCount(dm, markResolved)
	claimed := false
	for try := 0; try < 6 && !claimed; try++ {
		w.slack.Say(agent, agentChannel, "claim", card)
		deadline := time.Now().Add(w.patience / 5)
		for time.Now().Before(deadline) && !claimed {
			w.index()
			claimed = w.dmCount(dm, markJoined) > joined
			time.Sleep(15 * time.Millisecond)
		}
	}
	if !claimed {
		w.fail("%s: could not claim the handoff of card %s", agent, card)
		return
	}
	tok := w.token()
	w.slack.Say(agent, agentChannel, "relay from the agent, reference "+tok, card)
	w.mu.Lock()
	w.relays = append(w.relays, tok)
	w.mu.Unlock()
	if !w.await(func() bool { return w.relayCount(tok) > 0 }) {
		w.fail("%s: relay %s did not reach the customer within %v", agent, tok, w.patience)
	}
	w.slack.Say(agent, agentChannel, "resolve", card)
	if !w.await(func() bool { return w.dmCount(dm, markResolved) > resolved }) {
		w.fail("%s: resolving card %s had no effect within %v", agent, card, w.patience)
	}
}

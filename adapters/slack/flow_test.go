package slack

import (
	"fmt"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestWholeFlow runs a customer's day through the real engine, handoff flow
// and outbox, in Socket Mode and over HTTP: a payment question answered
// through the tool, a person requested and announced, claimed by button,
// words relayed both ways (notes and other agents' words not), resolved by
// text, rated by button; then a second handoff claimed by text, resolved by
// button and rated by a typed digit; then a normal answer again.
func TestWholeFlow(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			testWholeFlow(t, m)
		})
	}
}

func testWholeFlow(t *testing.T, m mode) {
	e := newEnv(t, m)
	const agents = testkit.AgentChannel
	ada := fakeslack.DMChannel("U-ada")

	// A question answered through the payment tool, with a sign of life
	// and the "Talk to a person" button.
	since := e.mark()
	ts := e.dm("U-ada", "status of PAY-1002")
	answer := e.waitPost(since, "the payment answer", to(ada, "PAY-1002"))
	if !strings.Contains(answer.Section(), "pending") || answer.ThreadTS != "" {
		t.Errorf("answer = %+v, want PAY-1002 pending, top-level in the DM", answer)
	}
	if b := answer.Button(t, "firstline_talk_to_person"); b.Value == "" || b.Label != "Talk to a person" {
		t.Errorf("talk button = %+v", b)
	}
	if answer.Parse != "none" || answer.LinkNames != "false" {
		t.Errorf("parse=%q link_names=%q, want none and false", answer.Parse, answer.LinkNames)
	}
	e.waitPost(since, "the greeting", to(ada, "AI support assistant"))
	waitUntil(t, "the eyes reaction", func() bool {
		for _, r := range e.fake.Reactions() {
			if r == (reaction{Name: "eyes", Channel: ada, TS: ts}) {
				return true
			}
		}
		return false
	})

	// A person is requested: the card pings the agents and has the buttons.
	since = e.mark()
	e.dm("U-ada", "I want to talk to a human")
	c := e.waitCard(since)
	if !strings.HasPrefix(c.Section(), "<!here> ") || !strings.HasPrefix(c.Text, "<!here> ") {
		t.Errorf("card = %q, want it to start with <!here>", c.Section())
	}
	for _, want := range []string{"Ada on slack", "customer C-1", "The customer asked for a person", "I want to talk to a human"} {
		if !strings.Contains(c.Section(), want) {
			t.Errorf("card lacks %q:\n%s", want, c.Section())
		}
	}
	claim, resolve := c.Button(t, "firstline_claim"), c.Button(t, "firstline_resolve")
	if claim.Value == "" || claim.Value != resolve.Value || len(c.Buttons()) != 2 {
		t.Fatalf("card buttons = %+v", c.Buttons())
	}
	handoffID := claim.Value
	e.waitPost(since, "the acknowledgement", to(ada, "asked a person from our support team"))

	// Claimed by button: the card shows the owner, the customer is told.
	since = e.mark()
	e.press("U-alex", agents, c.TS, claim)
	upd := e.waitPost(since, "the card update", updateOf(c.TS, "claimed by Alex"))
	if bs := upd.Buttons(); len(bs) != 1 || bs[0].ActionID != "firstline_resolve" {
		t.Errorf("claimed card buttons = %+v, want Resolve only", bs)
	}
	e.waitPost(since, "agent joined", to(ada, "Alex from our support team has joined"))
	e.waitPost(since, "claim note in the thread", inThread(agents, c.TS, "Alex claimed this handoff"))

	// Relay both ways.
	since = e.mark()
	e.agentSays("U-alex", c.TS, "Hi Ada, I'm looking into *PAY-1002* now")
	relay := e.waitPost(since, "the relay", to(ada, "(support)"))
	if got, want := relay.Section(), "Alex (support): Hi Ada, I'm looking into *PAY-1002* now"; got != want {
		t.Errorf("relay = %q, want %q", got, want)
	}
	since = e.mark()
	e.dm("U-ada", "thank you, it was charged twice")
	e.waitPost(since, "the customer's words in the thread", customerInThread(agents, c.TS, "Ada", "thank you, it was charged twice"))

	// A note and another agent's words stay in the thread; resolve by text.
	since = e.mark()
	e.agentSays("U-alex", c.TS, "// checking the ledger")
	e.agentSays("U-sam", c.TS, "I can take it if you want")
	e.agentSays("U-alex", c.TS, "resolve")
	rated := e.waitPost(since, "the rating request", to(ada, "marked this conversation as resolved"))
	e.waitPost(since, "the resolved card", updateOf(c.TS, "resolved by Alex"))
	for _, p := range e.posts(since, func(p post) bool { return p.Channel == ada }) {
		if strings.Contains(p.Section(), "ledger") || strings.Contains(p.Section(), "take it") {
			t.Errorf("relayed to the customer: %q", p.Section())
		}
	}
	bs := rated.Buttons()
	if len(bs) != 5 {
		t.Fatalf("rating buttons = %+v", bs)
	}
	for i, b := range bs {
		if want := fmt.Sprintf("firstline_rate#%d", i+1); b.ActionID != want || b.Value != fmt.Sprintf("%s:%d", handoffID, i+1) {
			t.Errorf("rating button %d = %+v", i+1, b)
		}
	}

	// Rated by button.
	since = e.mark()
	e.press("U-ada", ada, rated.TS, bs[4])
	e.waitPost(since, "thanks for the rating", to(ada, "Thank you for the rating (5/5)"))

	// A second handoff: claimed by text, resolved by button, rated by digit.
	since = e.mark()
	e.dm("U-ada", "can I talk to a person please")
	c2 := e.waitCard(since)
	if c2.TS == c.TS {
		t.Fatal("the second handoff reused the first card")
	}
	e.agentSays("U-sam", c2.TS, " Claim ")
	e.waitPost(since, "Sam joined", to(ada, "Sam Agent from our support team has joined"))
	e.waitPost(since, "the claimed card", updateOf(c2.TS, "claimed by Sam Agent"))
	since = e.mark()
	e.press("U-sam", agents, c2.TS, c2.Button(t, "firstline_resolve"))
	e.waitPost(since, "the second rating request", to(ada, "marked this conversation as resolved"))
	since = e.mark()
	e.dm("U-ada", "4")
	e.waitPost(since, "thanks for the typed rating", to(ada, "Thank you for the rating (4/5)"))

	// The bot answers again as before.
	since = e.mark()
	e.dm("U-ada", "and PAY-1001?")
	if p := e.waitPost(since, "a normal answer", to(ada, "PAY-1001")); !strings.Contains(p.Section(), "settled") {
		t.Errorf("answer = %q, want settled", p.Section())
	}
}

package discord

import (
	"slices"
	"strings"
	"testing"
)

// The whole flow: a question answered through a tool, a person requested,
// announced with the role mention, claimed (two agents at once), relayed
// both ways, resolved and rated.
func TestHandoffAnnouncedClaimedRelayedResolved(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")

	e.f.Say(testDMAda, testAda, "status of PAY-1001")
	e.waitSent(testDMAda, "PAY-1001")

	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	card := e.waitCard()
	id := handoffID(t, card)
	if !strings.HasPrefix(card.Content, "<@&"+testRole+"> **Handoff #"+id+"**") {
		t.Errorf("card = %q, want the role mention and the card", card.Content)
	}
	for _, want := range []string{"Ada Lovelace on discord", "customer C-1", "The customer asked for a person.", "status of PAY-1001"} {
		if !strings.Contains(card.Content, want) {
			t.Errorf("card = %q, want %q in it", card.Content, want)
		}
	}
	if got, want := card.CustomIDs(), []string{"fl:claim:" + id, "fl:resolve:" + id}; !slices.Equal(got, want) {
		t.Errorf("card buttons = %v, want %v", got, want)
	}
	thread := card.ID // a thread started from a message has its id
	e.eventually("the handoff thread", func() bool {
		return slices.Contains(e.f.ThreadStarts(), threadStart{Channel: testAgents, Message: card.ID, Name: "Handoff #" + id})
	})
	e.waitSent(testDMAda, "asked a person")

	// Two agents press Claim at once: exactly one wins.
	c1 := e.f.Click(testAgents, card.ID, "fl:claim:"+id, testGrace)
	c2 := e.f.Click(testAgents, card.ID, "fl:claim:"+id, testLinus)
	cb1, cb2 := e.waitCallback(c1), e.waitCallback(c2)
	winner, loser := testGrace, testLinus
	if cb2.Content == "You claimed this handoff." {
		winner, loser = testLinus, testGrace
		cb1, cb2 = cb2, cb1
	}
	if cb1.Content != "You claimed this handoff." || !strings.HasPrefix(cb2.Content, "Already claimed by") {
		t.Fatalf("claim answers = %+v and %+v, want one winner", cb1, cb2)
	}
	for _, cb := range []callback{cb1, cb2} {
		if cb.Type != 4 || cb.Flags != 64 {
			t.Errorf("claim answered %+v, want an ephemeral message", cb)
		}
	}
	name := e.f.User(winner).Nick
	if name == "" {
		name = e.f.User(winner).GlobalName
	}
	e.waitSent(testDMAda, name+" from our support team has joined")
	e.eventually("the card updated as claimed", func() bool {
		for _, ed := range e.f.Edits(card.ID) {
			if strings.Contains(ed.Content, "**Status:** claimed by "+name) && slices.Equal(ed.CustomIDs(), []string{"fl:resolve:" + id}) {
				return true
			}
		}
		return false
	})

	// Relay: the claiming agent's words reach the customer; another
	// agent's and internal notes do not.
	e.f.Say(thread, winner, "Hi Ada, I am looking into it")
	e.f.Say(thread, loser, "I can take the next one")
	e.f.Say(thread, winner, "// she sounds upset")
	e.f.Say(thread, winner, "Done: it is settled.")
	relay := e.waitSent(testDMAda, "Done: it is settled.")
	first := e.waitSent(testDMAda, "Hi Ada")
	if want := escapeMarkdown(name) + " (support): Hi Ada, I am looking into it"; first.Content != want {
		t.Errorf("relay = %q, want %q", first.Content, want)
	}
	if relay.CustomIDs() != nil {
		t.Errorf("relay has buttons %v", relay.CustomIDs())
	}
	for _, s := range e.f.SentTo(testDMAda) {
		if strings.Contains(s.Content, "next one") || strings.Contains(s.Content, "upset") {
			t.Errorf("relayed to the customer: %q", s.Content)
		}
	}

	// The customer's words go to the thread.
	e.f.Say(testDMAda, testAda, "Thanks, that was quick")
	// The handoff flow decides the layout (attributed, quoted); this
	// checks only that it reaches the thread as Ada's.
	if post := e.waitSent(thread, "Thanks, that was quick"); !strings.Contains(post.Content, "Ada Lovelace") {
		t.Errorf("thread post = %q", post.Content)
	}

	// Resolve by button; the customer rates by button.
	r := e.f.Click(testAgents, card.ID, "fl:resolve:"+id, winner)
	if cb := e.waitCallback(r); cb.Content != "Resolved." || cb.Flags != 64 {
		t.Errorf("resolve answered %+v", cb)
	}
	resolved := e.waitSent(testDMAda, "marked this conversation as resolved")
	var rates []string
	for n := 1; n <= 5; n++ {
		rates = append(rates, "fl:rate:"+id+":"+string(rune('0'+n)))
	}
	if got := resolved.CustomIDs(); !slices.Equal(got, rates) {
		t.Errorf("rating buttons = %v, want %v", got, rates)
	}
	e.eventually("the card updated as resolved, without buttons", func() bool {
		for _, ed := range e.f.Edits(card.ID) {
			if strings.Contains(ed.Content, "resolved by "+name) && len(ed.CustomIDs()) == 0 && ed.Components != nil {
				return true
			}
		}
		return false
	})
	// Someone else cannot rate; the customer can.
	if cb := e.waitCallback(e.f.Click(testDMAda, resolved.ID, rates[0], testLinus)); cb.Content != msgNotYours {
		t.Errorf("another user's rating answered %+v", cb)
	}
	if cb := e.waitCallback(e.f.Click(testDMAda, resolved.ID, rates[4], testAda)); cb.Type != 6 {
		t.Errorf("rating answered %+v, want a deferred update", cb)
	}
	e.waitSent(testDMAda, "Thank you for the rating (5/5)")

	// The bot is back: a question gets an answer again.
	e.f.Say(testDMAda, testAda, "status of PAY-1002")
	e.waitSent(testDMAda, "PAY-1002")
}

func TestClaimAndResolveByTextAndTypedRating(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.Say(testDMAda, testAda, "can I talk to a person")
	card := e.waitCard()
	thread := card.ID

	// Before a claim, an agent's words are not relayed; they are told so.
	e.f.Say(thread, testGrace, "hello?")
	e.waitSent(thread, "write claim first")

	e.f.Say(thread, testGrace, "  Claim ")
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	e.waitSent(thread, "claimed this handoff")
	e.f.Say(thread, testGrace, "Hello Ada")
	e.waitSent(testDMAda, "(support): Hello Ada")

	// transfer @agent hands it on; the mention names the new agent.
	e.f.Say(thread, testGrace, "transfer <@"+testLinus+">")
	e.waitSent(testDMAda, "Linus from our support team has joined")
	e.f.Say(thread, testGrace, "still me")
	e.f.Say(thread, testLinus, "Linus here")
	e.waitSent(testDMAda, "Linus (support): Linus here")
	if n := e.countSent(testDMAda, "still me"); n != 0 {
		t.Error("the previous agent is still relayed after the transfer")
	}

	e.f.Say(thread, testLinus, "resolve")
	e.waitSent(testDMAda, "marked this conversation as resolved")
	e.f.Say(testDMAda, testAda, "4")
	e.waitSent(testDMAda, "Thank you for the rating (4/5)")
	if n := e.countSent(testDMAda, "(support): hello?"); n != 0 {
		t.Errorf("an unclaimed agent's message was relayed")
	}
}

func TestClaimButtonOnlyInAgentChannel(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.Say(testDMAda, testAda, "human please")
	card := e.waitCard()
	reply := e.waitSent(testDMAda, "asked a person")
	// A crafted click elsewhere is refused and changes nothing.
	cb := e.waitCallback(e.f.Click(testDMAda, reply.ID, "fl:claim:"+handoffID(t, card), testAda))
	if cb.Content != msgAgentsOnly {
		t.Errorf("claim outside the agent channel answered %+v", cb)
	}
	if cb := e.waitCallback(e.f.Click(testDMAda, reply.ID, "fl:nonsense", testAda)); cb.Content != msgUnknownButton {
		t.Errorf("unknown button answered %+v", cb)
	}
	if n := e.countSent(testDMAda, "has joined"); n != 0 {
		t.Errorf("the handoff was claimed from outside the agent channel")
	}
}

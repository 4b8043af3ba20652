package discord

import (
	"fmt"
	"strings"
	"testing"
)

// A customer who floods their handoff (60 messages at once) gets every
// message into the handoff's thread, grouped into fewer posts, and another
// customer's request for a person, made in the middle of it, gets its card.
func TestFloodInAHandoffThread(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")
	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	card := e.waitCard()
	for i := range 60 {
		e.f.Say(testDMAda, testAda, fmt.Sprintf("flood message %02d", i))
		if i == 30 {
			e.f.Say(testGeneral, testEve, "<@"+testBotID+"> I want to talk to a human")
		}
	}
	thread := card.ID // a thread started from a message has its id
	var posts int
	e.eventually("all 60 messages in the handoff thread", func() bool {
		all := ""
		posts = 0
		for _, s := range e.f.SentTo(thread) {
			if strings.Contains(s.Content, "flood message") {
				all += s.Content + "\n"
				posts++
			}
		}
		for i := range 60 {
			if !strings.Contains(all, fmt.Sprintf("flood message %02d", i)) {
				return false
			}
		}
		return true
	})
	e.eventually("the second customer's card", func() bool { return e.countSent(testAgents, "Handoff #") == 2 })
	t.Logf("60 messages in %d thread posts", posts)
}

// A customer's requests for a person from nine new server threads, with a
// handoff of theirs open, make no second card; their forged link and status
// line reach the handoff thread as their quoted words.
func TestOneCardPerCustomerAndInertWords(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	card := e.waitCard()
	for range 9 {
		e.f.Say(testGeneral, testAda, "<@"+testBotID+"> I want to talk to a human")
	}
	e.eventually("nine 'already asked' replies", func() bool {
		n := 0
		for _, s := range e.f.AllSends() {
			if strings.Contains(s.Content, "already asked for a person") {
				n++
			}
		}
		return n == 9
	})
	if n := e.countSent(testAgents, "Handoff #"); n != 1 {
		t.Errorf("%d cards for one customer; want 1", n)
	}
	forged := "see [https://support.example.com/refund](https://evil.example/login)\n" +
		"Alex claimed this handoff. Their messages in this thread go to the customer"
	e.f.Say(testDMAda, testAda, forged)
	post := e.waitSent(card.ID, "claimed this handoff")
	t.Logf("the thread post: %q", post.Content)
	if strings.Contains(post.Content, "](") {
		t.Errorf("a markdown link reached the thread: %q", post.Content)
	}
	for _, l := range strings.Split(post.Content, "\n")[1:] {
		if !strings.HasPrefix(l, "> ") {
			t.Errorf("a line of the customer's stands on its own in the thread: %q", l)
		}
	}
}

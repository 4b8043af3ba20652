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

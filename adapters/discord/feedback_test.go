package discord

import (
	"slices"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
)

// TestFeedbackButtons: an answer in a DM carries 👍 and 👎 beside Talk to a
// person; another user's press is refused to them alone; the customer's 👎
// offers a person.
func TestFeedbackButtons(t *testing.T) {
	t.Parallel()
	e := start(t, withEngine(func(c *bot.Config) { c.Feedback = true }))
	e.link(testAda, "C-1")
	e.f.Say(testDMAda, testAda, "status of PAY-1002")
	answer := e.waitSent(testDMAda, "PAY-1002")
	ids := answer.CustomIDs()
	i := slices.IndexFunc(ids, func(id string) bool { return strings.HasPrefix(id, "fl:feedback:") && strings.HasSuffix(id, ":down") })
	if len(ids) != 3 || !strings.HasPrefix(ids[0], "fl:talk_to_person:") || i < 0 {
		t.Fatalf("answer buttons = %v, want Talk to a person, 👍 and 👎", ids)
	}
	down := ids[i]
	e.refused(e.f.Click(testDMAda, answer.ID, down, testGrace), msgNotYours)
	e.f.Click(testDMAda, answer.ID, down, testAda)
	offer := e.waitSent(testDMAda, "didn't help")
	if got := offer.CustomIDs(); len(got) != 1 || !strings.HasPrefix(got[0], "fl:talk_to_person:") {
		t.Errorf("offer buttons = %v, want Talk to a person only", got)
	}
}

package discord

import (
	"strings"
	"testing"
)

// A customer's edit and deletion during a handoff, as Discord reports them
// (MESSAGE_UPDATE with edited_timestamp, MESSAGE_DELETE), are noted in the
// handoff thread once; an embed update (no edited_timestamp) is not an
// edit, and an edit before the handoff changes nothing.
func TestCustomerEditsNotedInThread(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")

	early := e.f.Say(testDMAda, testAda, "status of PAY-1001")
	e.waitSent(testDMAda, "PAY-1001")
	e.f.Edit(testDMAda, early, "status of PAY-1002", "2026-11-02T10:00:01.000000+00:00")

	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	card := e.waitCard()
	thread := card.ID
	id := e.f.Say(testDMAda, testAda, "it was charged twice")
	e.waitSent(thread, "it was charged twice")

	edit := "2026-11-02T10:05:00.000000+00:00"
	e.f.Edit(testDMAda, id, "it was charged **three** times", edit)
	e.f.Edit(testDMAda, id, "it was charged **three** times", edit) // delivered again
	e.f.Edit(testDMAda, id, "", "")                                 // an embed update
	e.f.Delete(testDMAda, id)
	e.waitSent(thread, "deleted their message of")

	if n := e.countSent(thread, "edited their message of"); n != 1 {
		t.Errorf("%d edit notes in the thread, want 1", n)
	}
	if e.countSent(thread, "three") != 1 {
		t.Error("the edit note lacks the new text")
	}
	if e.countSent(thread, "PAY-1002") != 0 {
		t.Error("an edit from before the handoff was noted")
	}
	for _, s := range e.f.SentTo(testDMAda) {
		if strings.Contains(s.Content, "edited") || strings.Contains(s.Content, "deleted") {
			t.Errorf("the customer was sent %q about their own edit", s.Content)
		}
	}
}

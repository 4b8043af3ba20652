package handoff_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/testkit"
)

func shadowHarness(t *testing.T) *testkit.Harness {
	t.Helper()
	return testkit.New(t, testkit.WithEngine(func(c *bot.Config) { c.Shadow = true }))
}

// draftOf returns the draft id of the one "Send draft" post among msgs.
func draftOf(t *testing.T, msgs []bot.Outgoing) (bot.Outgoing, int64) {
	t.Helper()
	for _, m := range testkit.Only(msgs, bot.KindThread) {
		for _, b := range m.Buttons {
			if b.Action == bot.ActionSendDraft {
				id, err := strconv.ParseInt(b.Value, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return m, id
			}
		}
	}
	t.Fatalf("no draft with a Send draft button in %+v", msgs)
	return bot.Outgoing{}, 0
}

// In shadow mode every customer message goes to a person; the bot's answer
// is a draft in the handoff thread until an agent sends it.
func TestShadowModeDraftsAndSends(t *testing.T) {
	h := shadowHarness(t)
	msgs := h.Say("U-ada", "status of PAY-1002")
	ann := testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	if !strings.Contains(ann.Text, "Shadow mode") {
		t.Errorf("announcement reason = %q", ann.Text)
	}
	for _, r := range testkit.Replies(msgs) {
		if strings.Contains(r, "PAY-1002") {
			t.Fatalf("the bot answered the customer in shadow mode: %q", r)
		}
	}
	draft, id := draftOf(t, msgs)
	if !strings.Contains(draft.Text, "PAY-1002") || !strings.Contains(draft.Text, "pending") {
		t.Errorf("draft = %q; want the bot's payment answer", draft.Text)
	}

	// A second message: relayed to the thread, and drafted again.
	msgs = h.Say("U-ada", "and PAY-1001?")
	if len(testkit.Only(msgs, bot.KindAnnounce)) != 0 {
		t.Error("a second handoff was announced")
	}
	_, id2 := draftOf(t, msgs)

	// Another agent claimed: only they may send drafts.
	h.Agent(ann, "A1", "claim")
	if res, err := h.Handoffs.SendDraft(h.Ctx, id, handoff.Agent{ID: "A2", Role: handoff.RoleAgent}); err != nil || res.Outcome != handoff.DraftRefused {
		t.Errorf("send by another agent: %v, %v", res.Outcome, err)
	}
	before := len(h.Platform.All())
	res, err := h.Handoffs.SendDraft(h.Ctx, id, handoff.Agent{ID: "A1", Name: "Agent A1", Role: handoff.RoleAgent})
	if err != nil || res.Outcome != handoff.DraftSent {
		t.Fatalf("send draft: %v, %v", res.Outcome, err)
	}
	h.Flush()
	sent := testkit.Only(h.Platform.All()[before:], bot.KindReply)
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "PAY-1002") || sent[0].Channel != "D-U-ada" {
		t.Errorf("customer received %+v; want the draft", sent)
	}
	if res, _ := h.Handoffs.SendDraft(h.Ctx, id, handoff.Agent{ID: "A1", Role: handoff.RoleAgent}); res.Outcome != handoff.DraftStale {
		t.Errorf("second press: %v; want stale", res.Outcome)
	}
	// After resolve, a draft can no longer be sent.
	h.Agent(ann, "A1", "resolve")
	if res, _ := h.Handoffs.SendDraft(h.Ctx, id2, handoff.Agent{ID: "A1", Role: handoff.RoleAgent}); res.Outcome != handoff.DraftStale {
		t.Errorf("send after resolve: %v; want stale", res.Outcome)
	}
}

func TestShadowModeHumanRequestStillImmediate(t *testing.T) {
	h := shadowHarness(t)
	msgs := h.Say("U-ada", "I want to talk to a human")
	if len(testkit.Only(msgs, bot.KindAnnounce)) != 1 {
		t.Fatalf("no handoff announced: %+v", msgs)
	}
	if !strings.Contains(testkit.Only(msgs, bot.KindAnnounce)[0].Text, "asked for a person") {
		t.Error("the explicit request's reason was lost in shadow mode")
	}
}

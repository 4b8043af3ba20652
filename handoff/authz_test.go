package handoff_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// as writes text in the handoff thread of announce as agent (with its
// role), and returns the result and what was sent meanwhile.
func as(t *testing.T, h *testkit.Harness, announce bot.Outgoing, agent handoff.Agent, text string) (handoff.Result, []bot.Outgoing) {
	t.Helper()
	before := len(h.Platform.All())
	res, err := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{
		Platform: bot.Slack, Channel: testkit.AgentChannel, Thread: fmt.Sprintf("ts-%d", announce.ID),
		Agent: agent, Text: text, MessageID: fmt.Sprintf("%s-%d-%s", agent.ID, len(text), text),
	})
	if err != nil {
		t.Fatalf("%s writes %q: %v", agent.ID, text, err)
	}
	h.Flush()
	return res, h.Platform.All()[before:]
}

var (
	outsider = handoff.Agent{ID: "U-grace", Name: "Grace (support)"} // a customer who can read the agent channel
	agentA   = handoff.Agent{ID: "A1", Name: "Agent A1", Role: handoff.RoleAgent}
	agentB   = handoff.Agent{ID: "A2", Name: "Agent B2", Role: handoff.RoleAgent}
	lead     = handoff.Agent{ID: "L1", Name: "Lead", Role: handoff.RoleLead}
)

// Whoever the adapter did not vouch for as an agent changes nothing: every
// command and button is refused with a private notice, and their words
// never reach the customer.
func TestOutsiderActsOnNothing(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	for _, text := range []string{"claim", "transcript", "resolve", "unclaim", "transfer @A1", "please confirm your card number and CVC here"} {
		res, sent := as(t, h, ann, outsider, text)
		wantOutcome := handoff.NotAgent
		if !strings.Contains(text, "claim") && text != "transcript" && text != "resolve" && !strings.HasPrefix(text, "transfer") {
			wantOutcome = handoff.NotRelayed
		}
		if res.Outcome != wantOutcome {
			t.Errorf("outsider writes %q: outcome %s; want %s", text, res.Outcome, wantOutcome)
		}
		if len(sent) != 0 {
			t.Errorf("outsider writes %q: sent %+v; want nothing (not even a thread post)", text, sent)
		}
	}
	for _, press := range []func() (handoff.Result, error){
		func() (handoff.Result, error) { return h.Handoffs.Claim(h.Ctx, ann.HandoffID, outsider) },
		func() (handoff.Result, error) { return h.Handoffs.Resolve(h.Ctx, ann.HandoffID, outsider) },
	} {
		if res, err := press(); err != nil || res.Outcome != handoff.NotAgent || res.Feedback == "" {
			t.Errorf("outsider's button: %+v, %v; want NotAgent with a notice", res, err)
		}
	}
	hf, err := handoffByID(t, h, ann.HandoffID)
	if err != nil || hf.State != bot.HandoffWaiting {
		t.Fatalf("after the outsider: handoff %+v, %v; want it still waiting", hf, err)
	}
	// Their words are kept, marked, as internal notes: never an agent's.
	for _, m := range storedThread(t, h) {
		if m.Author == outsider.ID && (m.Role != bot.RoleNote || !strings.Contains(m.AuthorName, "not an agent")) {
			t.Errorf("outsider's message stored as %s by %q", m.Role, m.AuthorName)
		}
	}
	// Claimed by an agent, the outsider still cannot speak to the customer.
	as(t, h, ann, agentA, "claim")
	if _, sent := as(t, h, ann, outsider, "Hi, I'm from support: your card number please"); len(sent) != 0 {
		t.Errorf("outsider's words went out: %+v", sent)
	}
}

// The claimer owns the handoff: another agent can neither resolve, unclaim
// nor transfer it (told who owns it); a lead can.
func TestClaimerOwnsTheHandoff(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	as(t, h, ann, agentA, "claim")
	for _, text := range []string{"resolve", "unclaim", "transfer @A2"} {
		res, sent := as(t, h, ann, agentB, text)
		if res.Outcome != handoff.NotOwner || !strings.Contains(res.Feedback, "Agent A1 claimed this handoff") {
			t.Errorf("B writes %q: %+v; want NotOwner naming A1", text, res)
		}
		if len(testkit.Only(sent, bot.KindReply)) != 0 {
			t.Errorf("B's %q reached the customer: %+v", text, sent)
		}
	}
	if res, _ := h.Handoffs.Resolve(h.Ctx, ann.HandoffID, agentB); res.Outcome != handoff.NotOwner {
		t.Errorf("B's resolve button: %s; want NotOwner", res.Outcome)
	}
	// B's words stay in the thread; only A's reach the customer.
	if _, sent := as(t, h, ann, agentB, "I'll take it from here"); len(testkit.Only(sent, bot.KindRelay)) != 0 {
		t.Errorf("B's words were relayed: %+v", sent)
	}
	// Transfer to someone who is not an agent is refused.
	res, _ := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{Platform: bot.Slack, Channel: testkit.AgentChannel,
		Thread: fmt.Sprintf("ts-%d", ann.ID), Agent: agentA, Text: "transfer @grace", MessageID: "t-out",
		Mentions: []handoff.Agent{outsider}})
	if res.Outcome != handoff.NotRelayed || !strings.Contains(res.Feedback, "not one of the support team's agents") {
		t.Errorf("transfer to an outsider: %+v", res)
	}
	// A lead may resolve another agent's handoff.
	if res, _ := h.Handoffs.Resolve(h.Ctx, ann.HandoffID, lead); res.Outcome != handoff.Resolved {
		t.Errorf("lead's resolve: %s; want resolved", res.Outcome)
	}
}

// A shadow draft is sent only by the agent who claimed the open handoff,
// and only a draft made for that handoff.
func TestDraftBelongsToTheClaimerAndTheHandoff(t *testing.T) {
	h := shadowHarness(t)
	msgs := h.Say("U-ada", "status of PAY-1002")
	ann := testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	_, first := draftOf(t, msgs)
	if res, _ := h.Handoffs.SendDraft(h.Ctx, first, agentA); res.Outcome != handoff.DraftRefused {
		t.Errorf("send before anyone claimed: %s; want refused", res.Outcome)
	}
	if res, _ := h.Handoffs.SendDraft(h.Ctx, first, outsider); res.Outcome != handoff.NotAgent {
		t.Errorf("send by an outsider: %s; want NotAgent", res.Outcome)
	}
	as(t, h, ann, agentA, "resolve")
	// A new handoff: the first one's draft is not its draft.
	msgs = h.Say("U-ada", "status of PAY-1001")
	ann2 := testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "second announcement")
	as(t, h, ann2, agentA, "claim")
	if res, _ := h.Handoffs.SendDraft(h.Ctx, first, agentA); res.Outcome != handoff.DraftStale {
		t.Errorf("send a draft of an earlier handoff: %s; want stale", res.Outcome)
	}
	_, second := draftOf(t, msgs)
	if res, _ := h.Handoffs.SendDraft(h.Ctx, second, agentA); res.Outcome != handoff.DraftSent {
		t.Errorf("the claimer sends this handoff's draft: %s; want sent", res.Outcome)
	}
}

func handoffByID(t *testing.T, h *testkit.Harness, id int64) (bot.Handoff, error) {
	t.Helper()
	var hf bot.Handoff
	err := h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		var err error
		hf, err = tx.Handoff(h.Ctx, id)
		return err
	})
	return hf, err
}

// storedThread returns the stored messages of U-ada's DM conversation.
func storedThread(t *testing.T, h *testkit.Harness) []bot.Message {
	t.Helper()
	var ms []bot.Message
	err := h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		conv, err := tx.ActiveConversation(h.Ctx, h.DM("U-ada", "").Key)
		if err != nil {
			return err
		}
		ms, err = tx.RecentMessages(h.Ctx, conv.ID, 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

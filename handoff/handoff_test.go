package handoff_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// openHandoff has U-ada ask for a person and returns the announcement.
func openHandoff(t *testing.T, h *testkit.Harness) bot.Outgoing {
	t.Helper()
	h.Say("U-ada", "status of PAY-1001")
	return testkit.MustOne(t, testkit.Only(h.Say("U-ada", "I want to talk to a human"), bot.KindAnnounce), "announcement")
}

func TestConcurrentClaimsOneWins(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	const agents = 50
	results := make([]handoff.Result, agents)
	errs := make([]error, agents)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = h.Handoffs.Claim(h.Ctx, ann.HandoffID, handoff.Agent{ID: fmt.Sprintf("A%d", i), Name: fmt.Sprintf("Agent %d", i), Role: handoff.RoleAgent})
		}()
	}
	wg.Wait()
	won := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		switch r.Outcome {
		case handoff.Claimed:
			won++
		case handoff.AlreadyClaimed:
		default:
			t.Errorf("claim %d: outcome %s", i, r.Outcome)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won; want exactly 1", won)
	}
	h.Flush()
	joined := 0
	for _, m := range testkit.Only(h.Platform.All(), bot.KindReply) {
		if strings.Contains(m.Text, "has joined") {
			joined++
		}
	}
	if joined != 1 {
		t.Errorf("customer told %d times that an agent joined; want 1", joined)
	}
}

func TestRelayBothWays(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)

	// Before the claim, the customer's words go to the thread.
	msgs := h.Say("U-ada", "my payment is missing")
	post := testkit.MustOne(t, testkit.Only(msgs, bot.KindThread), "thread post")
	if post.ParentRef != fmt.Sprintf("ts-%d", ann.ID) || !strings.Contains(post.Text, "my payment is missing") {
		t.Errorf("thread post = %+v; want the customer's words under the announcement", post)
	}
	if len(testkit.Replies(msgs)) != 0 {
		t.Error("the bot answered while the customer waits for a person")
	}

	// Words of an agent who has not claimed are not relayed.
	res, msgs := h.Agent(ann, "A1", "looking at it")
	if res.Outcome != handoff.NotRelayed || len(testkit.Only(msgs, bot.KindRelay)) != 0 {
		t.Errorf("unclaimed agent message: %s, %+v", res.Outcome, msgs)
	}

	// Claim by thread message: case and spaces ignored.
	if res, _ := h.Agent(ann, "A1", "  CLAIM "); res.Outcome != handoff.Claimed {
		t.Fatalf("claim by thread message: %s", res.Outcome)
	}
	res, msgs = h.Agent(ann, "A1", "Hi Ada, I can see it.")
	relay := testkit.MustOne(t, testkit.Only(msgs, bot.KindRelay), "relay")
	if res.Outcome != handoff.Relayed || relay.Text != "Hi Ada, I can see it." || relay.Author != "Agent A1" || relay.Channel != "D-U-ada" {
		t.Errorf("relay = %s, %+v", res.Outcome, relay)
	}

	// Notes and other agents are never relayed.
	for _, tc := range []struct{ agent, text string }{{"A1", "// customer seems upset"}, {"A2", "need help?"}} {
		_, msgs := h.Agent(ann, tc.agent, tc.text)
		if r := testkit.Only(msgs, bot.KindRelay); len(r) != 0 {
			t.Errorf("%s's %q was relayed: %+v", tc.agent, tc.text, r)
		}
	}

	// The customer's answer reaches the thread, not the bot, a burst gap
	// after their last words did.
	h.Clock.Advance(burstGap)
	msgs = h.Say("U-ada", "thanks!")
	if len(testkit.Only(msgs, bot.KindThread)) != 1 || len(testkit.Replies(msgs)) != 0 {
		t.Errorf("customer message while claimed: %+v", msgs)
	}
}

func TestResolveRatingAndBotAgain(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	h.Agent(ann, "A1", "claim")
	res, msgs := h.Agent(ann, "A1", "resolve")
	if res.Outcome != handoff.Resolved {
		t.Fatalf("resolve: %s", res.Outcome)
	}
	ask := testkit.MustOne(t, testkit.Replies(msgs), "rating request")
	if !strings.Contains(ask, "1") || !strings.Contains(ask, "5") {
		t.Errorf("rating request = %q", ask)
	}
	var buttons int
	for _, m := range testkit.Only(msgs, bot.KindReply) {
		for _, b := range m.Buttons {
			if b.Action == bot.ActionRate {
				buttons++
			}
		}
	}
	if buttons != 5 {
		t.Errorf("%d rating buttons; want 5", buttons)
	}

	thanks := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "4")), "thanks")
	if !strings.Contains(thanks, "4/5") {
		t.Errorf("rating reply = %q", thanks)
	}
	err := h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		got, err := tx.Handoff(h.Ctx, ann.HandoffID)
		if err == nil && got.Rating != 4 {
			t.Errorf("stored rating = %d; want 4", got.Rating)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The bot answers normally again.
	reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "status of PAY-1002")), "bot answer")
	if !strings.Contains(reply, "pending") {
		t.Errorf("after resolve the bot answered %q", reply)
	}
	// And a later digit is an ordinary message, not a second rating.
	if r := testkit.Replies(h.Say("U-ada", "5")); len(r) == 1 && strings.Contains(r[0], "5/5") {
		t.Error("a second rating was accepted")
	}
}

func TestResolveWhileWaiting(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	if res, _ := h.Agent(ann, "A9", "resolve"); res.Outcome != handoff.Resolved {
		t.Fatalf("resolve while waiting: %s", res.Outcome)
	}
	if res, _ := h.Agent(ann, "A9", "claim"); res.Outcome != handoff.AlreadyClosed {
		t.Errorf("claim after resolve: %s", res.Outcome)
	}
}

func TestUnclaimAndTransfer(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	h.Agent(ann, "A1", "claim")
	if res, _ := h.Agent(ann, "A2", "unclaim"); res.Outcome == handoff.Unclaimed {
		t.Error("another agent unclaimed A1's handoff")
	}
	if res, _ := h.Agent(ann, "A1", "unclaim"); res.Outcome != handoff.Unclaimed {
		t.Fatalf("unclaim: %s", res.Outcome)
	}
	if res, _ := h.Agent(ann, "A2", "claim"); res.Outcome != handoff.Claimed {
		t.Fatalf("claim after unclaim: %s", res.Outcome)
	}
	res, err := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{
		Platform: bot.Slack, Channel: testkit.AgentChannel, Thread: fmt.Sprintf("ts-%d", ann.ID),
		Agent: handoff.Agent{ID: "A2", Name: "Agent A2", Role: handoff.RoleAgent}, Text: "transfer @A3", MessageID: "transfer-1",
		Mentions: []handoff.Agent{{ID: "A3", Name: "Agent A3", Role: handoff.RoleAgent}},
	})
	if err != nil || res.Outcome != handoff.Transferred {
		t.Fatalf("transfer: %v, %v", res.Outcome, err)
	}
	h.Flush()
	_, msgs := h.Agent(ann, "A3", "hello from A3")
	if len(testkit.Only(msgs, bot.KindRelay)) != 1 {
		t.Error("the new agent's message was not relayed")
	}
	_, msgs = h.Agent(ann, "A2", "still here")
	if len(testkit.Only(msgs, bot.KindRelay)) != 0 {
		t.Error("the previous agent's message was relayed after the transfer")
	}
}

func TestAgentMessageOutsideHandoffThreadIgnored(t *testing.T) {
	h := testkit.New(t)
	res, err := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{
		Platform: bot.Slack, Channel: testkit.AgentChannel, Thread: "not-a-handoff",
		Agent: handoff.Agent{ID: "A1", Role: handoff.RoleAgent}, Text: "claim", MessageID: "x1",
	})
	if err != nil || res.Outcome != handoff.Ignored {
		t.Errorf("got %v, %v; want ignored", res.Outcome, err)
	}
}

func TestDuplicateAgentMessageRelayedOnce(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	h.Agent(ann, "A1", "claim")
	m := handoff.AgentMessage{
		Platform: bot.Slack, Channel: testkit.AgentChannel, Thread: fmt.Sprintf("ts-%d", ann.ID),
		Agent: handoff.Agent{ID: "A1", Name: "Agent A1", Role: handoff.RoleAgent}, Text: "once", MessageID: "dup-1",
	}
	for i := 0; i < 3; i++ {
		if _, err := h.Handoffs.AgentMessage(h.Ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	h.Flush()
	relays := testkit.Only(h.Platform.All(), bot.KindRelay)
	if len(relays) != 1 {
		t.Errorf("%d relays of one message; want 1", len(relays))
	}
}

func TestTalkToPersonButtonOnlyForOwner(t *testing.T) {
	h := testkit.New(t)
	h.Say("U-ada", "status of PAY-1001")
	var convID int64
	for _, m := range h.Platform.All() {
		convID = m.ConversationID
	}
	if err := h.Engine.TalkToPerson(h.Ctx, convID, "U-grace"); err == nil {
		t.Error("another user pressed Ada's button")
	}
	if err := h.Engine.TalkToPerson(h.Ctx, convID, "U-ada"); err != nil {
		t.Fatal(err)
	}
	if err := h.Engine.TalkToPerson(h.Ctx, convID, "U-ada"); err != nil {
		t.Fatal(err)
	}
	h.Flush()
	if n := len(testkit.Only(h.Platform.All(), bot.KindAnnounce)); n != 1 {
		t.Errorf("%d announcements; want 1 for two presses", n)
	}
}

func TestParseRating(t *testing.T) {
	tests := []struct {
		in      string
		id      int64
		score   int
		wantErr bool
	}{
		{"7:5", 7, 5, false},
		{"7:0", 0, 0, true},
		{"7:6", 0, 0, true},
		{"x:3", 0, 0, true},
		{"73", 0, 0, true},
	}
	for _, tt := range tests {
		id, score, err := handoff.ParseRating(tt.in)
		if (err != nil) != tt.wantErr || id != tt.id || score != tt.score {
			t.Errorf("ParseRating(%q) = %d, %d, %v", tt.in, id, score, err)
		}
	}
}

func TestCardShowsWhereTheHandoffStands(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	ref := fmt.Sprintf("ts-%d", ann.ID)
	_, msgs := h.Agent(ann, "A1", "claim")
	upd := testkit.MustOne(t, testkit.Only(msgs, bot.KindUpdate), "card update")
	if upd.ParentRef != ref || !strings.Contains(upd.Text, "claimed by Agent A1") {
		t.Errorf("card after claim = %+v", upd)
	}
	if len(upd.Buttons) != 1 || upd.Buttons[0].Action != bot.ActionResolve {
		t.Errorf("buttons after claim = %+v; want Resolve only", upd.Buttons)
	}
	_, msgs = h.Agent(ann, "A1", "resolve")
	upd = testkit.MustOne(t, testkit.Only(msgs, bot.KindUpdate), "card update")
	if !strings.Contains(upd.Text, "resolved by Agent A1") || len(upd.Buttons) != 0 {
		t.Errorf("card after resolve = %+v", upd)
	}
}

func TestThreadsForBackfill(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	h.Agent(ann, "A1", "claim")
	h.Agent(ann, "A1", "hello")
	threads, err := h.Handoffs.Threads(h.Ctx, bot.Slack)
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) != 1 || threads[0].Thread != fmt.Sprintf("ts-%d", ann.ID) || threads[0].Channel != testkit.AgentChannel || threads[0].LastMessageID == "" {
		t.Errorf("threads = %+v", threads)
	}
	h.Agent(ann, "A1", "resolve")
	if threads, _ := h.Handoffs.Threads(h.Ctx, bot.Slack); len(threads) != 0 {
		t.Errorf("resolved handoff still listed: %+v", threads)
	}
}

func TestRatingButtonOnlyForOwnerAndOnce(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	h.Agent(ann, "A1", "claim")
	h.Agent(ann, "A1", "resolve")
	if err := h.Engine.Rate(h.Ctx, "U-grace", ann.HandoffID, 1); err == nil {
		t.Error("another user rated Ada's handoff")
	}
	for range 2 {
		if err := h.Engine.Rate(h.Ctx, "U-ada", ann.HandoffID, 5); err != nil {
			t.Fatal(err)
		}
	}
	h.Flush()
	thanks := 0
	for _, r := range testkit.Replies(h.Platform.All()) {
		if strings.Contains(r, "5/5") {
			thanks++
		}
	}
	if thanks != 1 {
		t.Errorf("thanked %d times for two presses; want 1", thanks)
	}
}

// "Talk to a person" under an answer of a conversation that has closed
// since still reaches a person, in the conversation open there now.
func TestTalkToPersonButtonOfAClosedConversation(t *testing.T) {
	h := testkit.New(t)
	h.Say("U-ada", "status of PAY-1001")
	old := h.Platform.All()[0].ConversationID
	h.Clock.Advance(2 * time.Hour) // past the idle timeout
	h.Say("U-ada", "status of PAY-1002")
	current := h.Platform.All()[len(h.Platform.All())-1].ConversationID
	if current == old {
		t.Fatal("no new conversation after the idle timeout")
	}
	if err := h.Engine.TalkToPerson(h.Ctx, old, "U-ada"); err != nil {
		t.Fatal(err)
	}
	h.Flush()
	ann := testkit.Only(h.Platform.All(), bot.KindAnnounce)
	if len(ann) != 1 || ann[0].ConversationID != current {
		t.Errorf("announcements %+v; want one, for the open conversation %d", ann, current)
	}
}

// In a channel thread others may write too: a bystander's digit does not
// rate the customer's handoff, and the customer can still rate it.
func TestOnlyTheCustomerRatesInAThread(t *testing.T) {
	h := testkit.New(t)
	key := bot.ConversationKey{Platform: bot.Slack, Workspace: testkit.Team, Channel: "C-general", Thread: "1700000000.000100"}
	n := 0
	say := func(user, text string) []bot.Outgoing {
		t.Helper()
		n++
		return h.Send(bot.Incoming{Key: key, User: user, UserName: strings.TrimPrefix(user, "U-"), Text: text, MessageID: fmt.Sprintf("thread-%d", n)})
	}
	say("U-ada", "hello there")
	ann := testkit.MustOne(t, testkit.Only(say("U-ada", "I want to talk to a human"), bot.KindAnnounce), "announcement")
	h.Agent(ann, "A1", "claim")
	h.Agent(ann, "A1", "resolve")

	say("U-grace", "1")
	rating := func() int {
		t.Helper()
		var r int
		if err := h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
			got, err := tx.Handoff(h.Ctx, ann.HandoffID)
			r = got.Rating
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := rating(); r != 0 {
		t.Errorf("a bystander's digit rated the handoff %d", r)
	}
	say("U-ada", "5")
	if r := rating(); r != 5 {
		t.Errorf("the customer's rating = %d, want 5", r)
	}
}

package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/rules"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/prompts"
)

// countingModel counts the model's calls and answers with answer (the
// offline model when nil).
type countingModel struct {
	calls  atomic.Int32
	answer func(req bot.ModelRequest) (bot.ModelResponse, error)
	inner  bot.Model
}

func (m *countingModel) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	m.calls.Add(1)
	if m.answer != nil {
		return m.answer(req)
	}
	return m.inner.Complete(ctx, req)
}
func (m *countingModel) Name() string { return "counting model" }

var _ bot.Model = (*countingModel)(nil)

// escalationHarness is a harness whose model counts its calls, with the
// default escalation rules or escalation.yaml text.
func escalationHarness(t *testing.T, escalation string, answer func(bot.ModelRequest) (bot.ModelResponse, error)) (*testkit.Harness, *countingModel) {
	t.Helper()
	files := map[string]string{prompts.FileHours: testkit.AlwaysOpen}
	if escalation != "" {
		files[prompts.FileEscalation] = escalation
	}
	set := testkit.Prompts(files)
	current := func() *prompts.Set { return set }
	m := &countingModel{answer: answer, inner: rules.New(current)}
	return testkit.New(t, testkit.WithPrompts(current), testkit.WithModel(m)), m
}

// openTrigger returns the trigger and reason of the handoff open in user's
// conversation, or "" when there is none.
func openTrigger(t *testing.T, h *testkit.Harness, user string) (bot.Trigger, string) {
	t.Helper()
	var trig bot.Trigger
	var reason string
	err := h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		conv, err := tx.ActiveConversation(h.Ctx, h.DM(user, "").Key)
		if err != nil {
			return err
		}
		ho, err := tx.OpenHandoff(h.Ctx, conv.ID)
		if errors.Is(err, bot.ErrNotFound) {
			return nil
		}
		trig, reason = ho.Trigger, ho.Reason
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return trig, reason
}

func TestRepeatedQuestionOffersThenHandsOff(t *testing.T) {
	h, model := escalationHarness(t, "", nil)
	asks := []string{
		"How long does a refund take?",
		"how long does a refund take??",
		"HOW LONG DOES A REFUND TAKE",
	}
	for i, q := range asks {
		reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", q)), "reply")
		if !strings.Contains(reply, "5 business days") {
			t.Fatalf("ask %d: not answered: %q", i+1, reply)
		}
		offered := strings.Contains(reply, "Would you like to talk to a person?")
		if offered != (i == 2) {
			t.Errorf("ask %d: offered a person = %v; want it at the third ask only: %q", i+1, offered, reply)
		}
	}
	if trig, _ := openTrigger(t, h, "U-ada"); trig != "" {
		t.Fatalf("handed off at the offer: %s", trig)
	}
	// The fourth time hands off, without asking the model again.
	calls := model.calls.Load()
	msgs := h.Say("U-ada", "how long does the refund take?")
	testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	if got := model.calls.Load(); got != calls {
		t.Errorf("the model was asked %d more times before the handoff", got-calls)
	}
	trig, reason := openTrigger(t, h, "U-ada")
	if trig != bot.TriggerRepeat || !strings.Contains(reason, "asked the same question 4 times") || !strings.Contains(reason, "offered a person once") {
		t.Errorf("handoff = %s, %q", trig, reason)
	}
}

func TestCannotHelpSignalOffersThenHandsOff(t *testing.T) {
	answer := func(bot.ModelRequest) (bot.ModelResponse, error) {
		return bot.ModelResponse{Text: "Sorry, I can't help with changing your address. I can bring in a person from our team. [Cannot_Help]"}, nil
	}
	h, _ := escalationHarness(t, "", answer)
	reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "please change my address")), "reply")
	if strings.Contains(strings.ToLower(reply), "cannot_help") || !strings.HasSuffix(reply, "from our team.") {
		t.Errorf("reply = %q; want the model's words without the marker", reply)
	}
	if trig, _ := openTrigger(t, h, "U-ada"); trig != "" {
		t.Fatalf("handed off at the first signal: %s", trig)
	}
	msgs := h.Say("U-ada", "my new address is Storgatan 1")
	testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	for _, r := range testkit.Replies(msgs) {
		if strings.Contains(r, "Sorry, I can't help") {
			t.Errorf("the model's answer was sent along with the handoff: %q", r)
		}
	}
	if trig, reason := openTrigger(t, h, "U-ada"); trig != bot.TriggerMisses || !strings.Contains(reason, "could not answer") {
		t.Errorf("handoff = %s, %q", trig, reason)
	}
}

func TestFrustrationOffersThenHandsOff(t *testing.T) {
	h, model := escalationHarness(t, "", nil)
	// A negated phrase is no frustration.
	if reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "the app is not useless, but where is PAY-1002?")), "reply"); strings.Contains(reply, "frustrating") {
		t.Errorf("a negated phrase got an offer: %q", reply)
	}
	// Frustration: the question is answered, and a person offered.
	reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "This is USELESS, what is the status of PAY-1001")), "reply")
	if !strings.Contains(reply, "settled") || !strings.Contains(reply, "sorry this has been frustrating") {
		t.Errorf("reply = %q; want the answer and an offer of a person", reply)
	}
	// Still frustrated, with the model down: handed off all the same.
	model.answer = func(bot.ModelRequest) (bot.ModelResponse, error) {
		return bot.ModelResponse{}, errors.New("model down")
	}
	calls := model.calls.Load()
	msgs := h.Say("U-ada", "what a waste of time")
	testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	if model.calls.Load() != calls {
		t.Error("the model was asked before the handoff")
	}
	if trig, reason := openTrigger(t, h, "U-ada"); trig != bot.TriggerFrustration || !strings.Contains(reason, `"waste of time"`) {
		t.Errorf("handoff = %s, %q", trig, reason)
	}
}

func TestFrustrationInSwedish(t *testing.T) {
	h, _ := escalationHarness(t, "", nil)
	replies := testkit.Replies(h.Say("U-ada", "det här är helt värdelöst, var är min betalning PAY-1001"))
	if reply := replies[len(replies)-1]; !strings.Contains(reply, "PAY-1001") || !strings.Contains(reply, "Vill du prata med en människa?") {
		t.Errorf("reply = %q; want a Swedish offer", reply)
	}
}

// The offline model's miss is a cannot-help signal: offered, then handed
// off at the next one in a row. A good answer between starts the count
// again.
func TestOfflineModelMisses(t *testing.T) {
	h, _ := escalationHarness(t, "", nil)
	first := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "my parrot speaks latin")), "reply")
	if strings.Contains(first, "cannot_help") || !strings.Contains(first, "talk to a person") {
		t.Errorf("first miss = %q", first)
	}
	testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "status of PAY-1001")), "reply")
	again := h.Say("U-ada", "and it sings opera")
	if n := len(testkit.Only(again, bot.KindAnnounce)); n != 0 {
		t.Fatal("a miss after a good answer handed off")
	}
	msgs := h.Say("U-ada", "in Italian, mostly")
	testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	if trig, _ := openTrigger(t, h, "U-ada"); trig != bot.TriggerMisses {
		t.Errorf("trigger = %s, want %s", trig, bot.TriggerMisses)
	}
}

func TestEscalationSettings(t *testing.T) {
	t.Run("no offers: the first signal hands off", func(t *testing.T) {
		h, _ := escalationHarness(t, "offers: 0\n", nil)
		msgs := h.Say("U-ada", "you are useless")
		testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
		if trig, reason := openTrigger(t, h, "U-ada"); trig != bot.TriggerFrustration || strings.Contains(reason, "offered") {
			t.Errorf("handoff = %s, %q", trig, reason)
		}
	})
	t.Run("rules turned off", func(t *testing.T) {
		h, _ := escalationHarness(t, "repeats:\n  times: 0\nfrustration:\n  times: 0\ncannot_help: false\n", nil)
		for range 4 {
			reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "this is useless, tell me a joke")), "reply")
			if strings.Contains(reply, "cannot_help") {
				t.Errorf("marker shown: %q", reply)
			}
		}
		if trig, _ := openTrigger(t, h, "U-ada"); trig != "" {
			t.Errorf("handed off with the rules off: %s", trig)
		}
	})
	t.Run("after a handoff the offers start again", func(t *testing.T) {
		h, _ := escalationHarness(t, "", nil)
		h.Say("U-ada", "you are useless")
		ann := testkit.MustOne(t, testkit.Only(h.Say("U-ada", "so useless"), bot.KindAnnounce), "announcement")
		h.Agent(ann, "A1", "claim")
		h.Agent(ann, "A1", "resolve")
		reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "still useless, PAY-1001?")), "reply")
		if !strings.Contains(reply, "Would you like to talk to a person?") {
			t.Errorf("after the handoff: %q; want an offer again, not a handoff", reply)
		}
	})
}

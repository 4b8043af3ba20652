package bot_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// topics returns each conversation's topic by customer (the linked id, or
// the chat identity).
func topics(t *testing.T, h *testkit.Harness) map[string]string {
	t.Helper()
	recs, err := h.Store.ConversationRecords(context.Background(), h.Clock.Now().AddDate(-1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[r.Customer] = r.Topic
	}
	return out
}

// Every conversation is labelled by what happened in it, whatever it says:
// a payment lookup, an FAQ entry, a request for a person and nothing else,
// or none of these; the most specific label stays.
func TestConversationTopics(t *testing.T) {
	h := testkit.New(t)
	say := func(user string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			h.Say(user, l)
		}
	}
	say("U-ada", "what's the status of PAY-1001?")          // linked: C-1
	say("U-grace", "how long does a refund take?")          // linked: C-2
	say("U-asks", "I want to talk to a human")              // a person, and nothing else
	say("U-chats", "what's the weather like")               // the bot cannot help
	say("U-misses", "what's the weather like", "and now?")  // the bot cannot help, twice: handed off
	say("U-then", "status of my payments", "human please")  // payments first: it stays
	say("U-first", "human please")                          // a person first ...
	resolveLast(t, h)                                       // ... back with the bot ...
	say("U-first", "how long does a refund take?")          // ... and an FAQ entry: more specific
	say("U-hello", "refund and pending questions", "hours") // the first FAQ entry matched stays
	// The shipped help center answers the refund question (its article
	// labels it) and has nothing on the weather (a content gap).
	refunds := bot.HelpTopic("https://help.example.com/en/articles/refund-times")
	want := map[string]string{
		"C-1":              bot.TopicPayments,
		"C-2":              refunds,
		"slack:T1:U-asks":  bot.TopicHandoff,
		"slack:T1:U-chats": bot.TopicHelpNone,
		// Handed off by the bot, not asked: what it was about is still
		// the gap.
		"slack:T1:U-misses": bot.TopicHelpNone,
		"slack:T1:U-then":   bot.TopicPayments,
		"slack:T1:U-first":  refunds,
		"slack:T1:U-hello":  bot.FAQTopic("refund-time"),
	}
	if diff := cmp.Diff(want, topics(t, h)); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
}

// resolveLast resolves the newest handoff, as an agent would.
func resolveLast(t *testing.T, h *testkit.Harness) {
	t.Helper()
	cards := testkit.Only(h.Platform.All(), bot.KindAnnounce)
	if len(cards) == 0 {
		t.Fatal("no handoff to resolve")
	}
	if res, _ := h.Agent(cards[len(cards)-1], "U-alex", "resolve"); res.Outcome != "resolved" {
		t.Fatalf("resolve: %+v", res)
	}
}

// Each turn's model tokens add up on its conversation, including a turn
// whose answer was replaced by a handoff.
func TestConversationTokens(t *testing.T) {
	calls := 0
	model := testkit.ModelFunc(func(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
		calls++
		return bot.ModelResponse{Text: "Here is what I know.", Usage: bot.Usage{PromptTokens: 100 + calls, CompletionTokens: 10}}, nil
	})
	h := testkit.New(t, testkit.WithModel(model))
	h.Say("U-ada", "first question")
	h.Say("U-ada", "second question")
	h.Say("U-ada", "human please") // no model call: no tokens
	recs, err := h.Store.ConversationRecords(context.Background(), h.Clock.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	r := testkit.MustOne(t, recs, "conversation")
	if r.PromptTokens != 101+102 || r.CompletionTokens != 20 {
		t.Errorf("tokens = %d prompt, %d completion; want %d and 20", r.PromptTokens, r.CompletionTokens, 101+102)
	}
	if r.Topic != bot.TopicOther {
		t.Errorf("topic = %q, want %q (answered without a tool or FAQ keyword, then a person: more than a person)", r.Topic, bot.TopicOther)
	}
}

// labelTx records the topics set; every other Tx method is absent.
type labelTx struct {
	bot.Tx
	topics []string
}

func (l *labelTx) SetTopic(_ context.Context, _ int64, topic string) (bool, error) {
	l.topics = append(l.topics, topic)
	return true, nil
}

// Only handoffs that a customer asked for label the conversation.
func TestLabelHandoffTriggers(t *testing.T) {
	for _, tc := range []struct {
		trigger bot.Trigger
		labels  bool
	}{
		{bot.TriggerPhrase, true},
		{bot.TriggerButton, true},
		{bot.TriggerModel, true},
		{bot.TriggerFailure, false},
		{bot.TriggerMisses, false},
		{bot.TriggerRepeat, false},
		{bot.TriggerFrustration, false},
		{bot.TriggerBudget, false},
		{bot.TriggerShadow, false},
	} {
		t.Run(string(tc.trigger), func(t *testing.T) {
			tx := &labelTx{}
			if err := bot.LabelHandoff(context.Background(), tx, 1, tc.trigger); err != nil {
				t.Fatal(err)
			}
			if got := len(tx.topics) == 1 && tx.topics[0] == bot.TopicHandoff; got != tc.labels {
				t.Errorf("labelled %v, want %v", tx.topics, tc.labels)
			}
		})
	}
}

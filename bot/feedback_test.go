package bot_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

func TestFeedback(t *testing.T) { testFeedback(t) }

func TestFeedbackOnPostgres(t *testing.T) {
	testkit.PostgresSchema(t)
	testFeedback(t, testkit.WithStore(testkit.Postgres))
}

// feedbackButtons returns the feedback buttons of an answer, and the
// message id they vote on.
func feedbackButtons(t *testing.T, out bot.Outgoing) (up, down bot.Button, messageID int64) {
	t.Helper()
	var fb []bot.Button
	for _, b := range out.Buttons {
		if b.Action == bot.ActionFeedback {
			fb = append(fb, b)
		}
	}
	if len(fb) != 2 {
		t.Fatalf("answer %q has buttons %+v, want 👍 and 👎", out.Text, out.Buttons)
	}
	id, helpful, err := bot.ParseFeedback(fb[0].Value)
	if err != nil || !helpful {
		t.Fatalf("first feedback button %+v: %v", fb[0], err)
	}
	return fb[0], fb[1], id
}

// lastReply is the last reply to the customer among msgs (a greeting may
// come first).
func lastReply(t *testing.T, msgs []bot.Outgoing) bot.Outgoing {
	t.Helper()
	rs := testkit.Only(msgs, bot.KindReply)
	if len(rs) == 0 {
		t.Fatal("no reply")
	}
	return rs[len(rs)-1]
}

// A customer votes once per answer, only on their own; a 👎 offers a
// person; the votes reach the figures with the answer's prompt version.
func testFeedback(t *testing.T, opts ...testkit.Option) {
	h := testkit.New(t, append(opts, testkit.WithEngine(func(c *bot.Config) { c.Feedback = true }))...)
	answer := lastReply(t, h.Say("U-ada", "how long does a refund take?"))
	_, down, id := feedbackButtons(t, answer)
	if answer.Buttons[0].Action != bot.ActionTalkToPerson {
		t.Errorf("the answer's first button is %+v, want Talk to a person", answer.Buttons[0])
	}
	_, _, id2 := feedbackButtons(t, lastReply(t, h.Say("U-ada", "and what are the fees?")))

	// Someone else cannot vote on Ada's answer.
	if err := h.Engine.Feedback(h.Ctx, "U-mallory", id, false); !errors.Is(err, bot.ErrNotYours) {
		t.Errorf("another user's vote: err %v, want ErrNotYours", err)
	}
	// Nor on a customer's message.
	var customerMsg int64
	_ = h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		msgs, err := tx.RecentMessages(h.Ctx, answer.ConversationID, 10)
		for _, m := range msgs {
			if m.Role == bot.RoleCustomer && customerMsg == 0 {
				customerMsg = m.ID
			}
		}
		return err
	})
	if err := h.Engine.Feedback(h.Ctx, "U-ada", customerMsg, true); !errors.Is(err, bot.ErrNotAnAnswer) {
		t.Errorf("a vote on a customer message: err %v, want ErrNotAnAnswer", err)
	}
	if err := h.Engine.Feedback(h.Ctx, "U-ada", 1<<40, true); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a vote on no message: err %v, want ErrNotFound", err)
	}

	// 👎 (the button's own value): counted, and a person is offered.
	downID, helpful, err := bot.ParseFeedback(down.Value)
	if err != nil || helpful || downID != id {
		t.Fatalf("👎 button %+v: %d %v %v", down, downID, helpful, err)
	}
	before := len(h.Platform.All())
	if err := h.Engine.Feedback(h.Ctx, "U-ada", downID, helpful); err != nil {
		t.Fatal(err)
	}
	h.Flush()
	offer := testkit.MustOne(t, testkit.Only(h.Platform.All()[before:], bot.KindReply), "offer after 👎")
	if !strings.Contains(offer.Text, "didn't help") || len(offer.Buttons) != 1 || offer.Buttons[0].Action != bot.ActionTalkToPerson {
		t.Errorf("after 👎: %q with buttons %+v, want an offer of a person with its button only", offer.Text, offer.Buttons)
	}
	// Pressing again, either button, changes nothing.
	before = len(h.Platform.All())
	for _, helpful := range []bool{false, true} {
		if err := h.Engine.Feedback(h.Ctx, "U-ada", id, helpful); err != nil {
			t.Fatal(err)
		}
	}
	h.Flush()
	if again := testkit.Only(h.Platform.All()[before:], bot.KindReply); len(again) != 0 {
		t.Errorf("a second vote sent %d more replies", len(again))
	}
	if err := h.Engine.Feedback(h.Ctx, "U-ada", id2, true); err != nil {
		t.Fatal(err)
	}

	recs, err := h.Store.ConversationRecords(h.Ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var votes []string
	for _, c := range recs {
		for _, v := range c.Votes {
			if v.PromptVersion == "" {
				t.Errorf("a vote without the answer's prompt version: %+v", v)
			}
			votes = append(votes, map[bool]string{true: "up", false: "down"}[v.Helpful])
		}
	}
	if got := strings.Join(votes, " "); got != "down up" {
		t.Errorf("votes in the records: %q, want \"down up\"", got)
	}
}

func TestFeedbackOff(t *testing.T) {
	h := testkit.New(t)
	answer := lastReply(t, h.Say("U-ada", "how long does a refund take?"))
	for _, b := range answer.Buttons {
		if b.Action == bot.ActionFeedback {
			t.Errorf("feedback button without Config.Feedback: %+v", b)
		}
	}
}

func TestParseFeedback(t *testing.T) {
	for _, tc := range []struct {
		in      string
		id      int64
		helpful bool
		ok      bool
	}{
		{"12:up", 12, true, true},
		{"12:down", 12, false, true},
		{bot.FeedbackValue(7, true), 7, true, true},
		{"12", 0, false, false},
		{"12:sideways", 0, false, false},
		{"-3:up", 0, false, false},
		{"0:up", 0, false, false},
		{"x:up", 0, false, false},
		{"99999999999999999999:up", 0, false, false},
		{"12:up:extra", 0, false, false},
		{"", 0, false, false},
	} {
		id, helpful, err := bot.ParseFeedback(tc.in)
		if (err == nil) != tc.ok || id != tc.id || helpful != tc.helpful {
			t.Errorf("ParseFeedback(%q) = %d, %v, %v; want %d, %v, ok %v", tc.in, id, helpful, err, tc.id, tc.helpful, tc.ok)
		}
	}
}

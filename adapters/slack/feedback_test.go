package slack

import (
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestFeedbackButtons: an answer carries Slack's feedback_buttons under
// it, beside Talk to a person; the customer's 👎 offers a person; another
// user's press is refused to them alone and counts nothing.
func TestFeedbackButtons(t *testing.T) {
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m, withHarness(testkit.WithEngine(func(c *bot.Config) { c.Feedback = true })))
			ada := fakeslack.DMChannel("U-ada")
			since := e.mark()
			e.dm("U-ada", "status of PAY-1001")
			answer := e.waitPost(since, "the answer", func(p post) bool { return p.Channel == ada && strings.Contains(p.Section(), "PAY-1001") })
			up, down, ok := answer.Feedback()
			if !ok || up.Label != "👍" || down.Label != "👎" || up.ActionID != down.ActionID {
				t.Fatalf("answer blocks lack feedback buttons: %+v", answer.Blocks)
			}
			answer.Button(t, "firstline_talk_to_person") // still there

			since = e.mark()
			e.pressFeedback("U-grace", ada, answer.TS, down)
			e.waitPost(since, "the refusal to Grace", func(p post) bool {
				return p.Method == "chat.postEphemeral" && strings.Contains(p.Text, "another customer")
			})

			since = e.mark()
			e.pressFeedback("U-ada", ada, answer.TS, down)
			offer := e.waitPost(since, "the offer of a person", func(p post) bool { return p.Channel == ada && strings.Contains(p.Section(), "didn't help") })
			offer.Button(t, "firstline_talk_to_person")
			if _, _, ok := offer.Feedback(); ok {
				t.Error("the offer after 👎 asks for feedback too")
			}
		})
	}
}

// TestHelpCenterSources: an answer from the help center shows its source
// as a context block under the text, the link clickable, not inline.
func TestHelpCenterSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	ada := fakeslack.DMChannel("U-ada")
	since := e.mark()
	e.dm("U-ada", "my card was stolen, what do I do?")
	answer := e.waitPost(since, "the answer", func(p post) bool { return p.Channel == ada && strings.Contains(p.Context(), "help.example.com") })
	if strings.Contains(answer.Section(), "Source:") || !strings.Contains(answer.Context(), "lost-stolen-card") {
		t.Errorf("section %q, context %q; want the source under the text only", answer.Section(), answer.Context())
	}
}

func TestSplitSources(t *testing.T) {
	for _, tc := range []struct {
		in, body string
		sources  []string
	}{
		{"Freeze the card.\n\nSource: Lost card <https://h/x|https://h/x>", "Freeze the card.", []string{"Lost card <https://h/x|https://h/x>"}},
		{"a\nSource: A u1\nSource: B u2\n", "a", []string{"A u1", "B u2"}},
		{"Source: alone", "Source: alone", nil},
		{"he wrote Source: x\nand more", "he wrote Source: x\nand more", nil},
		{"no sources", "no sources", nil},
	} {
		body, sources := splitSources(tc.in)
		if body != tc.body || strings.Join(sources, "|") != strings.Join(tc.sources, "|") {
			t.Errorf("splitSources(%q) = %q, %q; want %q, %q", tc.in, body, sources, tc.body, tc.sources)
		}
	}
}

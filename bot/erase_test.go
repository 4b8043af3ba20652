package bot_test

import (
	"testing"

	"github.com/firstlinehq/firstline/bot"
)

func TestScrubQuotes(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		words      []string
		want       string
		changed    bool
	}{
		{"quoted line", "**Ada** wrote:\n> my card 4242 is blocked", []string{"my card 4242 is blocked"},
			"**Ada** wrote:\n> [erased]", true},
		{"inside a longer line", "09:14 Ada: my card 4242 is blocked, help", []string{"my card 4242 is blocked"},
			"09:14 Ada: [erased], help", true},
		{"a message of several lines", "> first line here\n> other words\n> second line here",
			[]string{"first line here\nsecond line here"}, "> [erased]\n> other words\n> [erased]", true},
		{"short word alone on a line", "> ok\n> okay then, thanks", []string{"ok"}, "> [erased]\n> okay then, thanks", true},
		{"short word inside a line stays", "I am ok with that", []string{"ok"}, "I am ok with that", false},
		{"nothing to scrub", "hello", []string{"bye bye now"}, "hello", false},
		{"blank words", "hello\n\n", []string{"", "  \n "}, "hello\n\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := bot.ScrubQuotes(tc.text, tc.words)
			if got != tc.want || changed != tc.changed {
				t.Errorf("ScrubQuotes = %q, %v; want %q, %v", got, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestScrubDigest(t *testing.T) {
	text := "**3 handoffs are waiting for an agent** (oldest first):\n" +
		bot.DigestLine(1) + "Ada on slack, waiting 6 min: my card\n" +
		bot.DigestLine(12) + "Grace on slack, waiting 5 min\n" +
		bot.DigestLine(123) + "Linus on discord, waiting 1 min\n" +
		"Press Claim on a card, or write claim in its thread."
	got, changed := bot.ScrubDigest(text, map[int64]bool{1: true, 123: true})
	want := "**3 handoffs are waiting for an agent** (oldest first):\n" +
		"• #1 [erased]\n" + bot.DigestLine(12) + "Grace on slack, waiting 5 min\n" +
		"• #123 [erased]\nPress Claim on a card, or write claim in its thread."
	if got != want || !changed {
		t.Errorf("ScrubDigest =\n%s\nwant\n%s", got, want)
	}
	if _, changed := bot.ScrubDigest(text, map[int64]bool{2: true}); changed {
		t.Error("ScrubDigest changed a digest that does not list the handoff (#2 is a prefix of nothing here)")
	}
}

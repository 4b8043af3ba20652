package handoff_test

import (
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// What a customer writes reaches agents attributed and quoted, every line
// of it: a markdown link shows its real target, and a line that reads like
// the bot's own status lines stays inside the customer's quote.
func TestCustomerTextIsInert(t *testing.T) {
	h := testkit.New(t)
	in := h.DM("U-ada", "I want to talk to a human")
	in.UserName = "**Support Team** [admin](https://evil.example) @here"
	ann := testkit.MustOne(t, testkit.Only(h.Send(in), bot.KindAnnounce), "announcement")
	for _, bad := range []string{"**Support Team**", "[admin](", "@here"} {
		if strings.Contains(ann.Text, bad) {
			t.Errorf("the card holds the display name's %q: %q", bad, ann.Text)
		}
	}
	forged := "see [https://support.example.com/refund](https://evil.example/login)\n" +
		"Alex claimed this handoff. Their messages in this thread go to the customer"
	in = h.DM("U-ada", forged)
	posts := testkit.Only(h.Send(in), bot.KindThread)
	post := testkit.MustOne(t, posts, "thread post")
	if strings.Contains(post.Text, "](") {
		t.Errorf("a markdown link reached the thread: %q", post.Text)
	}
	if !strings.Contains(post.Text, "https://support.example.com/refund (https://evil.example/login)") {
		t.Errorf("the link's real target is not shown beside its label: %q", post.Text)
	}
	lines := strings.Split(post.Text, "\n")
	if want := "**Support Team (admin)(https://evil.example) here**:"; lines[0] != want {
		t.Errorf("first line %q; want the customer's attribution %q, its markup removed", lines[0], want)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "> ") {
			t.Errorf("a line of the customer's stands on its own: %q", l)
		}
	}
}

package handoff_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
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

// A customer who floods a handoff makes one thread post per send, not one
// per message: what they write while a post waits to go out joins it, and
// every one of their messages is in the thread. Another customer's card is
// not held up.
func TestFloodIsGrouped(t *testing.T) {
	h := testkit.New(t)
	openHandoff(t, h)
	h.Flush()
	before := len(h.Platform.All())
	for i := range 60 {
		if _, err := h.Engine.Accept(h.Ctx, h.DM("U-ada", fmt.Sprintf("flood message %02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Grace asks for a person in the middle of it.
	if _, err := h.Engine.Accept(h.Ctx, h.DM("U-grace", "I want to talk to a human")); err != nil {
		t.Fatal(err)
	}
	h.Flush()
	sent := h.Platform.All()[before:]
	var posts []bot.Outgoing
	for _, m := range testkit.Only(sent, bot.KindThread) {
		if strings.Contains(m.Text, "flood message") {
			posts = append(posts, m)
		}
	}
	if len(posts) > 2 {
		t.Errorf("60 messages made %d thread posts; want them grouped", len(posts))
	}
	all := ""
	for _, p := range posts {
		all += p.Text + "\n"
	}
	for i := range 60 {
		if !strings.Contains(all, fmt.Sprintf("> flood message %02d", i)) {
			t.Errorf("message %02d is missing from the thread", i)
		}
	}
	if !strings.Contains(posts[0].Text, "messages):") {
		t.Errorf("a grouped post does not say how many messages it holds: %q", posts[0].Text[:min(80, len(posts[0].Text))])
	}
	if cards := testkit.Only(sent, bot.KindAnnounce); len(cards) != 1 || !strings.Contains(cards[0].Text, "grace on slack") {
		t.Errorf("Grace's card: %+v", cards)
	}
}

// burstGap is handoff.Config's default BurstGap.
const burstGap = 3 * time.Second

// A customer who keeps writing makes at most one thread post every burst
// gap: a message right after a post waits for the gap and takes what
// follows with it; a message after a quiet spell goes at once. The agents'
// own notes are never held back by it.
func TestBurstGap(t *testing.T) {
	h := testkit.New(t)
	ann := openHandoff(t, h)
	h.Flush()
	words := func(posted []bot.Outgoing) []string {
		var got []string
		for _, m := range testkit.Only(posted, bot.KindThread) {
			if strings.Contains(m.Text, "> ") {
				got = append(got, m.Text)
			}
		}
		return got
	}
	if got := words(h.Say("U-ada", "first")); len(got) != 1 || !strings.Contains(got[0], "> first") {
		t.Fatalf("a first message after a quiet spell: %q; want it at once", got)
	}
	h.Clock.Advance(time.Second)
	if got := words(h.Say("U-ada", "second")); len(got) != 0 {
		t.Errorf("a message 1s after a post: %q; want it held for the gap", got)
	}
	h.Clock.Advance(time.Second)
	if got := words(h.Say("U-ada", "third")); len(got) != 0 {
		t.Errorf("a message 2s after a post: %q; want it held for the gap", got)
	}
	// An agent's note in the meantime is not held back.
	if res, _ := h.Agent(ann, "A1", "claim"); res.Outcome != handoff.Claimed {
		t.Fatalf("claim: %s", res.Outcome)
	}
	h.Clock.Advance(burstGap - 2*time.Second - time.Millisecond)
	before := len(h.Platform.All())
	h.Flush()
	if got := words(h.Platform.All()[before:]); len(got) != 0 {
		t.Errorf("a millisecond before the gap ends: %q", got)
	}
	h.Clock.Advance(time.Millisecond)
	before = len(h.Platform.All())
	h.Flush()
	got := words(h.Platform.All()[before:])
	if len(got) != 1 || !strings.Contains(got[0], "(2 messages)") || !strings.Contains(got[0], "> second") || !strings.Contains(got[0], "> third") {
		t.Fatalf("when the gap ends: %q; want one post of both messages", got)
	}
	h.Clock.Advance(burstGap)
	if got := words(h.Say("U-ada", "fourth")); len(got) != 1 {
		t.Errorf("a message a gap after the last post: %q; want it at once", got)
	}
}

// One person, one open handoff: ten requests for a person from one chat
// identity, in ten channel threads, make one card; each later request is
// told where they stand and noted in the open handoff's thread.
func TestOneOpenHandoffPerIdentity(t *testing.T) {
	h := testkit.New(t)
	var all []bot.Outgoing
	for i := range 10 {
		in := h.DM("U-ada", "I want to talk to a human")
		in.Key.Channel, in.Key.Thread, in.Private = "C-SUPPORT", fmt.Sprintf("thread-%d", i), false
		in.MessageID = fmt.Sprintf("human-%d", i)
		all = append(all, h.Send(in)...)
	}
	if cards := testkit.Only(all, bot.KindAnnounce); len(cards) != 1 {
		t.Fatalf("10 requests from one person made %d cards; want 1", len(cards))
	}
	told := 0
	for _, r := range testkit.Replies(all) {
		if strings.Contains(r, "already asked for a person in another conversation") {
			told++
		}
	}
	if told != 9 {
		t.Errorf("%d later requests were told where they stand; want 9", told)
	}
	noted := 0
	for _, m := range testkit.Only(all, bot.KindThread) {
		if strings.Contains(m.Text, "asked for a person again") {
			noted++
			// Their words there reach the agents, quoted.
			if !strings.Contains(m.Text, "\n> I want to talk to a human") {
				t.Errorf("the note lacks the customer's words: %q", m.Text)
			}
		}
	}
	if noted != 9 {
		t.Errorf("%d notes in the open handoff's thread; want 9", noted)
	}
	// Another person still gets a card of their own.
	if cards := testkit.Only(h.Say("U-grace", "I want to talk to a human"), bot.KindAnnounce); len(cards) != 1 {
		t.Errorf("Grace's request made %d cards; want 1", len(cards))
	}
}

// In shadow mode every conversation is with a person: a customer's second
// conversation gets a handoff (and drafts) of its own, not a pointer to the
// first.
func TestShadowConversationsEachGetAHandoff(t *testing.T) {
	h := testkit.New(t, testkit.WithEngine(func(c *bot.Config) { c.Shadow = true }))
	var all []bot.Outgoing
	for i := range 2 {
		in := h.DM("U-ada", "status of PAY-1001")
		in.Key.Channel, in.Key.Thread, in.Private = "C-SUPPORT", fmt.Sprintf("thread-%d", i), false
		all = append(all, h.Send(in)...)
	}
	if cards := testkit.Only(all, bot.KindAnnounce); len(cards) != 2 {
		t.Errorf("two shadow conversations made %d cards; want 2", len(cards))
	}
	for _, r := range testkit.Replies(all) {
		if strings.Contains(r, "already asked for a person") {
			t.Errorf("a shadow conversation was sent elsewhere: %q", r)
		}
	}
}

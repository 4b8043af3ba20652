package slack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// A customer who floods their handoff thread (60 messages in 6 seconds)
// gets every message into the thread, grouped into far fewer posts at
// least the burst gap apart, and
// another customer's card, asked for in the middle of it, is announced
// within 5 seconds. On the injected clock: the shaper holds the channel to
// Slack's rate, and the test steps time.
func TestFloodInAHandoffThread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode, withManualClock())
	ctx := context.Background()
	flush := func() {
		t.Helper()
		if _, err := e.h.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.dm("U-ada", "I want to talk to a human")
	flush()
	adaCard := e.posts(0, card)
	if len(adaCard) != 1 {
		t.Fatalf("Ada's card: %d posts", len(adaCard))
	}
	start := len(e.fake.Posts())
	var graceAsked time.Time
	graceAnnounced := time.Duration(-1)
	// When each of the flood's thread posts appeared, on the injected clock.
	var postedAt []time.Time
	check := func() {
		n := len(e.posts(start, func(p post) bool {
			return p.Channel == testkit.AgentChannel && p.ThreadTS == adaCard[0].TS && strings.Contains(p.Section(), "flood message")
		}))
		for len(postedAt) < n {
			postedAt = append(postedAt, e.h.Clock.Now())
		}
		if graceAnnounced < 0 && !graceAsked.IsZero() {
			for _, c := range e.posts(start, card) {
				if strings.Contains(c.Section(), "Grace on slack") {
					graceAnnounced = e.h.Clock.Now().Sub(graceAsked)
				}
			}
		}
	}
	for i := range 60 {
		e.dm("U-ada", fmt.Sprintf("flood message %02d", i))
		if i == 30 {
			e.dm("U-grace", "I want to talk to a human")
			graceAsked = e.h.Clock.Now()
		}
		if i%10 == 9 {
			flush()
			check()
			e.h.Clock.Advance(time.Second)
		}
	}
	for range 30 {
		flush()
		check()
		e.h.Clock.Advance(time.Second)
	}
	if graceAnnounced < 0 || graceAnnounced > 5*time.Second {
		t.Errorf("Grace's card announced after %v; want within 5s", graceAnnounced)
	}
	thread := ""
	posts := 0
	for _, p := range e.posts(start, func(p post) bool {
		return p.Channel == testkit.AgentChannel && p.ThreadTS == adaCard[0].TS && strings.Contains(p.Section(), "flood message")
	}) {
		thread += p.Section() + "\n"
		posts++
	}
	for i := range 60 {
		if !strings.Contains(thread, fmt.Sprintf("flood message %02d", i)) {
			t.Errorf("flood message %02d is not in the thread", i)
		}
	}
	if posts >= 30 {
		t.Errorf("60 messages made %d thread posts; want them grouped", posts)
	}
	for i := 1; i < len(postedAt); i++ {
		if gap := postedAt[i].Sub(postedAt[i-1]); gap < 3*time.Second {
			t.Errorf("thread posts %d and %d of the flood %v apart; want at least the 3s burst gap", i-1, i, gap)
		}
	}
	t.Logf("60 messages in %d thread posts; Grace's card after %v", posts, graceAnnounced)
}

// "human" in ten new channel threads from one customer makes one card that
// pings the agents, and a customer's forged link and status line reach the
// thread as the customer's quoted words.
func TestOneCardPerCustomerAndInertWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	const general = "CGENERAL"
	since := e.mark()
	var roots []string
	for range 10 {
		root := e.fake.NewTS()
		roots = append(roots, root)
		e.deliver(fakeslack.MentionEvent("U-ada", general, "<@UBOT> I want to talk to a human", root, ""))
	}
	c := e.waitCard(since)
	e.waitPost(since, "the ninth 'already asked'", func(p post) bool {
		return len(e.posts(since, to(general, "already asked for a person"))) == 9
	})
	if n := len(e.posts(since, card)); n != 1 {
		t.Errorf("%d cards for one customer; want 1", n)
	}
	forged := "see [https://support.example.com/refund](https://evil.example/login)\n" +
		"Alex claimed this handoff. Their messages in this thread go to the customer"
	// A follow-up in the thread of the handoff's conversation, the first.
	e.deliver(fakeslack.ChannelEvent("U-ada", general, forged, e.fake.NewTS(), roots[0]))
	p := e.waitPost(since, "the customer's words in the thread", inThread(testkit.AgentChannel, c.TS, "claimed this handoff"))
	text := p.Section()
	t.Logf("the thread post: %q", text)
	if strings.Contains(text, "|https://support.example.com") || strings.Contains(text, "<https://evil.example/login|") {
		t.Errorf("a link labelled other than its target reached the thread: %q", text)
	}
	for _, l := range strings.Split(text, "\n")[1:] {
		if !strings.HasPrefix(l, "&gt; ") && !strings.HasPrefix(l, "> ") {
			t.Errorf("a line of the customer's stands on its own in the thread: %q (post %q)", l, text)
		}
	}
}

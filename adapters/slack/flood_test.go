package slack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/testkit"
)

// A customer who floods their handoff thread (60 messages in 6 seconds)
// gets every message into the thread, grouped into far fewer posts, and
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
	check := func() {
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
	t.Logf("60 messages in %d thread posts; Grace's card after %v", posts, graceAnnounced)
}

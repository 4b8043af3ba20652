package slack

import (
	"testing"
	"time"
)

// Thread chatter leaves a post of the channel's budget for new handoff
// cards: under a flood of thread posts, a card goes out at once, and the
// chatter still moves at the channel's rate.
func TestShaperKeepsRoomForCards(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := newShaper(func() time.Time { return now }, channelRate, channelBurst)
	sent := 0
	for range 10 {
		if s.take("CAGENTS", cardReserve) == 0 {
			sent++
		}
	}
	if sent != channelBurst-cardReserve {
		t.Errorf("a burst of chatter sent %d; want %d (the burst less the reserve)", sent, channelBurst-cardReserve)
	}
	if wait := s.take("CAGENTS", 0); wait != 0 {
		t.Fatalf("a card behind the chatter waits %s; want none", wait)
	}
	// Ten seconds of a steady flood: chatter at about the rate, and a card
	// at the end still goes at once.
	chatter := 0
	for step := range 100 {
		now = now.Add(100 * time.Millisecond)
		if s.take("CAGENTS", cardReserve) == 0 {
			chatter++
		}
		if step == 99 {
			if wait := s.take("CAGENTS", 0); wait != 0 {
				t.Errorf("a card after ten seconds of flood waits %s; want none", wait)
			}
		}
	}
	if chatter < 8 || chatter > 11 {
		t.Errorf("%d chatter posts in ten seconds at 1/s", chatter)
	}
	// Another channel is untouched.
	if wait := s.take("D-ada", 0); wait != 0 {
		t.Errorf("another channel waits %s", wait)
	}
}

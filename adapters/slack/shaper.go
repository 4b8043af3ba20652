package slack

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Slack allows about one message per second per channel, with short bursts
// over it; beyond that chat.postMessage answers 429.
const (
	channelRate  = rate.Limit(1) // messages per second
	channelBurst = 4
	// shaperPrune is how many idle channels the shaper keeps before it
	// forgets those whose budget is full again (every DM is a channel).
	shaperPrune = 1024
)

// shaper keeps posts to each channel within Slack's rate. It never sleeps:
// when a channel is over its rate it says how long until the next post may
// go, and the outbox defers that message (without counting a failed attempt)
// and serves other channels meanwhile. Time comes from now, so tests control
// it.
type shaper struct {
	now   func() time.Time
	limit rate.Limit
	burst int

	mu       sync.Mutex
	channels map[string]*rate.Limiter
}

func newShaper(now func() time.Time, limit rate.Limit, burst int) *shaper {
	return &shaper{now: now, limit: limit, burst: burst, channels: map[string]*rate.Limiter{}}
}

// cardReserve is the part of a channel's budget that thread posts leave
// for new handoff cards: while a customer floods one thread, the next
// customer's card still goes out at once.
const cardReserve = 1

// take spends one post of channel's budget and returns 0, or, when the
// channel is over its rate, spends nothing and returns how long to wait.
// reserve is how many posts' worth of budget must stay after this one
// (cardReserve for thread chatter, 0 otherwise).
func (s *shaper) take(channel string, reserve int) time.Duration {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	lim, ok := s.channels[channel]
	if !ok {
		if len(s.channels) >= shaperPrune {
			s.prune(now)
		}
		lim = rate.NewLimiter(s.limit, s.burst)
		s.channels[channel] = lim
	}
	reserve = min(reserve, s.burst-1)
	if lim.TokensAt(now) >= float64(1+reserve) && lim.AllowN(now, 1) {
		return 0
	}
	missing := float64(1+reserve) - lim.TokensAt(now)
	wait := time.Duration(missing / float64(s.limit) * float64(time.Second))
	return max(wait, time.Millisecond)
}

// prune forgets channels whose budget is full: a new limiter for them would
// be in the same state.
func (s *shaper) prune(now time.Time) {
	for ch, lim := range s.channels {
		if lim.TokensAt(now) >= float64(s.burst) {
			delete(s.channels, ch)
		}
	}
}

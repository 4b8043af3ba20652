package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bounds what chat users can make the bot do. The zero Limits
// limits nothing.
type Limits struct {
	// PerUser bounds the messages one chat identity gets answered, and
	// PerWorkspace those of one Slack workspace or Discord server
	// together (Discord direct messages have no server: only PerUser
	// applies). Messages over a limit are stored, not answered by the
	// model; the customer is told once. A request for a person is never
	// limited. Limits are kept in memory, per replica.
	PerUser      Rate
	PerWorkspace Rate
	// DailyTokens caps the model tokens of a UTC day across replicas; 0 is
	// no cap. When the day's count reaches it, agents are alerted once and
	// the bot hands conversations to them instead of calling the model
	// until the day rolls over. Turns already running finish, so the count
	// may end a little above the cap.
	DailyTokens int64
	// MaxAttachments is how many attachments of one message are passed on
	// to agents; DefaultMaxAttachments when zero.
	MaxAttachments int
}

// DefaultMaxAttachments is how many attachments of one message reach the
// agents unless Limits.MaxAttachments says otherwise. Slack and Discord
// allow ten files a message.
const DefaultMaxAttachments = 10

// Rate is N events per period: a burst of N, refilled evenly over Per. The
// zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// On reports whether r limits anything.
func (r Rate) On() bool { return r.N > 0 && r.Per > 0 }

func (r Rate) String() string {
	if !r.On() {
		return "off"
	}
	return strconv.Itoa(r.N) + "/" + formatPer(r.Per)
}

func formatPer(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// ParseRate reads a rate written "N/PERIOD" ("20/1m", "300/1h", "5/10s"; a
// bare unit such as "20/m" means one of it), or "off" or "0" for no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "off", "0", "none":
		return Rate{}, nil
	}
	ns, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("want N/PERIOD such as 20/1m, or off, got %q", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 {
		return Rate{}, fmt.Errorf("want a whole number of messages before the slash, got %q", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d < time.Second {
		return Rate{}, fmt.Errorf("want a period of at least 1s after the slash (1m, 1h), got %q", s)
	}
	return Rate{N: n, Per: d}, nil
}

// limiter keeps one token bucket per key (an identity, a workspace), fed by
// the engine's clock.
type limiter struct {
	rate Rate

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
	// told is set once the customer was told they are over the limit, so
	// that a flood gets one notice, not one per message.
	told bool
}

func newLimiter(r Rate) *limiter {
	if !r.On() {
		return nil
	}
	return &limiter{rate: r, buckets: map[string]*bucket{}}
}

// allow takes one event for key at now. It reports whether the event is
// within the limit and, when it is not, whether this is the first refusal
// since the key was last allowed. A nil limiter allows everything.
func (l *limiter) allow(key string, now time.Time) (ok, first bool) {
	if l == nil {
		return true, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.rate.Per/time.Duration(l.rate.N)), l.rate.N)}
		l.buckets[key] = b
	}
	b.last = now
	if b.lim.AllowN(now, 1) {
		b.told = false
		return true, false
	}
	first = !b.told
	b.told = true
	return false, first
}

// sweep forgets buckets idle for a whole period: they are full again, as
// good as new. It runs at most once a period, so that memory stays bounded
// by the keys active in the last two periods.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.rate.Per {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.rate.Per {
			delete(l.buckets, k)
		}
	}
}

// size is how many buckets are kept, for tests.
func (l *limiter) size() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// guard applies the per-user and per-workspace limits.
type guard struct {
	users      *limiter
	workspaces *limiter
}

func newGuard(l Limits) guard {
	return guard{users: newLimiter(l.PerUser), workspaces: newLimiter(l.PerWorkspace)}
}

// verdict is what the limits say about one incoming message.
type verdict struct {
	limited bool
	// tell is set on the first limited message of a run: the customer is
	// told once, not for every message of a flood.
	tell bool
}

// check takes one message of in's sender at now. The terminal (`firstline
// chat`) is the operator's own and is not limited.
func (g guard) check(in Incoming, now time.Time) verdict {
	if in.Key.Platform == Console {
		return verdict{}
	}
	id := NewIdentity(in.Key.Platform, in.Key.Workspace, in.User)
	if ok, first := g.users.allow("user:"+ActorOf(id), now); !ok {
		return verdict{limited: true, tell: first}
	}
	if in.Key.Workspace == "" {
		return verdict{}
	}
	if ok, first := g.workspaces.allow("workspace:"+string(in.Key.Platform)+":"+in.Key.Workspace, now); !ok {
		return verdict{limited: true, tell: first}
	}
	return verdict{}
}

// Validate checks the limits.
func (l Limits) Validate() error {
	var errs []error
	for name, r := range map[string]Rate{"per-user": l.PerUser, "per-workspace": l.PerWorkspace} {
		if (r.N != 0 || r.Per != 0) && !r.On() {
			errs = append(errs, fmt.Errorf("%s rate %d/%s: want a positive number per a positive period", name, r.N, r.Per))
		}
	}
	if l.DailyTokens < 0 {
		errs = append(errs, fmt.Errorf("daily token cap %d is negative", l.DailyTokens))
	}
	if l.MaxAttachments < 0 {
		errs = append(errs, fmt.Errorf("max attachments %d is negative", l.MaxAttachments))
	}
	return errors.Join(errs...)
}

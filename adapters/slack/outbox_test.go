package slack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// TestOutboxThroughOutages runs the real dispatcher and adapter against a
// Slack that fails (5xx), rate-limits (429 with Retry-After), loses
// answers to posts it made (a 504 or a hang past the client's timeout
// after posting), then recovers; one destination refuses for good and
// another never recovers. Every message reaches Slack exactly once, in
// order per channel; the two broken destinations end dead without holding
// back the others. The failures are drawn from a seeded RNG (the seed is
// logged; FIRSTLINE_TEST_SEED replays one).
func TestOutboxThroughOutages(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FIRSTLINE_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FIRSTLINE_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (FIRSTLINE_TEST_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	e := newEnv(t, httpMode, withManualClock(), withConfig(func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	}))

	const gone, down = "DGONE", "DDOWN"
	var mu sync.Mutex
	calls, hangs := 0, 0
	faults := map[string]int{}
	e.fake.SetHook(func(method string, form url.Values) *fakeslack.Reply {
		if method != "chat.postMessage" {
			return nil
		}
		switch form.Get("channel") {
		case gone:
			return &fakeslack.Reply{Body: `{"ok":false,"error":"channel_not_found"}`}
		case down:
			return &fakeslack.Reply{Status: http.StatusServiceUnavailable}
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 120 {
			return nil // recovered
		}
		switch r := rng.IntN(100); {
		case r < 15:
			faults["5xx"]++
			return &fakeslack.Reply{Status: http.StatusInternalServerError}
		case r < 27:
			faults["429"]++
			return &fakeslack.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": strconv.Itoa(1 + rng.IntN(3))}}
		case r < 33:
			faults["answer lost"]++
			return &fakeslack.Reply{AfterPost: true, Status: http.StatusGatewayTimeout}
		case r < 36 && hangs < 3:
			hangs++
			faults["hang after posting"]++
			return &fakeslack.Reply{AfterPost: true, Hang: 5 * time.Second}
		}
		return nil
	})

	ctx := context.Background()
	channels := []string{"DC1", "DC2", "DC3", "DC4", "DC5", "DC6", "DC7", "DC8", gone, down}
	var rows []bot.Outgoing
	for _, ch := range channels {
		for j := range 6 {
			m := bot.Outgoing{Platform: bot.Slack, Channel: ch, Stream: "conv:" + ch, Kind: bot.KindReply,
				Text: fmt.Sprintf("%s message %d", ch, j), CreatedAt: e.h.Clock.Now()}
			if err := e.h.Store.WithTx(ctx, func(tx bot.Tx) error { return tx.Enqueue(ctx, &m) }); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, m)
		}
	}

	// Deliver until nothing is left, jumping the clock to the next retry.
	for step := 0; ; step++ {
		if step > 500 {
			t.Fatal("the outbox did not drain")
		}
		if _, err := e.h.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		pending, err := e.h.Store.Due(ctx, e.h.Clock.Now().Add(24*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		next := pending[0].NextAttemptAt
		for _, p := range pending {
			if p.NextAttemptAt.Before(next) {
				next = p.NextAttemptAt
			}
		}
		e.h.Clock.Advance(max(next.Sub(e.h.Clock.Now()), time.Second))
	}
	t.Logf("faults injected: %v", faults)

	byChannel := map[string][]string{}
	for _, p := range e.fake.Posts() {
		if id, _, ok := p.OutboxID(); ok {
			byChannel[p.Channel] = append(byChannel[p.Channel], id)
		}
	}
	for _, ch := range channels {
		var want []string
		if ch != gone && ch != down {
			for _, m := range rows {
				if m.Channel == ch {
					want = append(want, strconv.FormatInt(m.ID, 10))
				}
			}
		}
		if got := byChannel[ch]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s received rows %v; want %v, each once, in order", ch, got, want)
		}
	}
}

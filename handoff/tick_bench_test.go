package handoff_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/testkit"
)

// BenchmarkTick measures one tick of the timers over a queue of 100
// waiting handoffs on SQLite, each tick a digest (the clock moves on by the
// re-ping interval) with its 100 card updates and the queue notices.
//
//	go test -run '^$' -bench BenchmarkTick -benchtime 50x ./handoff/
func BenchmarkTick(b *testing.B) {
	h := testkit.New(b, testkit.WithHandoffs(timerConfig))
	for i := range 100 {
		user := fmt.Sprintf("U-b%03d", i)
		h.Say(user, "I want to talk to a human")
	}
	b.ResetTimer()
	for range b.N {
		h.Clock.Advance(5 * time.Minute)
		if err := h.Handoffs.Tick(h.Ctx, h.Clock.Now()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		h.Flush()
		b.StartTimer()
	}
}

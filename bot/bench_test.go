package bot_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/prompts"
)

// BenchmarkTurn measures whole turns on SQLite on disk (WAL,
// synchronous=FULL): store the message, run the offline model with its tool
// call, store and queue the reply, and deliver the outbox to a recording
// platform. It reports the median and 99th-percentile latency of a turn;
// ns/op is the mean, and 1e9/(ns/op) the turns per second of one
// conversation at a time.
//
//	go test -run '^$' -bench BenchmarkTurn -benchtime 2000x -count 5 ./bot/
func BenchmarkTurn(b *testing.B) {
	cases := []struct {
		name string
		in   func(h *testkit.Harness, i int) bot.Incoming
	}{
		{"payment_by_reference", func(h *testkit.Harness, i int) bot.Incoming {
			return h.DM("U-ada", "status of PAY-1002")
		}},
		{"payment_list", func(h *testkit.Harness, i int) bot.Incoming {
			return h.DM("U-ada", "what's the status of my payments?")
		}},
		{"new_conversation", func(h *testkit.Harness, i int) bot.Incoming {
			return h.DM(fmt.Sprintf("U-%d", i), "how long does a refund take?")
		}},
		{"human_request", func(h *testkit.Harness, i int) bot.Incoming {
			return h.DM(fmt.Sprintf("U-%d", i), "I want to talk to a human")
		}},
	}
	stores := []struct {
		name string
		open func(testing.TB) app.Store
	}{
		{"sqlite", nil},
		{"postgres", testkit.Postgres},
	}
	for _, st := range stores {
		for _, c := range cases {
			b.Run(st.name+"/"+c.name, func(b *testing.B) {
				benchTurns(b, st.open, c.in)
			})
		}
	}
}

func benchTurns(b *testing.B, open func(testing.TB) app.Store, next func(h *testkit.Harness, i int) bot.Incoming) {
	// One conversation asking the same thing a thousand times is a repeated
	// question (escalation.yaml) and would be handed to a person: the
	// benchmark measures the bot's turns, so that rule is off.
	set := testkit.Prompts(map[string]string{prompts.FileHours: testkit.AlwaysOpen, prompts.FileEscalation: "repeats:\n  times: 0\n"})
	opts := []testkit.Option{testkit.WithPrompts(func() *prompts.Set { return set })}
	if open != nil {
		opts = append(opts, testkit.WithStore(open))
	}
	h := testkit.New(b, opts...)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := next(h, i)
		start := time.Now()
		if _, err := h.Engine.Handle(h.Ctx, in); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Disp.Flush(h.Ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkTurnParallel runs turns of many conversations at once, as a busy
// bot does, and reports the throughput in turns per second.
//
//	go test -run '^$' -bench BenchmarkTurnParallel -benchtime 2000x -count 5 ./bot/
func BenchmarkTurnParallel(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchParallel(b, testkit.New(b)) })
	b.Run("postgres", func(b *testing.B) { benchParallel(b, testkit.New(b, testkit.WithStore(testkit.Postgres))) })
}

func benchParallel(b *testing.B, h *testkit.Harness) {
	var n atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			in := bot.Incoming{
				Key:       bot.ConversationKey{Platform: bot.Slack, Workspace: testkit.Team, Channel: fmt.Sprintf("D-%d", i%64)},
				User:      fmt.Sprintf("U-%d", i%64),
				Text:      "how long does a refund take?",
				MessageID: fmt.Sprintf("p%d", i),
				Private:   true,
			}
			t0 := time.Now()
			if _, err := h.Engine.Handle(h.Ctx, in); err != nil {
				b.Error(err)
				return
			}
			if _, err := h.Disp.Flush(h.Ctx); err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			lat = append(lat, time.Since(t0))
			mu.Unlock()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

package stats

import (
	"fmt"
	"testing"
	"time"
)

// benchHistory is n conversations over 37 days (a 30-day page and its
// repeat window), by n/3 customers on three topics, every third handed off.
func benchHistory(n int) []Conversation {
	start := at(1, 0, 0, 0)
	out := make([]Conversation, n)
	for i := range out {
		opened := start.Add(time.Duration(i) * (37 * 24 * time.Hour / time.Duration(n)))
		c := Conversation{ID: int64(i + 1), Customer: fmt.Sprintf("C-%d", i%(n/3+1)), Topic: []string{"payments", "other", "faq:x"}[i%3],
			OpenedAt: opened, LastMessageAt: opened.Add(time.Minute), ClosedAt: opened.Add(time.Hour),
			FirstCustomerAt: opened, FirstResponseAt: opened.Add(2 * time.Second)}
		if i%3 == 0 {
			c.Handoffs = []Handoff{{CreatedAt: opened, ClaimedAt: opened.Add(time.Minute), ResolvedAt: opened.Add(10 * time.Minute), Rating: 1 + i%5}}
		}
		out[i] = c
	}
	return out
}

// go test -run '^$' -bench . ./stats/
func BenchmarkCompute(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		history := benchHistory(n)
		since, until := at(8, 0, 0, 0), at(8, 0, 0, 0).Add(30*24*time.Hour)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				Compute(history, since, until, 24*time.Hour)
			}
		})
	}
}

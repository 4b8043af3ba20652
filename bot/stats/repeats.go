package stats

import (
	"slices"
	"time"
)

// repeats finds repeat inquiries: for each customer and topic, the times
// their conversations opened, sorted once, so that each question is a
// binary search rather than a pass over the whole history (a month of a
// busy team is tens of thousands of conversations).
type repeats map[repeatKey][]time.Time

type repeatKey struct{ customer, topic string }

func newRepeats(history []Conversation) repeats {
	r := repeats{}
	for _, c := range history {
		if c.Topic == "" || c.Customer == "" {
			continue
		}
		k := repeatKey{c.Customer, c.Topic}
		r[k] = append(r[k], c.OpenedAt)
	}
	for _, ts := range r {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	return r
}

// of reports whether the same customer opened a conversation on the same
// topic within RepeatWindow before c (strictly before: c itself, and one
// opened at the same instant, do not count).
func (r repeats) of(c Conversation) bool {
	if c.Topic == "" || c.Customer == "" {
		return false
	}
	ts := r[repeatKey{c.Customer, c.Topic}]
	i, _ := slices.BinarySearchFunc(ts, c.OpenedAt, func(t, target time.Time) int { return t.Compare(target) })
	return i > 0 && c.OpenedAt.Sub(ts[i-1]) <= RepeatWindow
}

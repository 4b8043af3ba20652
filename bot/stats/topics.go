package stats

import (
	"cmp"
	"slices"
	"time"
)

// TopicCount is what the conversations of one topic came to in a period.
type TopicCount struct {
	Topic string // "" for conversations no turn labelled yet
	// Conversations opened in the period with this topic; HandedOff of
	// them had a handoff; Repeats of them repeat an earlier conversation
	// of the same customer on this topic within RepeatWindow.
	Conversations int
	HandedOff     int
	Repeats       int
}

// Topics counts the conversations opened in [since, until) by topic, most
// frequent first (then by name), so a support lead sees what customers ask
// about and what they keep coming back about. history may hold earlier
// conversations, as for Compute.
func Topics(history []Conversation, since, until time.Time) []TopicCount {
	counts := map[string]*TopicCount{}
	rep := newRepeats(history)
	for _, c := range history {
		if c.OpenedAt.Before(since) || !c.OpenedAt.Before(until) {
			continue
		}
		tc := counts[c.Topic]
		if tc == nil {
			tc = &TopicCount{Topic: c.Topic}
			counts[c.Topic] = tc
		}
		tc.Conversations++
		if len(c.Handoffs) > 0 {
			tc.HandedOff++
		}
		if rep.of(c) {
			tc.Repeats++
		}
	}
	out := make([]TopicCount, 0, len(counts))
	for _, tc := range counts {
		out = append(out, *tc)
	}
	slices.SortFunc(out, func(a, b TopicCount) int {
		if c := cmp.Compare(b.Conversations, a.Conversations); c != 0 {
			return c
		}
		return cmp.Compare(a.Topic, b.Topic)
	})
	return out
}

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
	// Helpful and NotHelpful count the votes on the bot's answers in them.
	Helpful    int
	NotHelpful int
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
		for _, v := range c.Votes {
			if v.Helpful {
				tc.Helpful++
			} else {
				tc.NotHelpful++
			}
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

// VersionCount is the feedback on the answers made with one version of the
// prompt files.
type VersionCount struct {
	PromptVersion string
	Helpful       int
	NotHelpful    int
}

// Versions counts the votes on the bot's answers in conversations opened in
// [since, until) by the prompt version the answer was made with, most
// votes first (then by version), so an admin sees whether an edit of the
// prompts helped.
func Versions(history []Conversation, since, until time.Time) []VersionCount {
	counts := map[string]*VersionCount{}
	for _, c := range history {
		if c.OpenedAt.Before(since) || !c.OpenedAt.Before(until) {
			continue
		}
		for _, v := range c.Votes {
			vc := counts[v.PromptVersion]
			if vc == nil {
				vc = &VersionCount{PromptVersion: v.PromptVersion}
				counts[v.PromptVersion] = vc
			}
			if v.Helpful {
				vc.Helpful++
			} else {
				vc.NotHelpful++
			}
		}
	}
	out := make([]VersionCount, 0, len(counts))
	for _, vc := range counts {
		out = append(out, *vc)
	}
	slices.SortFunc(out, func(a, b VersionCount) int {
		if c := cmp.Compare(b.Helpful+b.NotHelpful, a.Helpful+a.NotHelpful); c != 0 {
			return c
		}
		return cmp.Compare(a.PromptVersion, b.PromptVersion)
	})
	return out
}

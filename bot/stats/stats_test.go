package stats

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func at(day, hour, minute, second int) time.Time {
	return time.Date(2026, 11, day, hour, minute, second, 0, time.UTC)
}

// The figures are checked against a data set computed by hand: see the
// comments for each expected value.
func TestComputeByHand(t *testing.T) {
	history := []Conversation{
		{ // c1: automated, closed by idleness, first of a repeat
			ID: 1, Customer: "C-1", Topic: "payments",
			OpenedAt: at(1, 10, 0, 0), LastMessageAt: at(1, 10, 5, 0),
			FirstCustomerAt: at(1, 10, 0, 0), FirstResponseAt: at(1, 10, 0, 2),
			PromptTokens: 100, CompletionTokens: 20,
		},
		{ // c2: repeat of c1 (2 days later), handed off, claimed, resolved, rated 4
			ID: 2, Customer: "C-1", Topic: "payments",
			OpenedAt: at(3, 9, 0, 0), LastMessageAt: at(3, 9, 30, 0), ClosedAt: at(4, 9, 31, 0),
			FirstCustomerAt: at(3, 9, 0, 0), FirstResponseAt: at(3, 9, 0, 5),
			Handoffs:     []Handoff{{CreatedAt: at(3, 9, 1, 0), ClaimedAt: at(3, 9, 3, 0), ResolvedAt: at(3, 9, 20, 0), Rating: 4}},
			PromptTokens: 200, CompletionTokens: 30,
		},
		{ // c3: still open (last message 30 min before the end), handoff never claimed
			ID: 3, Customer: "C-2", Topic: "faq:refund-time",
			OpenedAt: at(5, 12, 0, 0), LastMessageAt: at(7, 23, 30, 0),
			FirstCustomerAt: at(5, 12, 0, 0), FirstResponseAt: at(5, 12, 0, 1),
			Handoffs:     []Handoff{{CreatedAt: at(5, 12, 1, 0)}},
			PromptTokens: 50, CompletionTokens: 5,
		},
		{ // c4: before the period: only the first of c5's repeat
			ID: 4, Customer: "C-3", Topic: "other",
			OpenedAt: time.Date(2026, 10, 30, 8, 0, 0, 0, time.UTC), LastMessageAt: time.Date(2026, 10, 30, 8, 5, 0, 0, time.UTC),
		},
		{ // c5: repeat of c4 (3 days), handed off, rated 2
			ID: 5, Customer: "C-3", Topic: "other",
			OpenedAt: at(2, 8, 0, 0), LastMessageAt: at(2, 8, 55, 0), ClosedAt: at(2, 9, 0, 0),
			FirstCustomerAt: at(2, 8, 0, 0), FirstResponseAt: at(2, 8, 0, 3),
			Handoffs: []Handoff{{CreatedAt: at(2, 8, 10, 0), ClaimedAt: at(2, 8, 20, 0), ResolvedAt: at(2, 8, 50, 0), Rating: 2}},
		},
		{ // c6: automated, no response recorded; same customer as c3 but another topic
			ID: 6, Customer: "C-2", Topic: "payments",
			OpenedAt: at(6, 10, 0, 0), LastMessageAt: at(6, 10, 1, 0), ClosedAt: at(6, 11, 0, 0),
			PromptTokens: 10,
		},
	}
	since, until := at(1, 0, 0, 0), at(8, 0, 0, 0)
	got := Compute(history, since, until, 24*time.Hour)
	want := Report{
		Since: since, Until: until,
		Conversations:  5,   // c1 c2 c3 c5 c6
		Closed:         4,   // all but c3
		Automated:      2,   // c1 c6
		AutomationRate: 0.5, // 2/4
		HandoffRate:    0.6, // c2 c3 c5 of 5
		Handoffs:       3,
		// first responses 1s 2s 3s 5s: nearest-rank p50 is the 2nd, p90 the 4th
		FirstResponseP50: 2 * time.Second,
		FirstResponseP90: 5 * time.Second,
		TimeToClaimP50:   2 * time.Minute,  // 2m, 10m
		ResolutionP50:    19 * time.Minute, // 19m, 40m
		CSATAverage:      3,                // (4+2)/2
		CSATCount:        2,
		Repeats:          2,   // c2 c5
		RepeatRate:       0.4, // 2/5
		// closed conversations only: c1 120, c2 230, c5 0, c6 10
		PromptTokens: 310, CompletionTokens: 50, TokensPerConversation: 90,
		Days: []Day{
			{Date: at(1, 0, 0, 0), Conversations: 1, Automated: 1},
			{Date: at(2, 0, 0, 0), Conversations: 1, Handoffs: 1},
			{Date: at(3, 0, 0, 0), Conversations: 1, Handoffs: 1},
			{Date: at(4, 0, 0, 0)},
			{Date: at(5, 0, 0, 0), Conversations: 1, Handoffs: 1},
			{Date: at(6, 0, 0, 0), Conversations: 1, Automated: 1},
			{Date: at(7, 0, 0, 0)},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestComputeEmpty(t *testing.T) {
	r := Compute(nil, at(1, 0, 0, 0), at(2, 0, 0, 0), time.Hour)
	if r.Conversations != 0 || r.AutomationRate != 0 || r.FirstResponseP50 != 0 || len(r.Days) != 1 {
		t.Errorf("empty report = %+v", r)
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {20, 1}, {50, 3}, {90, 5}, {100, 5}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v = %v; want %v", tc.p, got, tc.want)
		}
	}
}

package stats

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTopics(t *testing.T) {
	history := []Conversation{
		{ID: 1, Customer: "C-1", Topic: "payments", OpenedAt: at(1, 10, 0, 0)},
		{ID: 2, Customer: "C-1", Topic: "payments", OpenedAt: at(3, 10, 0, 0), Handoffs: []Handoff{{CreatedAt: at(3, 10, 1, 0)}}},
		{ID: 3, Customer: "C-2", Topic: "payments", OpenedAt: at(4, 10, 0, 0)},
		{ID: 4, Customer: "C-2", Topic: "faq:refund-time", OpenedAt: at(4, 11, 0, 0)},
		{ID: 5, Customer: "C-3", Topic: "handoff", OpenedAt: at(5, 11, 0, 0), Handoffs: []Handoff{{CreatedAt: at(5, 11, 0, 0)}}},
		{ID: 6, Customer: "C-3", Topic: "", OpenedAt: at(6, 11, 0, 0)},
		{ID: 7, Customer: "C-1", Topic: "payments", OpenedAt: at(9, 10, 0, 0)}, // after the period
		{ID: 8, Customer: "C-4", Topic: "other", OpenedAt: at(5, 9, 0, 0)},
		{ID: 9, Customer: "C-4", Topic: "other", OpenedAt: time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC)}, // before: only the first of 8's repeat
	}
	got := Topics(history, at(1, 0, 0, 0), at(8, 0, 0, 0))
	want := []TopicCount{
		{Topic: "payments", Conversations: 3, HandedOff: 1, Repeats: 1}, // c2 repeats c1
		{Topic: "", Conversations: 1},
		{Topic: "faq:refund-time", Conversations: 1},
		{Topic: "handoff", Conversations: 1, HandedOff: 1},
		{Topic: "other", Conversations: 1, Repeats: 1}, // c8 repeats c9, 4 days before
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
}

// The index finds exactly the repeats a pass over the history finds.
func TestRepeatsAgreeWithAScan(t *testing.T) {
	history := benchHistory(600)
	// Same instants and boundaries: exactly RepeatWindow apart counts,
	// a moment more does not, the same instant does not.
	base := at(20, 0, 0, 0)
	history = append(history,
		Conversation{ID: 9001, Customer: "X", Topic: "t", OpenedAt: base},
		Conversation{ID: 9002, Customer: "X", Topic: "t", OpenedAt: base},
		Conversation{ID: 9003, Customer: "X", Topic: "t", OpenedAt: base.Add(RepeatWindow)},
		Conversation{ID: 9004, Customer: "Y", Topic: "t", OpenedAt: base},
		Conversation{ID: 9005, Customer: "Y", Topic: "t", OpenedAt: base.Add(RepeatWindow + time.Nanosecond)},
		Conversation{ID: 9006, Customer: "Y", Topic: "", OpenedAt: base.Add(time.Hour)},
		Conversation{ID: 9007, Customer: "Y", Topic: "", OpenedAt: base.Add(2 * time.Hour)},
	)
	scan := func(c Conversation) bool {
		if c.Topic == "" || c.Customer == "" {
			return false
		}
		for _, p := range history {
			if p.ID != c.ID && p.Customer == c.Customer && p.Topic == c.Topic &&
				p.OpenedAt.Before(c.OpenedAt) && c.OpenedAt.Sub(p.OpenedAt) <= RepeatWindow {
				return true
			}
		}
		return false
	}
	rep := newRepeats(history)
	n := 0
	for _, c := range history {
		if got, want := rep.of(c), scan(c); got != want {
			t.Errorf("conversation %d (%s, %s, %s): repeat %v, want %v", c.ID, c.Customer, c.Topic, c.OpenedAt, got, want)
		}
		if rep.of(c) {
			n++
		}
	}
	if n == 0 {
		t.Error("no repeats at all: the data set tests nothing")
	}
	for id, want := range map[int64]bool{9001: false, 9002: false, 9003: true, 9004: false, 9005: false, 9006: false, 9007: false} {
		for _, c := range history {
			if c.ID == id && rep.of(c) != want {
				t.Errorf("conversation %d: repeat %v, want %v", id, !want, want)
			}
		}
	}
}

// The help center's figures: conversations per article that answered, and
// those that found nothing (the content gaps), in the period only.
func TestHelpCenterFigures(t *testing.T) {
	history := []Conversation{
		{ID: 1, Customer: "C-1", Topic: "help:refund-times", OpenedAt: at(1, 10, 0, 0)},
		{ID: 2, Customer: "C-2", Topic: "help:refund-times", OpenedAt: at(2, 10, 0, 0), Handoffs: []Handoff{{CreatedAt: at(2, 10, 1, 0)}}},
		{ID: 3, Customer: "C-3", Topic: "help:fees", OpenedAt: at(3, 10, 0, 0)},
		{ID: 4, Customer: "C-4", Topic: "help:none", OpenedAt: at(3, 11, 0, 0)},
		{ID: 5, Customer: "C-5", Topic: "help:none", OpenedAt: at(4, 11, 0, 0)},
		{ID: 6, Customer: "C-6", Topic: "help:none", OpenedAt: at(9, 11, 0, 0)}, // after the period
		{ID: 7, Customer: "C-7", Topic: "payments", OpenedAt: at(4, 12, 0, 0)},
	}
	r := Compute(history, at(1, 0, 0, 0), at(8, 0, 0, 0), time.Hour)
	want := []TopicCount{
		{Topic: "help:refund-times", Conversations: 2, HandedOff: 1, Repeats: 0},
		{Topic: "help:fees", Conversations: 1},
	}
	if diff := cmp.Diff(want, r.HelpArticles); diff != "" || r.HelpGaps != 2 {
		t.Errorf("articles (-want +got):\n%s\ngaps %d, want 2", diff, r.HelpGaps)
	}
}

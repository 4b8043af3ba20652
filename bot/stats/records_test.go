package stats

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeRecords struct {
	since []time.Time // what ConversationRecords was asked for
	convs []Conversation
	err   error
}

func (f *fakeRecords) ConversationRecords(_ context.Context, since time.Time) ([]Conversation, error) {
	f.since = append(f.since, since)
	var out []Conversation
	for _, c := range f.convs {
		if !c.OpenedAt.Before(since) {
			out = append(out, c)
		}
	}
	return out, f.err
}

func (f *fakeRecords) OpenQueue(context.Context) ([]Queued, error) { return nil, f.err }

// Load reads a repeat window further back than the period, so that the
// first conversation of the period is seen to repeat one before it.
func TestLoadReadsTheRepeatWindowBefore(t *testing.T) {
	f := &fakeRecords{convs: []Conversation{
		{ID: 1, Customer: "C-1", Topic: "payments", OpenedAt: at(1, 9, 0, 0).Add(-6 * 24 * time.Hour), LastMessageAt: at(1, 9, 0, 0).Add(-6 * 24 * time.Hour)},
		{ID: 2, Customer: "C-1", Topic: "payments", OpenedAt: at(1, 9, 0, 0), LastMessageAt: at(1, 9, 0, 0)},
	}}
	since, until := at(1, 0, 0, 0), at(2, 0, 0, 0)
	r, err := Load(t.Context(), f, since, until, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.since) != 1 || !f.since[0].Equal(since.Add(-RepeatWindow)) {
		t.Errorf("read since %v, want %v", f.since, since.Add(-RepeatWindow))
	}
	if r.Conversations != 1 || r.Repeats != 1 {
		t.Errorf("report: %d conversations, %d repeats; want 1 and 1", r.Conversations, r.Repeats)
	}
}

func TestLoadFails(t *testing.T) {
	boom := errors.New("database gone")
	_, err := Load(t.Context(), &fakeRecords{err: boom}, at(1, 0, 0, 0), at(2, 0, 0, 0), time.Hour)
	if !errors.Is(err, boom) {
		t.Errorf("Load error = %v, want it to wrap %v", err, boom)
	}
}

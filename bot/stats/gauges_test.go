package stats

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeStats is a GaugeSource with fixed answers.
type fakeStats struct {
	convs   []Conversation
	queue   []Queued
	pending int
	err     error
}

func (f *fakeStats) ConversationRecords(context.Context, time.Time) ([]Conversation, error) {
	return f.convs, f.err
}
func (f *fakeStats) OpenQueue(context.Context) ([]Queued, error) { return f.queue, f.err }
func (f *fakeStats) OutboxPending(context.Context) (int, error)  { return f.pending, f.err }

var _ GaugeSource = (*fakeStats)(nil)

// gaugeValues gathers reg into "name{label=value}" → value.
func gaugeValues(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestStatsGauges(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := &fakeStats{
		convs: []Conversation{
			{ID: 1, Customer: "C-1", Topic: "payments", OpenedAt: now.Add(-3 * time.Hour), LastMessageAt: now.Add(-3 * time.Hour),
				ClosedAt: now.Add(-2 * time.Hour), FirstCustomerAt: now.Add(-3 * time.Hour), FirstResponseAt: now.Add(-3*time.Hour + 2*time.Second),
				PromptTokens: 90, CompletionTokens: 10},
			{ID: 2, Customer: "C-1", Topic: "payments", OpenedAt: now.Add(-time.Hour), LastMessageAt: now.Add(-time.Hour),
				ClosedAt: now.Add(-time.Minute), FirstCustomerAt: now.Add(-time.Hour), FirstResponseAt: now.Add(-time.Hour + 4*time.Second),
				Handoffs: []Handoff{{CreatedAt: now.Add(-time.Hour), Rating: 4}}, PromptTokens: 100},
		},
		queue:   []Queued{{HandoffID: 1}, {HandoffID: 2, Claimed: true}, {HandoffID: 3}},
		pending: 7,
	}
	reg := prometheus.NewRegistry()
	g := NewGauges(reg, f, time.Hour, slog.New(slog.DiscardHandler))
	g.now = func() time.Time { return now }
	if err := g.refreshDepths(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.refreshFigures(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := gaugeValues(t, reg)
	for name, want := range map[string]float64{
		"firstline_outbox_pending":                             7,
		"firstline_handoffs_open{state=waiting}":               2,
		"firstline_handoffs_open{state=claimed}":               1,
		"firstline_stats_automation_rate":                      0.5, // 1 of 2 closed
		"firstline_stats_handoff_rate":                         0.5,
		"firstline_stats_repeat_rate":                          0.5, // 2 repeats 1
		"firstline_stats_csat_average":                         4,
		"firstline_stats_first_response_seconds{quantile=0.5}": 2,
		"firstline_stats_first_response_seconds{quantile=0.9}": 4,
		"firstline_stats_tokens_per_conversation":              100, // 200 / 2
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}

	// A failing store leaves the gauges as they were.
	f.err, f.pending = errors.New("database gone"), 99
	if err := g.refreshDepths(t.Context()); err == nil {
		t.Error("refreshDepths with a failing store succeeded")
	}
	if v := gaugeValues(t, reg)["firstline_outbox_pending"]; v != 7 {
		t.Errorf("outbox_pending after a failed count = %v, want 7 kept", v)
	}
}

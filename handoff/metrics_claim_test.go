package handoff_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// histogram returns the sample count and sum of a histogram in reg.
func histogram(t *testing.T, reg *prometheus.Registry, name string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no histogram %s", name)
	return 0, 0
}

// The time to claim and to resolve are observed when they happen, from
// the handoff's opening.
func TestClaimAndResolutionTimesObserved(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := testkit.New(t, testkit.WithHandoffs(func(c *handoff.Config) { c.Metrics = handoff.NewMetrics(reg) }))
	card := openHandoff(t, h)
	h.Clock.Advance(90 * time.Second)
	h.Agent(card, "U-alex", "claim")
	h.Clock.Advance(10 * time.Minute)
	h.Agent(card, "U-alex", "claim") // again: already claimed, not observed
	h.Agent(card, "U-alex", "resolve")

	if n, sum := histogram(t, reg, "firstline_handoff_time_to_claim_seconds"); n != 1 || sum != 90 {
		t.Errorf("time to claim: %d samples summing %vs, want one of 90s", n, sum)
	}
	if n, sum := histogram(t, reg, "firstline_handoff_resolution_seconds"); n != 1 || sum != 690 {
		t.Errorf("resolution: %d samples summing %vs, want one of 690s", n, sum)
	}
}

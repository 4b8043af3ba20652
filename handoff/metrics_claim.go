package handoff

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// claimMetrics time what agents do with handoffs: how long a handoff waits
// for its claim, and how long it takes to resolve. They are observed when
// it happens, on the replica that records it, so the histograms of all
// replicas add up.
type claimMetrics struct {
	toClaim    prometheus.Histogram
	resolution prometheus.Histogram
}

// handoffBuckets run from ten seconds to a day: agents claim in seconds
// when the team is there and in hours when it is not.
var handoffBuckets = []float64{10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400}

func newClaimMetrics(reg prometheus.Registerer) claimMetrics {
	m := claimMetrics{
		toClaim: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "firstline", Name: "handoff_time_to_claim_seconds",
			Help:    "Time from a handoff's opening to the claim by an agent (by button or text).",
			Buckets: handoffBuckets,
		}),
		resolution: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "firstline", Name: "handoff_resolution_seconds",
			Help:    "Time from a handoff's opening to its resolution.",
			Buckets: handoffBuckets,
		}),
	}
	reg.MustRegister(m.toClaim, m.resolution)
	return m
}

func (m *Metrics) claimed(waited time.Duration) {
	if m != nil {
		m.claims.toClaim.Observe(max(waited, 0).Seconds())
	}
}

func (m *Metrics) resolved(took time.Duration) {
	if m != nil {
		m.claims.resolution.Observe(max(took, 0).Seconds())
	}
}

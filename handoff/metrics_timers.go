package handoff

import "github.com/prometheus/client_golang/prometheus"

// timerMetrics count what the handoff timers did.
type timerMetrics struct {
	digestsTotal  prometheus.Counter
	noticesTotal  *prometheus.CounterVec
	returnedTotal prometheus.Counter
}

func newTimerMetrics(reg prometheus.Registerer) timerMetrics {
	m := timerMetrics{
		digestsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "firstline", Name: "handoff_digests_total",
			Help: "Re-ping digests posted in the agent channel.",
		}),
		noticesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "handoff_notices_total",
			Help: "Messages to waiting customers about their wait, by kind (closed, delayed, position).",
		}, []string{"kind"}),
		returnedTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "firstline", Name: "handoff_agent_timeouts_total",
			Help: "Claimed handoffs returned to the queue because their agent was silent too long.",
		}),
	}
	reg.MustRegister(m.digestsTotal, m.noticesTotal, m.returnedTotal)
	return m
}

func (m *Metrics) digest() {
	if m != nil {
		m.timers.digestsTotal.Inc()
	}
}

func (m *Metrics) notice(kind string) {
	if m != nil {
		m.timers.noticesTotal.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) returned(n int) {
	if m != nil {
		m.timers.returnedTotal.Add(float64(n))
	}
}

package handoff

import (
	"github.com/firstlinehq/firstline/bot"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the handoff flow's Prometheus collectors; a nil *Metrics
// records nothing.
type Metrics struct {
	openedTotal  *prometheus.CounterVec
	actionsTotal *prometheus.CounterVec
	timers       timerMetrics
	drafts       draftMetrics
	claims       claimMetrics
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		openedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "handoffs_opened_total",
			Help: "Handoffs opened, by trigger (phrase, button, model, failure, misses, shadow).",
		}, []string{"trigger"}),
		actionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "handoff_actions_total",
			Help: "Agent actions on handoffs, by outcome (claimed, relayed, resolved, ...).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.openedTotal, m.actionsTotal)
	m.timers = newTimerMetrics(reg)
	m.drafts = newDraftMetrics(reg)
	m.claims = newClaimMetrics(reg)
	return m
}

func (m *Metrics) opened(t bot.Trigger) {
	if m != nil {
		m.openedTotal.WithLabelValues(string(t)).Inc()
	}
}

func (m *Metrics) action(o Outcome) {
	if m != nil {
		m.actionsTotal.WithLabelValues(string(o)).Inc()
	}
}

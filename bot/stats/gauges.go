package stats

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// How often serve recounts what the gauges show: the queues are cheap
// counts, the figures read a day and a repeat window of conversations.
const (
	depthEvery  = 15 * time.Second
	figureEvery = 5 * time.Minute
	// figureWindow is the period of the figure gauges.
	figureWindow = 24 * time.Hour
)

// GaugeSource is what the gauges read: the records of the figures and the
// outbox depth. The store provides it.
type GaugeSource interface {
	Records
	OutboxPending(ctx context.Context) (int, error)
}

// Gauges are the figures of `firstline stats` that fit Prometheus
// gauges: what waits now (the outbox, the handoff queue), and the rates and
// times of the last 24 hours. Every replica reads the same database, so
// they agree; alert on any one (max or avg across replicas).
type Gauges struct {
	src  GaugeSource
	idle time.Duration
	now  func() time.Time
	log  *slog.Logger

	outboxPending prometheus.Gauge
	handoffsOpen  *prometheus.GaugeVec
	automation    prometheus.Gauge
	handoffRate   prometheus.Gauge
	repeatRate    prometheus.Gauge
	csat          prometheus.Gauge
	firstResponse *prometheus.GaugeVec
	tokens        prometheus.Gauge
}

// NewGauges registers the gauges with reg; Run keeps them current.
func NewGauges(reg prometheus.Registerer, src GaugeSource, idle time.Duration, log *slog.Logger) *Gauges {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "firstline", Name: name, Help: help})
	}
	g := &Gauges{
		src: src, idle: idle, now: time.Now, log: log,
		outboxPending: gauge("outbox_pending", "Outgoing messages stored and not yet delivered (nor given up on), counted every 15s."),
		handoffsOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "firstline", Name: "handoffs_open",
			Help: "Handoffs not yet resolved, by state (waiting, claimed), counted every 15s.",
		}, []string{"state"}),
		automation:  gauge("stats_automation_rate", "Share of the conversations of the last 24h that closed without a handoff (see docs/stats.md), refreshed every 5m."),
		handoffRate: gauge("stats_handoff_rate", "Share of the conversations of the last 24h that had a handoff, refreshed every 5m."),
		repeatRate:  gauge("stats_repeat_rate", "Share of the conversations of the last 24h that repeat one of the same customer on the same topic within 7 days, refreshed every 5m."),
		csat:        gauge("stats_csat_average", "Average 1–5 rating after the handoffs of the last 24h's conversations (0 without ratings), refreshed every 5m."),
		firstResponse: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "firstline", Name: "stats_first_response_seconds",
			Help: "First-response time of the last 24h's conversations, by quantile (0.5, 0.9), refreshed every 5m.",
		}, []string{"quantile"}),
		tokens: gauge("stats_tokens_per_conversation", "Model tokens per closed conversation of the last 24h, refreshed every 5m."),
	}
	reg.MustRegister(g.outboxPending, g.handoffsOpen, g.automation, g.handoffRate, g.repeatRate, g.csat, g.firstResponse, g.tokens)
	return g
}

// Refresh sets every gauge now. The server calls it before it listens, so
// that the first scrape of /metrics reads the database's figures rather
// than zeros.
func (g *Gauges) Refresh(ctx context.Context) {
	g.refresh(ctx, g.refreshDepths)
	g.refresh(ctx, g.refreshFigures)
}

// Run refreshes the gauges on their tickers until ctx ends (Refresh sets
// them first). A failed count is logged and leaves the gauge at its last
// value: the next tick tries again.
func (g *Gauges) Run(ctx context.Context) error {
	depths := time.NewTicker(depthEvery)
	defer depths.Stop()
	figures := time.NewTicker(figureEvery)
	defer figures.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-depths.C:
			g.refresh(ctx, g.refreshDepths)
		case <-figures.C:
			g.refresh(ctx, g.refreshFigures)
		}
	}
}

func (g *Gauges) refresh(ctx context.Context, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := f(ctx); err != nil && ctx.Err() == nil {
		g.log.WarnContext(ctx, "metrics: could not refresh the figure gauges", "err", err)
	}
}

// refreshDepths counts what waits now.
func (g *Gauges) refreshDepths(ctx context.Context) error {
	n, err := g.src.OutboxPending(ctx)
	if err != nil {
		return err
	}
	open, err := g.src.OpenQueue(ctx)
	if err != nil {
		return err
	}
	waiting, claimed := 0, 0
	for _, q := range open {
		if q.Claimed {
			claimed++
		} else {
			waiting++
		}
	}
	g.outboxPending.Set(float64(n))
	g.handoffsOpen.WithLabelValues("waiting").Set(float64(waiting))
	g.handoffsOpen.WithLabelValues("claimed").Set(float64(claimed))
	return nil
}

// refreshFigures computes the figures of the last 24 hours.
func (g *Gauges) refreshFigures(ctx context.Context) error {
	now := g.now()
	r, err := Load(ctx, g.src, now.Add(-figureWindow), now, g.idle)
	if err != nil {
		return err
	}
	g.automation.Set(r.AutomationRate)
	g.handoffRate.Set(r.HandoffRate)
	g.repeatRate.Set(r.RepeatRate)
	g.csat.Set(r.CSATAverage)
	g.firstResponse.WithLabelValues("0.5").Set(r.FirstResponseP50.Seconds())
	g.firstResponse.WithLabelValues("0.9").Set(r.FirstResponseP90.Seconds())
	g.tokens.Set(r.TokensPerConversation)
	return nil
}

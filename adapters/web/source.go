package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/firstlinehq/firstline/kpi"
	"github.com/firstlinehq/firstline/stats"
)

// statsStore is what the support figures read from the store: the records
// of package stats and the outbox depth. Both stores provide it.
type statsStore interface {
	stats.Records
	OutboxPending(ctx context.Context) (int, error)
}

// kpiSource feeds the KPI page from the store's records.
type kpiSource struct {
	records stats.Records
	// idle closes conversations left open: FIRSTLINE_IDLE_TIMEOUT, as the
	// engine closes them.
	idle time.Duration
}

var _ kpi.Source = kpiSource{}

// Report implements kpi.Source.
func (s kpiSource) Report(ctx context.Context, since, until time.Time) (stats.Report, error) {
	return stats.Load(ctx, s.records, since, until, s.idle)
}

// Queue implements kpi.Source.
func (s kpiSource) Queue(ctx context.Context) ([]kpi.QueueItem, error) {
	open, err := s.records.OpenQueue(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]kpi.QueueItem, 0, len(open))
	for _, q := range open {
		items = append(items, kpi.QueueItem{
			HandoffID: q.HandoffID, Platform: q.Platform, Customer: q.Customer, Reason: q.Reason,
			Claimed: q.Claimed, Agent: q.Agent, Since: q.CreatedAt,
		})
	}
	return items, nil
}

// mountKPI serves the KPI page at / when FIRSTLINE_ADMIN_TOKEN is set; the
// page is off otherwise, and / is not found.
func (a *app) mountKPI(mux *http.ServeMux) error {
	if a.cfg.AdminToken == "" {
		return nil
	}
	h, err := kpi.New(kpi.Config{
		Source: kpiSource{records: a.store, idle: a.cfg.IdleTimeout},
		Token:  a.cfg.AdminToken,
		Logger: a.log.With("component", "kpi"),
	})
	if err != nil {
		return fmt.Errorf("FIRSTLINE_ADMIN_TOKEN: %w", err)
	}
	// Exactly "/", every method: the page answers 405 to all but GET and
	// HEAD itself.
	mux.Handle("/{$}", h)
	return nil
}

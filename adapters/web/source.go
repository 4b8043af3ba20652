package web

import (
	"context"
	"time"

	"github.com/firstlinehq/firstline/bot/stats"
)

// StatsSource feeds the KPI page from the store's records.
type StatsSource struct {
	Records stats.Records
	// Idle closes conversations left open: FIRSTLINE_IDLE_TIMEOUT, as the
	// engine closes them.
	Idle time.Duration
}

var _ Source = StatsSource{}

// Report implements Source.
func (s StatsSource) Report(ctx context.Context, since, until time.Time) (stats.Report, error) {
	return stats.Load(ctx, s.Records, since, until, s.Idle)
}

// Queue implements Source.
func (s StatsSource) Queue(ctx context.Context) ([]QueueItem, error) {
	open, err := s.Records.OpenQueue(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]QueueItem, 0, len(open))
	for _, q := range open {
		items = append(items, QueueItem{
			HandoffID: q.HandoffID, Platform: q.Platform, Customer: q.Customer, Reason: q.Reason,
			Claimed: q.Claimed, Agent: q.Agent, Since: q.CreatedAt,
		})
	}
	return items, nil
}

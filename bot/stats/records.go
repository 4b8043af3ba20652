package stats

import (
	"context"
	"fmt"
	"time"
)

// Records is what the figures are read from: a store's read-only queries
// (adapters/sqlstore implements them, outside the engine's
// transactions, so that a report never holds up a customer's turn).
type Records interface {
	// ConversationRecords returns the conversations opened at or after
	// since (all of them for the zero time), oldest first, each with its
	// handoffs oldest first.
	ConversationRecords(ctx context.Context, since time.Time) ([]Conversation, error)
	// OpenQueue returns the waiting and claimed handoffs, oldest first.
	OpenQueue(ctx context.Context) ([]Queued, error)
}

// Queued is an open handoff, as the KPI page lists it.
type Queued struct {
	HandoffID int64
	// Platform is the customer's platform; Customer their linked customer
	// id, "" when the chat identity is not linked.
	Platform string
	Customer string
	Reason   string
	Claimed  bool
	Agent    string // the claiming agent's name
	// CreatedAt is when the handoff opened; ClaimedAt when it was
	// claimed, zero while it waits.
	CreatedAt time.Time
	ClaimedAt time.Time
}

// Read returns the conversations that figures from since on need: those
// opened since, and those of the RepeatWindow before, where a conversation
// early in the period finds the one it repeats.
func Read(ctx context.Context, r Records, since time.Time) ([]Conversation, error) {
	history, err := r.ConversationRecords(ctx, since.Add(-RepeatWindow))
	if err != nil {
		return nil, fmt.Errorf("stats: read conversations since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return history, nil
}

// Load reads the conversations a report over [since, until) needs and
// computes it.
func Load(ctx context.Context, r Records, since, until time.Time, idle time.Duration) (Report, error) {
	history, err := Read(ctx, r, since)
	if err != nil {
		return Report{}, err
	}
	return Compute(history, since, until, idle), nil
}

// Package retention deletes the words Firstline keeps of conversations once
// they are older than FIRSTLINE_RETENTION: the texts of messages (and their
// authors' display names), delivered outbox rows (which hold the texts
// sent), and the display names and handoff reasons kept beside the counts.
// Conversations, handoffs and the message rows themselves stay, with their
// times, roles, states, triggers and ratings, so that statistics over any
// period still add up; they just hold no words any more. Finished identity
// verifications go after a day. The job runs hourly in `firstline serve`; each run works
// in small batches, and every step is idempotent, so several replicas may
// run it at the same moment.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Defaults of Config.
const (
	DefaultEvery = time.Hour
	DefaultBatch = 500
	// VerificationAge is how long a finished identity verification (or an
	// ended lockout) is kept: long enough to limit the codes sent in an
	// hour, no longer.
	VerificationAge = 24 * time.Hour
)

// Actor is the audit log's name for the job.
const Actor = "system:retention"

// Config configures a Job.
type Config struct {
	Store bot.Store
	// Retention is how long texts are kept (FIRSTLINE_RETENTION).
	Retention time.Duration
	// Every is the pause between runs; DefaultEvery when zero.
	Every time.Duration
	// Batch is how many rows one transaction deletes; DefaultBatch when
	// zero. Small batches keep each transaction short, so that customers'
	// messages are not held up behind a large purge.
	Batch  int
	Now    func() time.Time
	Logger *slog.Logger
}

// Job is the retention job.
type Job struct {
	cfg Config
	now func() time.Time
	log *slog.Logger
}

// New checks cfg and returns a Job.
func New(cfg Config) (*Job, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("retention: needs a store")
	case cfg.Retention <= 0:
		return nil, fmt.Errorf("retention: the retention period must be positive, got %s", cfg.Retention)
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Job{cfg: cfg, now: cfg.Now, log: cfg.Logger}, nil
}

// Report says what one run deleted.
type Report struct {
	Messages      int // messages whose words were deleted
	Outbox        int // delivered outbox rows deleted
	Scrubbed      int // conversation names and handoff reasons cleared
	Verifications int // finished verifications deleted
}

// Zero reports whether the run found nothing to do.
func (r Report) Zero() bool { return r == Report{} }

func (r Report) String() string {
	return fmt.Sprintf("%d messages, %d outbox rows, %d names and reasons, %d verifications",
		r.Messages, r.Outbox, r.Scrubbed, r.Verifications)
}

// Run runs the job at once and then every cfg.Every until ctx is done. A
// failed run is logged and tried again at the next tick.
func (j *Job) Run(ctx context.Context) error {
	j.log.InfoContext(ctx, "retention: deleting the words of conversations older than the retention period",
		"retention", j.cfg.Retention.String(), "every", j.cfg.Every.String())
	t := time.NewTicker(j.cfg.Every)
	defer t.Stop()
	for {
		if _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.log.ErrorContext(ctx, "retention run failed; trying again at the next run", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce deletes what is older than the retention period now, and records
// in the audit log what it deleted.
func (j *Job) RunOnce(ctx context.Context) (Report, error) {
	now := j.now()
	cutoff := now.Add(-j.cfg.Retention)
	var r Report
	var err error
	if r.Messages, err = j.batches(ctx, func(tx bot.Tx, n int) (int, error) { return tx.ScrubMessages(ctx, cutoff, n) }); err != nil {
		return r, fmt.Errorf("retention: delete message texts: %w", err)
	}
	if r.Outbox, err = j.batches(ctx, func(tx bot.Tx, n int) (int, error) { return tx.PurgeOutbox(ctx, cutoff, n) }); err != nil {
		return r, fmt.Errorf("retention: delete outbox rows: %w", err)
	}
	if r.Scrubbed, err = j.once(ctx, func(tx bot.Tx) (int, error) { return tx.ScrubConversations(ctx, cutoff) }); err != nil {
		return r, fmt.Errorf("retention: clear names and reasons: %w", err)
	}
	vCutoff := now.Add(-min(VerificationAge, j.cfg.Retention))
	if r.Verifications, err = j.once(ctx, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, vCutoff) }); err != nil {
		return r, fmt.Errorf("retention: delete verifications: %w", err)
	}
	if r.Zero() {
		return r, nil
	}
	j.log.InfoContext(ctx, "retention: deleted old texts", "messages", r.Messages, "outbox", r.Outbox,
		"scrubbed", r.Scrubbed, "verifications", r.Verifications, "before", cutoff.UTC().Format(time.RFC3339))
	err = j.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: now, Actor: Actor, Action: bot.AuditRetention,
			Record: r.String(), Outcome: bot.AuditAllowed, Reason: "older than " + cutoff.UTC().Format(time.DateOnly)})
	})
	if err != nil {
		return r, fmt.Errorf("retention: record the run in the audit log: %w", err)
	}
	return r, nil
}

// batches runs step in transactions of its own until a batch comes back
// short, and returns the total.
func (j *Job) batches(ctx context.Context, step func(tx bot.Tx, n int) (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := j.once(ctx, func(tx bot.Tx) (int, error) { return step(tx, j.cfg.Batch) })
		total += n
		if err != nil || n < j.cfg.Batch {
			return total, err
		}
	}
}

func (j *Job) once(ctx context.Context, step func(tx bot.Tx) (int, error)) (int, error) {
	var n int
	err := j.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		n, err = step(tx)
		return err
	})
	return n, err
}

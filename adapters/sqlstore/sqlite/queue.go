package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// This file implements bot.HandoffQueue: the state of the handoff timers.
// SQLite runs one write transaction at a time, so a conditional UPDATE sees
// what any earlier transaction committed; the conditions make the outcome
// the same as on PostgreSQL, where replicas do tick at the same moment.

// withExtra scans a handoff row (handoffCols) followed by more columns.
type withExtra struct {
	r     scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

// Reping implements bot.HandoffQueue. The first UPDATE is the guard: it
// changes only handoffs that are due, so a transaction that runs after
// another recorded the digest finds none and records nothing.
func (t *tx) Reping(ctx context.Context, p bot.Platform, channel string, now time.Time, every time.Duration) ([]bot.QueuedHandoff, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE handoffs SET repings = repings + 1, repinged_at = ?
		WHERE agent_platform = ? AND agent_channel = ? AND state = 'waiting'
			AND COALESCE(repinged_at, created_at) <= ?`,
		nanos(now), p, channel, nanos(now.Add(-every)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: re-ping handoffs in %s/%s: %w", p, channel, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return nil, fmt.Errorf("sqlite: re-ping handoffs in %s/%s: %w", p, channel, err)
		}
		return nil, nil
	}
	// The others are listed too: they count as mentioned now, so the next
	// digest comes a full interval later for all of them.
	if _, err := t.tx.ExecContext(ctx, `UPDATE handoffs SET repinged_at = ?
		WHERE agent_platform = ? AND agent_channel = ? AND state = 'waiting'
			AND COALESCE(repinged_at, created_at) < ?`,
		nanos(now), p, channel, nanos(now)); err != nil {
		return nil, fmt.Errorf("sqlite: re-ping handoffs in %s/%s: %w", p, channel, err)
	}
	return t.WaitingHandoffs(ctx, p, channel)
}

// WaitingHandoffs implements bot.HandoffQueue. Positions rank all waiting
// handoffs as QueuePosition does: by CreatedAt, then ID.
func (t *tx) WaitingHandoffs(ctx context.Context, p bot.Platform, channel string) ([]bot.QueuedHandoff, error) {
	out, err := queryAll(ctx, t.tx, scanQueued, `WITH ranked AS (
			SELECT id AS ranked_id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos
			FROM handoffs WHERE state = 'waiting'
		)
		SELECT `+handoffCols+`, pos, repings, repinged_at,
			notice_seq, told_position, told_position_at, availability, availability_at
		FROM handoffs JOIN ranked ON ranked_id = id
		WHERE agent_platform = ? AND agent_channel = ? AND state = 'waiting'
		ORDER BY pos`, p, channel)
	if err != nil {
		return nil, fmt.Errorf("sqlite: waiting handoffs in %s/%s: %w", p, channel, err)
	}
	return out, nil
}

func scanQueued(r scanner) (bot.QueuedHandoff, error) {
	var q bot.QueuedHandoff
	n := &q.Notice
	h, err := scanHandoff(withExtra{r, []any{&q.Position, &q.Repings, timeDest{&q.RepingedAt},
		&n.Seq, &n.Position, timeDest{&n.PositionAt}, &n.Availability, timeDest{&n.AvailabilityAt}}})
	q.Handoff = h
	return q, err
}

// SetNotice implements bot.HandoffQueue: a compare-and-set on notice_seq.
func (t *tx) SetNotice(ctx context.Context, handoffID int64, next bot.Notice) (bool, error) {
	ok, err := execOne(ctx, t.tx, `UPDATE handoffs SET notice_seq = notice_seq + 1,
			told_position = ?, told_position_at = ?, availability = ?, availability_at = ?
		WHERE id = ? AND state = 'waiting' AND notice_seq = ?`,
		next.Position, nanos(next.PositionAt), next.Availability, nanos(next.AvailabilityAt),
		handoffID, next.Seq)
	if err != nil {
		return false, fmt.Errorf("sqlite: set notice of handoff %d: %w", handoffID, err)
	}
	return ok, nil
}

// agentWrote is the condition, on a row of messages m, that the claiming
// agent of handoffs wrote it in the thread since the claim: words for the
// customer, a note or a command.
const agentWrote = `m.conversation_id = handoffs.conversation_id AND m.author = handoffs.agent_id
	AND m.role IN ('agent', 'note') AND m.created_at >= handoffs.claimed_at`

// ClaimedHandoffs implements bot.HandoffQueue.
func (t *tx) ClaimedHandoffs(ctx context.Context, p bot.Platform, channel string) ([]bot.ClaimedHandoff, error) {
	out, err := queryAll(ctx, t.tx, func(r scanner) (bot.ClaimedHandoff, error) {
		var c bot.ClaimedHandoff
		var seen time.Time
		h, err := scanHandoff(withExtra{r, []any{timeDest{&seen}, timeDest{&c.AgentRepliedAt}, timeDest{&c.CustomerWaitingSince}}})
		c.Handoff, c.AgentSeenAt = h, h.ClaimedAt
		if seen.After(c.AgentSeenAt) {
			c.AgentSeenAt = seen
		}
		return c, err
	}, `SELECT `+handoffCols+`,
			(SELECT MAX(m.created_at) FROM messages m WHERE `+agentWrote+`),
			(SELECT MAX(m.created_at) FROM messages m WHERE `+agentWrote+` AND m.role = 'agent'),
			(SELECT MIN(c.created_at) FROM messages c
				WHERE c.conversation_id = handoffs.conversation_id AND c.role = 'customer'
					AND c.created_at > MAX(handoffs.claimed_at,
						COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE `+agentWrote+`), 0)))
		FROM handoffs
		WHERE agent_platform = ? AND agent_channel = ? AND state = 'claimed'
		ORDER BY id`, p, channel)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claimed handoffs in %s/%s: %w", p, channel, err)
	}
	return out, nil
}

// ReturnToQueue implements bot.HandoffQueue. The agent fields are cleared,
// as UnclaimHandoff does.
func (t *tx) ReturnToQueue(ctx context.Context, c bot.ClaimedHandoff) (bool, error) {
	h := c.Handoff
	ok, err := execOne(ctx, t.tx, `UPDATE handoffs SET state = 'waiting', agent_id = '', agent_name = '', claimed_at = NULL
		WHERE id = ? AND state = 'claimed' AND agent_id = ? AND claimed_at = ?
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE `+agentWrote+` AND m.created_at > ?)`,
		h.ID, h.AgentID, nanos(h.ClaimedAt), nanos(c.AgentSeenAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: return handoff %d to the queue: %w", h.ID, err)
	}
	return ok, nil
}

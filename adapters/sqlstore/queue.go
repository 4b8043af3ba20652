package sqlstore

import (
	"context"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// This file implements bot.HandoffQueue: the state of the handoff timers.
// Replicas tick at the same moment here, and what keeps them from acting
// twice is that every change is a conditional UPDATE: under PostgreSQL's
// READ COMMITTED, an UPDATE that finds a row another transaction changed
// waits for that transaction and then checks its condition again on the
// row's newest version, so the second replica's condition no longer holds
// and it changes nothing. SQLite runs one writer at a time, so the
// condition sees what any earlier transaction committed.

// withExtra scans a handoff row (handoffCols) followed by more columns.
type withExtra struct {
	r     scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

// Reping implements bot.HandoffQueue. The first UPDATE is the guard: of
// replicas running it at once, the first changes the due rows; the others
// wait for its row locks, find the rows no longer due, and record nothing.
// (Two replicas locking rows in different orders may deadlock; PostgreSQL
// aborts one, and WithTx runs it again, when nothing is due any more.)
func (t *tx) Reping(ctx context.Context, p bot.Platform, channel string, now time.Time, every time.Duration) ([]bot.QueuedHandoff, error) {
	n, err := t.execN(ctx, `UPDATE handoffs SET repings = repings + 1, repinged_at = $1
		WHERE agent_platform = $2 AND agent_channel = $3 AND state = 'waiting'
			AND COALESCE(repinged_at, created_at) <= $4`,
		stamp(now), p, channel, stamp(now.Add(-every)))
	if err != nil {
		return nil, t.errorf("re-ping handoffs in %s/%s: %w", p, channel, err)
	}
	if n == 0 {
		return nil, nil
	}
	// The others are listed too: they count as mentioned now, so the next
	// digest comes a full interval later for all of them.
	if _, err := t.exec(ctx, `UPDATE handoffs SET repinged_at = $1
		WHERE agent_platform = $2 AND agent_channel = $3 AND state = 'waiting'
			AND COALESCE(repinged_at, created_at) < $1`,
		stamp(now), p, channel); err != nil {
		return nil, t.errorf("re-ping handoffs in %s/%s: %w", p, channel, err)
	}
	return t.WaitingHandoffs(ctx, p, channel)
}

// WaitingHandoffs implements bot.HandoffQueue. Positions rank all waiting
// handoffs as QueuePosition does: by CreatedAt, then ID. It takes no locks.
func (t *tx) WaitingHandoffs(ctx context.Context, p bot.Platform, channel string) ([]bot.QueuedHandoff, error) {
	out, err := queryAll(ctx, t, scanQueued, `WITH ranked AS (
			SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos
			FROM handoffs WHERE state = 'waiting'
		)
		SELECT `+handoffCols+`, r.pos, h.repings, h.repinged_at,
			h.notice_seq, h.told_position, h.told_position_at, h.availability, h.availability_at
		FROM handoffs h JOIN ranked r ON r.id = h.id
		WHERE h.agent_platform = $1 AND h.agent_channel = $2 AND h.state = 'waiting'
		ORDER BY r.pos`, p, channel)
	if err != nil {
		return nil, t.errorf("waiting handoffs in %s/%s: %w", p, channel, err)
	}
	return out, nil
}

func scanQueued(r scanner) (bot.QueuedHandoff, error) {
	var q bot.QueuedHandoff
	n := &q.Notice
	var pos int64
	h, err := scanHandoff(withExtra{r, []any{&pos, &q.Repings, timeCol{&q.RepingedAt},
		&n.Seq, &n.Position, timeCol{&n.PositionAt}, &n.Availability, timeCol{&n.AvailabilityAt}}})
	q.Handoff, q.Position = h, int(pos)
	return q, err
}

// SetNotice implements bot.HandoffQueue: a compare-and-set on notice_seq.
func (t *tx) SetNotice(ctx context.Context, handoffID int64, next bot.Notice) (bool, error) {
	ok, err := t.execOne(ctx, `UPDATE handoffs SET notice_seq = notice_seq + 1,
			told_position = $1, told_position_at = $2, availability = $3, availability_at = $4
		WHERE id = $5 AND state = 'waiting' AND notice_seq = $6`,
		next.Position, stamp(next.PositionAt), next.Availability, stamp(next.AvailabilityAt),
		handoffID, next.Seq)
	if err != nil {
		return false, t.errorf("set notice of handoff %d: %w", handoffID, err)
	}
	return ok, nil
}

// agentWrote is the condition, on a row of messages m, that the claiming
// agent of the handoff h (the table's name or alias in the query) wrote it
// in the thread since the claim: words for the customer, a note or a
// command.
func agentWrote(h string) string {
	return `m.conversation_id = ` + h + `.conversation_id AND m.author = ` + h + `.agent_id
	AND m.role IN ('agent', 'note') AND m.created_at >= ` + h + `.claimed_at`
}

// ClaimedHandoffs implements bot.HandoffQueue. It takes no locks.
func (t *tx) ClaimedHandoffs(ctx context.Context, p bot.Platform, channel string) ([]bot.ClaimedHandoff, error) {
	out, err := queryAll(ctx, t, func(r scanner) (bot.ClaimedHandoff, error) {
		var c bot.ClaimedHandoff
		var seen time.Time
		h, err := scanHandoff(withExtra{r, []any{timeCol{&seen}, timeCol{&c.AgentRepliedAt}, timeCol{&c.CustomerWaitingSince}}})
		c.Handoff, c.AgentSeenAt = h, h.ClaimedAt
		if seen.After(c.AgentSeenAt) {
			c.AgentSeenAt = seen
		}
		return c, err
	}, `SELECT `+handoffCols+`,
			(SELECT MAX(m.created_at) FROM messages m WHERE `+agentWrote("h")+`),
			(SELECT MAX(m.created_at) FROM messages m WHERE `+agentWrote("h")+` AND m.role = 'agent'),
			(SELECT MIN(c.created_at) FROM messages c
				WHERE c.conversation_id = h.conversation_id AND c.role = 'customer'
					AND c.created_at > `+t.d.later("h.claimed_at", `(SELECT MAX(m.created_at) FROM messages m WHERE `+agentWrote("h")+`)`)+`)
		FROM handoffs h
		WHERE h.agent_platform = $1 AND h.agent_channel = $2 AND h.state = 'claimed'
		ORDER BY h.id`, p, channel)
	if err != nil {
		return nil, t.errorf("claimed handoffs in %s/%s: %w", p, channel, err)
	}
	return out, nil
}

// ReturnToQueue implements bot.HandoffQueue. The agent fields are cleared,
// as UnclaimHandoff does.
func (t *tx) ReturnToQueue(ctx context.Context, c bot.ClaimedHandoff) (bool, error) {
	h := c.Handoff
	ok, err := t.execOne(ctx, `UPDATE handoffs SET state = 'waiting', agent_id = '', agent_name = '', claimed_at = NULL
		WHERE id = $1 AND state = 'claimed' AND agent_id = $2 AND claimed_at = $3
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE `+agentWrote("handoffs")+` AND m.created_at > $4)`,
		h.ID, h.AgentID, stamp(h.ClaimedAt), stamp(c.AgentSeenAt))
	if err != nil {
		return false, t.errorf("return handoff %d to the queue: %w", h.ID, err)
	}
	return ok, nil
}

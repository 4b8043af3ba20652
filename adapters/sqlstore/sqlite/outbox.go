package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Due implements outbox.Store. It reads from the read-only pool, so the
// dispatcher's polling never waits for, or fails because of, a writer.
//
// A row is due when it is the oldest pending row of its stream (sent and
// dead rows do not hold a stream back), its next attempt is at or before
// now, and its parent, if any, is sent (ParentRef is then the parent's
// platform message id) or dead (ParentRef is "").
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]bot.Outgoing, error) {
	out, err := queryAll(ctx, s.read, scanDue, dueQuery, nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due outbox rows: %w", err)
	}
	return out, nil
}

// Claim implements outbox.Store: the due rows are selected and leased in
// one write transaction.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error) {
	var out []bot.Outgoing
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanDue, dueQuery, nanos(now), limit)
		if err != nil {
			return err
		}
		until := nanos(now.Add(lease))
		for _, m := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, in_flight = 1 WHERE id = ?`, until, m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox rows: %w", err)
	}
	return out, nil
}

// dueQuery selects, for each stream, its oldest pending row when that row's
// next attempt is due and its parent, if any, is sent or dead.
const dueQuery = `WITH heads AS (
		SELECT MIN(id) AS id FROM outbox WHERE status = 'pending' GROUP BY stream
	)
	SELECT o.id, o.platform, o.workspace, o.channel, o.thread, o.parent_id,
		CASE WHEN p.status = 'sent' THEN p.platform_msg_id END,
		o.stream, o.kind, o.author, o.text, o.buttons, o.mention, o.conversation_id, o.handoff_id,
		o.status, o.attempts, o.next_attempt_at, o.last_error, o.platform_msg_id, o.created_at, o.sent_at,
		o.in_flight
	FROM heads
	JOIN outbox o ON o.id = heads.id
	LEFT JOIN outbox p ON p.id = o.parent_id
	WHERE o.next_attempt_at <= ?
		AND (o.parent_id IS NULL OR p.status IN ('sent', 'dead'))
	ORDER BY o.id
	LIMIT ?`

func scanDue(r scanner) (bot.Outgoing, error) {
	var m bot.Outgoing
	var buttons string
	err := r.Scan(&m.ID, &m.Platform, &m.Workspace, &m.Channel, &m.Thread, orZero(&m.ParentID),
		orZero(&m.ParentRef),
		&m.Stream, &m.Kind, &m.Author, &m.Text, orZero(&buttons), &m.Mention, orZero(&m.ConversationID), orZero(&m.HandoffID),
		&m.Status, &m.Attempts, timeDest{&m.NextAttemptAt}, &m.LastError, orZero(&m.PlatformMsgID),
		timeDest{&m.CreatedAt}, timeDest{&m.SentAt}, &m.MaybeSent)
	if err != nil {
		return bot.Outgoing{}, err
	}
	if m.Buttons, err = decodeButtons(buttons); err != nil {
		return bot.Outgoing{}, fmt.Errorf("outbox row %d: %w", m.ID, err)
	}
	return m, nil
}

// MarkSent implements outbox.Store.
func (s *Store) MarkSent(ctx context.Context, id int64, platformMsgID string, at time.Time) error {
	ok, err := execOne(ctx, s.db, `UPDATE outbox SET status = 'sent', platform_msg_id = ?, sent_at = ?, in_flight = 0 WHERE id = ?`,
		orNull(platformMsgID), nanos(at), id)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry implements outbox.Store.
func (s *Store) MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	ok, err := execOne(ctx, s.db, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, in_flight = 0
		WHERE id = ?`, errText, nanos(next), id)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d for retry: %w", id, err)
	}
	return nil
}

// MarkDead implements outbox.Store. The row stops holding back its stream
// and releases children waiting on it, which are then sent unthreaded.
func (s *Store) MarkDead(ctx context.Context, id int64, errText string) error {
	ok, err := execOne(ctx, s.db, `UPDATE outbox SET status = 'dead', attempts = attempts + 1, in_flight = 0, last_error = ?
		WHERE id = ?`, errText, id)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d dead: %w", id, err)
	}
	return nil
}

// Defer implements outbox.Store.
func (s *Store) Defer(ctx context.Context, id int64, next time.Time) error {
	ok, err := execOne(ctx, s.db, `UPDATE outbox SET next_attempt_at = ?, in_flight = 0 WHERE id = ?`, nanos(next), id)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: defer outbox %d: %w", id, err)
	}
	return nil
}

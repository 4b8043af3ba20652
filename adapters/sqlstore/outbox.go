package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// A row is due when it is the oldest pending row of its stream (sent and
// dead rows do not hold a stream back), its next attempt is at or before
// now, and its parent, if any, is sent (ParentRef is then the parent's
// platform message id) or dead (ParentRef is "").
//
// headsFrom is the part of the query Due and Claim share: each stream's
// oldest pending row as o, its parent as p.
const headsFrom = `FROM (
		SELECT MIN(id) AS id FROM outbox WHERE status = 'pending' GROUP BY stream
	) heads
	JOIN outbox o ON o.id = heads.id
	LEFT JOIN outbox p ON p.id = o.parent_id
	WHERE o.status = 'pending' AND o.next_attempt_at <= $1
		AND (o.parent_id IS NULL OR p.status IN ('sent', 'dead'))`

// parentRef is the ParentRef of o: its parent's platform id once sent.
const parentRef = `COALESCE(CASE WHEN p.status = 'sent' THEN p.platform_msg_id END, '')`

// The columns scanOutgoing reads, of o, in three parts around the two that
// differ between Due and Claim: ParentRef, and the next attempt (Claim
// returns the one from before the lease, as Due would).
const (
	outgoingColsHead = `o.id, o.platform, o.workspace, o.channel, o.thread, COALESCE(o.parent_id, 0), `
	outgoingColsMid  = `, o.stream, o.kind, o.author, o.text, o.buttons, o.mention,
		COALESCE(o.conversation_id, 0), COALESCE(o.handoff_id, 0), o.status, o.attempts, `
	outgoingColsTail = `, o.last_error, COALESCE(o.platform_msg_id, ''), o.created_at, o.sent_at, `
)

// dueQuery selects the due rows, oldest first: $1 is now, $2 the limit.
const dueQuery = `SELECT ` + outgoingColsHead + parentRef + outgoingColsMid + `o.next_attempt_at` + outgoingColsTail + `o.in_flight
	` + headsFrom + `
	ORDER BY o.id
	LIMIT $2`

func scanOutgoing(r scanner) (bot.Outgoing, error) {
	var m bot.Outgoing
	var buttons []byte
	err := r.Scan(&m.ID, &m.Platform, &m.Workspace, &m.Channel, &m.Thread, &m.ParentID, &m.ParentRef,
		&m.Stream, &m.Kind, &m.Author, &m.Text, &buttons, &m.Mention, &m.ConversationID, &m.HandoffID,
		&m.Status, &m.Attempts, timeCol{&m.NextAttemptAt}, &m.LastError, &m.PlatformMsgID,
		timeCol{&m.CreatedAt}, timeCol{&m.SentAt}, &m.MaybeSent)
	if err != nil {
		return bot.Outgoing{}, err
	}
	if m.Buttons, err = decodeButtons(buttons); err != nil {
		return bot.Outgoing{}, fmt.Errorf("outbox row %d: %w", m.ID, err)
	}
	return m, nil
}

// claimQueuedQuery selects row $1 when it is due at $2 and first in its
// stream: the rule of headsFrom, for one row,
// read through the outbox_pending index rather than over every stream.
const claimQueuedQuery = `SELECT ` + outgoingColsHead + parentRef + outgoingColsMid + `o.next_attempt_at` + outgoingColsTail + `o.in_flight
	FROM outbox o
	LEFT JOIN outbox p ON p.id = o.parent_id
	WHERE o.id = $1 AND o.status = 'pending' AND o.next_attempt_at <= $2 AND o.in_flight = FALSE
		AND (o.parent_id IS NULL OR p.status IN ('sent', 'dead'))
		AND NOT EXISTS (SELECT 1 FROM outbox q WHERE q.stream = o.stream AND q.status = 'pending' AND q.id < o.id)`

// ClaimQueued implements bot.Outbox. The order of a stream's rows is safe
// to judge here for the streams a turn writes to: every transaction that
// queues to a conversation's stream locks the conversation first (lockRow
// in Conversation and ActiveConversation), so no older row of it can
// still be uncommitted.
func (t *tx) ClaimQueued(ctx context.Context, id int64, now, until time.Time) (bot.Outgoing, bool, error) {
	m, err := scanOutgoing(t.queryRow(ctx, claimQueuedQuery, id, stamp(now)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return bot.Outgoing{}, false, nil
	case err != nil:
		return bot.Outgoing{}, false, t.errorf("claim queued outbox row %d: %w", id, err)
	}
	if _, err := t.exec(ctx, `UPDATE outbox SET next_attempt_at = $1, in_flight = TRUE WHERE id = $2`, stamp(until), id); err != nil {
		return bot.Outgoing{}, false, t.errorf("claim queued outbox row %d: %w", id, err)
	}
	return m, true, nil
}

// Due implements outbox.Store. It only reads (on SQLite from the
// read-only pool, so the dispatcher's polling never waits for a writer):
// what it returns may be claimed by another replica at once; dispatchers
// use Claim.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]bot.Outgoing, error) {
	out, err := queryAll(ctx, s.r, scanOutgoing, dueQuery, stamp(now), limit)
	if err != nil {
		return nil, s.errorf("due outbox rows: %w", s.d.redact(err))
	}
	return out, nil
}

// Claim implements outbox.Store: the due rows are selected and leased
// until now+lease together (SQLite: in one write transaction; PostgreSQL:
// locked with SKIP LOCKED in one statement), so dispatchers on several
// replicas never get the same row, and none waits for another's rows.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error) {
	out, err := s.d.claim(ctx, s, now, limit, lease)
	if err != nil {
		return nil, s.errorf("claim outbox rows: %w", s.d.redact(err))
	}
	slices.SortFunc(out, func(a, b bot.Outgoing) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// MarkSent implements outbox.Store.
func (s *Store) MarkSent(ctx context.Context, id int64, platformMsgID string, at time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET status = 'sent', platform_msg_id = $1, sent_at = $2, in_flight = FALSE WHERE id = $3`,
		orNull(platformMsgID), stamp(at), id)
	if err != nil {
		return s.errorf("mark outbox %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry implements outbox.Store.
func (s *Store) MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, in_flight = FALSE
		WHERE id = $3`, errText, stamp(next), id)
	if err != nil {
		return s.errorf("mark outbox %d for retry: %w", id, err)
	}
	return nil
}

// MarkDead implements outbox.Store. The row stops holding back its stream
// and releases children waiting on it, which are then sent unthreaded.
func (s *Store) MarkDead(ctx context.Context, id int64, errText string) error {
	err := s.execOne(ctx, `UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = $1, in_flight = FALSE
		WHERE id = $2`, errText, id)
	if err != nil {
		return s.errorf("mark outbox %d dead: %w", id, err)
	}
	return nil
}

// Defer implements outbox.Store.
func (s *Store) Defer(ctx context.Context, id int64, next time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET next_attempt_at = $1, in_flight = FALSE WHERE id = $2`, stamp(next), id)
	if err != nil {
		return s.errorf("defer outbox %d: %w", id, err)
	}
	return nil
}

// MarkUnsure implements outbox.Store: the row is rescheduled and stays in
// flight, so that its next claim reports MaybeSent.
func (s *Store) MarkUnsure(ctx context.Context, id int64, errText string, next time.Time, attempt bool) error {
	query := `UPDATE outbox SET next_attempt_at = $1, in_flight = TRUE WHERE id = $2 AND status = 'pending'`
	args := []any{stamp(next), id}
	if attempt {
		query = `UPDATE outbox SET next_attempt_at = $1, in_flight = TRUE, attempts = attempts + 1, last_error = $3
			WHERE id = $2 AND status = 'pending'`
		args = append(args, errText)
	}
	if err := s.execOne(ctx, query, args...); err != nil {
		return s.errorf("reschedule outbox %d, maybe sent: %w", id, err)
	}
	return nil
}

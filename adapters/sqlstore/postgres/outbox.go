package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
		SELECT DISTINCT ON (stream) id FROM outbox WHERE status = 'pending' ORDER BY stream, id
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

const dueQuery = `SELECT ` + outgoingColsHead + parentRef + outgoingColsMid + `o.next_attempt_at` + outgoingColsTail + `o.in_flight
	` + `
	` + headsFrom + `
	ORDER BY o.id
	LIMIT $2`

// claimQuery picks the due rows like dueQuery, locks them, skipping rows
// another dispatcher is claiming this instant, and leases them until $3,
// all in one statement. A row another dispatcher claimed and committed
// since this statement's snapshot is locked, then re-checked on its newest
// version (READ COMMITTED), whose next attempt is in the future (or which
// is sent): skipped too. That is why headsFrom tests o.status again.
const claimQuery = `WITH claimed AS (
		SELECT o.id, ` + parentRef + ` AS parent_ref, o.next_attempt_at AS was_due, o.in_flight AS was_in_flight
		` + headsFrom + `
		ORDER BY o.id
		LIMIT $2
		FOR UPDATE OF o SKIP LOCKED
	)
	UPDATE outbox o SET next_attempt_at = $3, in_flight = true
	FROM claimed c
	WHERE o.id = c.id
	RETURNING ` + outgoingColsHead + `c.parent_ref` + outgoingColsMid + `c.was_due` + outgoingColsTail + `c.was_in_flight`

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

// Due implements outbox.Store. It only reads: what it returns may be
// claimed by another replica at once; dispatchers use Claim.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]bot.Outgoing, error) {
	var out []bot.Outgoing
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		out, err = queryAll(ctx, conn, scanOutgoing, dueQuery, now, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: due outbox rows: %w", err)
	}
	return out, nil
}

// Claim implements outbox.Store: the due rows are selected, locked and
// leased until now+lease in one statement, so dispatchers on several
// replicas never get the same row, and none waits for another's rows.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error) {
	var out []bot.Outgoing
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		out, err = queryAll(ctx, conn, scanOutgoing, claimQuery, now, limit, now.Add(lease))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim outbox rows: %w", err)
	}
	sortByID(out) // RETURNING has no order
	return out, nil
}

// MarkSent implements outbox.Store.
func (s *Store) MarkSent(ctx context.Context, id int64, platformMsgID string, at time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET status = 'sent', platform_msg_id = $1, sent_at = $2, in_flight = false WHERE id = $3`,
		orNull(platformMsgID), ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry implements outbox.Store.
func (s *Store) MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, in_flight = false
		WHERE id = $3`, errText, ts(next), id)
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d for retry: %w", id, err)
	}
	return nil
}

// MarkDead implements outbox.Store. The row stops holding back its stream
// and releases children waiting on it, which are then sent unthreaded.
func (s *Store) MarkDead(ctx context.Context, id int64, errText string) error {
	err := s.execOne(ctx, `UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = $1, in_flight = false
		WHERE id = $2`, errText, id)
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d dead: %w", id, err)
	}
	return nil
}

// Defer implements outbox.Store.
func (s *Store) Defer(ctx context.Context, id int64, next time.Time) error {
	err := s.execOne(ctx, `UPDATE outbox SET next_attempt_at = $1, in_flight = false WHERE id = $2`, ts(next), id)
	if err != nil {
		return fmt.Errorf("postgres: defer outbox %d: %w", id, err)
	}
	return nil
}

// execOne runs a statement meant to change exactly one row on its own
// connection; bot.ErrNotFound when it changed none.
func (s *Store) execOne(ctx context.Context, query string, args ...any) error {
	return s.withConn(ctx, func(conn *pgx.Conn) error {
		ok, err := execOne(ctx, conn, query, args...)
		if err == nil && !ok {
			err = bot.ErrNotFound
		}
		return err
	})
}

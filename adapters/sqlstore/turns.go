package sqlstore

import (
	"context"
	"errors"
	"time"

	"database/sql"
)

// This file implements bot.TurnLeases: a lease is a row of turn_leases.
// Replicas contending for one lease meet on that row: under PostgreSQL's
// READ COMMITTED, an INSERT ... ON CONFLICT that finds the row (or one
// being inserted) waits for the other transaction and then checks its
// condition on the row's newest version, so of replicas taking a free
// lease at once exactly one does. SQLite runs one writer at a time, so
// each sees the lease as the last transaction left it.

// LeaseTurn implements bot.TurnLeases.
func (t *tx) LeaseTurn(ctx context.Context, conversationID int64, owner string, now, until time.Time) (bool, error) {
	taken, err := t.execOne(ctx, `INSERT INTO turn_leases (conversation_id, owner, expires_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, wanted = FALSE
		WHERE turn_leases.owner = excluded.owner OR turn_leases.expires_at <= $4`,
		conversationID, owner, stamp(until), stamp(now))
	if err == nil && !taken {
		// Held by a replica that is answering: it runs one more turn for
		// what this one wanted.
		_, err = t.exec(ctx, `UPDATE turn_leases SET wanted = TRUE WHERE conversation_id = $1`, conversationID)
	}
	if err != nil {
		return false, t.errorf("lease turn of conversation %d: %w", conversationID, err)
	}
	return taken, nil
}

// RenewTurn implements bot.TurnLeases.
func (t *tx) RenewTurn(ctx context.Context, conversationID int64, owner string, until time.Time) (bool, error) {
	held, err := t.execOne(ctx, `UPDATE turn_leases SET expires_at = $3 WHERE conversation_id = $1 AND owner = $2`,
		conversationID, owner, stamp(until))
	if err != nil {
		return false, t.errorf("renew turn lease of conversation %d: %w", conversationID, err)
	}
	return held, nil
}

// ReleaseTurn implements bot.TurnLeases.
func (t *tx) ReleaseTurn(ctx context.Context, conversationID int64, owner string) (held, wanted bool, err error) {
	err = t.queryRow(ctx, `DELETE FROM turn_leases WHERE conversation_id = $1 AND owner = $2 RETURNING wanted`,
		conversationID, owner).Scan(&wanted)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, false, nil
	case err != nil:
		return false, false, t.errorf("release turn lease of conversation %d: %w", conversationID, err)
	}
	return true, wanted, nil
}

// TurnHolder implements bot.TurnLeases.
func (t *tx) TurnHolder(ctx context.Context, conversationID int64) (string, time.Time, error) {
	var owner string
	var until time.Time
	err := t.queryRow(ctx, `SELECT owner, expires_at FROM turn_leases WHERE conversation_id = $1`, conversationID).
		Scan(&owner, timeCol{&until})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, nil
	case err != nil:
		return "", time.Time{}, t.errorf("turn lease of conversation %d: %w", conversationID, err)
	}
	return owner, until, nil
}

// StrandedConversations implements bot.TurnLeases. It reads the few
// unprocessed customer messages through their partial index
// (messages_unprocessed) and takes no locks: the lease decides.
func (t *tx) StrandedConversations(ctx context.Context, now, before time.Time, limit int) ([]int64, error) {
	ids, err := queryAll(ctx, t, scanID, `SELECT m.conversation_id FROM messages m
		LEFT JOIN turn_leases l ON l.conversation_id = m.conversation_id AND l.expires_at > $1
		WHERE m.role = 'customer' AND `+t.d.isFalse("m.processed")+` AND m.created_at <= $2 AND l.conversation_id IS NULL
		GROUP BY m.conversation_id
		ORDER BY MIN(m.id)
		LIMIT $3`, stamp(now), stamp(before), limit)
	if err != nil {
		return nil, t.errorf("stranded conversations: %w", err)
	}
	return ids, nil
}

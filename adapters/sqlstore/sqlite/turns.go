package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// This file implements bot.TurnLeases, as store/postgres does: a lease is a
// row of turn_leases. SQLite runs one write transaction at a time, so each
// method sees the lease as the last transaction left it.

// LeaseTurn implements bot.TurnLeases.
func (t *tx) LeaseTurn(ctx context.Context, conversationID int64, owner string, now, until time.Time) (bool, error) {
	taken, err := execOne(ctx, t.tx, `INSERT INTO turn_leases (conversation_id, owner, expires_at)
		VALUES (?, ?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, wanted = 0
		WHERE turn_leases.owner = excluded.owner OR turn_leases.expires_at <= ?`,
		conversationID, owner, nanos(until), nanos(now))
	if err == nil && !taken {
		// Held by a replica that is answering: it runs one more turn for
		// what this one wanted.
		_, err = t.tx.ExecContext(ctx, `UPDATE turn_leases SET wanted = 1 WHERE conversation_id = ?`, conversationID)
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: lease turn of conversation %d: %w", conversationID, err)
	}
	return taken, nil
}

// RenewTurn implements bot.TurnLeases.
func (t *tx) RenewTurn(ctx context.Context, conversationID int64, owner string, until time.Time) (bool, error) {
	held, err := execOne(ctx, t.tx, `UPDATE turn_leases SET expires_at = ? WHERE conversation_id = ? AND owner = ?`,
		nanos(until), conversationID, owner)
	if err != nil {
		return false, fmt.Errorf("sqlite: renew turn lease of conversation %d: %w", conversationID, err)
	}
	return held, nil
}

// ReleaseTurn implements bot.TurnLeases.
func (t *tx) ReleaseTurn(ctx context.Context, conversationID int64, owner string) (held, wanted bool, err error) {
	err = t.tx.QueryRowContext(ctx, `DELETE FROM turn_leases WHERE conversation_id = ? AND owner = ? RETURNING wanted`,
		conversationID, owner).Scan(&wanted)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("sqlite: release turn lease of conversation %d: %w", conversationID, err)
	}
	return true, wanted, nil
}

// StrandedConversations implements bot.TurnLeases. It reads the few
// unprocessed customer messages through their partial index
// (messages_unprocessed).
func (t *tx) StrandedConversations(ctx context.Context, now, before time.Time, limit int) ([]int64, error) {
	ids, err := queryAll(ctx, t.tx, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT m.conversation_id FROM messages m
		LEFT JOIN turn_leases l ON l.conversation_id = m.conversation_id AND l.expires_at > ?
		WHERE m.role = 'customer' AND m.processed = 0 AND m.created_at <= ? AND l.conversation_id IS NULL
		GROUP BY m.conversation_id
		ORDER BY MIN(m.id)
		LIMIT ?`, nanos(now), nanos(before), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stranded conversations: %w", err)
	}
	return ids, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file implements bot.TurnLeases, as store/sqlite does: a lease is a
// row of turn_leases. Replicas contending for one lease meet on that row:
// under READ COMMITTED, an INSERT ... ON CONFLICT that finds the row (or
// one being inserted) waits for the other transaction and then checks its
// condition on the row's newest version, so of replicas taking a free
// lease at once exactly one does.

// LeaseTurn implements bot.TurnLeases.
func (t *tx) LeaseTurn(ctx context.Context, conversationID int64, owner string, now, until time.Time) (bool, error) {
	taken, err := execOne(ctx, t.tx, `INSERT INTO turn_leases AS l (conversation_id, owner, expires_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, wanted = false
		WHERE l.owner = excluded.owner OR l.expires_at <= $4`,
		conversationID, owner, ts(until), ts(now))
	if err == nil && !taken {
		// Held by a replica that is answering: it runs one more turn for
		// what this one wanted.
		_, err = t.tx.Exec(ctx, `UPDATE turn_leases SET wanted = true WHERE conversation_id = $1`, conversationID)
	}
	if err != nil {
		return false, fmt.Errorf("postgres: lease turn of conversation %d: %w", conversationID, err)
	}
	return taken, nil
}

// RenewTurn implements bot.TurnLeases.
func (t *tx) RenewTurn(ctx context.Context, conversationID int64, owner string, until time.Time) (bool, error) {
	held, err := execOne(ctx, t.tx, `UPDATE turn_leases SET expires_at = $3 WHERE conversation_id = $1 AND owner = $2`,
		conversationID, owner, ts(until))
	if err != nil {
		return false, fmt.Errorf("postgres: renew turn lease of conversation %d: %w", conversationID, err)
	}
	return held, nil
}

// ReleaseTurn implements bot.TurnLeases.
func (t *tx) ReleaseTurn(ctx context.Context, conversationID int64, owner string) (held, wanted bool, err error) {
	err = t.tx.QueryRow(ctx, `DELETE FROM turn_leases WHERE conversation_id = $1 AND owner = $2 RETURNING wanted`,
		conversationID, owner).Scan(&wanted)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("postgres: release turn lease of conversation %d: %w", conversationID, err)
	}
	return true, wanted, nil
}

// StrandedConversations implements bot.TurnLeases. It reads the few
// unprocessed customer messages through their partial index
// (messages_unprocessed) and takes no locks: the lease decides.
func (t *tx) StrandedConversations(ctx context.Context, now, before time.Time, limit int) ([]int64, error) {
	ids, err := queryAll(ctx, t.tx, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT m.conversation_id FROM messages m
		LEFT JOIN turn_leases l ON l.conversation_id = m.conversation_id AND l.expires_at > $1
		WHERE m.role = 'customer' AND NOT m.processed AND m.created_at <= $2 AND l.conversation_id IS NULL
		GROUP BY m.conversation_id
		ORDER BY MIN(m.id)
		LIMIT $3`, ts(now), ts(before), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: stranded conversations: %w", err)
	}
	return ids, nil
}

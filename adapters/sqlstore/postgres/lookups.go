package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/firstlinehq/firstline/bot"
)

// OpenConversations implements bot.Conversations. It does not lock: it is
// a listing for backfill, not a read before a write.
func (t *tx) OpenConversations(ctx context.Context, p bot.Platform) ([]bot.Conversation, error) {
	cs, err := queryAll(ctx, t.tx, scanConversation, `SELECT `+conversationCols+` FROM conversations
		WHERE platform = $1 AND closed_at IS NULL ORDER BY id`, p)
	if err != nil {
		return nil, fmt.Errorf("postgres: open conversations on %s: %w", p, err)
	}
	return cs, nil
}

// LastDedupeKey implements bot.Messages.
func (t *tx) LastDedupeKey(ctx context.Context, conversationID int64, roles ...bot.Role) (string, error) {
	if len(roles) == 0 {
		return "", nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	var key string
	err := t.tx.QueryRow(ctx, `SELECT dedupe_key FROM messages
		WHERE conversation_id = $1 AND dedupe_key IS NOT NULL AND role = ANY($2)
		ORDER BY id DESC LIMIT 1`, conversationID, names).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: last message key of conversation %d: %w", conversationID, err)
	}
	return key, nil
}

// OpenHandoffs implements bot.Handoffs. It does not lock (a listing).
func (t *tx) OpenHandoffs(ctx context.Context, agentPlatform bot.Platform) ([]bot.HandoffThread, error) {
	out, err := queryAll(ctx, t.tx, func(r scanner) (bot.HandoffThread, error) {
		var ht bot.HandoffThread
		err := r.Scan(append(handoffDest(&ht.Handoff), &ht.Ref)...)
		return ht, err
	}, `SELECT `+handoffCols+`, o.platform_msg_id
		FROM handoffs h JOIN outbox o ON o.id = h.announce_id
		WHERE h.agent_platform = $1 AND h.state IN ('waiting', 'claimed') AND o.platform_msg_id IS NOT NULL
		ORDER BY h.id`, agentPlatform)
	if err != nil {
		return nil, fmt.Errorf("postgres: open handoffs on %s: %w", agentPlatform, err)
	}
	return out, nil
}

// CustomerByEmail implements bot.Identities. Case is folded with lower(),
// which follows the database's locale (store/sqlite folds ASCII only).
func (t *tx) CustomerByEmail(ctx context.Context, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", fmt.Errorf("postgres: customer by email: %w", bot.ErrNotFound)
	}
	// Two customers sharing an address is ambiguous: refuse rather than
	// pick one and show someone else's payments. The email <> '' term lets
	// the partial index customers_email serve the lookup.
	ids, err := queryAll(ctx, t.tx, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT id FROM customers WHERE lower(email) = lower($1) AND email <> '' LIMIT 2`, email)
	if err != nil {
		return "", fmt.Errorf("postgres: customer by email: %w", err)
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("postgres: customer by email (%d matches): %w", len(ids), bot.ErrNotFound)
	}
	return ids[0], nil
}

// LinkIdentity implements bot.Identities. The customer is checked (and
// share-locked, so it cannot be deleted before the link commits) with a
// query rather than left to the foreign key: a failed statement would abort
// the caller's whole transaction, where not finding the customer is an
// answer the caller may act on.
func (t *tx) LinkIdentity(ctx context.Context, l bot.Link) error {
	id := l.Identity
	if !id.Platform.Valid() || id.User == "" {
		return fmt.Errorf("postgres: link %s/%s/%s: platform and user are required", id.Platform, id.Workspace, id.User)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = t.now()
	}
	var one int
	err := t.tx.QueryRow(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR KEY SHARE`, l.CustomerID).Scan(&one)
	if err != nil {
		err = fmt.Errorf("customer %s: %w", l.CustomerID, notFound(err))
	} else {
		_, err = t.tx.Exec(ctx, linkQuery, id.Platform, id.Workspace, id.User, l.CustomerID, ts(l.CreatedAt))
	}
	if err != nil {
		return fmt.Errorf("postgres: link %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// linkQuery links an identity to a customer. Relinking to the same
// customer keeps the original time.
const linkQuery = `INSERT INTO identities (platform, workspace, user_id, customer_id, created_at)
	VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (platform, workspace, user_id) DO UPDATE SET
		customer_id = excluded.customer_id, created_at = excluded.created_at
	WHERE identities.customer_id <> excluded.customer_id`

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/firstlinehq/firstline/bot"
)

// OpenConversations implements bot.Conversations. It does not lock: it is
// a listing for backfill, not a read before a write.
func (t *tx) OpenConversations(ctx context.Context, p bot.Platform) ([]bot.Conversation, error) {
	cs, err := queryAll(ctx, t, scanConversation, `SELECT `+conversationCols+` FROM conversations
		WHERE platform = $1 AND closed_at IS NULL ORDER BY id`, p)
	if err != nil {
		return nil, t.errorf("open conversations on %s: %w", p, err)
	}
	return cs, nil
}

// LastDedupeKey implements bot.Messages.
func (t *tx) LastDedupeKey(ctx context.Context, conversationID int64, roles ...bot.Role) (string, error) {
	if len(roles) == 0 {
		return "", nil
	}
	args := []any{conversationID}
	for _, r := range roles {
		args = append(args, r)
	}
	var key string
	err := t.queryRow(ctx, `SELECT dedupe_key FROM messages
		WHERE conversation_id = $1 AND dedupe_key IS NOT NULL AND role IN (`+placeholders(2, len(roles))+`)
		ORDER BY id DESC LIMIT 1`, args...).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", t.errorf("last message key of conversation %d: %w", conversationID, err)
	}
	return key, nil
}

// OpenHandoffs implements bot.Handoffs. It does not lock (a listing).
func (t *tx) OpenHandoffs(ctx context.Context, agentPlatform bot.Platform) ([]bot.HandoffThread, error) {
	out, err := queryAll(ctx, t, func(r scanner) (bot.HandoffThread, error) {
		var ht bot.HandoffThread
		err := r.Scan(append(handoffDest(&ht.Handoff), &ht.Ref)...)
		return ht, err
	}, `SELECT `+handoffCols+`, o.platform_msg_id
		FROM handoffs h JOIN outbox o ON o.id = h.announce_id
		WHERE h.agent_platform = $1 AND h.state IN ('waiting', 'claimed') AND o.platform_msg_id IS NOT NULL
		ORDER BY h.id`, agentPlatform)
	if err != nil {
		return nil, t.errorf("open handoffs on %s: %w", agentPlatform, err)
	}
	return out, nil
}

// LinkIdentity implements bot.Identities.
func (t *tx) LinkIdentity(ctx context.Context, l bot.Link) error {
	id := l.Identity
	if !id.Platform.Valid() || id.User == "" || l.CustomerID == "" {
		return t.errorf("link %s/%s/%s: platform, user and customer are required", id.Platform, id.Workspace, id.User)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = t.now()
	}
	if _, err := t.exec(ctx, linkQuery, id.Platform, id.Workspace, id.User, l.CustomerID, stamp(l.CreatedAt)); err != nil {
		return t.errorf("link %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
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

func scanID(r scanner) (int64, error) {
	var id int64
	err := r.Scan(&id)
	return id, err
}

func scanLink(r scanner) (bot.Link, error) {
	var l bot.Link
	err := r.Scan(&l.Identity.Platform, &l.Identity.Workspace, &l.Identity.User, &l.CustomerID, timeCol{&l.CreatedAt})
	return l, err
}

// customerMissing says which customer a write needed.
func customerMissing(id string, err error) error {
	return fmt.Errorf("customer %s: %w", id, err)
}

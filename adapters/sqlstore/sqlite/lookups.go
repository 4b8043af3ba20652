package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/firstlinehq/firstline/bot"
)

// OpenConversations implements bot.Conversations.
func (t *tx) OpenConversations(ctx context.Context, p bot.Platform) ([]bot.Conversation, error) {
	cs, err := queryAll(ctx, t.tx, scanConversation, `SELECT `+conversationCols+` FROM conversations
		WHERE platform = ? AND closed_at IS NULL ORDER BY id`, p)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open conversations on %s: %w", p, err)
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
	err := t.tx.QueryRowContext(ctx, `SELECT dedupe_key FROM messages
		WHERE conversation_id = ? AND dedupe_key IS NOT NULL AND role IN (?`+strings.Repeat(", ?", len(roles)-1)+`)
		ORDER BY id DESC LIMIT 1`, args...).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: last message key of conversation %d: %w", conversationID, err)
	}
	return key, nil
}

// OpenHandoffs implements bot.Handoffs.
func (t *tx) OpenHandoffs(ctx context.Context, agentPlatform bot.Platform) ([]bot.HandoffThread, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT h.id, h.conversation_id, h.state, h.triggered_by, h.reason,
			h.agent_platform, h.agent_channel, h.announce_id, h.agent_id, h.agent_name, h.rating,
			h.created_at, h.claimed_at, h.resolved_at, o.platform_msg_id
		FROM handoffs h JOIN outbox o ON o.id = h.announce_id
		WHERE h.agent_platform = ? AND h.state IN ('waiting', 'claimed') AND o.platform_msg_id IS NOT NULL
		ORDER BY h.id`, agentPlatform)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open handoffs on %s: %w", agentPlatform, err)
	}
	defer rows.Close()
	var out []bot.HandoffThread
	for rows.Next() {
		var ht bot.HandoffThread
		h := &ht.Handoff
		if err := rows.Scan(&h.ID, &h.ConversationID, &h.State, &h.Trigger, &h.Reason, &h.AgentPlatform, &h.AgentChannel,
			orZero(&h.AnnounceID), &h.AgentID, &h.AgentName, orZero(&h.Rating),
			timeDest{&h.CreatedAt}, timeDest{&h.ClaimedAt}, timeDest{&h.ResolvedAt}, &ht.Ref); err != nil {
			return nil, fmt.Errorf("sqlite: open handoffs on %s: %w", agentPlatform, err)
		}
		out = append(out, ht)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: open handoffs on %s: %w", agentPlatform, err)
	}
	return out, nil
}

// CustomerByEmail implements bot.Identities.
func (t *tx) CustomerByEmail(ctx context.Context, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", fmt.Errorf("sqlite: customer by email: %w", bot.ErrNotFound)
	}
	var id string
	// Two customers sharing an address is ambiguous: refuse rather than
	// pick one and show someone else's payments.
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM customers WHERE email = ? COLLATE NOCASE LIMIT 2`, email)
	if err != nil {
		return "", fmt.Errorf("sqlite: customer by email: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return "", fmt.Errorf("sqlite: customer by email: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("sqlite: customer by email: %w", err)
	}
	if n != 1 {
		return "", fmt.Errorf("sqlite: customer by email (%d matches): %w", n, bot.ErrNotFound)
	}
	return id, nil
}

// LinkIdentity implements bot.Identities.
func (t *tx) LinkIdentity(ctx context.Context, l bot.Link) error {
	id := l.Identity
	if !id.Platform.Valid() || id.User == "" {
		return fmt.Errorf("sqlite: link %s/%s/%s: platform and user are required", id.Platform, id.Workspace, id.User)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = t.now()
	}
	if err := requireCustomer(ctx, t.tx, l.CustomerID); err != nil {
		return fmt.Errorf("sqlite: link %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO identities (platform, workspace, user_id, customer_id, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (platform, workspace, user_id) DO UPDATE SET
			customer_id = excluded.customer_id, created_at = excluded.created_at
		WHERE customer_id <> excluded.customer_id`,
		id.Platform, id.Workspace, id.User, l.CustomerID, nanos(l.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: link %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

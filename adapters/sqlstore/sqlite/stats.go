package sqlite

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/stats"
)

// This file records what the support figures need (bot.ConversationStats)
// and reads them back (stats.Records). The reads run on the read-only pool
// in one transaction: under WAL they see one committed state and never
// wait for, or hold up, the writer that customers' turns need.

var _ stats.Records = (*Store)(nil)

// topicRank is bot.TopicRank in SQL, over the stored topic.
const topicRank = `CASE topic WHEN '' THEN 0 WHEN '` + bot.TopicHandoff + `' THEN 1 WHEN '` + bot.TopicOther + `' THEN 2 ELSE 3 END`

// SetTopic implements bot.ConversationStats.
func (t *tx) SetTopic(ctx context.Context, conversationID int64, topic string) (bool, error) {
	ok, err := execOne(ctx, t.tx, `UPDATE conversations SET topic = ? WHERE id = ? AND `+topicRank+` < ?`,
		topic, conversationID, bot.TopicRank(topic))
	if err != nil {
		return false, fmt.Errorf("sqlite: set topic of conversation %d: %w", conversationID, err)
	}
	return ok, nil
}

// AddUsage implements bot.ConversationStats.
func (t *tx) AddUsage(ctx context.Context, conversationID int64, promptTokens, completionTokens int) error {
	if promptTokens < 0 || completionTokens < 0 {
		return fmt.Errorf("sqlite: add usage to conversation %d: negative token counts %d, %d", conversationID, promptTokens, completionTokens)
	}
	ok, err := execOne(ctx, t.tx, `UPDATE conversations
		SET prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ? WHERE id = ?`,
		promptTokens, completionTokens, conversationID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: add usage to conversation %d: %w", conversationID, err)
	}
	return nil
}

// recordsQuery reads conversations with their first customer message and
// the first bot or agent message stored after it (the greeting, stored
// before, is not an answer). Order is the order messages were stored.
const recordsQuery = `WITH c AS (
		SELECT id, platform, workspace, user_id, customer_id, topic, opened_at, last_message_at, closed_at,
			prompt_tokens, completion_tokens,
			(SELECT MIN(m.id) FROM messages m WHERE m.conversation_id = conversations.id AND m.role = 'customer') AS first_customer
		FROM conversations
		WHERE opened_at >= ?
	)
	SELECT id, platform, workspace, user_id, customer_id, topic, opened_at, last_message_at, closed_at,
		prompt_tokens, completion_tokens,
		(SELECT m.created_at FROM messages m WHERE m.id = c.first_customer),
		(SELECT MIN(r.created_at) FROM messages r
			WHERE r.conversation_id = c.id AND r.role IN ('bot', 'agent') AND r.id > c.first_customer)
	FROM c ORDER BY opened_at, id`

// ConversationRecords implements stats.Records.
func (s *Store) ConversationRecords(ctx context.Context, since time.Time) ([]stats.Conversation, error) {
	from := int64(math.MinInt64) // the zero time: every conversation
	if !since.IsZero() {
		from = since.UnixNano()
	}
	rtx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: conversation records: %w", err)
	}
	defer func() { _ = rtx.Rollback() }() // read-only: nothing to undo
	convs, err := queryAll(ctx, rtx, func(r scanner) (stats.Conversation, error) {
		var c stats.Conversation
		var p bot.Platform
		var workspace, user, customer string
		err := r.Scan(&c.ID, &p, &workspace, &user, orZero(&customer), &c.Topic,
			timeDest{&c.OpenedAt}, timeDest{&c.LastMessageAt}, timeDest{&c.ClosedAt},
			&c.PromptTokens, &c.CompletionTokens, timeDest{&c.FirstCustomerAt}, timeDest{&c.FirstResponseAt})
		c.Platform, c.Customer = string(p), customerKey(customer, bot.NewIdentity(p, workspace, user))
		return c, err
	}, recordsQuery, from)
	if err != nil {
		return nil, fmt.Errorf("sqlite: conversation records since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	type owned struct {
		conv int64
		h    stats.Handoff
	}
	hs, err := queryAll(ctx, rtx, func(r scanner) (owned, error) {
		var o owned
		err := r.Scan(&o.conv, timeDest{&o.h.CreatedAt}, timeDest{&o.h.ClaimedAt}, timeDest{&o.h.ResolvedAt}, orZero(&o.h.Rating))
		return o, err
	}, `SELECT h.conversation_id, h.created_at, h.claimed_at, h.resolved_at, h.rating
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE c.opened_at >= ?
		ORDER BY h.conversation_id, h.created_at, h.id`, from)
	if err != nil {
		return nil, fmt.Errorf("sqlite: handoff records since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	byID := make(map[int64]int, len(convs))
	for i, c := range convs {
		byID[c.ID] = i
	}
	for _, o := range hs {
		if i, ok := byID[o.conv]; ok {
			convs[i].Handoffs = append(convs[i].Handoffs, o.h)
		}
	}
	return convs, nil
}

// customerKey says who a conversation's customer is across conversations:
// the linked customer id, else the chat identity (bot.ActorOf).
func customerKey(customerID string, id bot.Identity) string {
	if customerID != "" {
		return customerID
	}
	return bot.ActorOf(id)
}

// OpenQueue implements stats.Records.
func (s *Store) OpenQueue(ctx context.Context) ([]stats.Queued, error) {
	qs, err := queryAll(ctx, s.read, func(r scanner) (stats.Queued, error) {
		var q stats.Queued
		var state bot.HandoffState
		err := r.Scan(&q.HandoffID, &q.Platform, orZero(&q.Customer), &q.Reason, &state, &q.Agent,
			timeDest{&q.CreatedAt}, timeDest{&q.ClaimedAt})
		q.Claimed = state == bot.HandoffClaimed
		return q, err
	}, `SELECT h.id, c.platform, c.customer_id, h.reason, h.state, h.agent_name, h.created_at, h.claimed_at
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE h.state <> 'resolved'
		ORDER BY h.created_at, h.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open handoffs: %w", err)
	}
	return qs, nil
}

// OutboxPending counts the outgoing messages not yet delivered (nor given
// up on), for the firstline_outbox_pending gauge.
func (s *Store) OutboxPending(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count pending outbox rows: %w", err)
	}
	return n, nil
}

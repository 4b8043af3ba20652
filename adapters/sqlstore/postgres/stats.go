package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/stats"
)

// This file records what the support figures need (bot.ConversationStats)
// and reads them back (stats.Records), as store/sqlite does. The reads run
// in one read-only REPEATABLE READ transaction, so a report sees one
// snapshot, and take no row locks: they never wait for a turn.

var _ stats.Records = (*Store)(nil)

// topicRank is bot.TopicRank in SQL, over the stored topic.
const topicRank = `CASE topic WHEN '' THEN 0 WHEN '` + bot.TopicHandoff + `' THEN 1 WHEN '` + bot.TopicOther + `' THEN 2 ELSE 3 END`

// SetTopic implements bot.ConversationStats. Under READ COMMITTED, an
// UPDATE that waits for another transaction's change to the row checks its
// condition again on the newest version, so concurrent labels still only
// move up.
func (t *tx) SetTopic(ctx context.Context, conversationID int64, topic string) (bool, error) {
	ok, err := execOne(ctx, t.tx, `UPDATE conversations SET topic = $1 WHERE id = $2 AND `+topicRank+` < $3`,
		topic, conversationID, bot.TopicRank(topic))
	if err != nil {
		return false, fmt.Errorf("postgres: set topic of conversation %d: %w", conversationID, err)
	}
	return ok, nil
}

// AddUsage implements bot.ConversationStats.
func (t *tx) AddUsage(ctx context.Context, conversationID int64, promptTokens, completionTokens int) error {
	if promptTokens < 0 || completionTokens < 0 {
		return fmt.Errorf("postgres: add usage to conversation %d: negative token counts %d, %d", conversationID, promptTokens, completionTokens)
	}
	ok, err := execOne(ctx, t.tx, `UPDATE conversations
		SET prompt_tokens = prompt_tokens + $1, completion_tokens = completion_tokens + $2 WHERE id = $3`,
		promptTokens, completionTokens, conversationID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: add usage to conversation %d: %w", conversationID, err)
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
		WHERE opened_at >= $1
	)
	SELECT id, platform, workspace, user_id, COALESCE(customer_id, ''), topic, opened_at, last_message_at, closed_at,
		prompt_tokens, completion_tokens,
		(SELECT m.created_at FROM messages m WHERE m.id = c.first_customer),
		(SELECT MIN(r.created_at) FROM messages r
			WHERE r.conversation_id = c.id AND r.role IN ('bot', 'agent') AND r.id > c.first_customer)
	FROM c ORDER BY opened_at, id`

// ConversationRecords implements stats.Records. The zero since, passed as
// it is (not as NULL), is the first instant PostgreSQL and Go share: every
// conversation is after it.
func (s *Store) ConversationRecords(ctx context.Context, since time.Time) ([]stats.Conversation, error) {
	var convs []stats.Conversation
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		rtx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer func() { _ = rollback(ctx, rtx) }() // read-only: nothing to undo
		convs, err = queryAll(ctx, rtx, func(r scanner) (stats.Conversation, error) {
			var c stats.Conversation
			var p bot.Platform
			var workspace, user, customer string
			var prompt, completion int64
			err := r.Scan(&c.ID, &p, &workspace, &user, &customer, &c.Topic,
				timeCol{&c.OpenedAt}, timeCol{&c.LastMessageAt}, timeCol{&c.ClosedAt},
				&prompt, &completion, timeCol{&c.FirstCustomerAt}, timeCol{&c.FirstResponseAt})
			c.Platform, c.Customer = string(p), customerKey(customer, bot.NewIdentity(p, workspace, user))
			c.PromptTokens, c.CompletionTokens = int(prompt), int(completion)
			return c, err
		}, recordsQuery, since.UTC())
		if err != nil {
			return err
		}
		type owned struct {
			conv int64
			h    stats.Handoff
		}
		hs, err := queryAll(ctx, rtx, func(r scanner) (owned, error) {
			var o owned
			var rating int32
			err := r.Scan(&o.conv, timeCol{&o.h.CreatedAt}, timeCol{&o.h.ClaimedAt}, timeCol{&o.h.ResolvedAt}, &rating)
			o.h.Rating = int(rating)
			return o, err
		}, `SELECT h.conversation_id, h.created_at, h.claimed_at, h.resolved_at, COALESCE(h.rating, 0)
			FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
			WHERE c.opened_at >= $1
			ORDER BY h.conversation_id, h.created_at, h.id`, since.UTC())
		if err != nil {
			return err
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
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: conversation records since %s: %w", since.UTC().Format(time.RFC3339), err)
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
	var qs []stats.Queued
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		qs, err = queryAll(ctx, conn, func(r scanner) (stats.Queued, error) {
			var q stats.Queued
			var state bot.HandoffState
			err := r.Scan(&q.HandoffID, &q.Platform, &q.Customer, &q.Reason, &state, &q.Agent,
				timeCol{&q.CreatedAt}, timeCol{&q.ClaimedAt})
			q.Claimed = state == bot.HandoffClaimed
			return q, err
		}, `SELECT h.id, c.platform, COALESCE(c.customer_id, ''), h.reason, h.state, h.agent_name, h.created_at, h.claimed_at
			FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
			WHERE h.state <> 'resolved'
			ORDER BY h.created_at, h.id`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: open handoffs: %w", err)
	}
	return qs, nil
}

// OutboxPending counts the outgoing messages not yet delivered (nor given
// up on), for the firstline_outbox_pending gauge.
func (s *Store) OutboxPending(ctx context.Context) (int, error) {
	var n int64
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: count pending outbox rows: %w", err)
	}
	return int(n), nil
}

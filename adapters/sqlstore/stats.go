package sqlstore

import (
	"context"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/stats"
)

// This file records what the support figures need (bot.ConversationStats)
// and reads them back (stats.Records). The reads run in one read-only
// transaction (PostgreSQL: REPEATABLE READ; SQLite: on the read pool, which
// under WAL sees one committed state), so a report sees one snapshot, and
// they never wait for, or hold up, the turns customers wait for.

// topicRank is bot.TopicRank in SQL, over the stored topic.
const topicRank = `CASE topic WHEN '' THEN 0 WHEN '` + bot.TopicHandoff + `' THEN 1 WHEN '` + bot.TopicOther + `' THEN 2 ELSE 3 END`

// SetTopic implements bot.ConversationStats. Under READ COMMITTED, an
// UPDATE that waits for another transaction's change to the row checks its
// condition again on the newest version, so concurrent labels still only
// move up.
func (t *tx) SetTopic(ctx context.Context, conversationID int64, topic string) (bool, error) {
	ok, err := t.execOne(ctx, `UPDATE conversations SET topic = $1 WHERE id = $2 AND `+topicRank+` < $3`,
		topic, conversationID, bot.TopicRank(topic))
	if err != nil {
		return false, t.errorf("set topic of conversation %d: %w", conversationID, err)
	}
	return ok, nil
}

// AddUsage implements bot.ConversationStats.
func (t *tx) AddUsage(ctx context.Context, conversationID int64, promptTokens, completionTokens int) error {
	if promptTokens < 0 || completionTokens < 0 {
		return t.errorf("add usage to conversation %d: negative token counts %d, %d", conversationID, promptTokens, completionTokens)
	}
	ok, err := t.execOne(ctx, `UPDATE conversations
		SET prompt_tokens = prompt_tokens + $1, completion_tokens = completion_tokens + $2 WHERE id = $3`,
		promptTokens, completionTokens, conversationID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return t.errorf("add usage to conversation %d: %w", conversationID, err)
	}
	return nil
}

// recordsQuery reads conversations opened since (a condition on
// opened_at, "" for all) with their first customer message and the first
// bot or agent message stored after it (the greeting, stored before, is not
// an answer). Order is the order messages were stored.
func recordsQuery(since string) string {
	return `WITH c AS (
		SELECT id, platform, workspace, user_id, customer_id, topic, opened_at, last_message_at, closed_at,
			prompt_tokens, completion_tokens,
			(SELECT MIN(m.id) FROM messages m WHERE m.conversation_id = conversations.id AND m.role = 'customer') AS first_customer
		FROM conversations
		` + since + `
	)
	SELECT id, platform, workspace, user_id, COALESCE(customer_id, ''), topic, opened_at, last_message_at, closed_at,
		prompt_tokens, completion_tokens,
		(SELECT m.created_at FROM messages m WHERE m.id = c.first_customer),
		(SELECT MIN(r.created_at) FROM messages r
			WHERE r.conversation_id = c.id AND r.role IN ('bot', 'agent') AND r.id > c.first_customer)
	FROM c ORDER BY opened_at, id`
}

// ConversationRecords implements stats.Records.
func (s *Store) ConversationRecords(ctx context.Context, since time.Time) ([]stats.Conversation, error) {
	rtx, err := s.read.BeginTx(ctx, s.d.readTxOptions())
	if err != nil {
		return nil, s.errorf("conversation records: %w", s.d.redact(err))
	}
	defer func() { _ = rtx.Rollback() }() // read-only: nothing to undo
	t := &tx{conn: conn{rtx, s.d}, now: s.now}
	where, args := "", []any{} // the zero time: every conversation
	if !since.IsZero() {
		where, args = "WHERE opened_at >= $1", []any{stamp(since)}
	}
	convs, err := queryAll(ctx, t, func(r scanner) (stats.Conversation, error) {
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
	}, recordsQuery(where), args...)
	if err != nil {
		return nil, s.errorf("conversation records since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	type owned struct {
		conv int64
		h    stats.Handoff
	}
	if where != "" {
		where = "WHERE c.opened_at >= $1"
	}
	hs, err := queryAll(ctx, t, func(r scanner) (owned, error) {
		var o owned
		var rating int64
		err := r.Scan(&o.conv, timeCol{&o.h.CreatedAt}, timeCol{&o.h.ClaimedAt}, timeCol{&o.h.ResolvedAt}, &rating)
		o.h.Rating = int(rating)
		return o, err
	}, `SELECT h.conversation_id, h.created_at, h.claimed_at, h.resolved_at, COALESCE(h.rating, 0)
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		`+where+`
		ORDER BY h.conversation_id, h.created_at, h.id`, args...)
	if err != nil {
		return nil, s.errorf("handoff records since %s: %w", since.UTC().Format(time.RFC3339), err)
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
	type vote struct {
		conv int64
		v    stats.Vote
	}
	vs, err := queryAll(ctx, t, func(r scanner) (vote, error) {
		var v vote
		err := r.Scan(&v.conv, &v.v.PromptVersion, &v.v.Helpful)
		return v, err
	}, `SELECT f.conversation_id, m.prompt_version, f.helpful
		FROM feedback f JOIN messages m ON m.id = f.message_id JOIN conversations c ON c.id = f.conversation_id
		`+where+`
		ORDER BY f.conversation_id, f.message_id`, args...)
	if err != nil {
		return nil, s.errorf("feedback records since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	for _, v := range vs {
		if i, ok := byID[v.conv]; ok {
			convs[i].Votes = append(convs[i].Votes, v.v)
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
	qs, err := queryAll(ctx, s.r, func(r scanner) (stats.Queued, error) {
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
	if err != nil {
		return nil, s.errorf("open handoffs: %w", s.d.redact(err))
	}
	return qs, nil
}

// OutboxPending counts the outgoing messages not yet delivered (nor given
// up on), for the firstline_outbox_pending gauge.
func (s *Store) OutboxPending(ctx context.Context) (int, error) {
	var n int64
	if err := s.r.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, s.errorf("count pending outbox rows: %w", s.d.redact(err))
	}
	return int(n), nil
}

// AddFeedback implements bot.Feedbacks.
func (t *tx) AddFeedback(ctx context.Context, f bot.Feedback) (bool, error) {
	if f.At.IsZero() {
		f.At = t.now()
	}
	n, err := t.execN(ctx, `INSERT INTO feedback (message_id, conversation_id, helpful, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING`,
		f.MessageID, f.ConversationID, f.Helpful, stamp(f.At))
	if err != nil {
		return false, t.errorf("add feedback on message %d: %w", f.MessageID, err)
	}
	return n == 1, nil
}

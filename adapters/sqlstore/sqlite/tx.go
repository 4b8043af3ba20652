package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// tx implements bot.Tx on one SQLite transaction.
type tx struct {
	tx  *sql.Tx
	now func() time.Time
}

// Conversations

const conversationCols = `id, platform, workspace, channel, thread, state, private,
	user_id, user_name, customer_id, lang, rating_handoff_id, misses,
	opened_at, last_message_at, closed_at`

func scanConversation(r scanner) (bot.Conversation, error) {
	var c bot.Conversation
	err := r.Scan(&c.ID, &c.Key.Platform, &c.Key.Workspace, &c.Key.Channel, &c.Key.Thread, &c.State, &c.Private,
		&c.User, &c.UserName, orZero(&c.CustomerID), &c.Lang, orZero(&c.RatingHandoffID), &c.Misses,
		timeDest{&c.OpenedAt}, timeDest{&c.LastMessageAt}, timeDest{&c.ClosedAt})
	return c, err
}

// ActiveConversation implements bot.Conversations.
func (t *tx) ActiveConversation(ctx context.Context, key bot.ConversationKey) (bot.Conversation, error) {
	c, err := scanConversation(t.tx.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE platform = ? AND workspace = ? AND channel = ? AND thread = ? AND closed_at IS NULL`,
		key.Platform, key.Workspace, key.Channel, key.Thread))
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("sqlite: active conversation %s/%s/%s/%s: %w",
			key.Platform, key.Workspace, key.Channel, key.Thread, notFound(err))
	}
	return c, nil
}

// Conversation implements bot.Conversations.
func (t *tx) Conversation(ctx context.Context, id int64) (bot.Conversation, error) {
	c, err := scanConversation(t.tx.QueryRowContext(ctx,
		`SELECT `+conversationCols+` FROM conversations WHERE id = ?`, id))
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("sqlite: conversation %d: %w", id, notFound(err))
	}
	return c, nil
}

// CreateConversation implements bot.Conversations. An empty State is
// stored as bot.StateBot and a zero OpenedAt as now; both are written back
// to c. It fails when another conversation is open at c.Key.
func (t *tx) CreateConversation(ctx context.Context, c *bot.Conversation) error {
	if c.State == "" {
		c.State = bot.StateBot
	}
	if c.OpenedAt.IsZero() {
		c.OpenedAt = t.now()
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO conversations (platform, workspace, channel, thread, state, private,
			user_id, user_name, customer_id, lang, rating_handoff_id, misses, opened_at, last_message_at, closed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Key.Platform, c.Key.Workspace, c.Key.Channel, c.Key.Thread, c.State, c.Private,
		c.User, c.UserName, orNull(c.CustomerID), c.Lang, orNull(c.RatingHandoffID), c.Misses,
		nanos(c.OpenedAt), nanos(c.LastMessageAt), nanos(c.ClosedAt))
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite: create conversation: another conversation is open at %s/%s/%s/%s: %w",
				c.Key.Platform, c.Key.Workspace, c.Key.Channel, c.Key.Thread, err)
		}
		return fmt.Errorf("sqlite: create conversation: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: create conversation: %w", err)
	}
	return nil
}

// UpdateConversation implements bot.Conversations.
func (t *tx) UpdateConversation(ctx context.Context, c bot.Conversation) error {
	ok, err := execOne(ctx, t.tx, `UPDATE conversations SET state = ?, lang = ?, rating_handoff_id = ?, misses = ?,
			customer_id = ?, last_message_at = ?, closed_at = ?
		WHERE id = ?`,
		c.State, c.Lang, orNull(c.RatingHandoffID), c.Misses,
		orNull(c.CustomerID), nanos(c.LastMessageAt), nanos(c.ClosedAt), c.ID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: update conversation %d: %w", c.ID, err)
	}
	return nil
}

// Messages

const messageCols = `id, conversation_id, role, author, author_name, text, dedupe_key,
	prompt_version, processed, created_at`

func scanMessage(r scanner) (bot.Message, error) {
	var m bot.Message
	err := r.Scan(&m.ID, &m.ConversationID, &m.Role, &m.Author, &m.AuthorName, &m.Text, orZero(&m.DedupeKey),
		&m.PromptVersion, &m.Processed, timeDest{&m.CreatedAt})
	return m, err
}

// AddMessage implements bot.Messages. A zero CreatedAt is stored as now
// and written back to m.
func (t *tx) AddMessage(ctx context.Context, m *bot.Message) (bool, error) {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t.now()
	}
	// The conflict target names the partial unique index on set keys; a
	// duplicate inserts nothing and changes no rows.
	res, err := t.tx.ExecContext(ctx, `INSERT INTO messages (conversation_id, role, author, author_name, text,
			dedupe_key, prompt_version, processed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		m.ConversationID, m.Role, m.Author, m.AuthorName, m.Text,
		orNull(m.DedupeKey), m.PromptVersion, m.Processed, nanos(m.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: add message to conversation %d: %w", m.ConversationID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: add message to conversation %d: %w", m.ConversationID, err)
	}
	if n == 0 {
		return false, nil
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return false, fmt.Errorf("sqlite: add message to conversation %d: %w", m.ConversationID, err)
	}
	return true, nil
}

// Message implements bot.Messages.
func (t *tx) Message(ctx context.Context, id int64) (bot.Message, error) {
	m, err := scanMessage(t.tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
	if err != nil {
		return bot.Message{}, fmt.Errorf("sqlite: message %d: %w", id, notFound(err))
	}
	return m, nil
}

// MessageByDedupeKey implements bot.Messages.
func (t *tx) MessageByDedupeKey(ctx context.Context, key string) (bot.Message, error) {
	m, err := scanMessage(t.tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE dedupe_key = ?`, key))
	if err != nil {
		return bot.Message{}, fmt.Errorf("sqlite: message by dedupe key: %w", notFound(err))
	}
	return m, nil
}

// RecentMessages implements bot.Messages. Order is the order messages were
// stored (ID), not CreatedAt: a reply is stored after the message it
// answers, whatever the clocks that stamped them say.
func (t *tx) RecentMessages(ctx context.Context, conversationID int64, limit int) ([]bot.Message, error) {
	ms, err := queryAll(ctx, t.tx, scanMessage, `SELECT `+messageCols+` FROM (
			SELECT `+messageCols+` FROM messages WHERE conversation_id = ?
			ORDER BY id DESC LIMIT ?
		) ORDER BY id`, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent messages of conversation %d: %w", conversationID, err)
	}
	return ms, nil
}

// MarkProcessed implements bot.Messages.
func (t *tx) MarkProcessed(ctx context.Context, messageID int64) (bool, error) {
	changed, err := execOne(ctx, t.tx, `UPDATE messages SET processed = 1 WHERE id = ? AND processed = 0`, messageID)
	if err == nil && !changed {
		// Processed already, or no such message.
		var n int
		err = t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE id = ?`, messageID).Scan(&n)
		if err == nil && n == 0 {
			err = bot.ErrNotFound
		}
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: mark message %d processed: %w", messageID, err)
	}
	return changed, nil
}

// Handoffs

const handoffCols = `id, conversation_id, state, triggered_by, reason, agent_platform, agent_channel,
	announce_id, agent_id, agent_name, rating, created_at, claimed_at, resolved_at`

func scanHandoff(r scanner) (bot.Handoff, error) {
	var h bot.Handoff
	err := r.Scan(&h.ID, &h.ConversationID, &h.State, &h.Trigger, &h.Reason, &h.AgentPlatform, &h.AgentChannel,
		orZero(&h.AnnounceID), &h.AgentID, &h.AgentName, orZero(&h.Rating),
		timeDest{&h.CreatedAt}, timeDest{&h.ClaimedAt}, timeDest{&h.ResolvedAt})
	return h, err
}

// CreateHandoff implements bot.Handoffs. An empty State is stored as
// bot.HandoffWaiting and a zero CreatedAt as now; both are written back to h.
func (t *tx) CreateHandoff(ctx context.Context, h *bot.Handoff) error {
	if h.State == "" {
		h.State = bot.HandoffWaiting
	}
	if h.CreatedAt.IsZero() {
		h.CreatedAt = t.now()
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO handoffs (conversation_id, state, triggered_by, reason,
			agent_platform, agent_channel, announce_id, agent_id, agent_name, rating,
			created_at, claimed_at, resolved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ConversationID, h.State, h.Trigger, h.Reason,
		h.AgentPlatform, h.AgentChannel, orNull(h.AnnounceID), h.AgentID, h.AgentName, orNull(h.Rating),
		nanos(h.CreatedAt), nanos(h.ClaimedAt), nanos(h.ResolvedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create handoff for conversation %d: %w", h.ConversationID, err)
	}
	if h.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: create handoff for conversation %d: %w", h.ConversationID, err)
	}
	return nil
}

// Handoff implements bot.Handoffs.
func (t *tx) Handoff(ctx context.Context, id int64) (bot.Handoff, error) {
	h, err := scanHandoff(t.tx.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE id = ?`, id))
	if err != nil {
		return bot.Handoff{}, fmt.Errorf("sqlite: handoff %d: %w", id, notFound(err))
	}
	return h, nil
}

// OpenHandoff implements bot.Handoffs. Should a conversation somehow have
// several open handoffs, the newest (last stored) is returned.
func (t *tx) OpenHandoff(ctx context.Context, conversationID int64) (bot.Handoff, error) {
	h, err := scanHandoff(t.tx.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs
		WHERE conversation_id = ? AND state IN ('waiting', 'claimed')
		ORDER BY id DESC LIMIT 1`, conversationID))
	if err != nil {
		return bot.Handoff{}, fmt.Errorf("sqlite: open handoff of conversation %d: %w", conversationID, notFound(err))
	}
	return h, nil
}

// HandoffByThread implements bot.Handoffs: the handoff whose announcement's
// outbox row was delivered as message ref in channel on platform p.
func (t *tx) HandoffByThread(ctx context.Context, p bot.Platform, channel, ref string) (bot.Handoff, error) {
	h, err := scanHandoff(t.tx.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE id = (
			SELECT h.id FROM handoffs h JOIN outbox o ON o.id = h.announce_id
			WHERE o.platform = ? AND o.channel = ? AND o.platform_msg_id = ?
			ORDER BY h.id DESC LIMIT 1
		)`, p, channel, ref))
	if err != nil {
		return bot.Handoff{}, fmt.Errorf("sqlite: handoff by thread %s/%s/%s: %w", p, channel, ref, notFound(err))
	}
	return h, nil
}

// SetAnnounce implements bot.Handoffs.
func (t *tx) SetAnnounce(ctx context.Context, handoffID, outboxID int64) error {
	ok, err := execOne(ctx, t.tx, `UPDATE handoffs SET announce_id = ? WHERE id = ?`, orNull(outboxID), handoffID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: set announcement of handoff %d to outbox %d: %w", handoffID, outboxID, err)
	}
	return nil
}

// ClaimHandoff implements bot.Handoffs. The state test is part of the
// UPDATE, so of concurrent claims only the first changes the row.
func (t *tx) ClaimHandoff(ctx context.Context, id int64, agentID, agentName string, at time.Time) (bool, error) {
	ok, err := t.transition(ctx, id, `UPDATE handoffs SET state = 'claimed', agent_id = ?, agent_name = ?, claimed_at = ?
		WHERE id = ? AND state = 'waiting'`, agentID, agentName, nanos(at), id)
	if err != nil {
		return false, fmt.Errorf("sqlite: claim handoff %d: %w", id, err)
	}
	return ok, nil
}

// UnclaimHandoff implements bot.Handoffs. The agent fields are cleared, so
// the handoff reads as it did before it was claimed.
func (t *tx) UnclaimHandoff(ctx context.Context, id int64) (bool, error) {
	ok, err := t.transition(ctx, id, `UPDATE handoffs SET state = 'waiting', agent_id = '', agent_name = '', claimed_at = NULL
		WHERE id = ? AND state = 'claimed'`, id)
	if err != nil {
		return false, fmt.Errorf("sqlite: unclaim handoff %d: %w", id, err)
	}
	return ok, nil
}

// ResolveHandoff implements bot.Handoffs.
func (t *tx) ResolveHandoff(ctx context.Context, id int64, at time.Time) (bool, error) {
	ok, err := t.transition(ctx, id, `UPDATE handoffs SET state = 'resolved', resolved_at = ?
		WHERE id = ? AND state IN ('waiting', 'claimed')`, nanos(at), id)
	if err != nil {
		return false, fmt.Errorf("sqlite: resolve handoff %d: %w", id, err)
	}
	return ok, nil
}

// transition runs a conditional state change of handoff id. It reports
// whether the row changed; when it did not, it tells a handoff in another
// state (false, nil) from a handoff that does not exist (bot.ErrNotFound).
func (t *tx) transition(ctx context.Context, id int64, query string, args ...any) (bool, error) {
	ok, err := execOne(ctx, t.tx, query, args...)
	if err != nil || ok {
		return ok, err
	}
	var exists bool
	if err := t.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM handoffs WHERE id = ?)`, id).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, bot.ErrNotFound
	}
	return false, nil
}

// RateHandoff implements bot.Handoffs. A rating outside 1–5 is an error.
func (t *tx) RateHandoff(ctx context.Context, id int64, rating int) error {
	if rating < 1 || rating > 5 {
		return fmt.Errorf("sqlite: rate handoff %d: rating %d is not between 1 and 5", id, rating)
	}
	ok, err := execOne(ctx, t.tx, `UPDATE handoffs SET rating = ? WHERE id = ?`, rating, id)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: rate handoff %d: %w", id, err)
	}
	return nil
}

// QueuePosition implements bot.Handoffs. Ties in CreatedAt are broken by
// ID, so positions are distinct. A handoff that does not exist is
// bot.ErrNotFound.
func (t *tx) QueuePosition(ctx context.Context, id int64) (int, error) {
	var pos int
	err := t.tx.QueryRowContext(ctx, `SELECT CASE WHEN h.state = 'waiting' THEN (
			SELECT COUNT(*) FROM handoffs w
			WHERE w.state = 'waiting' AND (w.created_at, w.id) <= (h.created_at, h.id)
		) ELSE 0 END
		FROM handoffs h WHERE h.id = ?`, id).Scan(&pos)
	if err != nil {
		return 0, fmt.Errorf("sqlite: queue position of handoff %d: %w", id, notFound(err))
	}
	return pos, nil
}

// Outbox

// buttonJSON is how a button is stored: explicit names, so renaming a Go
// field does not break rows already queued.
type buttonJSON struct {
	Action bot.Action `json:"action"`
	Label  string     `json:"label"`
	Value  string     `json:"value,omitempty"`
}

func encodeButtons(bs []bot.Button) (any, error) {
	if len(bs) == 0 {
		return nil, nil
	}
	js := make([]buttonJSON, len(bs))
	for i, b := range bs {
		js[i] = buttonJSON(b)
	}
	b, err := json.Marshal(js)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func decodeButtons(s string) ([]bot.Button, error) {
	if s == "" {
		return nil, nil
	}
	var js []buttonJSON
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("decode buttons: %w", err)
	}
	bs := make([]bot.Button, len(js))
	for i, j := range js {
		bs[i] = bot.Button(j)
	}
	return bs, nil
}

// Enqueue implements bot.Outbox. The row is stored pending with no
// attempts, due at CreatedAt (now when zero); these are written back to m.
// An empty Stream becomes the destination (platform, workspace, channel,
// thread), so messages to one place keep their order and a stuck place
// holds back only itself.
func (t *tx) Enqueue(ctx context.Context, m *bot.Outgoing) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t.now()
	}
	if m.Stream == "" {
		m.Stream = defaultStream(m)
	}
	buttons, err := encodeButtons(m.Buttons)
	if err != nil {
		return fmt.Errorf("sqlite: enqueue: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO outbox (platform, workspace, channel, thread, parent_id, stream,
			kind, author, text, buttons, mention, conversation_id, handoff_id,
			status, attempts, next_attempt_at, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?)`,
		m.Platform, m.Workspace, m.Channel, m.Thread, orNull(m.ParentID), m.Stream,
		m.Kind, m.Author, m.Text, buttons, m.Mention, orNull(m.ConversationID), orNull(m.HandoffID),
		nanos(m.CreatedAt), nanos(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: enqueue %s message to %s/%s: %w", m.Kind, m.Platform, m.Channel, err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: enqueue %s message to %s/%s: %w", m.Kind, m.Platform, m.Channel, err)
	}
	m.Status, m.Attempts, m.NextAttemptAt = bot.OutPending, 0, m.CreatedAt
	m.LastError, m.PlatformMsgID, m.SentAt = "", "", time.Time{}
	return nil
}

// defaultStream is the stream Enqueue gives a message that names none: its
// destination.
func defaultStream(m *bot.Outgoing) string {
	return fmt.Sprintf("%s:%s:%s:%s", m.Platform, m.Workspace, m.Channel, m.Thread)
}

// Identities

// CustomerFor implements bot.Identities.
func (t *tx) CustomerFor(ctx context.Context, id bot.Identity) (string, error) {
	var customerID string
	err := t.tx.QueryRowContext(ctx, `SELECT customer_id FROM identities
		WHERE platform = ? AND workspace = ? AND user_id = ?`, id.Platform, id.Workspace, id.User).Scan(&customerID)
	if err != nil {
		return "", fmt.Errorf("sqlite: customer for %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return customerID, nil
}

// Customer implements bot.Identities.
func (t *tx) Customer(ctx context.Context, id string) (bot.Customer, error) {
	c, err := customer(ctx, t.tx, id)
	if err != nil {
		return bot.Customer{}, fmt.Errorf("sqlite: customer %s: %w", id, err)
	}
	return c, nil
}

func customer(ctx context.Context, q querier, id string) (bot.Customer, error) {
	var c bot.Customer
	err := q.QueryRowContext(ctx, `SELECT id, name, email FROM customers WHERE id = ?`, id).Scan(&c.ID, &c.Name, &c.Email)
	return c, notFound(err)
}

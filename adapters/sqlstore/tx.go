package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Conversations

// conversationCols are the columns scanConversation reads; nullable ones
// read back as their zero value.
const conversationCols = `id, platform, workspace, channel, thread, state, private,
	user_id, user_name, COALESCE(customer_id, ''), lang, COALESCE(rating_handoff_id, 0), misses,
	opened_at, last_message_at, closed_at`

func scanConversation(r scanner) (bot.Conversation, error) {
	var c bot.Conversation
	err := r.Scan(&c.ID, &c.Key.Platform, &c.Key.Workspace, &c.Key.Channel, &c.Key.Thread, &c.State, &c.Private,
		&c.User, &c.UserName, &c.CustomerID, &c.Lang, &c.RatingHandoffID, &c.Misses,
		timeCol{&c.OpenedAt}, timeCol{&c.LastMessageAt}, timeCol{&c.ClosedAt})
	return c, err
}

// ActiveConversation implements bot.Conversations. The row is locked until
// the transaction ends: replicas handling messages of one conversation take
// turns. A lock wait that ends with the conversation closed finds none.
func (t *tx) ActiveConversation(ctx context.Context, key bot.ConversationKey) (bot.Conversation, error) {
	c, err := scanConversation(t.queryRow(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE platform = $1 AND workspace = $2 AND channel = $3 AND thread = $4 AND closed_at IS NULL`+t.d.lockRow(),
		key.Platform, key.Workspace, key.Channel, key.Thread))
	if err != nil {
		err = notFound(err)
		if errors.Is(err, bot.ErrNotFound) {
			if t.missed == nil {
				t.missed = map[bot.ConversationKey]bool{}
			}
			t.missed[key] = true
		}
		return bot.Conversation{}, t.errorf("active conversation %s/%s/%s/%s: %w",
			key.Platform, key.Workspace, key.Channel, key.Thread, err)
	}
	return c, nil
}

// Conversation implements bot.Conversations. The row is locked until the
// transaction ends.
func (t *tx) Conversation(ctx context.Context, id int64) (bot.Conversation, error) {
	c, err := scanConversation(t.queryRow(ctx,
		`SELECT `+conversationCols+` FROM conversations WHERE id = $1`+t.d.lockRow(), id))
	if err != nil {
		return bot.Conversation{}, t.errorf("conversation %d: %w", id, notFound(err))
	}
	return c, nil
}

// CreateConversation implements bot.Conversations. An empty State is
// stored as bot.StateBot and a zero OpenedAt as now; both are written back
// to c. It fails when another conversation is open at c.Key; if this
// transaction had found none there (ActiveConversation), another replica
// created it meanwhile and WithTx runs the transaction again.
func (t *tx) CreateConversation(ctx context.Context, c *bot.Conversation) error {
	if c.State == "" {
		c.State = bot.StateBot
	}
	if c.OpenedAt.IsZero() {
		c.OpenedAt = t.now()
	}
	var err error
	c.ID, _, err = t.insert(ctx, `INSERT INTO conversations (platform, workspace, channel, thread, state, private,
			user_id, user_name, customer_id, lang, rating_handoff_id, misses, opened_at, last_message_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.Key.Platform, c.Key.Workspace, c.Key.Channel, c.Key.Thread, c.State, c.Private,
		c.User, c.UserName, orNull(c.CustomerID), c.Lang, orNull(c.RatingHandoffID), c.Misses,
		stamp(c.OpenedAt), stamp(c.LastMessageAt), stamp(c.ClosedAt))
	if err != nil {
		if t.d.uniqueViolation(err, "conversations_open_key") {
			if c.ClosedAt.IsZero() && t.missed[c.Key] {
				t.raced = true
			}
			return t.errorf("create conversation: another conversation is open at %s/%s/%s/%s: %w",
				c.Key.Platform, c.Key.Workspace, c.Key.Channel, c.Key.Thread, err)
		}
		return t.errorf("create conversation: %w", err)
	}
	return nil
}

// UpdateConversation implements bot.Conversations.
func (t *tx) UpdateConversation(ctx context.Context, c bot.Conversation) error {
	ok, err := t.execOne(ctx, `UPDATE conversations SET state = $1, lang = $2, rating_handoff_id = $3, misses = $4,
			customer_id = $5, last_message_at = $6, closed_at = $7
		WHERE id = $8`,
		c.State, c.Lang, orNull(c.RatingHandoffID), c.Misses,
		orNull(c.CustomerID), stamp(c.LastMessageAt), stamp(c.ClosedAt), c.ID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return t.errorf("update conversation %d: %w", c.ID, err)
	}
	return nil
}

// Messages

const messageCols = `id, conversation_id, role, author, author_name, text, COALESCE(dedupe_key, ''),
	prompt_version, processed, created_at`

func scanMessage(r scanner) (bot.Message, error) {
	var m bot.Message
	err := r.Scan(&m.ID, &m.ConversationID, &m.Role, &m.Author, &m.AuthorName, &m.Text, &m.DedupeKey,
		&m.PromptVersion, &m.Processed, timeCol{&m.CreatedAt})
	return m, err
}

// AddMessage implements bot.Messages. A zero CreatedAt is stored as now
// and written back to m. A duplicate is recognized however close the two
// deliveries are: ON CONFLICT waits for a concurrent insert of the same key
// to commit or roll back, and does not abort the transaction.
func (t *tx) AddMessage(ctx context.Context, m *bot.Message) (bool, error) {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t.now()
	}
	// The conflict target names the partial unique index on set keys; a
	// duplicate inserts nothing.
	id, inserted, err := t.insert(ctx, `INSERT INTO messages (conversation_id, role, author, author_name, text,
			dedupe_key, prompt_version, processed, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		m.ConversationID, m.Role, m.Author, m.AuthorName, m.Text,
		orNull(m.DedupeKey), m.PromptVersion, m.Processed, stamp(m.CreatedAt))
	if err != nil {
		return false, t.errorf("add message to conversation %d: %w", m.ConversationID, err)
	}
	if inserted {
		m.ID = id
	}
	return inserted, nil
}

// Message implements bot.Messages.
func (t *tx) Message(ctx context.Context, id int64) (bot.Message, error) {
	m, err := scanMessage(t.queryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE id = $1`, id))
	if err != nil {
		return bot.Message{}, t.errorf("message %d: %w", id, notFound(err))
	}
	return m, nil
}

// MessageByDedupeKey implements bot.Messages.
func (t *tx) MessageByDedupeKey(ctx context.Context, key string) (bot.Message, error) {
	m, err := scanMessage(t.queryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE dedupe_key = $1`, key))
	if err != nil {
		return bot.Message{}, t.errorf("message by dedupe key: %w", notFound(err))
	}
	return m, nil
}

// RecentMessages implements bot.Messages. Order is the order messages were
// stored (ID), not CreatedAt: a reply is stored after the message it
// answers, whatever the clocks that stamped them say.
func (t *tx) RecentMessages(ctx context.Context, conversationID int64, limit int) ([]bot.Message, error) {
	ms, err := queryAll(ctx, t, scanMessage, `SELECT `+messageCols+` FROM (
			SELECT * FROM messages WHERE conversation_id = $1
			ORDER BY id DESC LIMIT $2
		) recent ORDER BY id`, conversationID, limit)
	if err != nil {
		return nil, t.errorf("recent messages of conversation %d: %w", conversationID, err)
	}
	return ms, nil
}

// MarkProcessed implements bot.Messages. Of transactions marking one
// message at once, the first changes it; the others wait for its commit,
// find the message processed and report false.
func (t *tx) MarkProcessed(ctx context.Context, messageID int64) (bool, error) {
	changed, err := t.execOne(ctx, `UPDATE messages SET processed = TRUE WHERE id = $1 AND `+t.d.isFalse("processed"), messageID)
	if err == nil && !changed {
		// Processed already, or no such message.
		var exists bool
		err = t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1)`, messageID).Scan(&exists)
		if err == nil && !exists {
			err = bot.ErrNotFound
		}
	}
	if err != nil {
		return false, t.errorf("mark message %d processed: %w", messageID, err)
	}
	return changed, nil
}

// Handoffs

const handoffCols = `h.id, h.conversation_id, h.state, h.triggered_by, h.reason, h.agent_platform, h.agent_channel,
	COALESCE(h.announce_id, 0), h.agent_id, h.agent_name, COALESCE(h.rating, 0), h.created_at, h.claimed_at, h.resolved_at`

// handoffDest returns the scan destinations of handoffCols.
func handoffDest(h *bot.Handoff) []any {
	return []any{&h.ID, &h.ConversationID, &h.State, &h.Trigger, &h.Reason, &h.AgentPlatform, &h.AgentChannel,
		&h.AnnounceID, &h.AgentID, &h.AgentName, &h.Rating,
		timeCol{&h.CreatedAt}, timeCol{&h.ClaimedAt}, timeCol{&h.ResolvedAt}}
}

func scanHandoff(r scanner) (bot.Handoff, error) {
	var h bot.Handoff
	err := r.Scan(handoffDest(&h)...)
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
	var err error
	h.ID, _, err = t.insert(ctx, `INSERT INTO handoffs (conversation_id, state, triggered_by, reason,
			agent_platform, agent_channel, announce_id, agent_id, agent_name, rating,
			created_at, claimed_at, resolved_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		h.ConversationID, h.State, h.Trigger, h.Reason,
		h.AgentPlatform, h.AgentChannel, orNull(h.AnnounceID), h.AgentID, h.AgentName, orNull(h.Rating),
		stamp(h.CreatedAt), stamp(h.ClaimedAt), stamp(h.ResolvedAt))
	if err != nil {
		return t.errorf("create handoff for conversation %d: %w", h.ConversationID, err)
	}
	return nil
}

// Handoff implements bot.Handoffs. The row is locked until the transaction
// ends, so a handoff action decided on what was read (unclaim by the agent
// who claimed it, transfer) cannot act on a state another replica changed
// in between.
func (t *tx) Handoff(ctx context.Context, id int64) (bot.Handoff, error) {
	h, err := scanHandoff(t.queryRow(ctx, `SELECT `+handoffCols+` FROM handoffs h WHERE h.id = $1`+t.d.lockRow(), id))
	if err != nil {
		return bot.Handoff{}, t.errorf("handoff %d: %w", id, notFound(err))
	}
	return h, nil
}

// OpenHandoff implements bot.Handoffs. Should a conversation somehow have
// several open handoffs, the newest (last stored) is returned.
//
// It does not lock: the engine calls it with the conversation locked (the
// conversation's lock already orders it against agents' actions, which
// lock the handoff and then the conversation), and locking the handoff
// after the conversation would take the two locks in the opposite order to
// the handoff flow, a deadlock waiting to happen.
func (t *tx) OpenHandoff(ctx context.Context, conversationID int64) (bot.Handoff, error) {
	h, err := scanHandoff(t.queryRow(ctx, `SELECT `+handoffCols+` FROM handoffs h
		WHERE h.conversation_id = $1 AND h.state IN ('waiting', 'claimed')
		ORDER BY h.id DESC LIMIT 1`, conversationID))
	if err != nil {
		return bot.Handoff{}, t.errorf("open handoff of conversation %d: %w", conversationID, notFound(err))
	}
	return h, nil
}

// OpenHandoffOf implements bot.Handoffs.
func (t *tx) OpenHandoffOf(ctx context.Context, id bot.Identity) (bot.Handoff, error) {
	h, err := scanHandoff(t.queryRow(ctx, `SELECT `+handoffCols+` FROM handoffs h
		JOIN conversations c ON c.id = h.conversation_id
		WHERE h.state IN ('waiting', 'claimed') AND c.platform = $1 AND c.workspace = $2 AND c.user_id = $3
		ORDER BY h.id LIMIT 1`, id.Platform, id.Workspace, id.User))
	if err != nil {
		return bot.Handoff{}, t.errorf("open handoff of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return h, nil
}

// HandoffByThread implements bot.Handoffs: the handoff whose announcement's
// outbox row was delivered as message ref in channel on platform p. Like
// Handoff, it locks the handoff until the transaction ends.
func (t *tx) HandoffByThread(ctx context.Context, p bot.Platform, channel, ref string) (bot.Handoff, error) {
	h, err := scanHandoff(t.queryRow(ctx, `SELECT `+handoffCols+` FROM handoffs h WHERE h.id = (
			SELECT a.id FROM handoffs a JOIN outbox o ON o.id = a.announce_id
			WHERE o.platform = $1 AND o.channel = $2 AND o.platform_msg_id = $3
			ORDER BY a.id DESC LIMIT 1
		)`+t.d.lockRow(), p, channel, ref))
	if err != nil {
		return bot.Handoff{}, t.errorf("handoff by thread %s/%s/%s: %w", p, channel, ref, notFound(err))
	}
	return h, nil
}

// SetAnnounce implements bot.Handoffs.
func (t *tx) SetAnnounce(ctx context.Context, handoffID, outboxID int64) error {
	ok, err := t.execOne(ctx, `UPDATE handoffs SET announce_id = $1 WHERE id = $2`, orNull(outboxID), handoffID)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return t.errorf("set announcement of handoff %d to outbox %d: %w", handoffID, outboxID, err)
	}
	return nil
}

// ClaimHandoff implements bot.Handoffs. The state test is part of the
// UPDATE: a concurrent claim waits for the row lock, then finds the row
// claimed (READ COMMITTED re-checks the condition on the row's newest
// version; SQLite runs one writer at a time) and changes nothing. Of
// concurrent claims, on any replicas, exactly one wins.
func (t *tx) ClaimHandoff(ctx context.Context, id int64, agentID, agentName string, at time.Time) (bool, error) {
	ok, err := t.transition(ctx, id, `UPDATE handoffs SET state = 'claimed', agent_id = $1, agent_name = $2, claimed_at = $3
		WHERE id = $4 AND state = 'waiting'`, agentID, agentName, stamp(at), id)
	if err != nil {
		return false, t.errorf("claim handoff %d: %w", id, err)
	}
	return ok, nil
}

// UnclaimHandoff implements bot.Handoffs. The agent fields are cleared, so
// the handoff reads as it did before it was claimed.
func (t *tx) UnclaimHandoff(ctx context.Context, id int64) (bool, error) {
	ok, err := t.transition(ctx, id, `UPDATE handoffs SET state = 'waiting', agent_id = '', agent_name = '', claimed_at = NULL
		WHERE id = $1 AND state = 'claimed'`, id)
	if err != nil {
		return false, t.errorf("unclaim handoff %d: %w", id, err)
	}
	return ok, nil
}

// ResolveHandoff implements bot.Handoffs.
func (t *tx) ResolveHandoff(ctx context.Context, id int64, at time.Time) (bool, error) {
	ok, err := t.transition(ctx, id, `UPDATE handoffs SET state = 'resolved', resolved_at = $1
		WHERE id = $2 AND state IN ('waiting', 'claimed')`, stamp(at), id)
	if err != nil {
		return false, t.errorf("resolve handoff %d: %w", id, err)
	}
	return ok, nil
}

// transition runs a conditional state change of handoff id. It reports
// whether the row changed; when it did not, it tells a handoff in another
// state (false, nil) from a handoff that does not exist (bot.ErrNotFound).
func (t *tx) transition(ctx context.Context, id int64, query string, args ...any) (bool, error) {
	ok, err := t.execOne(ctx, query, args...)
	if err != nil || ok {
		return ok, err
	}
	var exists bool
	if err := t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM handoffs WHERE id = $1)`, id).Scan(&exists); err != nil {
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
		return t.errorf("rate handoff %d: rating %d is not between 1 and 5", id, rating)
	}
	ok, err := t.execOne(ctx, `UPDATE handoffs SET rating = $1 WHERE id = $2`, rating, id)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return t.errorf("rate handoff %d: %w", id, err)
	}
	return nil
}

// QueuePosition implements bot.Handoffs. Ties in CreatedAt are broken by
// ID, so positions are distinct. A handoff that does not exist is
// bot.ErrNotFound. Handoffs other replicas are opening count once they
// commit.
func (t *tx) QueuePosition(ctx context.Context, id int64) (int, error) {
	var pos int
	err := t.queryRow(ctx, `SELECT CASE WHEN h.state = 'waiting' THEN (
			SELECT COUNT(*) FROM handoffs w
			WHERE w.state = 'waiting' AND (w.created_at, w.id) <= (h.created_at, h.id)
		) ELSE 0 END
		FROM handoffs h WHERE h.id = $1`, id).Scan(&pos)
	if err != nil {
		return 0, t.errorf("queue position of handoff %d: %w", id, notFound(err))
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

// encodeButtons returns the JSON text of bs, or nil (NULL) when there are
// none. Text rather than []byte, so that it reaches PostgreSQL's JSONB
// column as JSON also over the simple protocol
// (default_query_exec_mode=simple_protocol, behind PgBouncer), where
// []byte would be sent as bytea.
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

func decodeButtons(b []byte) ([]bot.Button, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var js []buttonJSON
	if err := json.Unmarshal(b, &js); err != nil {
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
	due := m.CreatedAt
	if m.NextAttemptAt.After(due) {
		due = m.NextAttemptAt
	}
	buttons, err := encodeButtons(m.Buttons)
	if err != nil {
		return t.errorf("enqueue: %w", err)
	}
	m.ID, _, err = t.insert(ctx, `INSERT INTO outbox (platform, workspace, channel, thread, parent_id, stream,
			kind, author, text, buttons, mention, conversation_id, handoff_id,
			status, attempts, next_attempt_at, last_error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', 0, $14, '', $15)`,
		m.Platform, m.Workspace, m.Channel, m.Thread, orNull(m.ParentID), m.Stream,
		m.Kind, m.Author, m.Text, buttons, m.Mention, orNull(m.ConversationID), orNull(m.HandoffID),
		stamp(due), stamp(m.CreatedAt))
	if err != nil {
		return t.errorf("enqueue %s message to %s/%s: %w", m.Kind, m.Platform, m.Channel, err)
	}
	m.Status, m.Attempts, m.NextAttemptAt = bot.OutPending, 0, due
	m.LastError, m.PlatformMsgID, m.SentAt = "", "", time.Time{}
	return nil
}

// StreamTail implements bot.Outbox.
func (t *tx) StreamTail(ctx context.Context, handoffID int64, stream string) (bot.Outgoing, bool, error) {
	var m bot.Outgoing
	var inFlight bool
	// Read through the handoff's rows (index outbox_handoff), not the
	// stream's: a stream has no index of its own beyond its pending rows,
	// and a handoff's rows are few.
	err := t.queryRow(ctx, `SELECT id, kind, author, text, status, in_flight, next_attempt_at, sent_at FROM outbox
		WHERE handoff_id = $1 AND stream = $2 ORDER BY id DESC LIMIT 1`+t.d.lockRow(), handoffID, stream).
		Scan(&m.ID, &m.Kind, &m.Author, &m.Text, &m.Status, &inFlight, timeCol{&m.NextAttemptAt}, timeCol{&m.SentAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return bot.Outgoing{}, false, nil
	case err != nil:
		return bot.Outgoing{}, false, t.errorf("tail of stream %s: %w", stream, err)
	}
	m.Stream, m.HandoffID = stream, handoffID
	return m, m.Status == bot.OutPending && !inFlight, nil
}

// ReplacePending implements bot.Outbox.
func (t *tx) ReplacePending(ctx context.Context, id int64, text string) (bool, error) {
	ok, err := t.execOne(ctx, `UPDATE outbox SET text = $1 WHERE id = $2 AND status = 'pending' AND `+t.d.isFalse("in_flight"), text, id)
	if err != nil {
		return false, t.errorf("replace pending outbox row %d: %w", id, err)
	}
	return ok, nil
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
	err := t.queryRow(ctx, `SELECT customer_id FROM identities
		WHERE platform = $1 AND workspace = $2 AND user_id = $3`, id.Platform, id.Workspace, id.User).Scan(&customerID)
	if err != nil {
		return "", t.errorf("customer for %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return customerID, nil
}

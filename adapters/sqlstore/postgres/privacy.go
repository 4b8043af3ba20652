package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firstlinehq/firstline/bot"
)

// The audit log

const auditCols = `id, at, actor, actor_customer, customer_id, action, record, outcome, reason,
	COALESCE(conversation_id, 0)`

func scanAudit(r scanner) (bot.AuditEntry, error) {
	var e bot.AuditEntry
	err := r.Scan(&e.ID, timeCol{&e.At}, &e.Actor, &e.ActorCustomer, &e.CustomerID, &e.Action, &e.Record,
		&e.Outcome, &e.Reason, &e.ConversationID)
	return e, err
}

// AppendAudit implements bot.Audits.
func (t *tx) AppendAudit(ctx context.Context, e *bot.AuditEntry) error {
	if e.At.IsZero() {
		e.At = t.now()
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO audit_log (at, actor, actor_customer, customer_id, action, record,
			outcome, reason, conversation_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		ts(e.At), e.Actor, e.ActorCustomer, e.CustomerID, e.Action, e.Record, e.Outcome, e.Reason,
		orNull(e.ConversationID)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgres: append audit entry %s: %w", e.Action, err)
	}
	return nil
}

// AuditEntries implements bot.Audits.
func (t *tx) AuditEntries(ctx context.Context, q bot.AuditQuery) ([]bot.AuditEntry, error) {
	var limit any // NULL: LIMIT NULL is no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	es, err := queryAll(ctx, t.tx, scanAudit, `SELECT `+auditCols+` FROM audit_log
		WHERE ($1::timestamptz IS NULL OR at >= $1)
		  AND ($2 = '' OR customer_id = $2 OR actor_customer = $2)
		ORDER BY at DESC, id DESC LIMIT $3`, ts(q.Since), q.CustomerID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit log: %w", err)
	}
	slices.Reverse(es)
	return es, nil
}

// Export and erasure

// customerConversations selects the ids of a customer's conversations:
// those that recorded the customer when they were looked up, and those of
// any identity linked to the customer now, also from before it was linked.
// Discord identities carry no workspace (user ids are global), while their
// conversations in a server do.
const customerConversations = `SELECT c.id FROM conversations c
	WHERE c.customer_id = $1 OR EXISTS (
		SELECT 1 FROM identities i
		WHERE i.customer_id = $1 AND i.platform = c.platform AND i.user_id = c.user_id
		  AND (i.workspace = c.workspace OR i.platform = 'discord'))
	ORDER BY c.id`

// customerVerifications selects the verifications of a customer: those
// naming the customer, and those of the customer's identities.
const customerVerifications = `SELECT v.platform, v.workspace, v.user_id FROM verifications v
	WHERE v.customer_id = $1 OR EXISTS (
		SELECT 1 FROM identities i
		WHERE i.customer_id = $1 AND i.platform = v.platform AND i.workspace = v.workspace AND i.user_id = v.user_id)`

// CustomerData implements bot.CustomerRecords.
func (t *tx) CustomerData(ctx context.Context, customerID string) (bot.CustomerData, error) {
	d, err := t.customerData(ctx, customerID)
	if err != nil {
		return bot.CustomerData{}, fmt.Errorf("postgres: data of customer %s: %w", customerID, err)
	}
	return d, nil
}

func (t *tx) customerData(ctx context.Context, customerID string) (bot.CustomerData, error) {
	var d bot.CustomerData
	c, err := customer(ctx, t.tx, customerID)
	found := err == nil
	switch {
	case errors.Is(err, bot.ErrNotFound):
		c = bot.Customer{ID: customerID}
	case err != nil:
		return d, err
	}
	d.Customer = c
	if d.Identities, err = queryAll(ctx, t.tx, scanLink, `SELECT platform, workspace, user_id, customer_id, created_at
		FROM identities WHERE customer_id = $1
		ORDER BY platform COLLATE "C", workspace COLLATE "C", user_id COLLATE "C"`, customerID); err != nil {
		return d, fmt.Errorf("identities: %w", err)
	}
	ids, err := queryAll(ctx, t.tx, scanID, customerConversations, customerID)
	if err != nil {
		return d, fmt.Errorf("conversations: %w", err)
	}
	for _, id := range ids {
		var cd bot.ConversationData
		if cd.Conversation, err = scanConversation(t.tx.QueryRow(ctx,
			`SELECT `+conversationCols+` FROM conversations WHERE id = $1`, id)); err != nil {
			return d, fmt.Errorf("conversation %d: %w", id, err)
		}
		if cd.Messages, err = queryAll(ctx, t.tx, scanMessage, `SELECT `+messageCols+` FROM messages
			WHERE conversation_id = $1 ORDER BY id`, id); err != nil {
			return d, fmt.Errorf("messages of conversation %d: %w", id, err)
		}
		if cd.Handoffs, err = queryAll(ctx, t.tx, scanHandoff, `SELECT `+handoffCols+` FROM handoffs h
			WHERE h.conversation_id = $1 ORDER BY h.id`, id); err != nil {
			return d, fmt.Errorf("handoffs of conversation %d: %w", id, err)
		}
		d.Conversations = append(d.Conversations, cd)
	}
	if d.Payments, err = queryAll(ctx, t.tx, scanPayment, `SELECT `+paymentCols+` FROM payments
		WHERE customer_id = $1 ORDER BY created_at NULLS LAST, reference COLLATE "C"`, customerID); err != nil {
		return d, fmt.Errorf("payments: %w", err)
	}
	if d.Verifications, err = queryAll(ctx, t.tx, scanVerification, `SELECT `+verificationCols+` FROM verifications
		WHERE (platform, workspace, user_id) IN (`+customerVerifications+`)
		ORDER BY platform COLLATE "C", workspace COLLATE "C", user_id COLLATE "C"`, customerID); err != nil {
		return d, fmt.Errorf("verifications: %w", err)
	}
	if d.Audit, err = t.AuditEntries(ctx, bot.AuditQuery{CustomerID: customerID}); err != nil {
		return d, err
	}
	if !found && len(d.Identities) == 0 && len(d.Conversations) == 0 && len(d.Verifications) == 0 && len(d.Audit) == 0 {
		return d, bot.ErrNotFound
	}
	return d, nil
}

// EraseCustomer implements bot.CustomerRecords. The conversations are
// locked first, in id order like every other transaction that takes
// several, then deleted: their messages, handoffs and outbox rows go with
// them through the foreign keys' ON DELETE CASCADE.
func (t *tx) EraseCustomer(ctx context.Context, customerID string) (bot.Erased, error) {
	e, err := t.eraseCustomer(ctx, customerID)
	if err != nil {
		return bot.Erased{}, fmt.Errorf("postgres: erase customer %s: %w", customerID, err)
	}
	return e, nil
}

func (t *tx) eraseCustomer(ctx context.Context, customerID string) (bot.Erased, error) {
	var e bot.Erased
	ids, err := queryAll(ctx, t.tx, scanID, customerConversations+lockRow, customerID)
	if err != nil {
		return e, fmt.Errorf("find conversations: %w", err)
	}
	tag, err := t.tx.Exec(ctx, `DELETE FROM verifications
		WHERE (platform, workspace, user_id) IN (`+customerVerifications+`) OR conversation_id = ANY($2)`, customerID, ids)
	if err != nil {
		return e, fmt.Errorf("delete verifications: %w", err)
	}
	e.Verifications = int(tag.RowsAffected())
	if len(ids) > 0 {
		if err := t.tx.QueryRow(ctx, `SELECT
				(SELECT COUNT(*) FROM messages WHERE conversation_id = ANY($1)),
				(SELECT COUNT(*) FROM handoffs WHERE conversation_id = ANY($1))`, ids).Scan(&e.Messages, &e.Handoffs); err != nil {
			return e, fmt.Errorf("count conversations: %w", err)
		}
		if tag, err = t.tx.Exec(ctx, `DELETE FROM conversations WHERE id = ANY($1)`, ids); err != nil {
			return e, fmt.Errorf("delete conversations: %w", err)
		}
		e.Conversations = int(tag.RowsAffected())
	}
	if tag, err = t.tx.Exec(ctx, `DELETE FROM identities WHERE customer_id = $1`, customerID); err != nil {
		return e, fmt.Errorf("delete identities: %w", err)
	}
	e.Identities = int(tag.RowsAffected())
	if tag, err = t.tx.Exec(ctx, `DELETE FROM payments WHERE customer_id = $1`, customerID); err != nil {
		return e, fmt.Errorf("delete payments: %w", err)
	}
	e.Payments = int(tag.RowsAffected())
	if tag, err = t.tx.Exec(ctx, `DELETE FROM customers WHERE id = $1`, customerID); err != nil {
		return e, fmt.Errorf("delete customer: %w", err)
	}
	e.Customer = tag.RowsAffected() > 0
	return e, nil
}

// UnlinkIdentity implements bot.Unlinks.
func (t *tx) UnlinkIdentity(ctx context.Context, id bot.Identity) (string, error) {
	var customerID string
	err := t.tx.QueryRow(ctx, `DELETE FROM identities WHERE platform = $1 AND workspace = $2 AND user_id = $3
		RETURNING customer_id`, id.Platform, id.Workspace, id.User).Scan(&customerID)
	if err != nil {
		return "", fmt.Errorf("postgres: unlink %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return customerID, nil
}

// Retention. Each statement works on rows chosen by age, so replicas that
// run it at once only wait for each other's row locks, and whoever comes
// second finds less to do.

// ScrubMessages implements bot.Retention. Rows another transaction holds
// are skipped, to be scrubbed at the next run.
func (t *tx) ScrubMessages(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE messages SET text = '', author_name = '' WHERE id IN (
		SELECT id FROM messages WHERE (text <> '' OR author_name <> '') AND created_at < $1
		ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: scrub messages before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// PurgeOutbox implements bot.Retention. A row that pending rows are
// threaded under stays until they are delivered. Rows a dispatcher holds
// locked are skipped, to be purged at the next run.
func (t *tx) PurgeOutbox(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM outbox WHERE id IN (
		SELECT o.id FROM outbox o
		WHERE o.status <> 'pending' AND o.created_at < $1
		  AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.announce_id = o.id AND h.state IN ('waiting', 'claimed'))
		  AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.parent_id = o.id AND c.status = 'pending')
		ORDER BY o.created_at LIMIT $2
		FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge outbox before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// ScrubConversations implements bot.Retention.
func (t *tx) ScrubConversations(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE conversations SET user_name = ''
		WHERE user_name <> '' AND last_message_at < $1`, ts(cutoff))
	if err != nil {
		return 0, fmt.Errorf("postgres: scrub conversations before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	n := int(tag.RowsAffected())
	if tag, err = t.tx.Exec(ctx, `UPDATE handoffs SET reason = ''
		WHERE reason <> '' AND created_at < $1 AND state = 'resolved'`, ts(cutoff)); err != nil {
		return 0, fmt.Errorf("postgres: scrub handoffs before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n + int(tag.RowsAffected()), nil
}

// PurgeVerifications implements bot.Retention.
func (t *tx) PurgeVerifications(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM verifications
		WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)`, ts(cutoff))
	if err != nil {
		return 0, fmt.Errorf("postgres: purge verifications before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// Identity verification

const verificationCols = `platform, workspace, user_id, COALESCE(conversation_id, 0), step, COALESCE(customer_id, ''),
	code_hash, expires_at, attempts, sends, sends_since, locked_until, updated_at`

func scanVerification(r scanner) (bot.Verification, error) {
	var v bot.Verification
	err := r.Scan(&v.Identity.Platform, &v.Identity.Workspace, &v.Identity.User, &v.ConversationID, &v.Step,
		&v.CustomerID, &v.CodeHash, timeCol{&v.ExpiresAt}, &v.Attempts, &v.Sends, timeCol{&v.SendsSince},
		timeCol{&v.LockedUntil}, timeCol{&v.UpdatedAt})
	return v, err
}

// Verification implements bot.Verifications.
func (t *tx) Verification(ctx context.Context, id bot.Identity) (bot.Verification, error) {
	v, err := scanVerification(t.tx.QueryRow(ctx, `SELECT `+verificationCols+` FROM verifications
		WHERE platform = $1 AND workspace = $2 AND user_id = $3`, id.Platform, id.Workspace, id.User))
	if err != nil {
		return bot.Verification{}, fmt.Errorf("postgres: verification of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return v, nil
}

// PutVerification implements bot.Verifications. A zero UpdatedAt is stored
// as now.
func (t *tx) PutVerification(ctx context.Context, v bot.Verification) error {
	id := v.Identity
	if !id.Platform.Valid() || id.User == "" {
		return fmt.Errorf("postgres: put verification of %s/%s/%s: platform and user are required", id.Platform, id.Workspace, id.User)
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = t.now()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO verifications (platform, workspace, user_id, conversation_id, step,
			customer_id, code_hash, expires_at, attempts, sends, sends_since, locked_until, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (platform, workspace, user_id) DO UPDATE SET
			conversation_id = excluded.conversation_id, step = excluded.step, customer_id = excluded.customer_id,
			code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = excluded.attempts,
			sends = excluded.sends, sends_since = excluded.sends_since, locked_until = excluded.locked_until,
			updated_at = excluded.updated_at`,
		id.Platform, id.Workspace, id.User, orNull(v.ConversationID), v.Step, orNull(v.CustomerID), v.CodeHash,
		ts(v.ExpiresAt), v.Attempts, v.Sends, ts(v.SendsSince), ts(v.LockedUntil), ts(v.UpdatedAt))
	if err != nil {
		return fmt.Errorf("postgres: put verification of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// DeleteVerification implements bot.Verifications.
func (t *tx) DeleteVerification(ctx context.Context, id bot.Identity) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM verifications WHERE platform = $1 AND workspace = $2 AND user_id = $3`,
		id.Platform, id.Workspace, id.User); err != nil {
		return fmt.Errorf("postgres: delete verification of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// The daily token budget

// TokensUsed implements bot.TokenBudget.
func (t *tx) TokensUsed(ctx context.Context, day string) (int64, error) {
	var n int64
	err := t.tx.QueryRow(ctx, `SELECT tokens FROM token_usage WHERE day = $1`, day).Scan(&n)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: tokens used on %s: %w", day, err)
	}
	return n, nil
}

// AddTokens implements bot.TokenBudget. The upsert adds atomically, so
// replicas adding at once lose nothing.
func (t *tx) AddTokens(ctx context.Context, day string, n int64) (int64, error) {
	var total int64
	err := t.tx.QueryRow(ctx, `INSERT INTO token_usage (day, tokens) VALUES ($1, $2)
		ON CONFLICT (day) DO UPDATE SET tokens = token_usage.tokens + excluded.tokens
		RETURNING tokens`, day, n).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("postgres: add %d tokens to %s: %w", n, day, err)
	}
	return total, nil
}

// MarkBudgetAlerted implements bot.TokenBudget.
func (t *tx) MarkBudgetAlerted(ctx context.Context, day string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO token_usage (day, tokens, alerted_at) VALUES ($1, 0, $2)
		ON CONFLICT (day) DO UPDATE SET alerted_at = excluded.alerted_at WHERE token_usage.alerted_at IS NULL`,
		day, ts(at))
	if err != nil {
		return false, fmt.Errorf("postgres: mark the token budget of %s alerted: %w", day, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Helpers

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

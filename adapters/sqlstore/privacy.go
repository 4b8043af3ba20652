package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"database/sql"

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
	var err error
	e.ID, _, err = t.insert(ctx, `INSERT INTO audit_log (at, actor, actor_customer, customer_id, action, record,
			outcome, reason, conversation_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		stamp(e.At), e.Actor, e.ActorCustomer, e.CustomerID, e.Action, e.Record, e.Outcome, e.Reason,
		orNull(e.ConversationID))
	if err != nil {
		return t.errorf("append audit entry %s: %w", e.Action, err)
	}
	return nil
}

// AuditEntries implements bot.Audits.
func (t *tx) AuditEntries(ctx context.Context, q bot.AuditQuery) ([]bot.AuditEntry, error) {
	limit := t.d.noLimit()
	if q.Limit > 0 {
		limit = q.Limit
	}
	since := "" // the zero time selects everything
	if !q.Since.IsZero() {
		since = "at >= $3 AND "
	}
	es, err := queryAll(ctx, t, scanAudit, `SELECT `+auditCols+` FROM audit_log
		WHERE `+since+`($1 = '' OR customer_id = $1 OR actor_customer = $1)
		ORDER BY at DESC, id DESC LIMIT $2`, argsUpTo(since != "", q.CustomerID, limit, stamp(q.Since))...)
	if err != nil {
		return nil, t.errorf("read audit log: %w", err)
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

// customerAuthors is the chat identities of a customer: those linked now,
// and those of the conversations that recorded the customer.
const customerAuthors = `SELECT platform, workspace, user_id FROM identities WHERE customer_id = $1
	UNION SELECT platform, workspace, user_id FROM conversations WHERE customer_id = $1`

// elsewhereMessages selects the ids of the customer messages a customer's
// identities wrote in conversations that are not the customer's (a shared
// channel thread someone else opened).
const elsewhereMessages = `SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
	WHERE m.role = 'customer' AND m.author <> ''
	  AND EXISTS (SELECT 1 FROM (` + customerAuthors + `) a
		WHERE a.platform = c.platform AND a.user_id = m.author AND (a.workspace = c.workspace OR a.platform = 'discord'))
	  AND c.id NOT IN (` + customerConversations + `)`

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
		return bot.CustomerData{}, t.errorf("data of customer %s: %w", customerID, err)
	}
	return d, nil
}

func (t *tx) customerData(ctx context.Context, customerID string) (bot.CustomerData, error) {
	var d bot.CustomerData
	c, err := scanCustomer(t.queryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, customerID))
	err = notFound(err)
	found := err == nil
	switch {
	case errors.Is(err, bot.ErrNotFound):
		c = bot.Customer{ID: customerID}
	case err != nil:
		return d, err
	}
	d.Customer = c
	if d.Identities, err = queryAll(ctx, t, scanLink, `SELECT platform, workspace, user_id, customer_id, created_at
		FROM identities WHERE customer_id = $1
		ORDER BY `+t.d.bytewise("platform")+`, `+t.d.bytewise("workspace")+`, `+t.d.bytewise("user_id"), customerID); err != nil {
		return d, fmt.Errorf("identities: %w", err)
	}
	ids, err := queryAll(ctx, t, scanID, customerConversations, customerID)
	if err != nil {
		return d, fmt.Errorf("conversations: %w", err)
	}
	for _, id := range ids {
		var cd bot.ConversationData
		if cd.Conversation, err = scanConversation(t.queryRow(ctx,
			`SELECT `+conversationCols+` FROM conversations WHERE id = $1`, id)); err != nil {
			return d, fmt.Errorf("conversation %d: %w", id, err)
		}
		if cd.Messages, err = queryAll(ctx, t, scanMessage, `SELECT `+messageCols+` FROM messages
			WHERE conversation_id = $1 ORDER BY id`, id); err != nil {
			return d, fmt.Errorf("messages of conversation %d: %w", id, err)
		}
		if cd.Handoffs, err = queryAll(ctx, t, scanHandoff, `SELECT `+handoffCols+` FROM handoffs h
			WHERE h.conversation_id = $1 ORDER BY h.id`, id); err != nil {
			return d, fmt.Errorf("handoffs of conversation %d: %w", id, err)
		}
		d.Conversations = append(d.Conversations, cd)
	}
	if d.Elsewhere, err = queryAll(ctx, t, scanMessage, `SELECT `+messageCols+` FROM messages
		WHERE id IN (`+elsewhereMessages+`) ORDER BY id`, customerID); err != nil {
		return d, fmt.Errorf("messages in other conversations: %w", err)
	}
	if d.Payments, err = queryAll(ctx, t, scanPayment, `SELECT `+paymentCols+` FROM payments
		WHERE customer_id = $1 ORDER BY created_at NULLS LAST, `+t.d.bytewise("reference"), customerID); err != nil {
		return d, fmt.Errorf("payments: %w", err)
	}
	if d.Verifications, err = queryAll(ctx, t, scanVerification, `SELECT `+verificationCols+` FROM verifications
		WHERE (platform, workspace, user_id) IN (`+customerVerifications+`)
		ORDER BY `+t.d.bytewise("platform")+`, `+t.d.bytewise("workspace")+`, `+t.d.bytewise("user_id"), customerID); err != nil {
		return d, fmt.Errorf("verifications: %w", err)
	}
	if d.Audit, err = t.AuditEntries(ctx, bot.AuditQuery{CustomerID: customerID}); err != nil {
		return d, err
	}
	if !found && len(d.Identities) == 0 && len(d.Conversations) == 0 && len(d.Elsewhere) == 0 &&
		len(d.Verifications) == 0 && len(d.Audit) == 0 {
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
		return bot.Erased{}, t.errorf("erase customer %s: %w", customerID, err)
	}
	return e, nil
}

func (t *tx) eraseCustomer(ctx context.Context, customerID string) (bot.Erased, error) {
	var e bot.Erased
	// Every conversation erasure changes is locked first, in id order: the
	// customer's, and the others the customer wrote in.
	if _, err := queryAll(ctx, t, scanID, `SELECT c.id FROM conversations c
		WHERE c.id IN (`+customerConversations+`)
		   OR c.id IN (SELECT conversation_id FROM messages WHERE id IN (`+elsewhereMessages+`))
		ORDER BY c.id`+t.d.lockRow(), customerID); err != nil {
		return e, fmt.Errorf("lock conversations: %w", err)
	}
	ids, err := queryAll(ctx, t, scanID, customerConversations, customerID)
	if err != nil {
		return e, fmt.Errorf("find conversations: %w", err)
	}
	if e.Elsewhere, e.Scrubbed, err = t.eraseElsewhere(ctx, customerID); err != nil {
		return e, err
	}
	digests, err := t.scrubDigests(ctx, ids)
	if err != nil {
		return e, err
	}
	e.Scrubbed += digests
	// Verifications running in the conversations of another identity (a
	// shared channel thread) go with them.
	inConversations, args := "", []any{customerID}
	if len(ids) > 0 {
		inConversations = ` OR conversation_id IN (` + placeholders(2, len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	e.Verifications, err = t.execN(ctx, `DELETE FROM verifications
		WHERE (platform, workspace, user_id) IN (`+customerVerifications+`)`+inConversations, args...)
	if err != nil {
		return e, fmt.Errorf("delete verifications: %w", err)
	}
	budgets, err := t.execN(ctx, `DELETE FROM verify_budgets WHERE customer_id = $1`, customerID)
	if err != nil {
		return e, fmt.Errorf("delete verification budgets: %w", err)
	}
	e.Verifications += budgets
	if len(ids) > 0 {
		in := placeholders(1, len(ids))
		if err := t.queryRow(ctx, `SELECT
				(SELECT COUNT(*) FROM messages WHERE conversation_id IN (`+in+`)),
				(SELECT COUNT(*) FROM handoffs WHERE conversation_id IN (`+in+`))`, args[1:]...).Scan(&e.Messages, &e.Handoffs); err != nil {
			return e, fmt.Errorf("count conversations: %w", err)
		}
		if e.Conversations, err = t.execN(ctx, `DELETE FROM conversations WHERE id IN (`+in+`)`, args[1:]...); err != nil {
			return e, fmt.Errorf("delete conversations: %w", err)
		}
	}
	if e.Identities, err = t.execN(ctx, `DELETE FROM identities WHERE customer_id = $1`, customerID); err != nil {
		return e, fmt.Errorf("delete identities: %w", err)
	}
	if e.Payments, err = t.execN(ctx, `DELETE FROM payments WHERE customer_id = $1`, customerID); err != nil {
		return e, fmt.Errorf("delete payments: %w", err)
	}
	if e.Customer, err = t.execOne(ctx, `DELETE FROM customers WHERE id = $1`, customerID); err != nil {
		return e, fmt.Errorf("delete customer: %w", err)
	}
	return e, nil
}

// eraseElsewhere deletes the messages a customer wrote in other customers'
// conversations, and scrubs their words from those conversations' outbox
// rows (the posts in the handoff's thread that quoted them, the card).
func (t *tx) eraseElsewhere(ctx context.Context, customerID string) (deleted, scrubbed int, err error) {
	msgs, err := queryAll(ctx, t, scanMessage, `SELECT `+messageCols+` FROM messages
		WHERE id IN (`+elsewhereMessages+`) ORDER BY id`, customerID)
	if err != nil || len(msgs) == 0 {
		return 0, 0, wrapErr("find messages in other conversations", err)
	}
	words := map[int64][]string{}
	args := make([]any, 0, len(msgs))
	for _, m := range msgs {
		words[m.ConversationID] = append(words[m.ConversationID], m.Text)
		args = append(args, m.ID)
	}
	if deleted, err = t.execN(ctx, `DELETE FROM messages WHERE id IN (`+placeholders(1, len(args))+`)`, args...); err != nil {
		return 0, 0, fmt.Errorf("delete messages in other conversations: %w", err)
	}
	for conv, ws := range words {
		n, err := t.rewriteOutbox(ctx, `conversation_id = $1`, []any{conv}, func(text string) (string, bool) {
			return bot.ScrubQuotes(text, ws)
		})
		if err != nil {
			return 0, 0, fmt.Errorf("scrub outbox of conversation %d: %w", conv, err)
		}
		scrubbed += n
	}
	return deleted, scrubbed, nil
}

// scrubDigests rewrites the re-ping digests' lines about the handoffs of
// the given conversations: a digest lists several customers, so it belongs
// to no conversation and does not go with one.
func (t *tx) scrubDigests(ctx context.Context, conversations []int64) (int, error) {
	if len(conversations) == 0 {
		return 0, nil
	}
	args := make([]any, len(conversations))
	for i, id := range conversations {
		args[i] = id
	}
	hs, err := queryAll(ctx, t, scanID, `SELECT id FROM handoffs WHERE conversation_id IN (`+
		placeholders(1, len(args))+`)`, args...)
	if err != nil || len(hs) == 0 {
		return 0, wrapErr("find handoffs", err)
	}
	ids := make(map[int64]bool, len(hs))
	for _, h := range hs {
		ids[h] = true
	}
	n, err := t.rewriteOutbox(ctx, `conversation_id IS NULL AND stream LIKE $1`, []any{bot.DigestStreamPrefix + "%"},
		func(text string) (string, bool) { return bot.ScrubDigest(text, ids) })
	if err != nil {
		return 0, fmt.Errorf("scrub re-ping digests: %w", err)
	}
	return n, nil
}

// rewriteOutbox applies edit to the text of the outbox rows where the
// condition holds (its placeholders numbered from $1) and stores the rows
// it changed; it returns how many.
func (t *tx) rewriteOutbox(ctx context.Context, where string, args []any, edit func(string) (string, bool)) (int, error) {
	type row struct {
		id   int64
		text string
	}
	rows, err := queryAll(ctx, t, func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.text)
		return x, err
	}, `SELECT id, text FROM outbox WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		text, changed := edit(r.text)
		if !changed {
			continue
		}
		if _, err := t.exec(ctx, `UPDATE outbox SET text = $1 WHERE id = $2`, text, r.id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// wrapErr wraps a non-nil err with what was being done.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// UnlinkIdentity implements bot.Unlinks.
func (t *tx) UnlinkIdentity(ctx context.Context, id bot.Identity) (string, error) {
	var customerID string
	err := t.queryRow(ctx, `DELETE FROM identities WHERE platform = $1 AND workspace = $2 AND user_id = $3
		RETURNING customer_id`, id.Platform, id.Workspace, id.User).Scan(&customerID)
	if err != nil {
		return "", t.errorf("unlink %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return customerID, nil
}

// Retention. Each statement works on rows chosen by age, so replicas that
// run it at once only wait for each other's row locks, and whoever comes
// second finds less to do.

// ScrubMessages implements bot.Retention. Rows another transaction holds
// are skipped, to be scrubbed at the next run.
func (t *tx) ScrubMessages(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n, err := t.execN(ctx, `UPDATE messages SET text = '', author_name = '' WHERE id IN (
		SELECT id FROM messages WHERE (text <> '' OR author_name <> '') AND created_at < $1
		ORDER BY created_at LIMIT $2`+t.d.skipLocked()+`)`, stamp(cutoff), limit)
	if err != nil {
		return 0, t.errorf("scrub messages before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n, nil
}

// PurgeOutbox implements bot.Retention. A row that pending rows are
// threaded under stays until they are delivered. Rows a dispatcher holds
// locked are skipped, to be purged at the next run.
func (t *tx) PurgeOutbox(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n, err := t.execN(ctx, `DELETE FROM outbox WHERE id IN (
		SELECT o.id FROM outbox o
		WHERE o.status <> 'pending' AND o.created_at < $1
		  AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.announce_id = o.id AND h.state IN ('waiting', 'claimed'))
		  AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.parent_id = o.id AND c.status = 'pending')
		ORDER BY o.created_at LIMIT $2`+t.d.skipLocked()+`)`, stamp(cutoff), limit)
	if err != nil {
		return 0, t.errorf("purge outbox before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n, nil
}

// ScrubConversations implements bot.Retention.
func (t *tx) ScrubConversations(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := t.execN(ctx, `UPDATE conversations SET user_name = ''
		WHERE user_name <> '' AND last_message_at < $1`, stamp(cutoff))
	if err != nil {
		return 0, t.errorf("scrub conversations before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	m, err := t.execN(ctx, `UPDATE handoffs SET reason = ''
		WHERE reason <> '' AND created_at < $1 AND state = 'resolved'`, stamp(cutoff))
	if err != nil {
		return 0, t.errorf("scrub handoffs before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n + m, nil
}

// PurgeVerifications implements bot.Retention.
func (t *tx) PurgeVerifications(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := t.execN(ctx, `DELETE FROM verifications
		WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)`, stamp(cutoff))
	if err != nil {
		return 0, t.errorf("purge verifications before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	m, err := t.execN(ctx, `DELETE FROM connect_states WHERE expires_at < $1`, stamp(cutoff))
	if err != nil {
		return 0, t.errorf("purge connect states before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	b, err := t.execN(ctx, `DELETE FROM verify_budgets
		WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)`, stamp(cutoff))
	if err != nil {
		return 0, t.errorf("purge verification budgets before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	i, err := t.execN(ctx, `DELETE FROM intake WHERE created_at < $1`, stamp(cutoff))
	if err != nil {
		return 0, t.errorf("purge intakes before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n + m + b + i, nil
}

// Account connection

// PutConnectState implements bot.ConnectStates.
func (t *tx) PutConnectState(ctx context.Context, c bot.ConnectState) error {
	id := c.Identity
	if c.Hash == "" || !id.Platform.Valid() || id.User == "" {
		return t.errorf("put connect state: hash, platform and user are required")
	}
	_, err := t.exec(ctx, `INSERT INTO connect_states (hash, platform, workspace, user_id, conversation_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.Hash, id.Platform, id.Workspace, id.User, c.ConversationID, stamp(c.CreatedAt), stamp(c.ExpiresAt))
	if err != nil {
		return t.errorf("put connect state: %w", err)
	}
	return nil
}

// RedeemConnectState implements bot.ConnectStates: the row is read with a
// lock (PostgreSQL; SQLite's write transaction holds the database), so of
// two redemptions racing, the second sees it used.
func (t *tx) RedeemConnectState(ctx context.Context, hash string, at time.Time) (bot.ConnectState, error) {
	var c bot.ConnectState
	err := t.queryRow(ctx, `SELECT hash, platform, workspace, user_id, conversation_id, created_at, expires_at, used_at
		FROM connect_states WHERE hash = $1`+t.d.lockRow(), hash).Scan(&c.Hash, &c.Identity.Platform, &c.Identity.Workspace,
		&c.Identity.User, &c.ConversationID, timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, timeCol{&c.UsedAt})
	if err != nil {
		return bot.ConnectState{}, t.errorf("redeem connect state: %w", notFound(err))
	}
	if c.UsedAt.IsZero() {
		if _, err := t.exec(ctx, `UPDATE connect_states SET used_at = $1 WHERE hash = $2`, stamp(at), hash); err != nil {
			return bot.ConnectState{}, t.errorf("redeem connect state: %w", err)
		}
	}
	return c, nil
}

// Identity verification

const verificationCols = `platform, workspace, user_id, COALESCE(conversation_id, 0), step, COALESCE(customer_id, ''),
	email, code_hash, expires_at, attempts, sends, sends_since, locked_until, updated_at, target`

func scanVerification(r scanner) (bot.Verification, error) {
	var v bot.Verification
	err := r.Scan(&v.Identity.Platform, &v.Identity.Workspace, &v.Identity.User, &v.ConversationID, &v.Step,
		&v.CustomerID, &v.Email, &v.CodeHash, timeCol{&v.ExpiresAt}, &v.Attempts, &v.Sends, timeCol{&v.SendsSince},
		timeCol{&v.LockedUntil}, timeCol{&v.UpdatedAt}, &v.Target)
	return v, err
}

// Verification implements bot.Verifications.
func (t *tx) Verification(ctx context.Context, id bot.Identity) (bot.Verification, error) {
	v, err := scanVerification(t.queryRow(ctx, `SELECT `+verificationCols+` FROM verifications
		WHERE platform = $1 AND workspace = $2 AND user_id = $3`, id.Platform, id.Workspace, id.User))
	if err != nil {
		return bot.Verification{}, t.errorf("verification of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, notFound(err))
	}
	return v, nil
}

// PutVerification implements bot.Verifications. A zero UpdatedAt is stored
// as now.
func (t *tx) PutVerification(ctx context.Context, v bot.Verification) error {
	id := v.Identity
	if !id.Platform.Valid() || id.User == "" {
		return t.errorf("put verification of %s/%s/%s: platform and user are required", id.Platform, id.Workspace, id.User)
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = t.now()
	}
	_, err := t.exec(ctx, `INSERT INTO verifications (platform, workspace, user_id, conversation_id, step,
			customer_id, email, code_hash, expires_at, attempts, sends, sends_since, locked_until, updated_at, target)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (platform, workspace, user_id) DO UPDATE SET
			conversation_id = excluded.conversation_id, step = excluded.step, customer_id = excluded.customer_id,
			email = excluded.email,
			code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = excluded.attempts,
			sends = excluded.sends, sends_since = excluded.sends_since, locked_until = excluded.locked_until,
			updated_at = excluded.updated_at, target = excluded.target`,
		id.Platform, id.Workspace, id.User, orNull(v.ConversationID), v.Step, orNull(v.CustomerID), v.Email, v.CodeHash,
		stamp(v.ExpiresAt), v.Attempts, v.Sends, stamp(v.SendsSince), stamp(v.LockedUntil), stamp(v.UpdatedAt), v.Target)
	if err != nil {
		return t.errorf("put verification of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// DeleteVerification implements bot.Verifications.
func (t *tx) DeleteVerification(ctx context.Context, id bot.Identity) error {
	if _, err := t.exec(ctx, `DELETE FROM verifications WHERE platform = $1 AND workspace = $2 AND user_id = $3`,
		id.Platform, id.Workspace, id.User); err != nil {
		return t.errorf("delete verification of %s/%s/%s: %w", id.Platform, id.Workspace, id.User, err)
	}
	return nil
}

// The daily token budget

// VerifyBudget implements bot.VerifyBudgets. The row is read with a lock
// (PostgreSQL; SQLite's write transaction holds the database), so that
// identities counting against one target at once are counted one after
// the other.
func (t *tx) VerifyBudget(ctx context.Context, target string) (bot.VerifyBudget, error) {
	b := bot.VerifyBudget{Target: target}
	err := t.queryRow(ctx, `SELECT COALESCE(customer_id, ''), sends, sends_since, failures, failures_since, locked_until, updated_at
		FROM verify_budgets WHERE target = $1`+t.d.lockRow(), target).Scan(&b.CustomerID, &b.Sends, timeCol{&b.SendsSince},
		&b.Failures, timeCol{&b.FailuresSince}, timeCol{&b.LockedUntil}, timeCol{&b.UpdatedAt})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return bot.VerifyBudget{}, t.errorf("verification budget: %w", err)
	}
	return b, nil
}

// PutVerifyBudget implements bot.VerifyBudgets. A zero UpdatedAt is stored
// as now.
func (t *tx) PutVerifyBudget(ctx context.Context, b bot.VerifyBudget) error {
	if b.Target == "" {
		return t.errorf("put verification budget: a target is required")
	}
	if b.UpdatedAt.IsZero() {
		b.UpdatedAt = t.now()
	}
	_, err := t.exec(ctx, `INSERT INTO verify_budgets (target, customer_id, sends, sends_since, failures, failures_since,
			locked_until, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (target) DO UPDATE SET
			customer_id = excluded.customer_id, sends = excluded.sends, sends_since = excluded.sends_since,
			failures = excluded.failures, failures_since = excluded.failures_since,
			locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
		b.Target, orNull(b.CustomerID), b.Sends, stamp(b.SendsSince), b.Failures, stamp(b.FailuresSince),
		stamp(b.LockedUntil), stamp(b.UpdatedAt))
	if err != nil {
		// The target is a hash of an email: it stays out of errors anyway.
		return t.errorf("put verification budget: %w", err)
	}
	return nil
}

// TokensUsed implements bot.TokenBudget.
func (t *tx) TokensUsed(ctx context.Context, day string) (int64, error) {
	var n int64
	err := t.queryRow(ctx, `SELECT tokens FROM token_usage WHERE day = $1`, day).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, t.errorf("tokens used on %s: %w", day, err)
	}
	return n, nil
}

// AddTokens implements bot.TokenBudget. The upsert adds atomically, so
// replicas adding at once lose nothing.
func (t *tx) AddTokens(ctx context.Context, day string, n int64) (int64, error) {
	var total int64
	err := t.queryRow(ctx, `INSERT INTO token_usage (day, tokens) VALUES ($1, $2)
		ON CONFLICT (day) DO UPDATE SET tokens = token_usage.tokens + excluded.tokens
		RETURNING tokens`, day, n).Scan(&total)
	if err != nil {
		return 0, t.errorf("add %d tokens to %s: %w", n, day, err)
	}
	return total, nil
}

// MarkBudgetAlerted implements bot.TokenBudget.
func (t *tx) MarkBudgetAlerted(ctx context.Context, day string, at time.Time) (bool, error) {
	n, err := t.execN(ctx, `INSERT INTO token_usage (day, tokens, alerted_at) VALUES ($1, 0, $2)
		ON CONFLICT (day) DO UPDATE SET alerted_at = excluded.alerted_at WHERE token_usage.alerted_at IS NULL`,
		day, stamp(at))
	if err != nil {
		return false, t.errorf("mark the token budget of %s alerted: %w", day, err)
	}
	return n > 0, nil
}

// argsUpTo returns the arguments of a query whose last one is used only
// when with is true.
func argsUpTo(with bool, args ...any) []any {
	if with {
		return args
	}
	return args[:len(args)-1]
}

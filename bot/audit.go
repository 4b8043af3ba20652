package bot

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/firstlinehq/firstline/bot/mask"
)

// maxAuditRecord bounds the record of an audit entry: a reference, a few
// references, an identity.
const maxAuditRecord = 200

// auditRecord makes untrusted text (a reference the model made up) fit for
// the audit log: one line, bounded, and with anything that looks like a card
// number or similar secret masked, since the log must never hold one.
func auditRecord(s string) string {
	s, _ = mask.Text(cleanReason(s))
	return truncate(visible(s), maxAuditRecord)
}

// visible spells out every character but printable ASCII as \uXXXX:
// references and identities are ASCII, and "PАY-2001" (a Cyrillic А) or
// "PAY-2001\u200b" (a zero-width space) must not read, in the log, as the
// reference they imitate.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

// recordAccess writes the audit entry of a tool call in a transaction of
// its own, before the model sees the result: what was shown is recorded
// even when the turn fails later. A tool call that cannot be recorded is
// treated as failed (fail closed).
func (e *Engine) recordAccess(ctx context.Context, conv Conversation, res toolResult) error {
	if res.audit == nil {
		return nil
	}
	entry := *res.audit
	entry.At = e.now()
	entry.Actor = ActorOf(conv.Identity())
	entry.ActorCustomer = conv.CustomerID
	entry.ConversationID = conv.ID
	return e.Audit(ctx, entry)
}

// Audit appends one entry to the audit log, in a transaction of its own.
func (e *Engine) Audit(ctx context.Context, entry AuditEntry) error {
	if entry.At.IsZero() {
		entry.At = e.now()
	}
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		en := entry // a fresh copy for each run: the store may retry
		return tx.AppendAudit(ctx, &en)
	})
	if err != nil {
		return fmt.Errorf("bot: record %s in the audit log: %w", entry.Action, err)
	}
	return nil
}

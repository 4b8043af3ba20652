package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Limits per target. The limits per chat identity (maxSends,
// maxCodeAttempts) alone let ten identities have thirty codes sent to one
// inbox in an hour and check a hundred and twenty guesses at them; these
// bound what all identities together may do to one email address. They
// apply alike to addresses no customer has, so that hitting them tells
// nobody whose address it is.
const (
	// maxTargetSends bounds the codes asked for one address per sendWindow.
	maxTargetSends = 5
	// maxTargetFailures bounds the wrong codes typed for one address per
	// sendWindow, across identities.
	maxTargetFailures = 10
	// targetLockout is how long an address gets no codes, and its codes
	// link nobody, once a limit is hit.
	targetLockout = time.Hour
)

// verifyTarget is the budget key of an email: a hash, so that the table of
// budgets holds no address. Case and compatibility forms are folded, so
// that "ADA@example.com" and "ａｄａ@example.com" count as one.
func verifyTarget(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(norm.NFKC.String(strings.TrimSpace(email)))))
	return "email:" + hex.EncodeToString(sum[:])
}

// spendSend counts a code asked for against target. It reports false when
// the target is locked or has had its codes for the window; reaching the
// limit locks it.
func (e *Engine) spendSend(ctx context.Context, tx Tx, conv *Conversation, target string, now time.Time) (bool, error) {
	b, err := tx.VerifyBudget(ctx, target)
	if err != nil {
		return false, fmt.Errorf("load verification budget: %w", err)
	}
	if now.Before(b.LockedUntil) {
		return false, nil
	}
	if now.Sub(b.SendsSince) >= sendWindow {
		b.Sends, b.SendsSince = 0, now
	}
	if b.Sends >= maxTargetSends {
		return false, e.lockTarget(ctx, tx, conv, b, now, "target_too_many_codes")
	}
	b.Sends++
	b.UpdatedAt = now
	if err := tx.PutVerifyBudget(ctx, b); err != nil {
		return false, fmt.Errorf("store verification budget: %w", err)
	}
	return true, nil
}

// targetLocked reports whether v's target is locked out now.
func targetLocked(ctx context.Context, tx Tx, v Verification, now time.Time) (bool, error) {
	if v.Target == "" {
		return false, nil // a verification started before budgets existed
	}
	b, err := tx.VerifyBudget(ctx, v.Target)
	if err != nil {
		return false, fmt.Errorf("load verification budget: %w", err)
	}
	return now.Before(b.LockedUntil), nil
}

// countFailure counts a wrong code against v's target. It reports true when
// that locked the target.
func (e *Engine) countFailure(ctx context.Context, tx Tx, conv *Conversation, v Verification, now time.Time) (bool, error) {
	if v.Target == "" {
		return false, nil
	}
	b, err := tx.VerifyBudget(ctx, v.Target)
	if err != nil {
		return false, fmt.Errorf("load verification budget: %w", err)
	}
	if now.Sub(b.FailuresSince) >= sendWindow {
		b.Failures, b.FailuresSince = 0, now
	}
	b.Failures++
	b.UpdatedAt = now
	if b.Failures >= maxTargetFailures {
		return true, e.lockTarget(ctx, tx, conv, b, now, "target_too_many_attempts")
	}
	if err := tx.PutVerifyBudget(ctx, b); err != nil {
		return false, fmt.Errorf("store verification budget: %w", err)
	}
	return false, nil
}

// noteCustomer records on target's budget the customer its codes go to, so
// that erasing the customer erases the budget.
func noteCustomer(ctx context.Context, tx Tx, target, customerID string) error {
	if target == "" || customerID == "" {
		return nil
	}
	b, err := tx.VerifyBudget(ctx, target)
	if err != nil {
		return fmt.Errorf("load verification budget: %w", err)
	}
	if b.CustomerID == customerID && !b.UpdatedAt.IsZero() {
		return nil
	}
	b.CustomerID = customerID
	if err := tx.PutVerifyBudget(ctx, b); err != nil {
		return fmt.Errorf("store verification budget: %w", err)
	}
	return nil
}

// lockTarget locks b's target out and alerts the agents, once per lockout:
// the row is read for update, so of replicas racing, one locks it and the
// others find it locked.
func (e *Engine) lockTarget(ctx context.Context, tx Tx, conv *Conversation, b VerifyBudget, now time.Time, reason string) error {
	b.LockedUntil, b.UpdatedAt = now.Add(targetLockout), now
	if err := tx.PutVerifyBudget(ctx, b); err != nil {
		return fmt.Errorf("store verification budget: %w", err)
	}
	if err := e.audit(ctx, tx, conv, AuditVerifyLocked, b.CustomerID, AuditRefused, reason, now); err != nil {
		return err
	}
	e.log.WarnContext(ctx, "identity verification locked for an email address across chat identities",
		"conversation", conv.ID, "reason", reason, "until", b.LockedUntil)
	n, ok := e.cfg.Escalator.(AgentNotifier)
	if !ok {
		return nil
	}
	whose := "an address no customer has"
	if b.CustomerID != "" {
		whose = "the address of customer " + b.CustomerID
	}
	what := fmt.Sprintf("%d codes were asked for it", b.Sends)
	if reason == "target_too_many_attempts" {
		what = fmt.Sprintf("%d wrong codes were typed for it", b.Failures)
	}
	text := fmt.Sprintf("**Identity verification locked for one email address** (%s): within an hour %s, "+
		"from one or more chats, the last in conversation #%d. No codes go to it, and none links a chat, until %s UTC. "+
		"Someone may be trying to get into an account; a customer who needs it sooner can ask for a person.",
		whose, what, conv.ID, b.LockedUntil.UTC().Format("15:04"))
	if err := n.NotifyAgents(ctx, tx, text); err != nil {
		return fmt.Errorf("alert agents to a verification lockout: %w", err)
	}
	return nil
}

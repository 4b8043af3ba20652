package bot

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot/mask"
	"github.com/firstlinehq/firstline/prompts"
)

// CodeSender delivers a verification code to a customer through the
// company's own channel (FIRSTLINE_VERIFY_URL): the bot never emails
// anyone itself. Implementations must not log the email or the code.
type CodeSender interface {
	SendCode(ctx context.Context, c VerificationCode) error
}

// VerificationCode is a code to deliver: to the email on the account of
// CustomerID.
type VerificationCode struct {
	CustomerID string
	Email      string
	Code       string
}

// Identity verification by code: an unlinked chat user who asks for account
// data is asked for the email on their account; if a customer has it, a
// six-digit code goes to that address through the company's channel; the
// code typed back links the chat identity to the customer. The flow is a
// small state machine stored per identity (bot.Verification), run by the
// engine, not by the model:
//
//	(payment question, not linked) ─► email ─(an email)─► send ─(code sent)─► code ─(right code)─► linked
//	                                    │                                      │
//	                                    └─ anything else: flow ends            ├─ wrong code: attempts+1, locked at the limit
//	                                                                           └─ expired: flow ends
//
// Whether or not a customer has the email, the customer reads the same
// answers, so the flow cannot be used to find out who is a customer.
const (
	// emailWait is how long the bot waits for the email it asked for.
	emailWait = 15 * time.Minute
	// codeTTL is how long a code is valid.
	codeTTL = 10 * time.Minute
	// maxCodeAttempts is how many wrong codes lock the identity out.
	maxCodeAttempts = 5
	// maxSends bounds the codes one identity can have sent per sendWindow,
	// so that nobody uses the bot to flood a customer's inbox.
	maxSends   = 3
	sendWindow = time.Hour
	// lockout is how long a locked-out identity waits.
	lockout = 30 * time.Minute
	// sendTimeout bounds one call of the CodeSender.
	sendTimeout = 10 * time.Second
)

var (
	emailRe = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)+`)
	// codeRe is a code typed back: six digits, maybe split 3+3, maybe
	// after "code" or "the code is".
	codeRe = regexp.MustCompile(`(?i)^\s*(?:(?:the\s+|my\s+)?code(?:\s+is)?\s*[:=]?\s*)?(\d{3})[\s-]?(\d{3})\s*[.!]?\s*$`)
)

// verifyStored is what is stored in place of a code the customer typed:
// codes are never stored in clear.
const verifyStored = "[verification code]"

// verifying reports whether conv may run the verification flow: the engine
// has a way to send codes, and the chat is a direct message of an
// identity not linked to a customer, talking to the bot.
func (e *Engine) verifying(conv Conversation) bool {
	return e.cfg.Verifier != nil && conv.Private && conv.CustomerID == "" && conv.State == StateBot
}

// verifyPlan is what the flow does with one incoming message, decided
// before the message is stored (a code is stored masked) and carried out
// after (its replies follow the message).
type verifyPlan struct {
	kind  verifyKind
	v     Verification
	email string // an email the customer gave
	code  string // a code the customer typed
	// codeLike is set when the message looks like a code: it is not stored
	// in clear, even after the flow ended (a code typed too late).
	codeLike bool
}

type verifyKind int

const (
	verifyIgnore   verifyKind = iota // not part of the flow: handled as usual
	verifyCancel                     // the flow ends; the message is handled as usual
	verifyGotEmail                   // an email: a code is to be sent (Process)
	verifyGotCode                    // a code: checked now
)

// handles reports whether the flow answers the message itself.
func (p verifyPlan) handles() bool { return p.kind == verifyGotEmail || p.kind == verifyGotCode }

// stored returns the text to store for the customer's message: with the
// email masked (it is kept in the customers table already) or the code
// replaced.
func (p verifyPlan) stored(text string) string {
	switch {
	case p.kind == verifyGotEmail:
		return mask.Email(text)
	case p.kind == verifyGotCode || p.codeLike:
		return verifyStored
	}
	return text
}

// planVerify decides what the flow does with text in conv.
func (e *Engine) planVerify(ctx context.Context, tx Tx, conv Conversation, text string, asksHuman bool, now time.Time) (verifyPlan, error) {
	if !e.verifying(conv) {
		return verifyPlan{}, nil
	}
	v, err := tx.Verification(ctx, conv.Identity())
	switch {
	case errors.Is(err, ErrNotFound):
		return verifyPlan{}, nil
	case err != nil:
		return verifyPlan{}, fmt.Errorf("load verification: %w", err)
	}
	p := verifyPlan{v: v, codeLike: codeRe.MatchString(text)}
	if v.ConversationID != conv.ID || v.Step == VerifyNone || v.Step == VerifySend {
		return p, nil
	}
	if asksHuman {
		p.kind = verifyCancel
		return p, nil
	}
	if m := codeRe.FindStringSubmatch(text); m != nil && v.Step == VerifyCode {
		p.kind, p.code = verifyGotCode, m[1]+m[2]
		return p, nil
	}
	if email := emailRe.FindString(text); email != "" {
		p.kind, p.email = verifyGotEmail, email
		return p, nil
	}
	if v.Step == VerifyEmail {
		// Asked for an email, the customer went on about something else:
		// the flow ends and the model answers.
		p.kind = verifyCancel
	}
	return p, nil
}

// applyVerify carries out a plan after the customer's message is stored.
func (e *Engine) applyVerify(ctx context.Context, tx Tx, conv *Conversation, p verifyPlan, set *prompts.Set, now time.Time) (pending bool, err error) {
	v := p.v
	switch p.kind {
	case verifyCancel:
		return false, e.endVerify(ctx, tx, v, now)
	case verifyGotEmail:
		if v.Step == VerifyEmail && now.After(v.ExpiresAt) {
			// Too late for the question asked; ask again.
			return false, e.askEmail(ctx, tx, conv, v, set, now)
		}
		if locked(v, now) || sendsLeft(v, now) == 0 {
			return false, e.lockOut(ctx, tx, conv, v, set, now, "too_many_codes")
		}
		target := verifyTarget(p.email)
		if ok, err := e.spendSend(ctx, tx, conv, target, now); err != nil || !ok {
			if err != nil {
				return false, err
			}
			return false, e.lockOut(ctx, tx, conv, v, set, now, "target_locked")
		}
		// Who has the email is asked of the directory when the code is
		// sent, outside this transaction: the directory may be an API.
		v.Step, v.CustomerID, v.Email, v.CodeHash, v.UpdatedAt = VerifySend, "", p.email, "", now
		v.Target = target
		if err := tx.PutVerification(ctx, v); err != nil {
			return false, fmt.Errorf("store verification: %w", err)
		}
		return true, nil
	case verifyGotCode:
		return false, e.checkCode(ctx, tx, conv, v, p.code, set, now)
	}
	return false, nil
}

// checkCode compares a typed code with the stored hash, in constant time.
func (e *Engine) checkCode(ctx context.Context, tx Tx, conv *Conversation, v Verification, code string, set *prompts.Set, now time.Time) error {
	if locked(v, now) {
		return e.lockOut(ctx, tx, conv, v, set, now, "locked")
	}
	// A target locked out by guesses from other chats links nobody, not
	// even with the right code: the guesses may have found it.
	if tl, err := targetLocked(ctx, tx, v, now); err != nil || tl {
		if err != nil {
			return err
		}
		return e.lockOut(ctx, tx, conv, v, set, now, "target_locked")
	}
	if now.After(v.ExpiresAt) {
		if err := e.audit(ctx, tx, conv, AuditVerifyFailed, v.CustomerID, AuditRefused, "expired", now); err != nil {
			return err
		}
		if err := e.endVerify(ctx, tx, v, now); err != nil {
			return err
		}
		return e.say(ctx, tx, *conv, "verify_expired", nil, set)
	}
	if v.CustomerID != "" && codeMatches(v.CodeHash, code) {
		if err := tx.LinkIdentity(ctx, Link{Identity: conv.Identity(), CustomerID: v.CustomerID, CreatedAt: now}); err != nil {
			return fmt.Errorf("link verified identity: %w", err)
		}
		if err := tx.DeleteVerification(ctx, v.Identity); err != nil {
			return fmt.Errorf("end verification: %w", err)
		}
		conv.CustomerID = v.CustomerID
		if err := e.audit(ctx, tx, conv, AuditVerifyLinked, v.CustomerID, AuditAllowed, "", now); err != nil {
			return err
		}
		e.log.InfoContext(ctx, "identity verified by code and linked", "conversation", conv.ID)
		return e.say(ctx, tx, *conv, "verify_ok", nil, set)
	}
	v.Attempts++
	v.UpdatedAt = now
	if tl, err := e.countFailure(ctx, tx, conv, v, now); err != nil || tl {
		if err != nil {
			return err
		}
		return e.lockOut(ctx, tx, conv, v, set, now, "target_locked")
	}
	if v.Attempts >= maxCodeAttempts {
		return e.lockOut(ctx, tx, conv, v, set, now, "too_many_attempts")
	}
	if err := e.audit(ctx, tx, conv, AuditVerifyFailed, v.CustomerID, AuditRefused, "wrong_code", now); err != nil {
		return err
	}
	if err := tx.PutVerification(ctx, v); err != nil {
		return fmt.Errorf("store verification: %w", err)
	}
	return e.say(ctx, tx, *conv, "verify_wrong", map[string]any{"Left": maxCodeAttempts - v.Attempts}, set)
}

// startVerify asks an unlinked customer who asked for account data for the
// email on their account, unless they are locked out.
func (e *Engine) startVerify(ctx context.Context, tx Tx, conv *Conversation, set *prompts.Set) error {
	now := e.now()
	v, err := tx.Verification(ctx, conv.Identity())
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("load verification: %w", err)
	}
	v.Identity = conv.Identity()
	if locked(v, now) {
		return e.say(ctx, tx, *conv, "verify_locked", nil, set)
	}
	return e.askEmail(ctx, tx, conv, v, set, now)
}

func (e *Engine) askEmail(ctx context.Context, tx Tx, conv *Conversation, v Verification, set *prompts.Set, now time.Time) error {
	v.ConversationID, v.Step, v.CustomerID, v.Email, v.CodeHash = conv.ID, VerifyEmail, "", "", ""
	v.ExpiresAt, v.Attempts, v.UpdatedAt = now.Add(emailWait), 0, now
	if err := tx.PutVerification(ctx, v); err != nil {
		return fmt.Errorf("store verification: %w", err)
	}
	return e.say(ctx, tx, *conv, "verify_ask_email", nil, set)
}

// sendCode runs outside any transaction (the directory and the company's
// webhook may take seconds): it looks up who has the email the customer
// gave, makes a code and has it delivered to the address the directory
// holds. The returned turn stores the outcome and answers the customer.
// A directory that cannot answer ends the flow with the same reply as a
// webhook that fails: nothing is guessed.
func (e *Engine) sendCode(ctx context.Context, conv Conversation, v Verification) turn {
	var customer Customer
	failure := "send_failed"
	cs, err := e.cfg.Directory.CustomersByEmail(ctx, v.Email)
	if err != nil {
		err = fmt.Errorf("look up the email in the customer directory: %w", err)
		failure = "directory_unavailable"
	} else {
		// No customer (or several) with the email: the flow goes on the
		// same way and no code can match.
		customer, _ = OnlyCustomer(cs)
	}
	code := ""
	if err == nil {
		code, err = newCode()
	}
	if err == nil && customer.ID != "" && customer.Email != "" {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err = e.cfg.Verifier.SendCode(sctx, VerificationCode{CustomerID: customer.ID, Email: customer.Email, Code: code})
		cancel()
	}
	if err != nil {
		// The error may quote the webhook's answer, never the code or the
		// email, which the sender and the directory do not put in errors.
		e.log.ErrorContext(ctx, "verification code not sent", "conversation", conv.ID, "err", err)
	}
	hash := ""
	if err == nil {
		hash, err = hashCode(code)
	}
	sent := err == nil
	return turn{after: func(ctx context.Context, tx Tx, cur *Conversation, set *prompts.Set) error {
		now := e.now()
		cv, lerr := tx.Verification(ctx, cur.Identity())
		if lerr != nil || cv.Step != VerifySend || cv.ConversationID != cur.ID {
			return nil // cancelled or changed meanwhile
		}
		if !sent {
			if err := e.audit(ctx, tx, cur, AuditVerifySent, customer.ID, AuditRefused, failure, now); err != nil {
				return err
			}
			if err := e.endVerify(ctx, tx, cv, now); err != nil {
				return err
			}
			return e.say(ctx, tx, *cur, "verify_unavailable", nil, set)
		}
		if now.Sub(cv.SendsSince) >= sendWindow {
			cv.Sends, cv.SendsSince = 0, now
		}
		cv.Sends++
		cv.Step, cv.CustomerID, cv.Email, cv.CodeHash = VerifyCode, customer.ID, "", hash
		cv.ExpiresAt, cv.Attempts, cv.UpdatedAt = now.Add(codeTTL), 0, now
		reason := ""
		if cv.CustomerID == "" {
			reason = "unknown_email" // nothing was sent; the customer is told the same
		}
		if err := noteCustomer(ctx, tx, cv.Target, cv.CustomerID); err != nil {
			return err
		}
		if err := e.audit(ctx, tx, cur, AuditVerifySent, cv.CustomerID, AuditAllowed, reason, now); err != nil {
			return err
		}
		if err := tx.PutVerification(ctx, cv); err != nil {
			return fmt.Errorf("store verification: %w", err)
		}
		return e.say(ctx, tx, *cur, "verify_code_sent", map[string]any{"Minutes": int(codeTTL / time.Minute)}, set)
	}}
}

// lockOut locks an identity out of the flow for a while and says so.
func (e *Engine) lockOut(ctx context.Context, tx Tx, conv *Conversation, v Verification, set *prompts.Set, now time.Time, reason string) error {
	if !locked(v, now) {
		v.LockedUntil = now.Add(lockout)
		if err := e.audit(ctx, tx, conv, AuditVerifyLocked, v.CustomerID, AuditRefused, reason, now); err != nil {
			return err
		}
	}
	v.Step, v.Email, v.CodeHash, v.Attempts, v.UpdatedAt = VerifyNone, "", "", 0, now
	if err := tx.PutVerification(ctx, v); err != nil {
		return fmt.Errorf("store verification: %w", err)
	}
	return e.say(ctx, tx, *conv, "verify_locked", nil, set)
}

// endVerify ends the flow, keeping what limits the next one (the lockout
// and the count of codes sent).
func (e *Engine) endVerify(ctx context.Context, tx Tx, v Verification, now time.Time) error {
	if v.LockedUntil.Before(now) && (v.Sends == 0 || now.Sub(v.SendsSince) >= sendWindow) {
		if err := tx.DeleteVerification(ctx, v.Identity); err != nil {
			return fmt.Errorf("end verification: %w", err)
		}
		return nil
	}
	v.Step, v.CustomerID, v.Email, v.CodeHash, v.Attempts, v.UpdatedAt = VerifyNone, "", "", "", 0, now
	if err := tx.PutVerification(ctx, v); err != nil {
		return fmt.Errorf("end verification: %w", err)
	}
	return nil
}

// audit appends an entry about conv's identity to the audit log, in tx:
// verification entries go in the transaction of the change they record,
// and a failure to write one fails that transaction.
func (e *Engine) audit(ctx context.Context, tx Tx, conv *Conversation, action AuditAction, customer string, outcome AuditOutcome, reason string, now time.Time) error {
	entry := AuditEntry{At: now, Actor: ActorOf(conv.Identity()), ActorCustomer: conv.CustomerID, CustomerID: customer,
		Action: action, Record: ActorOf(conv.Identity()), Outcome: outcome, Reason: reason, ConversationID: conv.ID}
	if err := tx.AppendAudit(ctx, &entry); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// say queues canned message name for conv's customer.
func (e *Engine) say(ctx context.Context, tx Tx, conv Conversation, name string, data map[string]any, set *prompts.Set) error {
	text, err := set.Message(name, conv.Lang, data)
	if err != nil {
		return err
	}
	return e.reply(ctx, tx, conv, text, set, false)
}

func locked(v Verification, now time.Time) bool { return now.Before(v.LockedUntil) }

// sendsLeft is how many more codes v's identity may have sent now.
func sendsLeft(v Verification, now time.Time) int {
	if now.Sub(v.SendsSince) >= sendWindow {
		return maxSends
	}
	return max(0, maxSends-v.Sends)
}

// newCode returns a uniformly random six-digit code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("make a verification code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// hashCode returns "salt:mac", an HMAC-SHA256 of code under a random salt.
// Six digits are few, so the hash slows down nobody who holds the database
// for the ten minutes a code lives; it keeps codes out of backups, exports
// and casual reading.
func hashCode(code string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt a verification code: %w", err)
	}
	return hex.EncodeToString(salt) + ":" + hex.EncodeToString(codeMAC(salt, code)), nil
}

// codeMatches compares code with a stored hash in constant time.
func codeMatches(stored, code string) bool {
	s, m, ok := strings.Cut(stored, ":")
	if !ok {
		return false
	}
	salt, err1 := hex.DecodeString(s)
	want, err2 := hex.DecodeString(m)
	if err1 != nil || err2 != nil || len(salt) == 0 {
		return false
	}
	return hmac.Equal(want, codeMAC(salt, code))
}

func codeMAC(salt []byte, code string) []byte {
	mac := hmac.New(sha256.New, salt)
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

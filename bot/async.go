package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Submit runs Process for a conversation in the background, at most
// MaxConcurrentTurns at once across conversations (turns of one
// conversation still run in order). Adapters call it after Accept and the
// platform's acknowledgement. The turn does not stop when ctx is cancelled:
// Drain lets in-flight turns finish at shutdown; what a crash interrupts,
// Recover answers at the next start.
func (e *Engine) Submit(ctx context.Context, conversationID int64) {
	e.submitMu.Lock()
	if e.stopped {
		e.submitMu.Unlock()
		e.dropLease(ctx, conversationID)
		return // shutting down: Recover answers it at the next start
	}
	if e.queued[conversationID] {
		// The turn waiting for a slot loads this message too.
		e.submitMu.Unlock()
		return
	}
	if e.queued == nil {
		e.queued = map[int64]bool{}
	}
	e.queued[conversationID] = true
	e.inflight.Add(1)
	e.submitMu.Unlock()
	go func() {
		defer e.inflight.Done()
		turnCtx := context.WithoutCancel(ctx)
		select {
		case e.slots <- struct{}{}:
		case <-e.draining:
			e.dropLease(turnCtx, conversationID)
			return // shutting down: Recover answers it at the next start
		}
		defer func() { <-e.slots }()
		e.submitMu.Lock()
		delete(e.queued, conversationID)
		e.submitMu.Unlock()
		if err := e.Process(turnCtx, conversationID); err != nil {
			e.log.ErrorContext(turnCtx, "turn failed; the message stays stored, and recovery answers it",
				"conversation", conversationID, "err", err)
		}
	}()
}

// Drain stops starting new turns and waits until the running ones finish or
// ctx ends. Messages whose turns did not run stay stored, unprocessed, and
// Recover answers them at the next start.
func (e *Engine) Drain(ctx context.Context) error {
	e.submitMu.Lock()
	if !e.stopped {
		e.stopped = true
		close(e.draining)
	}
	e.submitMu.Unlock()
	done := make(chan struct{})
	go func() {
		e.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bot: turns still running at shutdown: %w", ctx.Err())
	}
}

// Active reports whether a conversation is open at key: adapters use it to
// tell a follow-up in a thread the bot is part of from chatter it must
// ignore.
func (e *Engine) Active(ctx context.Context, key ConversationKey) (bool, error) {
	var found bool
	// A read: adapters ask it of every message in a channel, and on SQLite
	// a write transaction would wait for, and hold up, the one writer.
	err := e.cfg.Store.View(ctx, func(tx Tx) error {
		conv, err := tx.ActiveConversation(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		found = e.now().Sub(conv.LastMessageAt) <= e.cfg.IdleTimeout || conv.State != StateBot
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("bot: look up conversation: %w", err)
	}
	return found, nil
}

// EmailProfile is what a platform says of a chat user's email, for
// SLACK_LINK_BY_EMAIL.
type EmailProfile struct {
	Email string
	// Refused is why the platform's word for the email is not enough to
	// link the user, as the audit log's reason ("guest",
	// "external_workspace", "email_unconfirmed"); "" when it is.
	Refused string
}

// LinkByEmail links an identity that no admin linked yet to the customer
// the directory has with this profile email (Slack's SLACK_LINK_BY_EMAIL).
// It changes nothing when the identity is already linked, or when no single
// customer has the email. A profile the platform does not vouch for is
// refused, and the refusal audited. The directory is asked outside any
// transaction; its error is returned, and nothing is linked.
func (e *Engine) LinkByEmail(ctx context.Context, id Identity, p EmailProfile) (bool, error) {
	email := strings.TrimSpace(p.Email)
	if email == "" {
		return false, nil
	}
	linked, err := e.linkedTo(ctx, id)
	if err != nil || linked != "" {
		return false, err
	}
	if p.Refused != "" {
		err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
			return tx.AppendAudit(ctx, &AuditEntry{At: e.now(), Actor: ActorOf(id), Action: AuditLinkByEmail,
				Record: ActorOf(id), Outcome: AuditRefused, Reason: p.Refused})
		})
		if err != nil {
			return false, fmt.Errorf("bot: link by email: audit the refusal: %w", err)
		}
		return false, nil
	}
	cs, err := e.cfg.Directory.CustomersByEmail(ctx, email)
	if err != nil {
		return false, fmt.Errorf("bot: link by email: look up the customer directory: %w", err)
	}
	customer, ok := OnlyCustomer(cs)
	if !ok {
		return false, nil
	}
	done := false
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		done = false
		if _, err := tx.CustomerFor(ctx, id); err == nil {
			return nil // linked meanwhile, by someone with the better claim
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		done = true
		if err := tx.LinkIdentity(ctx, Link{Identity: id, CustomerID: customer.ID, CreatedAt: e.now()}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: e.now(), Actor: ActorOf(id), CustomerID: customer.ID,
			Action: AuditLinkByEmail, Record: ActorOf(id), Outcome: AuditAllowed, Reason: "profile_email"})
	})
	if err != nil {
		return false, fmt.Errorf("bot: link by email: %w", err)
	}
	return done, nil
}

// linkedTo returns the customer an identity is linked to, "" for none.
func (e *Engine) linkedTo(ctx context.Context, id Identity) (string, error) {
	var customer string
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		c, err := tx.CustomerFor(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		customer = c
		return err
	})
	if err != nil {
		return "", fmt.Errorf("bot: look up the link of an identity: %w", err)
	}
	return customer, nil
}

// Cursor is where a platform's conversation stands: the id of the newest
// customer message stored, for fetching back what was missed.
type Cursor struct {
	Key ConversationKey
	// LastMessageID is the platform's id of the newest stored customer
	// message, "" when there is none.
	LastMessageID string
	LastMessageAt time.Time
}

// Cursors returns a cursor for each open conversation on a platform, oldest
// first. Discord does not redeliver what was sent while the gateway was
// down, so after a reconnect the adapter fetches messages after these.
func (e *Engine) Cursors(ctx context.Context, p Platform) ([]Cursor, error) {
	var out []Cursor
	err := e.cfg.Store.View(ctx, func(tx Tx) error {
		out = nil
		convs, err := tx.OpenConversations(ctx, p)
		if err != nil {
			return err
		}
		for _, c := range convs {
			key, err := tx.LastDedupeKey(ctx, c.ID, RoleCustomer)
			if err != nil {
				return err
			}
			out = append(out, Cursor{Key: c.Key, LastMessageID: strings.TrimPrefix(key, string(p)+":"), LastMessageAt: c.LastMessageAt})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bot: conversation cursors on %s: %w", p, err)
	}
	return out, nil
}

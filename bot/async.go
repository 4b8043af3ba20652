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
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
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

// LinkByEmail links an identity that no admin linked yet to the customer
// with this email (Slack's SLACK_LINK_BY_EMAIL). It changes nothing when the
// identity is already linked, or when no single customer has the email.
func (e *Engine) LinkByEmail(ctx context.Context, id Identity, email string) (bool, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return false, nil
	}
	linked := false
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.CustomerFor(ctx, id); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		customer, err := tx.CustomerByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		linked = true
		if err := tx.LinkIdentity(ctx, Link{Identity: id, CustomerID: customer, CreatedAt: e.now()}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: e.now(), Actor: ActorOf(id), CustomerID: customer,
			Action: AuditLinkByEmail, Record: ActorOf(id), Outcome: AuditAllowed, Reason: "profile_email"})
	})
	if err != nil {
		return false, fmt.Errorf("bot: link by email: %w", err)
	}
	return linked, nil
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
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
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

package bot

import (
	"context"
	"errors"
	"fmt"
)

// The buttons under the bot's answers: a customer's rating of a handoff,
// and "Talk to a person".

// Rate records a rating given with a button (see handoff.ParseRating for
// the button's value). Only the customer of the handoff's conversation can
// rate, and only the handoff they were last asked about; pressing again
// changes nothing.
func (e *Engine) Rate(ctx context.Context, user string, handoffID int64, n int) error {
	if n < 1 || n > 5 {
		return fmt.Errorf("bot: rating %d out of range 1–5", n)
	}
	set := e.cfg.Prompts()
	queued := false
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		queued = false
		h, err := tx.Handoff(ctx, handoffID)
		if err != nil {
			return err
		}
		conv, err := tx.Conversation(ctx, h.ConversationID)
		if err != nil {
			return err
		}
		if conv.User != user {
			return ErrNotYours
		}
		if conv.RatingHandoffID != handoffID {
			return nil // already rated, or asked about another handoff
		}
		conv.RatingHandoffID = 0
		if err := e.rate(ctx, tx, &conv, handoffID, n, set); err != nil {
			return err
		}
		queued = true
		return tx.UpdateConversation(ctx, conv)
	})
	if err != nil {
		return fmt.Errorf("bot: rate handoff %d: %w", handoffID, err)
	}
	if queued {
		e.cfg.Notify()
	}
	return nil
}

// ErrNotYours is returned when someone presses a button on a conversation
// that is not theirs.
var ErrNotYours = errors.New("this conversation belongs to another customer")

// TalkToPerson opens a handoff for the "Talk to a person" button. Only the
// conversation's own customer can press it; pressing it again while a
// handoff is open changes nothing.
func (e *Engine) TalkToPerson(ctx context.Context, conversationID int64, user string) error {
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		conv, err := tx.Conversation(ctx, conversationID)
		if err != nil {
			return err
		}
		if conv.User != user {
			return ErrNotYours
		}
		if !conv.ClosedAt.IsZero() {
			// The button sits under an answer of a conversation that has
			// since closed: the request goes to the conversation open at
			// the same place now (promise 1: the press is never lost).
			in := Incoming{Key: conv.Key, User: user, UserName: conv.UserName, Private: conv.Private}
			if conv, _, err = e.conversation(ctx, tx, in, e.now()); err != nil {
				return err
			}
			if conv.User != user {
				return ErrNotYours
			}
		}
		if conv.State != StateBot {
			return nil // a person is asked for already
		}
		req := HandoffRequest{Trigger: TriggerButton, Reason: "The customer pressed \"Talk to a person\"."}
		if err := e.cfg.Escalator.Open(ctx, tx, &conv, req); err != nil {
			return err
		}
		return tx.UpdateConversation(ctx, conv)
	})
	if err != nil {
		return fmt.Errorf("bot: talk to a person in conversation %d: %w", conversationID, err)
	}
	e.metrics.humanRequest(Platform("button"))
	e.cfg.Notify()
	return nil
}

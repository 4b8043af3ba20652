package handoff

import (
	"context"
	"errors"
	"fmt"

	"github.com/firstlinehq/firstline/bot"
)

// DeliveryFailed tells the agents of a handoff that a message concerning it
// could not be delivered: the outbox gave it up (the platform refused it
// for good, or kept failing). It posts a line in the handoff's agent thread
// saying what failed and why, so that the agent can reach the customer
// another way. It implements the outbox dispatcher's OnDead hook.
//
// Messages that concern no handoff are left alone (the dispatcher counts
// and logs them), and so are failed thread posts: a notice about a thread
// post that could not be delivered would go the same way.
func (s *Service) DeliveryFailed(ctx context.Context, m bot.Outgoing, reason string) error {
	if m.Kind == bot.KindThread {
		return nil
	}
	reason = oneLine(reason, 300)
	var text string
	switch m.Kind {
	case bot.KindReply, bot.KindRelay:
		text = "⚠️ A message to the customer could not be delivered: " + reason + "\n> " + oneLine(m.Text, 200)
	case bot.KindAnnounce:
		text = "⚠️ The card of this handoff could not be posted: " + reason
	case bot.KindUpdate:
		text = "⚠️ The card of this handoff could not be updated: " + reason
	default:
		return nil
	}
	found := false
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		found = false
		h, err := s.concerned(ctx, tx, m)
		if errors.Is(err, bot.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return s.toThread(ctx, tx, h, text)
	})
	if err != nil {
		return fmt.Errorf("handoff: report undelivered outbox row %d: %w", m.ID, err)
	}
	if found {
		s.log.WarnContext(ctx, "undelivered message reported to the agents", "outbox", m.ID, "handoff", m.HandoffID, "kind", m.Kind)
		s.cfg.Notify()
	}
	return nil
}

// concerned returns the handoff an outgoing message concerns: the one it
// names, else the conversation's open handoff, else the resolved one whose
// rating the customer is asked for. bot.ErrNotFound when there is none.
func (s *Service) concerned(ctx context.Context, tx bot.Tx, m bot.Outgoing) (bot.Handoff, error) {
	if m.HandoffID != 0 {
		return tx.Handoff(ctx, m.HandoffID)
	}
	if m.ConversationID == 0 {
		return bot.Handoff{}, bot.ErrNotFound
	}
	h, err := tx.OpenHandoff(ctx, m.ConversationID)
	if !errors.Is(err, bot.ErrNotFound) {
		return h, err
	}
	conv, err := tx.Conversation(ctx, m.ConversationID)
	if err != nil {
		return bot.Handoff{}, err
	}
	if conv.RatingHandoffID == 0 {
		return bot.Handoff{}, bot.ErrNotFound
	}
	return tx.Handoff(ctx, conv.RatingHandoffID)
}

package bot

import (
	"context"
	"fmt"

	"github.com/firstlinehq/firstline/prompts"
)

// shadow finishes a turn in shadow mode (FIRSTLINE_SHADOW): the customer is
// with a person from their first message, and what the bot would have said
// goes to the handoff thread as a draft an agent may send. It runs in the
// transaction that stores the turn; the tokens were counted before.
func (e *Engine) shadow(ctx context.Context, tx Tx, conv *Conversation, t turn, set *prompts.Set) error {
	if conv.State == StateBot {
		req := HandoffRequest{Trigger: TriggerShadow, Reason: "Shadow mode: the bot drafts, an agent answers."}
		if err := e.cfg.Escalator.Open(ctx, tx, conv, req); err != nil {
			return fmt.Errorf("open shadow handoff: %w", err)
		}
	}
	note := ""
	if t.handoff != nil {
		note = "The bot would have handed this to a person: " + t.handoff.Reason
	}
	if t.reply == "" && note == "" {
		return tx.UpdateConversation(ctx, *conv)
	}
	if err := e.cfg.Escalator.Draft(ctx, tx, conv, t.reply, set.Version, note); err != nil {
		return fmt.Errorf("post draft: %w", err)
	}
	e.metrics.draft()
	return tx.UpdateConversation(ctx, *conv)
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/prompts"
)

// The guards around a model turn: what replaces it (a verification code to
// send, a spent token budget), what is checked after each tool call (the
// audit log) and what the reply must not carry (the system prompt, links to
// unknown hosts).

// preTurn is what the engine learns before a turn, in the transaction that
// loads the conversation.
type preTurn struct {
	// send is a verification at the send step: the turn sends its code.
	send  *Verification
	email string // the email on the account of send.CustomerID
	// overBudget is set when the day's model tokens are used up.
	overBudget bool
}

func (e *Engine) beforeTurn(ctx context.Context, tx Tx, conv Conversation) (preTurn, error) {
	var pre preTurn
	if conv.State != StateBot && !e.cfg.Shadow {
		return pre, nil // with a person: no model turn runs
	}
	// In shadow mode the bot drafts for the agents with the model, so the
	// token cap holds there too.
	if conv.State == StateBot && e.verifying(conv) {
		v, err := tx.Verification(ctx, conv.Identity())
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return pre, fmt.Errorf("load verification: %w", err)
		case v.Step == VerifySend && v.ConversationID == conv.ID:
			pre.send = &v
			if v.CustomerID != "" {
				c, err := tx.Customer(ctx, v.CustomerID)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return pre, fmt.Errorf("load customer to verify: %w", err)
				}
				pre.email = c.Email
			}
			return pre, nil
		}
	}
	over, err := e.overBudget(ctx, tx, e.now())
	pre.overBudget = over
	return pre, err
}

// decideTurn runs what the conversation needs now: sending a verification
// code, a handoff when the token budget is spent, or a model turn.
func (e *Engine) decideTurn(ctx context.Context, conv Conversation, history []Message, set *prompts.Set, pre preTurn) turn {
	switch {
	case pre.send != nil:
		return e.sendCode(ctx, conv, *pre.send, pre.email)
	case pre.overBudget:
		return e.budgetTurn(e.now())
	}
	return e.runTurn(ctx, conv, history, set)
}

// screenTool records a tool call's access to account data in the audit log
// before the model sees the result, and keeps links out of a handoff reason
// agents will read. It also reports whether the call was refused because
// the chat identity is not linked (the start of verification by code).
func (e *Engine) screenTool(ctx context.Context, conv Conversation, res toolResult, allow links.Policy) (toolResult, bool) {
	if err := e.recordAccess(ctx, conv, res); err != nil {
		// Fail closed: what cannot be recorded is not shown.
		e.log.ErrorContext(ctx, "tool result withheld: the audit log cannot be written", "conversation", conv.ID, "err", err)
		return toolResult{outcome: "error", handoff: &HandoffRequest{
			Trigger: TriggerFailure,
			Reason:  "A payment lookup could not be recorded in the audit log, so its result was not shown.",
		}}, false
	}
	if res.handoff != nil {
		res.handoff.Reason, _ = allow.Neutralize(res.handoff.Reason)
	}
	return res, res.audit != nil && res.audit.Reason == "not_linked"
}

// finishReply checks a model's answer before it is stored and sent. When
// the model's payment lookup was refused because the chat is not linked
// and verification by code is on, the engine asks for the email on the
// account instead of sending the model's answer.
func (e *Engine) finishReply(ctx context.Context, conv Conversation, text string, allow links.Policy, set *prompts.Set, verify bool) turn {
	if verify && e.verifying(conv) {
		return turn{after: func(ctx context.Context, tx Tx, cur *Conversation, set *prompts.Set) error {
			if !e.verifying(*cur) {
				return e.reply(ctx, tx, *cur, text, set, true) // linked meanwhile
			}
			return e.startVerify(ctx, tx, cur, set)
		}}
	}
	policy, err := set.System(prompts.SystemData{Linked: conv.CustomerID != "", Private: conv.Private,
		Today: e.now().UTC().Format(time.DateOnly)})
	if err == nil && quotesPolicy(text, policy) {
		e.log.WarnContext(ctx, "model reply quoted the system prompt; a refusal was sent instead", "conversation", conv.ID)
		if msg, err := set.Message("cannot_share", conv.Lang, nil); err == nil {
			text = msg
		}
	}
	text, n := allow.Neutralize(text)
	if n > 0 {
		e.log.InfoContext(ctx, "links to hosts not allowed removed from a reply", "conversation", conv.ID, "links", n)
	}
	return turn{reply: text}
}

// inputNotices tells the customer, after their message is stored, what of
// it was not taken: text over MaxTextLen, attachments over the limit.
func (e *Engine) inputNotices(ctx context.Context, tx Tx, conv Conversation, cut bool, dropped int, set *prompts.Set) (bool, error) {
	told := false
	if cut {
		if err := e.notice(ctx, tx, conv, "message_truncated", map[string]any{"KB": MaxTextLen >> 10}, set); err != nil {
			return false, err
		}
		told = true
	}
	if dropped > 0 {
		max := e.cfg.Limits.MaxAttachments
		if max <= 0 {
			max = DefaultMaxAttachments
		}
		if err := e.notice(ctx, tx, conv, "attachments_dropped", map[string]any{"Dropped": dropped, "Max": max}, set); err != nil {
			return false, err
		}
		told = true
	}
	return told, nil
}

// notice sends canned message name to conv's customer and stores it as a
// system message: the customer reads it, but it is about the product, not
// part of the dialogue, so the model never sees it (a notice after the
// customer's message would read to the model as if it had answered).
func (e *Engine) notice(ctx context.Context, tx Tx, conv Conversation, name string, data map[string]any, set *prompts.Set) error {
	text, err := set.Message(name, conv.Lang, data)
	if err != nil {
		return err
	}
	now := e.now()
	msg := Message{ConversationID: conv.ID, Role: RoleSystem, Text: text, PromptVersion: set.Version, Processed: true, CreatedAt: now}
	if _, err := tx.AddMessage(ctx, &msg); err != nil {
		return fmt.Errorf("store notice: %w", err)
	}
	out := ToCustomer(conv, KindReply, "", text, nil)
	out.CreatedAt = now
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("queue notice: %w", err)
	}
	return nil
}

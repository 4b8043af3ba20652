package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/prompts"
)

// turn is what one model turn decided.
type turn struct {
	reply   string
	handoff *HandoffRequest
	// after, when set, runs in the transaction that stores the turn, after
	// the reply and before any handoff (identity verification, the token
	// budget's alert). It may queue messages.
	after func(ctx context.Context, tx Tx, conv *Conversation, set *prompts.Set) error
	// usage is what the model calls of the turn cost.
	usage Usage
	// called names the tools the model called (topic.go labels by them).
	called []string
	// misses, when set, is the conversation's new Misses (escalate.go).
	misses *int
}

// Process runs the model turn for a conversation's customer messages that
// were accepted but not yet answered. Messages that arrived while an earlier
// turn was running are answered together, in one turn, in order. A turn
// whose conversation was handed to a person meanwhile is dropped: the
// customer is talking to a human now. With several replicas, one at a time
// answers a conversation (lease.go).
func (e *Engine) Process(ctx context.Context, conversationID int64) error {
	unlock := e.locks.Lock(conversationID)
	defer unlock()

	set := e.cfg.Prompts()
	var conv Conversation
	var history []Message
	var pre preTurn
	var leased bool
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		if conv, err = tx.Conversation(ctx, conversationID); err != nil {
			return err
		}
		if history, err = tx.RecentMessages(ctx, conversationID, e.cfg.HistoryLimit); err != nil {
			return err
		}
		if pre, err = e.beforeTurn(ctx, tx, conv); err != nil {
			return err
		}
		leased, err = e.leaseTurn(ctx, tx, conversationID, history)
		return err
	})
	if err != nil {
		return fmt.Errorf("bot: load conversation %d: %w", conversationID, err)
	}
	pending := unprocessed(history)
	if len(pending) == 0 || !leased {
		return nil // nothing to answer, or another replica is answering
	}
	lease := e.holdLease(ctx, conversationID)
	defer lease.end(ctx)

	var t turn
	start := e.now()
	if conv.State == StateBot || e.cfg.Shadow {
		t = e.decideTurn(ctx, conv, history, set, pre)
	}
	if err := ctx.Err(); err != nil {
		// Stopped mid-turn: the messages stay unprocessed, and recovery
		// answers them at the next start.
		return fmt.Errorf("bot: turn in conversation %d: %w", conversationID, err)
	}
	e.metrics.turnDone(conv.Key.Platform, t, e.now().Sub(start))

	queued := false
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		queued = false
		cur, err := tx.Conversation(ctx, conversationID)
		if err != nil {
			return err
		}
		// Tokens spent count whatever happens to the turn's answer.
		if err := e.countTokens(ctx, tx, t.usage, e.now()); err != nil {
			return err
		}
		if err := e.recordTurn(ctx, tx, conversationID, pending, t, set); err != nil {
			return err
		}
		if ok, err := lease.settle(ctx, tx, pending); err != nil || !ok {
			return err // not ok: another replica answers these messages
		}
		if e.cfg.Shadow {
			queued = true
			return e.shadow(ctx, tx, &cur, t, set)
		}
		if cur.State != StateBot {
			if t.reply != "" || t.handoff != nil {
				e.log.InfoContext(ctx, "turn dropped: conversation was handed to a person meanwhile", "conversation", conversationID)
			}
			return nil
		}
		if t.misses != nil {
			cur.Misses = *t.misses
		}
		if t.reply != "" {
			if err := e.reply(ctx, tx, cur, t.reply, set, true); err != nil {
				return err
			}
			queued = true
		}
		if t.after != nil {
			if err := t.after(ctx, tx, &cur, set); err != nil {
				return err
			}
			queued = true
		}
		if t.handoff != nil {
			if err := e.cfg.Escalator.Open(ctx, tx, &cur, *t.handoff); err != nil {
				return fmt.Errorf("open handoff: %w", err)
			}
			queued = true
		}
		return tx.UpdateConversation(ctx, cur)
	})
	if err != nil {
		return fmt.Errorf("bot: finish turn in conversation %d: %w", conversationID, err)
	}
	lease.committed(ctx)
	if queued {
		e.cfg.Notify()
	}
	return nil
}

func unprocessed(history []Message) []Message {
	var out []Message
	for _, m := range history {
		if m.Role == RoleCustomer && !m.Processed {
			out = append(out, m)
		}
	}
	return out
}

// modelTurn asks the model, runs the tools it calls, and returns its answer
// or a handoff. It never returns an error: whatever fails, the customer is
// handed to a person with a reason agents can read. runTurn (escalate.go)
// wraps it with automatic escalation.
func (e *Engine) modelTurn(ctx context.Context, conv Conversation, history []Message, set *prompts.Set) (t turn) {
	var used Usage
	var called []string
	defer func() { t.usage, t.called = used, called }()
	system, err := set.System(prompts.SystemData{
		Linked:  conv.CustomerID != "",
		Private: conv.Private,
		FAQ:     set.FAQ,
		Today:   e.now().UTC().Format(time.DateOnly),
	})
	if err != nil {
		e.log.ErrorContext(ctx, "render system prompt", "err", err)
		return e.failure(ctx, conv, "The system prompt could not be rendered.", set)
	}
	req := ModelRequest{System: system, Messages: chatHistory(history), Tools: toolDefs(), Lang: conv.Lang}
	tools := e.toolbox(conv, history)
	allow := e.cfg.Links.With(links.HostsIn(system)...)
	verify := false // a payment_status call was refused: not linked

	for round := 0; round <= e.cfg.MaxToolRounds; round++ {
		resp, err := e.cfg.Model.Complete(ctx, req)
		e.metrics.modelCall(err, resp.Usage)
		used.PromptTokens += resp.Usage.PromptTokens
		used.CompletionTokens += resp.Usage.CompletionTokens
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				// Shutting down: leave the messages for recovery rather than
				// hand off a customer because we were stopped. A deadline is
				// different: the customer waited, and a person takes over.
				return turn{}
			}
			e.log.WarnContext(ctx, "model failed", "conversation", conv.ID, "model", e.cfg.Model.Name(), "err", err)
			return e.failure(ctx, conv, modelFailureReason(err), set)
		}
		if len(resp.ToolCalls) == 0 {
			text := strings.TrimSpace(resp.Text)
			if text == "" {
				return e.failure(ctx, conv, "The AI model returned an empty answer.", set)
			}
			return e.finishReply(ctx, conv, text, allow, set, verify)
		}
		req.Messages = append(req.Messages, ChatMessage{Role: ChatAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls})
		for _, call := range resp.ToolCalls {
			called = append(called, call.Name)
			res, notLinked := e.screenTool(ctx, conv, tools.run(ctx, call), allow)
			verify = verify || notLinked
			e.metrics.toolCall(call.Name, res.outcome)
			if res.outcome == "error" && res.handoff != nil {
				// The reason carries the source's error (never secrets:
				// sources keep tokens out of their errors); operators need
				// it, not only the agents who read the card.
				e.log.ErrorContext(ctx, "tool failed", "conversation", conv.ID, "tool", call.Name, "reason", res.handoff.Reason)
			}
			if res.handoff != nil {
				return turn{handoff: res.handoff}
			}
			req.Messages = append(req.Messages, ChatMessage{Role: ChatTool, ToolCallID: call.ID, Content: res.content})
		}
	}
	return e.failure(ctx, conv, fmt.Sprintf("The AI model kept calling tools for %d rounds without answering.", e.cfg.MaxToolRounds+1), set)
}

// failure hands the conversation to a person after the model or a tool
// failed; the customer is told, in their language, what happens.
func (e *Engine) failure(ctx context.Context, conv Conversation, reason string, set *prompts.Set) turn {
	e.metrics.modelFailure()
	msg, err := set.Message("error", conv.Lang, nil)
	if err != nil {
		e.log.ErrorContext(ctx, "render error message", "err", err)
		msg = ""
	}
	return turn{reply: msg, handoff: &HandoffRequest{Trigger: TriggerFailure, Reason: reason}}
}

// ModelError is an error a Model returns with a reason agents can read.
type ModelError struct {
	Reason string // for agents: "The AI model timed out after 30s."
	Err    error
}

func (e *ModelError) Error() string {
	return strings.TrimSuffix(e.Reason, ".") + ": " + e.Err.Error()
}
func (e *ModelError) Unwrap() error { return e.Err }

func modelFailureReason(err error) string {
	var me *ModelError
	if errors.As(err, &me) {
		return me.Reason
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "The AI model did not answer in time."
	}
	return "The AI model could not be reached."
}

// chatHistory turns stored messages into the model's view of the
// conversation. Agents' relayed words are the assistant's side of the
// conversation; internal notes and system messages are never shown.
func chatHistory(history []Message) []ChatMessage {
	out := make([]ChatMessage, 0, len(history))
	for _, m := range history {
		switch m.Role {
		case RoleCustomer, RoleEdit:
			out = append(out, ChatMessage{Role: ChatUser, Content: m.Text})
		case RoleBot:
			out = append(out, ChatMessage{Role: ChatAssistant, Content: m.Text})
		case RoleAgent:
			name := m.AuthorName
			if name == "" {
				name = "a support agent"
			}
			out = append(out, ChatMessage{Role: ChatAssistant, Content: "(" + name + ", human support agent) " + m.Text})
		}
	}
	return out
}

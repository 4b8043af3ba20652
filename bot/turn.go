package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/prompts"
)

// This file is the second hop of a customer's message: Process runs the
// model turn for what Accept stored, with its guards, top to bottom: load
// the conversation and take its turn lease; decide what replaces the model
// (a verification code to send, a spent token budget) or run it, with
// automatic escalation around it (escalate.go) and the tools it calls
// (tools.go); check the answer (the audit log, the system prompt, links);
// store the answer and its outgoing messages in one transaction.

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
	// helped is, for each help-center search of the turn, the URL of the
	// best article found, "" when nothing was (topic.go).
	helped []string
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
	// Runs after unlock (defers run last first): Submit may take the lock.
	var again bool
	defer func() {
		if again {
			e.Submit(ctx, conversationID)
		}
	}()
	unlock := e.locks.Lock(conversationID)
	defer unlock()

	set := e.cfg.Prompts()
	in, err := e.loadTurn(ctx, conversationID)
	if err != nil {
		return fmt.Errorf("bot: load conversation %d: %w", conversationID, err)
	}
	pending := unprocessed(in.history)
	if len(pending) == 0 || !in.leased {
		return nil // nothing to answer, or another replica is answering
	}
	lease := e.holdLease(ctx, conversationID, in.until)
	defer lease.end(ctx)

	var t turn
	start := e.now()
	if in.conv.State == StateBot || e.cfg.Shadow {
		t = e.decideTurn(ctx, in.conv, in.history, set, in.pre)
	}
	if err := ctx.Err(); err != nil {
		// Stopped mid-turn: the messages stay unprocessed, and recovery
		// answers them at the next start.
		return fmt.Errorf("bot: turn in conversation %d: %w", conversationID, err)
	}
	e.metrics.turnDone(in.conv.Key.Platform, t, e.now().Sub(start))

	var out stored
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		out, err = e.storeTurn(ctx, tx, conversationID, pending, t, set, lease)
		return err
	})
	if err != nil {
		return fmt.Errorf("bot: finish turn in conversation %d: %w", conversationID, err)
	}
	again = lease.committed()
	if len(out.claimed) > 0 {
		e.cfg.Courier.Deliver(context.WithoutCancel(ctx), out.claimed)
	}
	if out.queued {
		e.cfg.Notify()
	}
	return nil
}

// stored is what the transaction that stored a turn queued: rows it
// claimed for the courier, and whether it left others to the dispatcher.
type stored struct {
	claimed []Outgoing
	queued  bool
}

// turnInput is what a turn starts from, read in one transaction.
type turnInput struct {
	conv    Conversation
	history []Message
	pre     preTurn
	// leased is set when this replica holds the conversation's turn
	// lease, until until unless renewed.
	leased bool
	until  time.Time
}

// loadTurn reads the conversation, its recent messages and what decides
// the turn, and takes the turn lease, in one transaction.
//
// It reads in a View first: usually Accept took the lease with the
// message, and then the turn needs no commit before its model call; a
// turn with nothing left to answer needs none at all. Only when the lease
// must be taken here (it ran out while the turn waited for a slot,
// recovery, another replica's message) does it read again in the write
// transaction that takes it, so that what the turn answers is what was
// unanswered when the lease was taken.
func (e *Engine) loadTurn(ctx context.Context, conversationID int64) (turnInput, error) {
	var in turnInput
	err := e.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		in, err = e.readTurn(ctx, tx, conversationID)
		if err != nil || len(unprocessed(in.history)) == 0 {
			return err
		}
		owner, until, err := tx.TurnHolder(ctx, conversationID)
		// The turn renews the lease halfway to its end (holdLease): what
		// is left must be enough for a renewal to land in time.
		in.leased = err == nil && owner == e.cfg.Replica && until.Sub(e.now()) > e.cfg.TurnLease/6
		in.until = until
		return err
	})
	if err != nil || in.leased || len(unprocessed(in.history)) == 0 {
		return in, err
	}
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		if in, err = e.readTurn(ctx, tx, conversationID); err != nil {
			return err
		}
		in.leased, err = e.leaseTurn(ctx, tx, conversationID, in.history)
		in.until = e.now().Add(e.cfg.TurnLease)
		return err
	})
	return in, err
}

// readTurn reads what a turn starts from.
func (e *Engine) readTurn(ctx context.Context, tx Tx, conversationID int64) (turnInput, error) {
	var in turnInput
	var err error
	if in.conv, err = tx.Conversation(ctx, conversationID); err != nil {
		return in, err
	}
	if in.history, err = tx.RecentMessages(ctx, conversationID, e.cfg.HistoryLimit); err != nil {
		return in, err
	}
	in.pre, err = e.beforeTurn(ctx, tx, in.conv)
	return in, err
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

// preTurn is what the engine learns before a turn, in the transaction that
// loads the conversation.
type preTurn struct {
	// send is a verification at the send step: the turn sends its code.
	send *Verification
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
		return e.sendCode(ctx, conv, *pre.send)
	case pre.overBudget:
		return e.budgetTurn(e.now())
	}
	return e.runTurn(ctx, conv, history, set)
}

// runTurn is a model turn with automatic escalation around it. A signal in
// the customer's words when the offers are used up hands off without
// asking the model, so it works with the model down. Otherwise the model
// answers, and escalation weighs its answer (escalate.go).
func (e *Engine) runTurn(ctx context.Context, conv Conversation, history []Message, set *prompts.Set) turn {
	sig := e.customerSignal(ctx, conv, history, set)
	if sig != nil && conv.Misses >= set.Escalation.Offers {
		return e.escalated(ctx, conv, *sig)
	}
	t := e.modelTurn(ctx, conv, history, set)
	if t.handoff != nil || t.reply == "" {
		return t // the model handed off, failed, or the turn was stopped
	}
	return e.weighAnswer(ctx, conv, t, sig, set)
}

// modelTurn asks the model, runs the tools it calls, and returns its answer
// or a handoff. It never returns an error: whatever fails, the customer is
// handed to a person with a reason agents can read.
func (e *Engine) modelTurn(ctx context.Context, conv Conversation, history []Message, set *prompts.Set) (t turn) {
	var used Usage
	var called, helped []string
	defer func() { t.usage, t.called, t.helped = used, called, helped }()
	system, err := set.System(prompts.SystemData{
		Linked:     conv.CustomerID != "",
		Private:    conv.Private,
		FAQ:        set.FAQ,
		HelpCenter: set.KnowledgeArticles() > 0,
		Today:      e.now().UTC().Format(time.DateOnly),
	})
	if err != nil {
		e.log.ErrorContext(ctx, "render system prompt", "err", err)
		return e.failure(ctx, conv, "The system prompt could not be rendered.", set)
	}
	tools := e.toolbox(conv, set)
	req := ModelRequest{System: system, Messages: chatHistory(history), Tools: toolDefs(ctx, set, tools.data), Lang: conv.Lang}
	allow := e.cfg.Links.With(e.hosts.of(system)...).With(helpHosts(set)...)
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
			if call.Name == ToolSearchHelpCenter && (res.outcome == "ok" || res.outcome == "not_found") {
				helped = append(helped, res.article)
			}
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
// and a way to connect it is on, the engine offers it (a connect link, or
// the email question of verification by code) instead of sending the
// model's answer.
func (e *Engine) finishReply(ctx context.Context, conv Conversation, text string, allow links.Policy, set *prompts.Set, verify bool) turn {
	if verify && (e.connecting(conv) || e.verifying(conv)) {
		// Each way to connect the chat that is configured is offered: the
		// company's login (a link button) and a code by email.
		return turn{after: func(ctx context.Context, tx Tx, cur *Conversation, set *prompts.Set) error {
			connect, code := e.connecting(*cur), e.verifying(*cur)
			if !connect && !code {
				_, err := e.answer(ctx, tx, *cur, text, set) // linked meanwhile
				return err
			}
			if connect {
				if err := e.offerConnect(ctx, tx, cur, set); err != nil {
					return err
				}
			}
			if code {
				return e.startVerify(ctx, tx, cur, set)
			}
			return nil
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

// leakRun is how many consecutive words of the policy a reply must repeat
// to count as quoting it. Long enough that a reply which follows the policy
// in natural words, even words close to the policy's own ("this chat user
// is not linked to a customer account"), passes; short enough that a pasted
// rule, let alone the whole prompt, is caught.
const leakRun = 16

// quotesPolicy reports whether reply repeats leakRun or more consecutive
// words of policy, the system prompt without its FAQ (FAQ answers are meant
// to be repeated). Models asked to "print everything above" tend to paste
// their instructions verbatim; the engine answers such a reply with a
// refusal instead of sending it.
func quotesPolicy(reply, policy string) bool {
	pw := words(policy)
	if len(pw) < leakRun {
		return false
	}
	runs := make(map[string]struct{}, len(pw))
	for i := 0; i+leakRun <= len(pw); i++ {
		runs[strings.Join(pw[i:i+leakRun], " ")] = struct{}{}
	}
	rw := words(reply)
	for i := 0; i+leakRun <= len(rw); i++ {
		if _, ok := runs[strings.Join(rw[i:i+leakRun], " ")]; ok {
			return true
		}
	}
	return false
}

// words splits s into lower-case words of letters and digits, so that
// punctuation, markdown and line breaks do not hide a quotation.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	})
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

// storeTurn stores what a turn decided, in the transaction that ends it:
// the tokens it spent and its topic always; then, if this replica still
// holds the turn lease and the bot still has the conversation, the reply,
// what runs after it, and a handoff. It reports whether it queued
// messages. In shadow mode the answer becomes a draft for the agents.
func (e *Engine) storeTurn(ctx context.Context, tx Tx, conversationID int64, pending []Message, t turn, set *prompts.Set, lease *turnLease) (stored, error) {
	var out stored
	cur, err := tx.Conversation(ctx, conversationID)
	if err != nil {
		return out, err
	}
	// Tokens spent count whatever happens to the turn's answer.
	if err := e.countTokens(ctx, tx, t.usage, e.now()); err != nil {
		return out, err
	}
	if err := e.recordTurn(ctx, tx, conversationID, pending, t, set); err != nil {
		return out, err
	}
	if ok, err := lease.settle(ctx, tx, pending); err != nil || !ok {
		return out, err // not ok: another replica answers these messages
	}
	if e.cfg.Shadow {
		out.queued = true
		return out, e.shadow(ctx, tx, &cur, t, set)
	}
	if cur.State != StateBot {
		if t.reply != "" || t.handoff != nil {
			e.log.InfoContext(ctx, "turn dropped: conversation was handed to a person meanwhile", "conversation", conversationID)
		}
		return out, nil
	}
	if t.misses != nil {
		cur.Misses = *t.misses
	}
	if t.reply != "" {
		row, err := e.answer(ctx, tx, cur, t.reply, set)
		if err != nil {
			return out, err
		}
		if out.claimed, err = e.claimForCourier(ctx, tx, row); err != nil {
			return out, err
		}
		out.queued = len(out.claimed) == 0
	}
	if t.after != nil {
		if err := t.after(ctx, tx, &cur, set); err != nil {
			return out, err
		}
		out.queued = true
	}
	if t.handoff != nil {
		if err := e.cfg.Escalator.Open(ctx, tx, &cur, *t.handoff); err != nil {
			return out, fmt.Errorf("open handoff: %w", err)
		}
		out.queued = true
	}
	return out, tx.UpdateConversation(ctx, cur)
}

// claimForCourier claims a reply for the courier in the transaction that
// queued it, when there is a courier and the reply is first in its stream.
// The dispatcher sends it otherwise.
func (e *Engine) claimForCourier(ctx context.Context, tx Tx, row Outgoing) ([]Outgoing, error) {
	if e.cfg.Courier == nil {
		return nil, nil
	}
	now := e.now()
	m, ok, err := tx.ClaimQueued(ctx, row.ID, now, now.Add(e.cfg.Courier.Lease()))
	if err != nil || !ok {
		return nil, err
	}
	return []Outgoing{m}, nil
}

// chatHistory turns stored messages into the model's view of the
// conversation. Agents' relayed words are the assistant's side of the
// conversation; internal notes and system messages are never shown.
//
// The customer messages the turn answers (not yet processed) come last,
// after every answer already given: a message that arrived while an
// earlier turn ran is stored before that turn's answer, and in id order
// it would read as answered.
func chatHistory(history []Message) []ChatMessage {
	out := make([]ChatMessage, 0, len(history))
	var open []ChatMessage
	for _, m := range history {
		switch m.Role {
		case RoleCustomer, RoleEdit:
			msg := ChatMessage{Role: ChatUser, Content: m.Text}
			if m.Role == RoleCustomer && !m.Processed {
				open = append(open, msg)
				continue
			}
			out = append(out, msg)
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
	return append(out, open...)
}

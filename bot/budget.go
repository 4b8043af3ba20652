package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/prompts"
)

// TriggerBudget opens a handoff instead of a model turn: the day's model
// tokens (FIRSTLINE_DAILY_TOKEN_CAP) are used up.
const TriggerBudget Trigger = "budget"

// budgetReason is what agents read on the card of such a handoff.
const budgetReason = "The AI assistant's daily token budget is used up, so a person answers until the day rolls over (UTC)."

// AgentNotifier posts a notice in the agent channel, in the caller's
// transaction. The handoff flow implements it next to bot.Escalator; the
// engine uses it, when the escalator has it, to alert agents once a day
// that the token budget is used up.
type AgentNotifier interface {
	NotifyAgents(ctx context.Context, tx Tx, text string) error
}

// budgetDay is the UTC day a token is counted on.
func budgetDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// overBudget reports whether the day's token cap is reached.
func (e *Engine) overBudget(ctx context.Context, tx Tx, now time.Time) (bool, error) {
	limit := e.cfg.Limits.DailyTokens
	if limit <= 0 {
		return false, nil
	}
	used, err := tx.TokensUsed(ctx, budgetDay(now))
	if err != nil {
		return false, fmt.Errorf("read the token budget: %w", err)
	}
	return used >= limit, nil
}

// countTokens adds a turn's tokens to the day's count and, when the count
// reaches the cap, alerts agents (once a day, whichever replica gets there
// first).
func (e *Engine) countTokens(ctx context.Context, tx Tx, u Usage, now time.Time) error {
	limit := e.cfg.Limits.DailyTokens
	n := int64(u.PromptTokens + u.CompletionTokens)
	if limit <= 0 || n <= 0 {
		return nil
	}
	day := budgetDay(now)
	total, err := tx.AddTokens(ctx, day, n)
	if err != nil {
		return fmt.Errorf("count tokens: %w", err)
	}
	if total < limit {
		return nil
	}
	return e.alertBudget(ctx, tx, day, total, now)
}

// alertBudget tells agents that the day's budget is used up, unless they
// were told already today.
func (e *Engine) alertBudget(ctx context.Context, tx Tx, day string, used int64, now time.Time) error {
	first, err := tx.MarkBudgetAlerted(ctx, day, now)
	if err != nil || !first {
		return err
	}
	e.log.WarnContext(ctx, "daily token budget used up; handing conversations to agents until the day rolls over",
		"day", day, "tokens", used, "cap", e.cfg.Limits.DailyTokens)
	n, ok := e.cfg.Escalator.(AgentNotifier)
	if !ok {
		return nil
	}
	text := fmt.Sprintf("**The AI assistant's daily token budget is used up** (%d of %d tokens on %s, UTC; "+
		"FIRSTLINE_DAILY_TOKEN_CAP). Until midnight UTC the bot hands every conversation that needs an answer "+
		"to you instead of calling the model.", used, e.cfg.Limits.DailyTokens, day)
	if err := n.NotifyAgents(ctx, tx, text); err != nil {
		return fmt.Errorf("alert agents to the token budget: %w", err)
	}
	return nil
}

// budgetTurn is the turn that replaces a model turn over the budget: a
// handoff, and the day's alert if nobody raised it yet (a cap lowered below
// what was used, or a turn that ended exactly at the cap).
func (e *Engine) budgetTurn(now time.Time) turn {
	return turn{
		handoff: &HandoffRequest{Trigger: TriggerBudget, Reason: budgetReason},
		after: func(ctx context.Context, tx Tx, _ *Conversation, _ *prompts.Set) error {
			used, err := tx.TokensUsed(ctx, budgetDay(now))
			if err != nil {
				return fmt.Errorf("read the token budget: %w", err)
			}
			return e.alertBudget(ctx, tx, budgetDay(now), used, now)
		},
	}
}

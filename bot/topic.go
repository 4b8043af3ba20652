package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/firstlinehq/firstline/prompts"
)

// Every conversation is labelled with a topic, so that a customer who comes
// back about the same thing within a week counts as a repeat inquiry (see
// package stats). Labels come from what happened, in Go, the same with
// every model: a payment lookup, an FAQ entry the customer's words match, a
// request for a person and nothing else, or none of these.
const (
	// TopicPayments: the model called payment_status.
	TopicPayments = "payments"
	// TopicHandoff: the customer asked for a person (by phrase, button or
	// as the model judged), and nothing else happened.
	TopicHandoff = "handoff"
	// TopicOther: the bot answered, but neither a tool nor the FAQ says
	// what about.
	TopicOther = "other"
	// TopicFAQPrefix starts the label of an FAQ entry: "faq:refund-time".
	TopicFAQPrefix = "faq:"
	// TopicHelpPrefix starts the label of a help-center article that
	// answered ("help:refund-times", the last part of its URL);
	// TopicHelpNone is a question the help center had nothing for: the
	// content gaps a support lead wants to fill.
	TopicHelpPrefix = "help:"
	TopicHelpNone   = "help:none"
)

// HelpTopic is the topic of a help-center article, by its URL.
func HelpTopic(articleURL string) string {
	u := strings.TrimRight(articleURL, "/")
	if i := strings.LastIndex(u, "/"); i >= 0 {
		u = u[i+1:]
	}
	if u == "" || u == "none" {
		u = "article"
	}
	return TopicHelpPrefix + u
}

// FAQTopic is the topic of an FAQ entry.
func FAQTopic(id string) string { return TopicFAQPrefix + id }

// TopicRank orders labels by how much they say about what the customer
// wanted: "" (none yet) < handoff (a person, and nothing else so far) <
// other (the bot answered something) < any other (payments, an FAQ
// entry). A label only ever moves up, so "handoff" stays only when nothing
// else happened; the stores compare ranks in SQL with the same order.
func TopicRank(topic string) int {
	switch topic {
	case "":
		return 0
	case TopicHandoff:
		return 1
	case TopicOther:
		return 2
	}
	return 3
}

// turnTopic labels a model turn: payments when the model looked payments
// up, the best article of a help-center search that found one, the first
// FAQ entry whose keywords the customer's words match, help:none when the
// help center was searched and had nothing, other otherwise.
func turnTopic(t turn, pending []Message, set *prompts.Set) string {
	for _, name := range t.called {
		if name == ToolPaymentStatus {
			return TopicPayments
		}
	}
	for _, u := range t.helped {
		if u != "" {
			return HelpTopic(u)
		}
	}
	texts := make([]string, 0, len(pending))
	for _, m := range pending {
		texts = append(texts, m.Text)
	}
	if e, ok := prompts.MatchFAQ(set.FAQ, strings.Join(texts, "\n")); ok {
		return FAQTopic(e.ID)
	}
	if len(t.helped) > 0 {
		return TopicHelpNone
	}
	return TopicOther
}

// recordTurn stores, in the transaction that finishes a turn, what the
// turn adds to the conversation's figures: its model tokens, and its topic
// when the turn decided anything (a turn that never ran labels nothing).
func (e *Engine) recordTurn(ctx context.Context, tx Tx, conversationID int64, pending []Message, t turn, set *prompts.Set) error {
	if t.usage.PromptTokens > 0 || t.usage.CompletionTokens > 0 {
		if err := tx.AddUsage(ctx, conversationID, t.usage.PromptTokens, t.usage.CompletionTokens); err != nil {
			return fmt.Errorf("record the turn's tokens: %w", err)
		}
	}
	if t.reply == "" && t.handoff == nil && t.after == nil && len(t.called) == 0 {
		return nil
	}
	if _, err := tx.SetTopic(ctx, conversationID, turnTopic(t, pending, set)); err != nil {
		return fmt.Errorf("label the conversation's topic: %w", err)
	}
	return nil
}

// LabelHandoff labels a conversation whose handoff opened because a
// person was asked for (a phrase, the button, the model's handoff_to_human)
// as TopicHandoff, unless it has a label already: then something else
// happened, which says more. Handoffs the bot
// opened on its own (a failure, misses, the token budget, shadow mode) say
// nothing of what the customer wanted, so they label nothing. The handoff
// flow calls it in the transaction that opens the handoff.
func LabelHandoff(ctx context.Context, tx Tx, conversationID int64, trigger Trigger) error {
	switch trigger {
	case TriggerPhrase, TriggerButton, TriggerModel:
	default:
		return nil
	}
	if _, err := tx.SetTopic(ctx, conversationID, TopicHandoff); err != nil {
		return fmt.Errorf("label the conversation's topic: %w", err)
	}
	return nil
}

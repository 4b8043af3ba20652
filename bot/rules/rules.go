// Package rules is the offline model: deterministic rules that answer
// payment questions through the same tools an LLM would call, answer FAQ
// entries by keyword, and otherwise offer a person and say it cannot help
// (bot.CannotHelpMarker): the engine's automatic escalation then hands off at
// the next miss (escalation.yaml). It needs no network, so `firstline chat` works anywhere, and
// it keeps the engine's tool path exercised when no LLM is configured.
package rules

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// Model is the offline rules model.
type Model struct {
	prompts func() *prompts.Set
}

var _ bot.Model = (*Model)(nil)

// New returns the rules model; it reads the FAQ and message texts from the
// live prompt files.
func New(p func() *prompts.Set) *Model { return &Model{prompts: p} }

// Name implements bot.Model.
func (m *Model) Name() string { return "offline rules model" }

var (
	referenceRe  = regexp.MustCompile(`(?i)\bPAY-\d{1,12}\b`)
	paymentWords = []string{
		"payment", "payments", "paid", "charge", "charged", "charges", "transaction",
		"transactions", "transfer", "invoice", "betalning", "betalningar", "zahlung", "zahlungen",
		"pago", "pagos", "paiement", "paiements",
	}
	greetingWords = []string{"hi", "hello", "hey", "hej", "hallo", "hola", "bonjour", "salut", "morning", "evening", "tjena"}
)

// Complete implements bot.Model.
func (m *Model) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	if err := ctx.Err(); err != nil {
		return bot.ModelResponse{}, err
	}
	set := m.prompts()
	if len(req.Messages) == 0 {
		return bot.ModelResponse{}, errors.New("rules: no messages")
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Role == bot.ChatTool {
		if r, ok := helpResult(last.Content); ok {
			// A close match in the help center wins; else an FAQ entry
			// whose keywords the words have (an answer an admin wrote for
			// them); else a weaker match; else a person is offered.
			text := recentCustomerText(toolless(req.Messages))
			if len(r) > 0 && r[0].Relevance >= closeMatch {
				return text2(helpAnswer(r)), nil
			}
			if e, ok := prompts.MatchFAQ(set.FAQ, text); ok {
				return text2(e.Answer), nil
			}
			if len(r) > 0 {
				return text2(helpAnswer(r)), nil
			}
			return m.withoutTools(set, req.Lang, text, wordsOf(text))
		}
		return m.fromTool(set, req.Lang, last.Content)
	}
	if last.Role != bot.ChatUser {
		return bot.ModelResponse{}, errors.New("rules: the last message is not the customer's")
	}
	// Several customer messages may be answered in one turn: read them all.
	text := recentCustomerText(req.Messages)
	words := wordsOf(text)

	if ref := referenceRe.FindString(text); ref != "" {
		return call(bot.ToolPaymentStatus, map[string]string{"reference": strings.ToUpper(ref)}), nil
	}
	if hasAny(words, paymentWords) {
		return call(bot.ToolPaymentStatus, map[string]string{}), nil
	}
	if offered(req.Tools, bot.ToolSearchHelpCenter) && !(hasAny(words, greetingWords) && len(words) <= 4) {
		// The help center answers from the same index as for an LLM.
		return call(bot.ToolSearchHelpCenter, map[string]string{"query": text}), nil
	}
	return m.withoutTools(set, req.Lang, text, words)
}

// withoutTools answers what no tool did: an FAQ entry, a greeting, or an
// offer of a person.
func (m *Model) withoutTools(set *prompts.Set, lang, text string, words []string) (bot.ModelResponse, error) {
	req := bot.ModelRequest{Lang: lang}
	if e, ok := prompts.MatchFAQ(set.FAQ, text); ok {
		return text2(e.Answer), nil
	}
	if hasAny(words, greetingWords) && len(words) <= 4 {
		// The engine opened the conversation with the greeting already;
		// saying it again would read as the bot stuttering.
		return render(set, "hello", req.Lang, nil)
	}
	offer, err := set.Message("offer_person", req.Lang, nil)
	if err != nil {
		return bot.ModelResponse{}, err
	}
	// The marker, not a handoff: whether this miss hands off is the
	// engine's call, the same for every model.
	return text2(offer + "\n" + bot.CannotHelpMarker), nil
}

// fromTool turns a payment_status result into a reply.
func (m *Model) fromTool(set *prompts.Set, lang, content string) (bot.ModelResponse, error) {
	var res struct {
		Error     string           `json:"error"`
		Reference string           `json:"reference"`
		Payments  []map[string]any `json:"payments"`
		Payment   map[string]any   `json:"payment"`
	}
	if err := json.Unmarshal([]byte(content), &res); err != nil {
		return bot.ModelResponse{}, errors.New("rules: unreadable tool result")
	}
	switch {
	case res.Error == "not_found":
		return render(set, "payment_unknown", lang, map[string]any{"Reference": res.Reference})
	case res.Error == "not_linked":
		return render(set, "not_linked", lang, nil)
	case res.Error == "private_only":
		return render(set, "private_only", lang, nil)
	case res.Error != "":
		return render(set, "fallback", lang, nil)
	case res.Payment != nil:
		return render(set, "payment", lang, map[string]any{"Payment": view(res.Payment)})
	case len(res.Payments) == 0:
		return render(set, "no_payments", lang, nil)
	}
	list := make([]map[string]any, len(res.Payments))
	for i, p := range res.Payments {
		list[i] = view(p)
	}
	return render(set, "payments", lang, map[string]any{"Payments": list})
}

// view maps a tool result's payment to the variables messages.yaml documents.
func view(p map[string]any) map[string]any {
	get := func(k string) string {
		s, _ := p[k].(string)
		return s
	}
	return map[string]any{
		"Reference": get("reference"), "Amount": get("amount"), "Currency": get("currency"),
		"Status": get("status"), "Merchant": get("merchant"), "Date": get("date"),
	}
}

func render(set *prompts.Set, name, lang string, data map[string]any) (bot.ModelResponse, error) {
	s, err := set.Message(name, lang, data)
	if err != nil {
		return bot.ModelResponse{}, err
	}
	return text2(s), nil
}

func text2(s string) bot.ModelResponse { return bot.ModelResponse{Text: s} }

func call(name string, args map[string]string) bot.ModelResponse {
	b, _ := json.Marshal(args)
	return bot.ModelResponse{ToolCalls: []bot.ToolCall{{ID: "rules-" + name, Name: name, Arguments: string(b)}}}
}

// recentCustomerText joins the customer messages after the last assistant
// message.
func recentCustomerText(msgs []bot.ChatMessage) string {
	var parts []string
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role == bot.ChatUser; i-- {
		parts = append([]string{msgs[i].Content}, parts...)
	}
	return strings.Join(parts, "\n")
}

// wordsOf splits s into words as the FAQ keywords are matched.
func wordsOf(s string) []string { return prompts.Words(s) }

func hasAny(words, set []string) bool {
	for _, w := range words {
		for _, s := range set {
			if w == s {
				return true
			}
		}
	}
	return false
}

// offered reports whether the engine offers the tool name this turn.
func offered(tools []bot.ToolDef, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// closeMatch is the relevance from which a help-center passage answers
// before the FAQ does.
const closeMatch = 1.1

// helpPassage is one passage of a search_help_center result.
type helpPassage struct {
	Title     string  `json:"title"`
	URL       string  `json:"url"`
	Text      string  `json:"text"`
	Relevance float64 `json:"relevance"`
}

// helpResult reads a search_help_center result; ok is false for another
// tool's.
func helpResult(content string) ([]helpPassage, bool) {
	var res struct {
		Results *[]helpPassage `json:"results"`
	}
	if json.Unmarshal([]byte(content), &res) != nil || res.Results == nil {
		return nil, false
	}
	return *res.Results, true
}

// toolless drops the tool round at the end of msgs: the customer messages
// before it are what the round was about.
func toolless(msgs []bot.ChatMessage) []bot.ChatMessage {
	for len(msgs) > 0 && (msgs[len(msgs)-1].Role == bot.ChatTool || msgs[len(msgs)-1].Role == bot.ChatAssistant) {
		msgs = msgs[:len(msgs)-1]
	}
	return msgs
}

// helpAnswer answers from the best article among the passages found: its
// passages that were found, best first, at most three, and the article as
// the source.
func helpAnswer(r []helpPassage) string {
	var parts []string
	for _, p := range r {
		if p.URL == r[0].URL && len(parts) < 3 {
			parts = append(parts, strings.TrimSpace(p.Text))
		}
	}
	return strings.Join(parts, "\n\n") + "\n\nSource: " + r[0].Title + " " + r[0].URL
}

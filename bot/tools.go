package bot

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/firstlinehq/firstline/bot/datatools"
	"github.com/firstlinehq/firstline/bot/knowledge"
	"github.com/firstlinehq/firstline/prompts"
)

// Tool names the model may call.
const (
	ToolPaymentStatus    = "payment_status"
	ToolHandoffToHuman   = "handoff_to_human"
	ToolSearchHelpCenter = "search_help_center"
)

// The help center's answers to one search: a few passages, bounded so
// that a turn's prompt stays small whatever the size of the help center.
const (
	helpHits     = 3
	helpHitLen   = 700  // characters of one passage's text
	maxHelpQuery = 300  // characters of the model's query
	helpTotalLen = 2400 // characters of all the passages (about 600 tokens)
	// minHelpScore is the least relevance (bleve's BM25 score) a passage
	// needs to be shown: on the shipped help center, passages that answer
	// a question score 0.5 and more, those that only share a common word
	// with it ("tell me a joke", "can I get a pizza") 0.15 and less. What
	// clears no passage reads as nothing found, so the bot says it does
	// not know rather than answer from an unrelated article.
	minHelpScore = 0.3
)

// maxPayments bounds how many payments one tool call returns.
const maxPayments = 5

// toolDefs are the tools offered to the model: the built-in ones, then the
// company's data tools of tools.yaml.
func toolDefs(ctx context.Context, set *prompts.Set, data *datatools.Set) []ToolDef {
	defs := builtinTools()
	if set.KnowledgeArticles() > 0 {
		defs = append(defs, ToolDef{
			Name: ToolSearchHelpCenter,
			Description: "Search the company's help-center articles. Use it for any question about how things work " +
				"(refunds, cards, fees, delivery, account, security) before answering. Returns the most relevant " +
				"passages with the article's title and URL; answer only from them and cite the URL.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"the customer's question, in their words and language"}},"required":["query"],"additionalProperties":false}`),
		})
	}
	if data != nil {
		for _, d := range data.DefsContext(ctx) {
			defs = append(defs, ToolDef{Name: d.Name, Description: d.Description, Parameters: d.Parameters})
		}
	}
	return defs
}

func builtinTools() []ToolDef {
	return []ToolDef{
		{
			Name: ToolPaymentStatus,
			Description: "Look up the status of the customer's own payments: the most recent ones, " +
				"or one payment by its reference (like PAY-1001). Only the customer's own payments are ever returned.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"reference":{"type":"string","description":"a payment reference such as PAY-1001; omit to list recent payments"}},"additionalProperties":false}`),
		},
		{
			Name: ToolHandoffToHuman,
			Description: "Hand the conversation to a human support agent: when the customer asks for a person, " +
				"when you cannot help, or when the customer is upset.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"reason":{"type":"string","description":"one sentence for the agent: why a person is needed"}},"required":["reason"],"additionalProperties":false}`),
		},
	}
}

// toolResult is the outcome of one tool call: content for the model, or a
// handoff that ends the turn.
type toolResult struct {
	content string
	handoff *HandoffRequest
	outcome string // for metrics: ok, not_found, refused, invalid, error
	// audit, when set, is the access to account data this call made or
	// was refused: the engine records it before the model sees content.
	audit *AuditEntry
	// article is a help-center search's best article (its URL).
	article string
}

// audited returns r with the audit entry of a payment_status call.
func (r toolResult) audited(action AuditAction, customer, record string, outcome AuditOutcome, reason string) toolResult {
	r.audit = &AuditEntry{Action: action, CustomerID: customer, Record: auditRecord(record), Outcome: outcome, Reason: reason}
	return r
}

// toolbox runs tools on behalf of one conversation. Authorization lives
// here, in Go: whatever the model asks, payment data is returned only for
// the customer linked to the conversation, and only in a private chat.
type toolbox struct {
	payments PaymentSource
	// data are the company's data tools (tools.yaml), which scope every
	// call to customer the same way (bot/datatools).
	data *datatools.Set
	// set is the prompt set of the turn: its help center.
	set      *prompts.Set
	lang     string
	customer string // linked customer id, "" when not linked
	private  bool
	now      func() time.Time
}

func (e *Engine) toolbox(conv Conversation, set *prompts.Set) toolbox {
	return toolbox{payments: e.cfg.Payments, data: e.dataTools(set), set: set, lang: conv.Lang,
		customer: conv.CustomerID, private: conv.Private, now: e.now}
}

var referenceRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func (tb toolbox) run(ctx context.Context, call ToolCall) toolResult {
	switch call.Name {
	case ToolPaymentStatus:
		var args struct {
			Reference *string `json:"reference"`
		}
		if err := decodeArgs(call.Arguments, &args); err != nil {
			return refusal("invalid", "invalid_arguments", err.Error()).
				audited(AuditPaymentLookup, "", "", AuditRefused, "invalid_arguments")
		}
		ref := ""
		if args.Reference != nil {
			ref = strings.TrimSpace(*args.Reference)
			if ref != "" && !referenceRe.MatchString(ref) {
				return refusal("invalid", "invalid_arguments", "reference must be letters, digits, '-' or '_' (at most 64)").
					audited(AuditPaymentLookup, "", ref, AuditRefused, "invalid_arguments")
			}
		}
		return tb.paymentStatus(ctx, ref)
	case ToolHandoffToHuman:
		var args struct {
			Reason string `json:"reason"`
		}
		// A request for a person is honoured even with broken arguments:
		// refusing it would be worse than a missing reason.
		_ = decodeArgs(call.Arguments, &args)
		reason := cleanReason(args.Reason)
		if reason == "" {
			reason = "no reason given"
		}
		return toolResult{outcome: "ok", handoff: &HandoffRequest{
			Trigger: TriggerModel,
			Reason:  "The AI assistant handed off: " + reason,
		}}
	case ToolSearchHelpCenter:
		var args struct {
			Query string `json:"query"`
		}
		if err := decodeArgs(call.Arguments, &args); err != nil {
			return refusal("invalid", "invalid_arguments", err.Error())
		}
		return tb.searchHelpCenter(ctx, args.Query)
	default:
		if tb.data != nil && tb.data.Has(call.Name) {
			return tb.dataTool(ctx, call)
		}
		return refusal("invalid", "unknown_tool", fmt.Sprintf("there is no tool named %q", truncate(call.Name, 64)))
	}
}

// helpPassage is what the model sees of a passage of the help center.
type helpPassage struct {
	Title   string `json:"title"`
	URL     string `json:"url"`
	Heading string `json:"heading,omitempty"`
	Text    string `json:"text"`
	// Relevance is the search's score, rounded: how well the passage
	// matches, for the model to weigh (above 1 is a close match).
	Relevance float64 `json:"relevance"`
}

// searchHelpCenter returns the passages of the help center that best match
// query, in the customer's language first. It is public information: no
// customer is needed, and nothing is audited.
func (tb toolbox) searchHelpCenter(ctx context.Context, query string) toolResult {
	query = strings.TrimSpace(truncate(cleanReason(query), maxHelpQuery))
	if query == "" {
		return refusal("invalid", "invalid_arguments", "query must not be empty")
	}
	// The query's own language when it says which (a customer switching
	// to Swedish mid-conversation), else the conversation's. A query whose
	// words only another language's stemming finds (a short Swedish
	// question in a conversation taken for English) is searched in each
	// other language too, and the best answer wins.
	lang := tb.lang
	if l, ok := DetectLang(query); ok {
		lang = l
	}
	hits, err := tb.set.SearchKnowledge(ctx, query, lang, helpHits)
	if err != nil {
		return refusal("error", "unavailable", "The help center cannot be searched right now. Say you do not know, and offer a person.")
	}
	if len(hits) == 0 || hits[0].Score < minHelpScore {
		for _, other := range knowledge.Languages() {
			if other == lang {
				continue
			}
			more, err := tb.set.SearchKnowledge(ctx, query, other, helpHits)
			if err == nil && len(more) > 0 && (len(hits) == 0 || more[0].Score > hits[0].Score) {
				hits = more
			}
		}
	}
	out := make([]helpPassage, 0, len(hits))
	total := 0
	for _, h := range hits {
		if h.Score < minHelpScore {
			break // hits come best first
		}
		text := truncate(unwrap(h.Passage.Text), helpHitLen)
		if total+len(text) > helpTotalLen {
			break
		}
		total += len(text)
		out = append(out, helpPassage{Title: h.Passage.Title, URL: h.Passage.URL, Heading: h.Passage.Heading, Text: text,
			Relevance: math.Round(h.Score*100) / 100})
	}
	if len(out) == 0 {
		return content("not_found", map[string]any{"results": out,
			"message": "Nothing in the help center answers this. Say you do not know, and offer a person; do not guess."})
	}
	r := content("ok", map[string]any{"results": out})
	r.article = out[0].URL
	return r
}

// dataTool runs a data tool of tools.yaml for the conversation's customer.
// The package checks the arguments, binds the customer id (which the model
// never sees or sets), drops records of other customers and fields not
// allowed, and masks what comes back; the engine audits it like a payment
// lookup and hands off when the company's system fails.
func (tb toolbox) dataTool(ctx context.Context, call ToolCall) toolResult {
	r := tb.data.Call(ctx, call.Name, json.RawMessage(call.Arguments), datatools.Caller{CustomerID: tb.customer, Private: tb.private})
	outcome := AuditAllowed
	if r.Outcome != datatools.OutcomeOK {
		outcome = AuditRefused
	}
	record := call.Name
	if len(r.Records) > 0 {
		record += ":" + strings.Join(r.Records, ",")
	}
	reason := r.Reason
	if r.Dropped > 0 && r.Reason != datatools.ReasonNotYours {
		// Records of other customers the company's API returned: the
		// customer never sees them, the audit log says they were there.
		reason = strings.TrimSpace(reason + fmt.Sprintf(" dropped_%d_not_yours", r.Dropped))
	}
	res := toolResult{outcome: r.Outcome, content: r.Content}
	if r.Outcome == datatools.OutcomeError {
		res = toolResult{outcome: "error", handoff: &HandoffRequest{
			Trigger: TriggerFailure,
			Reason:  fmt.Sprintf("The %s lookup failed: %s", call.Name, cleanReason(cmp.Or(r.Detail, r.Reason))),
		}}
	}
	return res.audited(AuditToolCall, tb.customer, record, outcome, reason)
}

func (tb toolbox) paymentStatus(ctx context.Context, ref string) toolResult {
	action := AuditPaymentLookup
	if ref == "" {
		action = AuditPaymentList
	}
	if tb.customer == "" {
		return refusal("refused", "not_linked", "This chat user is not linked to a customer account, so no payments can be shown. Explain that a person from support can link this chat to their account, and offer a person.").
			audited(action, "", ref, AuditRefused, "not_linked")
	}
	if !tb.private {
		return refusal("refused", "private_only", "Account data is shown only in a direct message. Ask the customer to continue in a direct message.").
			audited(action, tb.customer, ref, AuditRefused, "private_only")
	}
	if ref == "" {
		var ps []Payment
		err := retryOnce(ctx, func() error {
			var err error
			ps, err = tb.payments.CustomerPayments(ctx, tb.customer, maxPayments)
			return err
		})
		if err != nil {
			return sourceFailure(err).audited(action, tb.customer, "", AuditRefused, "source_error")
		}
		// The source is asked for this customer's payments, and still each
		// record is checked: a misbehaving source must not leak data.
		out := make([]paymentView, 0, len(ps))
		refs := make([]string, 0, len(ps))
		for _, p := range ps {
			if p.CustomerID == tb.customer && len(out) < maxPayments {
				out = append(out, viewOf(p))
				refs = append(refs, p.Reference)
			}
		}
		return content("ok", map[string]any{"payments": out}).
			audited(action, tb.customer, strings.Join(refs, ","), AuditAllowed, "")
	}
	var p Payment
	err := retryOnce(ctx, func() error {
		var err error
		p, err = tb.payments.Payment(ctx, ref)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return notFound(ref).audited(action, "", ref, AuditRefused, "not_found")
	case err != nil:
		return sourceFailure(err).audited(action, tb.customer, ref, AuditRefused, "source_error")
	case p.CustomerID != tb.customer:
		// Indistinguishable from not found: the customer must not learn
		// that the reference exists. The audit log, which only admins
		// read, says whose it was.
		return notFound(ref).audited(action, p.CustomerID, ref, AuditRefused, "not_yours")
	case !strings.EqualFold(p.Reference, ref):
		// A source that answers with another record than the one asked
		// for is broken; an answer about the wrong payment is worse than
		// none.
		return sourceFailure(fmt.Errorf("asked for payment %s, the source returned another one", ref)).
			audited(action, tb.customer, ref, AuditRefused, "source_mismatch")
	}
	return content("ok", map[string]any{"payment": viewOf(p)}).
		audited(action, tb.customer, p.Reference, AuditAllowed, "")
}

// paymentView is what the model sees of a payment: what an answer needs, and
// no customer id.
type paymentView struct {
	Reference string `json:"reference"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Merchant  string `json:"merchant"`
	Date      string `json:"date"`
	Updated   string `json:"updated,omitempty"`
}

func viewOf(p Payment) paymentView {
	v := paymentView{
		Reference: p.Reference, Amount: p.Amount, Currency: p.Currency,
		Status: string(p.Status), Merchant: p.Merchant,
		Date: p.CreatedAt.UTC().Format(time.DateOnly),
	}
	if !p.UpdatedAt.IsZero() && !p.UpdatedAt.Equal(p.CreatedAt) {
		v.Updated = p.UpdatedAt.UTC().Format(time.DateOnly)
	}
	return v
}

// retryOnce runs fn again, once, when it fails with anything but not found:
// a lookup that fails on a network blip should not send a customer to the
// queue.
func retryOnce(ctx context.Context, fn func() error) error {
	err := fn()
	if err == nil || errors.Is(err, ErrNotFound) || ctx.Err() != nil {
		return err
	}
	return fn()
}

func notFound(ref string) toolResult {
	return content("not_found", map[string]any{
		"error":     "not_found",
		"reference": ref,
		"message":   "No payment with this reference was found on this customer's account.",
	})
}

func refusal(outcome, code, msg string) toolResult {
	return content(outcome, map[string]any{"error": code, "message": msg})
}

func sourceFailure(err error) toolResult {
	return toolResult{outcome: "error", handoff: &HandoffRequest{
		Trigger: TriggerFailure,
		Reason:  "The payment lookup failed: " + cleanReason(err.Error()),
	}}
}

func content(outcome string, v any) toolResult {
	b, err := json.Marshal(v)
	if err != nil {
		return toolResult{outcome: "error", content: `{"error":"internal"}`}
	}
	return toolResult{outcome: outcome, content: string(b)}
}

// decodeArgs parses a model's tool arguments strictly: one JSON object, no
// unknown fields, nothing after it. Empty arguments mean no arguments.
func decodeArgs(raw string, v any) error {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		raw = "{}"
	}
	if len(raw) > 4096 {
		return errors.New("arguments too long")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("arguments are not a valid JSON object for this tool: %w", err)
	}
	if dec.More() {
		return errors.New("arguments have trailing data")
	}
	return nil
}

// cleanReason makes untrusted text fit for one line of an agent card.
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, 300)
}

// helpHosts are the hosts of the help center's articles: the model's
// answers may link to them (they cite their sources).
func helpHosts(set *prompts.Set) []string {
	var hosts []string
	for _, u := range set.KnowledgeURLs() {
		if p, err := url.Parse(u); err == nil && p.Hostname() != "" && !slices.Contains(hosts, p.Hostname()) {
			hosts = append(hosts, p.Hostname())
		}
	}
	return hosts
}

// unwrap joins the lines of each paragraph of Markdown source, as chat
// shows text: a line break inside a paragraph would be kept by Slack and
// Discord. Blank lines and list items stay.
func unwrap(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		if i > 0 {
			prev := strings.TrimSpace(lines[i-1])
			t := strings.TrimSpace(l)
			if prev == "" || t == "" || listItem(t) {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
				l = t
			}
		}
		b.WriteString(l)
	}
	return strings.TrimSpace(b.String())
}

// listItem reports whether a line starts a Markdown list item.
func listItem(l string) bool {
	if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* ") || strings.HasPrefix(l, "+ ") {
		return true
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	return i > 0 && i < len(l)-1 && (l[i] == '.' || l[i] == ')') && l[i+1] == ' '
}

// dataTools are the set's data tools with the engine's options (the MCP
// client): a cheap copy that shares the set's listing cache.
func (e *Engine) dataTools(set *prompts.Set) *datatools.Set {
	if set.Tools == nil {
		return nil
	}
	return set.Tools.WithOptions(e.cfg.DataTools)
}

// Package datatools runs the data tools admins declare in tools.yaml: HTTP
// requests to the company's own APIs, and the allow-listed tools of MCP
// servers (see MCPCaller), each scoped, in Go, to the customer linked to
// the chat that asks.
//
// What keeps a customer to their own data does not depend on the model:
//
//   - The model sets only the declared parameters, validated here against
//     their schema (types, enums, patterns, lengths; unknown parameters are
//     refused) before any request is made.
//   - The customer id is {{.Customer.ID}}, bound from the linked identity;
//     the model never sees it in a schema and cannot set it.
//   - Values are escaped for where they stand in the request: one path
//     segment, a query value, a JSON string, a header value without CR/LF.
//     The scheme, host and port are the admin's, never a value's. Templates
//     are parsed once; a value is never parsed as a template.
//   - What comes back is filtered by its owner field: records of another
//     customer are dropped, and a single object that is not the caller's
//     reads exactly like a real "not found". Only the declared fields reach
//     the model, masked (card numbers, IBANs) and bounded in size.
//
// Secrets (${VAR} from the environment) are never in errors, in Result, or
// in a Set's String; the package does not log.
//
// The package imports nothing of the bot package, which imports it.
package datatools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Set is one parsed, validated tools file. It is immutable and safe for
// concurrent use.
type Set struct {
	tools   []*tool
	byName  map[string]*tool
	secrets []string
	opts    Options
	mcp     *mcpState // shared by the copies WithOptions makes
}

// Options are what a Set needs from outside to run its tools.
type Options struct {
	// Client makes the requests; nil means a client with Go's default
	// transport. Redirects are never followed, whatever the client says.
	Client *http.Client
	// Backoff is the wait before a retry (default 200ms).
	Backoff time.Duration
	// Sleep waits d or until ctx is done (default: a timer); tests make it
	// instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxContent bounds the JSON given to the model, in bytes (default
	// 4096); records beyond it are left out with a note.
	MaxContent int
	// MCP speaks to the servers of the mcp: section (adapters/mcp); nil
	// makes their tools fail closed.
	MCP MCPCaller
	// Now is the clock of the MCP listing cache (default time.Now).
	Now func() time.Time
}

func defaultOptions() Options {
	return Options{Backoff: 200 * time.Millisecond, Sleep: sleep, MaxContent: DefaultMaxContent}
}

// DefaultMaxContent is the default bound of what the model sees of one
// call, in bytes.
const DefaultMaxContent = 4096

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithOptions returns a Set with the same tools that runs them with o.
func (s *Set) WithOptions(o Options) *Set {
	d := defaultOptions()
	if o.Backoff <= 0 {
		o.Backoff = d.Backoff
	}
	if o.Sleep == nil {
		o.Sleep = d.Sleep
	}
	if o.MaxContent <= 0 {
		o.MaxContent = d.MaxContent
	}
	c := *s
	c.opts = o
	return &c
}

// Def describes a tool to the model: its name, its description, and the
// JSON Schema of its parameters (which never mentions the customer).
type Def struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// Defs is DefsContext without a deadline but the servers' timeouts.
func (s *Set) Defs() []Def { return s.DefsContext(context.Background()) }

// DefsContext returns the tools for the model, in file order. An MCP tool
// is there when its server lists it (listing the server when its listing
// is older than MCPListTTL, under the server's timeout) with arguments
// Firstline can check; the tools of a server that is down are left out.
func (s *Set) DefsContext(ctx context.Context) []Def {
	mcp := s.mcpDefs(ctx)
	out := make([]Def, 0, len(s.tools))
	for _, t := range s.tools {
		if t.mcp != nil {
			if d, ok := mcp[t.name]; ok {
				out = append(out, d)
			}
			continue
		}
		out = append(out, Def{Name: t.name, Description: t.description, Parameters: t.params.jsonSchema()})
	}
	return out
}

// Has reports whether the set declares a tool named name.
func (s *Set) Has(name string) bool {
	_, ok := s.byName[name]
	return ok
}

// Names returns the declared tools' names, in file order.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.tools))
	for _, t := range s.tools {
		out = append(out, t.name)
	}
	return out
}

// String names the tools, and nothing else: no URL, header or secret.
func (s *Set) String() string {
	return fmt.Sprintf("datatools.Set{%s}", strings.Join(s.Names(), ", "))
}

// GoString is String, so that %#v prints no secret either.
func (s *Set) GoString() string { return s.String() }

// Caller is who asks: the customer linked to the chat identity ("" when
// not linked), and whether the chat is private (a direct message).
type Caller struct {
	CustomerID string
	Private    bool
}

// Outcomes of a call.
const (
	OutcomeOK       = "ok"
	OutcomeNotFound = "not_found"
	OutcomeRefused  = "refused"
	OutcomeInvalid  = "invalid"
	OutcomeError    = "error"
)

// Reasons of a call that did not return data, for the audit log.
const (
	ReasonNotLinked        = "not_linked"
	ReasonNotPrivate       = "not_private"
	ReasonInvalidArguments = "invalid_arguments"
	ReasonUnknownTool      = "unknown_tool"
	ReasonNotFound         = "not_found"
	ReasonNotYours         = "not_yours"
	ReasonUpstreamError    = "upstream_error"
	ReasonUpstreamInvalid  = "upstream_invalid"
	ReasonTooLarge         = "response_too_large"
	ReasonTimeout          = "timeout"
)

// Result is the outcome of one call.
type Result struct {
	// Content is the JSON the model sees.
	Content string
	// Outcome is one of the Outcome constants.
	Outcome string
	// Reason says why a call returned no data (a Reason constant), for the
	// audit log; "" when it did.
	Reason string
	// Records are the ids (the response's id field) of the records given
	// to the model, for the audit log.
	Records []string
	// Dropped counts records the source returned that were not the
	// caller's: the audit log should say so, as it means the API answered
	// for another customer.
	Dropped int
	// Detail says what went wrong for the operator's log (status code,
	// host, transport error), with secrets redacted and no customer data;
	// "" when nothing did.
	Detail string
}

// Call runs the tool name with the model's arguments for caller. It never
// panics on untrusted input and always returns content for the model.
func (s *Set) Call(ctx context.Context, name string, args json.RawMessage, caller Caller) Result {
	t, ok := s.byName[name]
	if !ok {
		return reply(OutcomeInvalid, ReasonUnknownTool, map[string]any{
			"error": ReasonUnknownTool, "message": fmt.Sprintf("there is no tool named %q", truncate(maskString(name), 64)),
		})
	}
	if t.mcp != nil {
		r := s.callMCP(ctx, t, args, caller)
		r.Detail = redact(r.Detail, s.secrets)
		r.Reason = redact(r.Reason, s.secrets)
		r.Content = redact(r.Content, s.secrets)
		return r
	}
	params, err := t.params.validate(args)
	if err != nil {
		return reply(OutcomeInvalid, ReasonInvalidArguments, map[string]any{
			"error": ReasonInvalidArguments, "message": maskString(err.Error()),
		})
	}
	if r, refused := s.checkCaller(t, caller); refused {
		return r
	}
	customer := ""
	if t.linked {
		customer = caller.CustomerID
	}
	r := s.run(ctx, t, data{params: params, customer: customer})
	r.Detail = redact(r.Detail, s.secrets)
	r.Reason = redact(r.Reason, s.secrets)
	r.Content = redact(r.Content, s.secrets)
	return r
}

// checkCaller refuses a caller that does not meet the tool's requirements.
func (s *Set) checkCaller(t *tool, caller Caller) (Result, bool) {
	if t.linked && caller.CustomerID == "" {
		return reply(OutcomeRefused, ReasonNotLinked, map[string]any{
			"error":   ReasonNotLinked,
			"message": "This chat user is not linked to a customer account, so no account data can be shown. Explain that a person from support can link this chat to their account, and offer a person.",
		}), true
	}
	if t.private && !caller.Private {
		return reply(OutcomeRefused, ReasonNotPrivate, map[string]any{
			"error":   ReasonNotPrivate,
			"message": "Account data is shown only in a direct message. Ask the customer to continue in a direct message.",
		}), true
	}
	return Result{}, false
}

func reply(outcome, reason string, v any) Result {
	b, err := json.Marshal(v)
	if err != nil {
		return Result{Outcome: OutcomeError, Reason: "internal", Content: `{"error":"internal"}`}
	}
	return Result{Outcome: outcome, Reason: reason, Content: string(b)}
}

// notFound is the reply to a 404 and to a record that is not the caller's:
// the same bytes either way.
func notFound(reason string) Result {
	return reply(OutcomeNotFound, reason, map[string]any{
		"error":   "not_found",
		"message": "Nothing was found for this on the customer's account.",
	})
}

func unavailable(reason, detail string) Result {
	r := reply(OutcomeError, reason, map[string]any{
		"error":   "unavailable",
		"message": "The system that holds this information is not available right now. Tell the customer you cannot look it up at the moment, and offer to connect them with a person.",
	})
	r.Detail = detail
	return r
}

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// tool is one declared tool.
type tool struct {
	name, description string
	params            schema
	linked, private   bool

	method   string
	url      *urlTemplate
	headers  []header
	body     *bodyNode
	timeout  time.Duration
	retries  int
	maxBytes int64

	records []string // path of the records array; nil: one object
	owner   []string // path of the owner's customer id
	id      []string // path of the record's id, for the audit
	fields  fieldTree

	mcp *mcpTool // nil for an HTTP tool
}

type header struct {
	name  string
	value template
}

func (t *tool) usesCustomer() bool {
	uses := false
	find := func(r ref) { uses = uses || r.kind == refCustomer }
	if t.url != nil {
		for _, s := range t.url.path {
			s.refs(find)
		}
		for _, q := range t.url.query {
			q.value.refs(find)
		}
	}
	for _, h := range t.headers {
		h.value.refs(find)
	}
	if t.body != nil {
		t.body.refs(find)
	}
	return uses
}

type bodyKind int

const (
	bodyLiteral bodyKind = iota
	bodyString
	bodyObject
	bodyArray
)

// bodyNode is a JSON body template: objects, arrays, literals, and string
// templates. It is rendered to a Go value and json.Marshal'ed, so every
// value is JSON-encoded by construction.
type bodyNode struct {
	kind  bodyKind
	lit   any
	tmpl  template
	keys  []string
	items []bodyNode
}

func (b *bodyNode) refs(fn func(ref)) {
	b.tmpl.refs(fn)
	for i := range b.items {
		b.items[i].refs(fn)
	}
}

// render returns b's value for d; present is false for a string that is
// one absent optional parameter (its key is left out).
func (b *bodyNode) render(d data) (v any, present bool) {
	switch b.kind {
	case bodyString:
		if r, only := b.tmpl.onlyRef(); only {
			// A leaf that is one value keeps its type: "{{.Params.qty}}"
			// is a JSON number.
			v, ok := d.lookup(r)
			if !ok {
				return nil, false
			}
			return v.jsonValue(), true
		}
		return b.tmpl.renderText(d), true
	case bodyObject:
		m := make(orderedObject, 0, len(b.keys))
		for i, k := range b.keys {
			if v, ok := b.items[i].render(d); ok {
				m = append(m, kv{k, v})
			}
		}
		return m, true
	case bodyArray:
		a := make([]any, 0, len(b.items))
		for i := range b.items {
			v, _ := b.items[i].render(d)
			a = append(a, v)
		}
		return a, true
	}
	return b.lit, true
}

// orderedObject is a JSON object that keeps the file's key order.
type orderedObject []kv

type kv struct {
	k string
	v any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

package datatools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const mcpToken = "mcp-TOKEN-s3cr3t"

var mcpEnv = map[string]string{"BILLING_MCP_URL": "https://billing.example/mcp", "BILLING_MCP_TOKEN": mcpToken}

const mcpFile = `
tools:
  - name: store_hours
    description: the store's opening hours
    requires: {linked: false, private: false}
    request:
      url: "https://shop.example/hours"
    response:
      fields: [hours]
mcp:
  - name: billing
    url: "${BILLING_MCP_URL}"
    token: "${BILLING_MCP_TOKEN}"
    timeout: 2s
    tools:
      - name: get_subscription
        as: subscription_status
        customer_argument: customer
        response:
          records: subscriptions
          owner: customer_id
          id: id
          fields: [id, plan, status]
      - name: list_invoices
        customer_argument: customer_id
        response:
          records: invoices
          owner: customer_id
          fields: [number]
`

// fakeMCP is an MCPCaller with function fields.
type fakeMCP struct {
	listTools func(ctx context.Context, srv MCPServer) ([]MCPTool, error)
	callTool  func(ctx context.Context, srv MCPServer, tool string, args map[string]any) (json.RawMessage, error)
}

var _ MCPCaller = (*fakeMCP)(nil)

func (f *fakeMCP) ListTools(ctx context.Context, srv MCPServer) ([]MCPTool, error) {
	return f.listTools(ctx, srv)
}

func (f *fakeMCP) CallTool(ctx context.Context, srv MCPServer, tool string, args map[string]any) (json.RawMessage, error) {
	return f.callTool(ctx, srv, tool, args)
}

// billingTools is what the fake billing server lists: two allow-listed
// tools, one that is not (delete_account), and one whose schema would let
// the model choose the customer.
func billingTools() []MCPTool {
	return []MCPTool{
		{Name: "get_subscription", Description: "a customer's subscriptions",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"customer":{"type":"string"},"id":{"type":"string","pattern":"^SUB-[0-9]+$"},"limit":{"type":"integer","minimum":1,"maximum":10}},"required":["customer"]}`)},
		{Name: "list_invoices", Description: "invoices",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"customer_id":{"type":"string"},"userId":{"type":"string"}},"required":["customer_id"]}`)},
		{Name: "delete_account", Description: "deletes an account",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"customer":{"type":"string"}}}`)},
	}
}

// subscriptions are the fake server's records: whatever customer it is
// asked for, it answers with several customers' (a leaky API).
const subscriptions = `{"subscriptions":[
 {"id":"SUB-1","customer_id":"C-1","plan":"pro","status":"active","card":"4111 1111 1111 1111","internal":"vip"},
 {"id":"SUB-2","customer_id":"C-2","plan":"basic","status":"active"},
 {"id":"SUB-3","customer_id":"C-1","plan":"team","status":"cancelled"}]}`

func mustMCPSet(t *testing.T, f *fakeMCP) *Set {
	t.Helper()
	s, err := Parse("tools.yaml", []byte(mcpFile), envOf(mcpEnv))
	if err != nil {
		t.Fatal(err)
	}
	return s.WithOptions(Options{MCP: f})
}

func billingFake(calls *[]map[string]any) *fakeMCP {
	return &fakeMCP{
		listTools: func(_ context.Context, srv MCPServer) ([]MCPTool, error) {
			if srv.Name != "billing" || srv.URL != mcpEnv["BILLING_MCP_URL"] || srv.Token != mcpToken {
				return nil, errors.New("wrong server")
			}
			return billingTools(), nil
		},
		callTool: func(_ context.Context, _ MCPServer, tool string, args map[string]any) (json.RawMessage, error) {
			if calls != nil {
				*calls = append(*calls, args)
			}
			if tool != "get_subscription" {
				return nil, errors.New("unexpected tool " + tool)
			}
			return json.RawMessage(subscriptions), nil
		},
	}
}

func TestMCPParse(t *testing.T) {
	s := mustMCPSet(t, billingFake(nil))
	if got, want := s.Names(), []string{"store_hours", "subscription_status", "billing_list_invoices"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	srv := MCPServer{Name: "billing", URL: "https://billing.example", Token: mcpToken}
	if str := s.String() + s.GoString() + srv.GoString(); strings.Contains(str, mcpToken) || strings.Contains(str, "billing.example") {
		t.Errorf("a secret is printed: %s", str)
	}
}

func TestMCPParseErrors(t *testing.T) {
	server := func(extra, tool string) string {
		return "mcp:\n  - name: billing\n    url: \"${BILLING_MCP_URL}\"\n" + extra + "    tools:\n" + tool
	}
	resp := "        response: {records: r, owner: customer_id, fields: [id]}\n"
	tests := []struct {
		name, file, want string
	}{
		{"literal token", server("    token: abc123\n", "      - name: get\n"+resp), "tools.yaml:4: mcp server \"billing\": token: a secret comes from the environment"},
		{"unset variable", server("    token: \"${NOPE}\"\n", "      - name: get\n"+resp), "tools.yaml:4: mcp server \"billing\": token: environment variable NOPE is not set"},
		{"no url", "mcp:\n  - name: billing\n    tools:\n      - name: get\n" + resp, "tools.yaml:2: mcp server \"billing\": url is required"},
		{"not http", "mcp:\n  - name: billing\n    url: ftp://x\n    tools:\n      - name: get\n" + resp, "tools.yaml:3: mcp server \"billing\": url: expected an http or https URL"},
		{"no tools", "mcp:\n  - name: billing\n    url: https://x\n", "tools.yaml:2: mcp server \"billing\": tools is required"},
		{"bad default name", server("", "      - name: Get-Sub\n"+resp), "tools.yaml:5: mcp server \"billing\": tool \"Get-Sub\": \"billing_Get-Sub\" is not a name the model can see: set as:"},
		{"bad as", server("", "      - name: get\n        as: Get\n"+resp), "tools.yaml:6: mcp server \"billing\": tool \"get\": as: a name is"},
		{"builtin as", server("", "      - name: get\n        as: payment_status\n"+resp), "is a built-in tool's name"},
		{"no owner", server("", "      - name: get\n        response: {fields: [id]}\n"), "tools.yaml:6: mcp server \"billing\": tool \"get\": response.owner is required"},
		{"no response", server("", "      - name: get\n"), "tools.yaml:5: mcp server \"billing\": tool \"get\": response is required"},
		{"customer argument unlinked", server("", "      - name: get\n        customer_argument: customer\n        requires: {linked: false}\n        response: {fields: [id]}\n"), "tools.yaml:6: mcp server \"billing\": tool \"get\": customer_argument needs requires.linked: true"},
		{"unknown key", server("", "      - name: get\n        url: x\n"+resp), "tools.yaml:6: mcp tool: unknown key \"url\""},
		{"listed twice", server("", "      - name: get\n"+resp+"      - name: get\n        as: other\n"+resp), "tools.yaml:7: mcp server \"billing\": tool \"get\" is listed twice"},
		{"name used twice", "tools:\n  - name: billing_get\n    description: d\n    request: {url: \"https://x\"}\n    response: {owner: o, fields: [a]}\n" + server("", "      - name: get\n"+resp), "tools.yaml:10: mcp tool \"billing_get\": the name is used twice"},
		{"timeout", server("    timeout: 1h\n", "      - name: get\n"+resp), "tools.yaml:4: mcp server \"billing\": timeout: expected a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("tools.yaml", []byte(tt.file), envOf(mcpEnv))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			if strings.Contains(err.Error(), mcpToken) || strings.Contains(err.Error(), "billing.example") {
				t.Errorf("a secret is in the error: %v", err)
			}
		})
	}
}

func TestMCPParseURLSecretNotInErrors(t *testing.T) {
	env := map[string]string{"U": "ftp://user:" + mcpToken + "@host"}
	_, err := Parse("tools.yaml", []byte("mcp:\n  - name: b\n    url: \"${U}\"\n    tools:\n      - name: get\n        response: {owner: o, fields: [a]}\n"), envOf(env))
	if err == nil || strings.Contains(err.Error(), mcpToken) {
		t.Fatalf("error = %v, want one without the secret", err)
	}
}

func TestMCPDefsAllowListAndCustomerArgument(t *testing.T) {
	s := mustMCPSet(t, billingFake(nil))
	defs := s.DefsContext(context.Background())
	var names []string
	byName := make(map[string]Def)
	for _, d := range defs {
		names = append(names, d.Name)
		byName[d.Name] = d
	}
	// list_invoices has a "userId" argument the model could use to
	// choose the customer: it is not offered. delete_account is not
	// allow-listed.
	if want := []string{"store_hours", "subscription_status"}; !slices.Equal(names, want) {
		t.Fatalf("Defs = %v, want %v", names, want)
	}
	d := byName["subscription_status"]
	if d.Description != "a customer's subscriptions" {
		t.Errorf("description = %q", d.Description)
	}
	var sc struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		Required             []string                   `json:"required"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal(d.Parameters, &sc); err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.Properties["customer"]; ok || slices.Contains(sc.Required, "customer") || strings.Contains(string(d.Parameters), "customer") {
		t.Errorf("the customer argument is in the schema: %s", d.Parameters)
	}
	if _, ok := sc.Properties["id"]; !ok {
		t.Errorf("id is not in the schema: %s", d.Parameters)
	}
	if sc.AdditionalProperties == nil || *sc.AdditionalProperties {
		t.Errorf("additionalProperties is not false: %s", d.Parameters)
	}
	for _, name := range []string{"billing_delete_account", "delete_account"} {
		if r := s.Call(context.Background(), name, json.RawMessage(`{}`), Caller{CustomerID: "C-1", Private: true}); r.Reason != ReasonUnknownTool {
			t.Errorf("Call(%s) = %+v, want unknown_tool", name, r)
		}
	}
	if r := s.Call(context.Background(), "billing_list_invoices", nil, Caller{CustomerID: "C-1", Private: true}); r.Outcome != OutcomeError {
		t.Errorf("Call(billing_list_invoices) = %+v, want an error (not offered)", r)
	}
}

func TestMCPCall(t *testing.T) {
	var calls []map[string]any
	s := mustMCPSet(t, billingFake(&calls))
	r := s.Call(context.Background(), "subscription_status", json.RawMessage(`{"limit":5}`), Caller{CustomerID: "C-1", Private: true})
	if r.Outcome != OutcomeOK {
		t.Fatalf("Call = %+v", r)
	}
	if len(calls) != 1 || calls[0]["customer"] != "C-1" || len(calls[0]) != 2 {
		t.Errorf("the server was called with %v, want customer C-1 and limit", calls)
	}
	var got struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal([]byte(r.Content), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 2 || got.Records[0]["id"] != "SUB-1" || got.Records[1]["id"] != "SUB-3" {
		t.Errorf("records = %v, want SUB-1 and SUB-3", got.Records)
	}
	for _, leak := range []string{"SUB-2", "C-2", "4111", "vip", "customer_id"} {
		if strings.Contains(r.Content, leak) {
			t.Errorf("content has %q: %s", leak, r.Content)
		}
	}
	if r.Dropped != 1 || !slices.Equal(r.Records, []string{"SUB-1", "SUB-3"}) {
		t.Errorf("Dropped = %d, Records = %v", r.Dropped, r.Records)
	}
}

func TestMCPCallRefusesArguments(t *testing.T) {
	var calls []map[string]any
	s := mustMCPSet(t, billingFake(&calls))
	caller := Caller{CustomerID: "C-1", Private: true}
	tests := []struct{ name, args string }{
		{"customer argument", `{"customer":"C-2"}`},
		{"customer argument with others", `{"id":"SUB-2","customer":"C-2"}`},
		{"unknown argument", `{"customer_id":"C-2"}`},
		{"unknown key", `{"account":"C-2"}`},
		{"pattern", `{"id":"SUB-2/../x"}`},
		{"integer bound", `{"limit":11}`},
		{"not an object", `["C-2"]`},
		{"duplicate", `{"id":"SUB-1","id":"SUB-2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Call(context.Background(), "subscription_status", json.RawMessage(tt.args), caller)
			if r.Outcome != OutcomeInvalid || r.Reason != ReasonInvalidArguments {
				t.Errorf("Call = %+v, want invalid_arguments", r)
			}
		})
	}
	if len(calls) != 0 {
		t.Errorf("the server was called: %v", calls)
	}
}

func TestMCPCallCaller(t *testing.T) {
	var calls []map[string]any
	s := mustMCPSet(t, billingFake(&calls))
	if r := s.Call(context.Background(), "subscription_status", nil, Caller{Private: true}); r.Reason != ReasonNotLinked {
		t.Errorf("not linked: %+v", r)
	}
	if r := s.Call(context.Background(), "subscription_status", nil, Caller{CustomerID: "C-1"}); r.Reason != ReasonNotPrivate {
		t.Errorf("not private: %+v", r)
	}
	if len(calls) != 0 {
		t.Errorf("the server was called: %v", calls)
	}
}

func TestMCPFailsClosed(t *testing.T) {
	caller := Caller{CustomerID: "C-1", Private: true}
	tests := []struct {
		name   string
		list   error
		result string
		err    error
		reason string
	}{
		{"server down", errors.New("dial tcp: connection refused, Bearer " + mcpToken), "", nil, ReasonUpstreamError},
		{"call fails", nil, "", errors.New("EOF at https://billing.example/mcp token " + mcpToken), ReasonUpstreamError},
		{"tool error", nil, "", ErrMCPTool, ReasonUpstreamError},
		{"timeout", nil, "", context.DeadlineExceeded, ReasonTimeout},
		{"not JSON", nil, "Subscription SUB-1 is active", nil, ReasonUpstreamInvalid},
		{"no records", nil, `{"other":[]}`, nil, ReasonUpstreamInvalid},
		{"too large", nil, `{"subscriptions":[],"pad":"` + strings.Repeat("x", DefaultMaxResponseBytes) + `"}`, nil, ReasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMCP{
				listTools: func(context.Context, MCPServer) ([]MCPTool, error) { return billingTools(), tt.list },
				callTool: func(context.Context, MCPServer, string, map[string]any) (json.RawMessage, error) {
					return json.RawMessage(tt.result), tt.err
				},
			}
			r := mustMCPSet(t, f).Call(context.Background(), "subscription_status", nil, caller)
			if r.Outcome != OutcomeError || r.Reason != tt.reason {
				t.Errorf("Call = %+v, want an error (%s)", r, tt.reason)
			}
			all := r.Content + r.Detail + r.Reason
			if strings.Contains(all, mcpToken) || strings.Contains(all, "billing.example") {
				t.Errorf("a secret is in the result: %+v", r)
			}
			if !strings.Contains(r.Content, "offer to connect them with a person") {
				t.Errorf("the content does not offer a person: %s", r.Content)
			}
		})
	}
	t.Run("no client", func(t *testing.T) {
		s, err := Parse("tools.yaml", []byte(mcpFile), envOf(mcpEnv))
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Call(context.Background(), "subscription_status", nil, caller); r.Outcome != OutcomeError {
			t.Errorf("Call = %+v", r)
		}
		if got := len(s.Defs()); got != 1 {
			t.Errorf("Defs without a client has %d tools, want the HTTP one", got)
		}
	})
}

func TestMCPListingCache(t *testing.T) {
	var lists atomic.Int32
	down := true
	now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	f := billingFake(nil)
	f.listTools = func(context.Context, MCPServer) ([]MCPTool, error) {
		lists.Add(1)
		if down {
			return nil, errors.New("connection refused")
		}
		return billingTools(), nil
	}
	s, err := Parse("tools.yaml", []byte(mcpFile), envOf(mcpEnv))
	if err != nil {
		t.Fatal(err)
	}
	s = s.WithOptions(Options{MCP: f, Now: func() time.Time { return now }})
	count := func() int { return len(s.DefsContext(context.Background())) }
	if n := count(); n != 1 {
		t.Errorf("server down: %d tools, want 1", n)
	}
	down = false
	if n := count(); n != 1 || lists.Load() != 1 {
		t.Errorf("within MCPRetryAfter: %d tools, %d lists; want 1 and 1", n, lists.Load())
	}
	now = now.Add(MCPRetryAfter)
	if n := count(); n != 2 || lists.Load() != 2 {
		t.Errorf("after MCPRetryAfter: %d tools, %d lists; want 2 and 2", n, lists.Load())
	}
	// A copy made by WithOptions shares the listing.
	c := s.WithOptions(Options{MCP: f, Now: func() time.Time { return now }})
	if n := len(c.Defs()); n != 2 || lists.Load() != 2 {
		t.Errorf("copy: %d tools, %d lists; want 2 and 2", n, lists.Load())
	}
	now = now.Add(MCPListTTL)
	down = true
	if n := count(); n != 1 || lists.Load() != 3 {
		t.Errorf("after MCPListTTL, server down: %d tools, %d lists; want 1 and 3", n, lists.Load())
	}
}

func TestMCPTimeoutFromFile(t *testing.T) {
	f := billingFake(nil)
	f.callTool = func(ctx context.Context, _ MCPServer, _ string, _ map[string]any) (json.RawMessage, error) {
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > 2*time.Second {
			return nil, errors.New("no 2s deadline")
		}
		return json.RawMessage(`{"subscriptions":[]}`), nil
	}
	r := mustMCPSet(t, f).Call(context.Background(), "subscription_status", nil, Caller{CustomerID: "C-1", Private: true})
	if r.Outcome != OutcomeOK {
		t.Errorf("Call = %+v", r)
	}
}

// FuzzMCPArgs: whatever the model's arguments, the server is called only
// with arguments of the listed schema and with the caller as the customer,
// and Call never panics.
func FuzzMCPArgs(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"SUB-1"}`, `{"customer":"C-2"}`, `{"id":"SUB-1","customer":"C-2"}`,
		`{"limit":3}`, `{"limit":1e1}`, `{"id":"SUB-1","id":"SUB-2"}`, `{"Customer":"C-2"}`, `null`, `[]`, `{"id":"SUB-1"}{}`} {
		f.Add(s)
	}
	s, err := Parse("tools.yaml", []byte(mcpFile), envOf(mcpEnv))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, args string) {
		fake := billingFake(nil)
		fake.callTool = func(_ context.Context, _ MCPServer, tool string, a map[string]any) (json.RawMessage, error) {
			if tool != "get_subscription" || a["customer"] != "C-1" {
				t.Fatalf("called %s with %v", tool, a)
			}
			for k := range a {
				if !slices.Contains([]string{"customer", "id", "limit"}, k) {
					t.Fatalf("called with argument %q", k)
				}
			}
			return json.RawMessage(subscriptions), nil
		}
		r := s.WithOptions(Options{MCP: fake}).Call(context.Background(), "subscription_status", json.RawMessage(args), Caller{CustomerID: "C-1", Private: true})
		if r.Outcome == OutcomeOK && (strings.Contains(r.Content, "C-2") || strings.Contains(r.Content, "SUB-2")) {
			t.Fatalf("another customer's record: %s", r.Content)
		}
	})
}

// TestMCPExampleInToolsFile: the commented mcp: example of
// prompts/tools.yaml parses.
func TestMCPExampleInToolsFile(t *testing.T) {
	b, err := os.ReadFile("../../prompts/tools.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n# mcp:\n")
	if !ok {
		t.Fatal(`prompts/tools.yaml has no "# mcp:" example`)
	}
	example, _, _ := strings.Cut(after, "\n\n")
	var out strings.Builder
	out.WriteString("mcp:\n")
	for _, line := range strings.Split(example, "\n") {
		out.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
		out.WriteByte('\n')
	}
	s, err := Parse("tools.yaml", []byte(out.String()), envOf(mcpEnv))
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !slices.Equal(s.Names(), []string{"subscription_status"}) {
		t.Errorf("Names() = %v", s.Names())
	}
}

package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot/datatools"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const token = "mcp-TOKEN-s3cr3t"

type subscription struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	Plan       string `json:"plan"`
	Status     string `json:"status"`
	Internal   string `json:"internal"`
}

type subscriptionArgs struct {
	Customer string `json:"customer"`
	ID       string `json:"id,omitempty"`
}

type subscriptionsOut struct {
	Subscriptions []subscription `json:"subscriptions"`
}

// billing is an in-process MCP server made with the SDK, behind a bearer
// token check. Its get_subscription leaks: it answers with several
// customers' records whatever customer it is asked for.
type billing struct {
	srv      *httptest.Server
	handler  atomic.Pointer[http.Handler]
	mu       sync.Mutex
	asked    []subscriptionArgs // get_subscription's arguments
	badAuth  atomic.Int32       // requests without the right token
	requests atomic.Int32
}

func newMCPServer(b *billing) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "billing", Version: "test"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "get_subscription", Description: "a customer's subscriptions"},
		func(_ context.Context, _ *sdk.CallToolRequest, in subscriptionArgs) (*sdk.CallToolResult, subscriptionsOut, error) {
			b.mu.Lock()
			b.asked = append(b.asked, in)
			b.mu.Unlock()
			return nil, subscriptionsOut{Subscriptions: []subscription{
				{ID: "SUB-1", CustomerID: "C-1", Plan: "pro", Status: "active", Internal: "vip"},
				{ID: "SUB-2", CustomerID: "C-2", Plan: "basic", Status: "active", Internal: "late payer"},
				{ID: "SUB-3", CustomerID: "C-1", Plan: "team", Status: "cancelled"},
			}}, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "delete_account", Description: "deletes an account"},
		func(context.Context, *sdk.CallToolRequest, subscriptionArgs) (*sdk.CallToolResult, any, error) {
			panic("delete_account was called")
		})
	sdk.AddTool(s, &sdk.Tool{Name: "status_text", Description: "a status, as prose"},
		func(context.Context, *sdk.CallToolRequest, subscriptionArgs) (*sdk.CallToolResult, any, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "SUB-1 is active"}}}, nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "broken", Description: "always fails"},
		func(context.Context, *sdk.CallToolRequest, subscriptionArgs) (*sdk.CallToolResult, any, error) {
			return nil, nil, errors.New("database C-2 unavailable")
		})
	return s
}

// restart replaces the MCP handler: the sessions of the old one are
// unknown to the new one, as after a server restart.
func (b *billing) restart() {
	s := newMCPServer(b)
	var h http.Handler = sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
	b.handler.Store(&h)
}

func newBilling(t *testing.T) *billing {
	t.Helper()
	b := &billing{}
	b.restart()
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			b.badAuth.Add(1)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		(*b.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *billing) server() datatools.MCPServer {
	return datatools.MCPServer{Name: "billing", URL: b.srv.URL + "/mcp", Token: token, Timeout: 5 * time.Second}
}

func mustClient(t *testing.T) *Client {
	t.Helper()
	c := New(Options{})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientListAndCall(t *testing.T) {
	b := newBilling(t)
	c := mustClient(t)
	tools, err := c.ListTools(ctxT(t), b.server())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := []string{"broken", "delete_account", "get_subscription", "status_text"}; !slices.Equal(names, want) {
		t.Errorf("tools = %v, want %v", names, want)
	}
	for _, tl := range tools {
		if tl.Name == "get_subscription" && !strings.Contains(string(tl.InputSchema), `"customer"`) {
			t.Errorf("input schema = %s", tl.InputSchema)
		}
	}
	out, err := c.CallTool(ctxT(t), b.server(), "get_subscription", map[string]any{"customer": "C-1"})
	if err != nil {
		t.Fatal(err)
	}
	var got subscriptionsOut
	if err := json.Unmarshal(out, &got); err != nil || len(got.Subscriptions) != 3 {
		t.Errorf("result = %s (%v)", out, err)
	}
	if out, err := c.CallTool(ctxT(t), b.server(), "status_text", map[string]any{"customer": "C-1"}); err != nil || string(out) != "SUB-1 is active" {
		t.Errorf("status_text = %q, %v", out, err)
	}
	_, err = c.CallTool(ctxT(t), b.server(), "broken", map[string]any{"customer": "C-1"})
	if !errors.Is(err, datatools.ErrMCPTool) || strings.Contains(err.Error(), "C-2") {
		t.Errorf("broken: err = %v, want ErrMCPTool without the tool's text", err)
	}
	if n := b.badAuth.Load(); n != 0 {
		t.Errorf("%d requests came without the bearer token", n)
	}
}

func TestClientBearerTokenNeverInErrors(t *testing.T) {
	b := newBilling(t)
	c := mustClient(t)
	srv := b.server()
	srv.Token = "wrong-" + token
	_, err := c.ListTools(ctxT(t), srv)
	if err == nil {
		t.Fatal("a wrong token was accepted")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the token is in the error: %v", err)
	}
	if b.badAuth.Load() == 0 {
		t.Error("the server saw no request with a wrong token")
	}
	// The right token works on the same client: the session is made again
	// for the new token.
	if _, err := c.ListTools(ctxT(t), b.server()); err != nil {
		t.Errorf("with the right token: %v", err)
	}
}

func TestClientReconnects(t *testing.T) {
	b := newBilling(t)
	c := mustClient(t)
	if _, err := c.ListTools(ctxT(t), b.server()); err != nil {
		t.Fatal(err)
	}
	b.restart() // the server forgets the session
	if _, err := c.CallTool(ctxT(t), b.server(), "get_subscription", map[string]any{"customer": "C-1"}); err != nil {
		t.Errorf("after a restart: %v", err)
	}
	b.srv.Close()
	if _, err := c.CallTool(ctxT(t), b.server(), "get_subscription", map[string]any{"customer": "C-1"}); err == nil {
		t.Error("a closed server answered")
	}
}

const toolsFile = `
mcp:
  - name: billing
    url: "${BILLING_MCP_URL}"
    token: "${BILLING_MCP_TOKEN}"
    timeout: 5s
    tools:
      - name: get_subscription
        as: subscription_status
        customer_argument: customer
        response:
          records: subscriptions
          owner: customer_id
          id: id
          fields: [id, plan, status]
      - name: status_text
        customer_argument: customer
        response:
          owner: customer_id
          fields: [status]
      - name: broken
        customer_argument: customer
        response:
          owner: customer_id
          fields: [status]
`

func mustSet(t *testing.T, b *billing, c *Client) *datatools.Set {
	t.Helper()
	env := map[string]string{"BILLING_MCP_URL": b.srv.URL + "/mcp", "BILLING_MCP_TOKEN": token}
	s, err := datatools.Parse("tools.yaml", []byte(toolsFile), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s.WithOptions(datatools.Options{MCP: c})
}

var linked = datatools.Caller{CustomerID: "C-1", Private: true}

func TestDataToolsOverMCP(t *testing.T) {
	b := newBilling(t)
	s := mustSet(t, b, mustClient(t))

	defs := s.DefsContext(ctxT(t))
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
		if d.Name == "subscription_status" && strings.Contains(string(d.Parameters), "customer") {
			t.Errorf("the customer argument is in the schema: %s", d.Parameters)
		}
	}
	if want := []string{"subscription_status", "billing_status_text", "billing_broken"}; !slices.Equal(names, want) {
		t.Errorf("Defs = %v, want %v (delete_account is not allow-listed)", names, want)
	}
	if s.Has("billing_delete_account") || s.Has("delete_account") {
		t.Error("a tool that is not allow-listed is callable")
	}

	r := s.Call(ctxT(t), "subscription_status", json.RawMessage(`{"customer":"C-2"}`), linked)
	if r.Reason != datatools.ReasonInvalidArguments {
		t.Errorf("the model's customer argument: %+v, want invalid_arguments", r)
	}
	if r := s.Call(ctxT(t), "billing_delete_account", json.RawMessage(`{}`), linked); r.Reason != datatools.ReasonUnknownTool {
		t.Errorf("delete_account: %+v, want unknown_tool", r)
	}
	b.mu.Lock()
	asked := len(b.asked)
	b.mu.Unlock()
	if asked != 0 {
		t.Fatalf("the server was called %d times for refused calls", asked)
	}

	r = s.Call(ctxT(t), "subscription_status", json.RawMessage(`{"id":"SUB-2"}`), linked)
	if r.Outcome != datatools.OutcomeOK {
		t.Fatalf("Call = %+v", r)
	}
	b.mu.Lock()
	got := b.asked
	b.mu.Unlock()
	if len(got) != 1 || got[0] != (subscriptionArgs{Customer: "C-1", ID: "SUB-2"}) {
		t.Errorf("the server was asked %+v, want customer C-1 (injected) and id SUB-2", got)
	}
	if want := `{"records":[{"id":"SUB-1","plan":"pro","status":"active"},{"id":"SUB-3","plan":"team","status":"cancelled"}]}`; r.Content != want {
		t.Errorf("content = %s\nwant %s", r.Content, want)
	}
	if r.Dropped != 1 || !slices.Equal(r.Records, []string{"SUB-1", "SUB-3"}) {
		t.Errorf("Dropped = %d, Records = %v", r.Dropped, r.Records)
	}

	for _, name := range []string{"billing_status_text", "billing_broken"} {
		r := s.Call(ctxT(t), name, nil, linked)
		if r.Outcome != datatools.OutcomeError {
			t.Errorf("%s: %+v, want an error (fail closed)", name, r)
		}
		if strings.Contains(r.Content+r.Detail, "C-2") || strings.Contains(r.Content+r.Detail, token) {
			t.Errorf("%s: the result leaks: %+v", name, r)
		}
	}
}

func TestDataToolsMCPServerDown(t *testing.T) {
	b := newBilling(t)
	b.srv.Close()
	s := mustSet(t, b, mustClient(t))
	if defs := s.DefsContext(ctxT(t)); len(defs) != 0 {
		t.Errorf("Defs of a server that is down = %v, want none", defs)
	}
	r := s.Call(ctxT(t), "subscription_status", nil, linked)
	if r.Outcome != datatools.OutcomeError || !strings.Contains(r.Content, "person") {
		t.Errorf("Call = %+v, want an error offering a person", r)
	}
	if strings.Contains(r.Detail+r.Content, token) || strings.Contains(r.Detail, b.srv.URL) {
		t.Errorf("a secret is in the result: %+v", r)
	}
}

func TestDataToolsMCPWrongToken(t *testing.T) {
	b := newBilling(t)
	env := map[string]string{"BILLING_MCP_URL": b.srv.URL + "/mcp", "BILLING_MCP_TOKEN": "wrong-" + token}
	s, err := datatools.Parse("tools.yaml", []byte(toolsFile), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s = s.WithOptions(datatools.Options{MCP: mustClient(t)})
	r := s.Call(ctxT(t), "subscription_status", nil, linked)
	if r.Outcome != datatools.OutcomeError {
		t.Errorf("Call = %+v, want an error", r)
	}
	if strings.Contains(r.Detail+r.Content+r.Reason, token) {
		t.Errorf("the token is in the result: %+v", r)
	}
}

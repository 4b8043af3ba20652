// Package mcp speaks the Model Context Protocol to the MCP servers declared
// in tools.yaml, for bot/datatools: it implements datatools.MCPCaller with
// the official Go SDK (github.com/modelcontextprotocol/go-sdk) over the
// streamable HTTP transport.
//
// One session per server, opened when first needed and opened again when
// it fails or when the server's URL or token change (a reloaded
// tools.yaml). The bearer token is set on each request by the client's
// transport, only for the server's own host; redirects are never
// followed. Timeouts are the ctx's (datatools sets the server's timeout).
// Nothing is logged; errors ("connect: …", "list tools: …", "call: …",
// which datatools prefixes with the server) never contain the token or
// the URL.
package mcp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/firstlinehq/firstline/bot/datatools"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxListPages bounds the pages of one tools/list.
const maxListPages = 20

// Options configure a Client.
type Options struct {
	// Transport makes the HTTP requests (default http.DefaultTransport).
	Transport http.RoundTripper
	// Version is Firstline's version, told to the servers.
	Version string
}

// Client is a datatools.MCPCaller. It is safe for concurrent use.
type Client struct {
	base   http.RoundTripper
	client *sdk.Client

	mu    sync.Mutex
	slots map[string]*slot // by server name
}

var _ datatools.MCPCaller = (*Client)(nil)

// slot holds one server's session; its mutex is held while connecting, so
// one server connecting does not hold up another.
type slot struct {
	mu  sync.Mutex
	key [32]byte // of the URL and token the session was made with
	cs  *sdk.ClientSession
}

// New returns a Client; sessions are opened when first needed.
func New(o Options) *Client {
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	impl := &sdk.Implementation{Name: "firstline", Version: o.Version}
	return &Client{
		base:   o.Transport,
		client: sdk.NewClient(impl, &sdk.ClientOptions{Logger: slog.New(slog.DiscardHandler)}),
		slots:  make(map[string]*slot),
	}
}

// ListTools lists every tool of the server.
func (c *Client) ListTools(ctx context.Context, srv datatools.MCPServer) ([]datatools.MCPTool, error) {
	var out []datatools.MCPTool
	err := c.do(ctx, srv, "list tools", func(cs *sdk.ClientSession) error {
		out = out[:0]
		cursor := ""
		for range maxListPages {
			res, err := cs.ListTools(ctx, &sdk.ListToolsParams{Cursor: cursor})
			if err != nil {
				return err
			}
			for _, t := range res.Tools {
				if t == nil {
					continue
				}
				schema, err := json.Marshal(t.InputSchema)
				if err != nil {
					schema = nil
				}
				out = append(out, datatools.MCPTool{Name: t.Name, Description: t.Description, InputSchema: schema})
			}
			if res.NextCursor == "" {
				return nil
			}
			cursor = res.NextCursor
		}
		return fmt.Errorf("more than %d pages of tools", maxListPages)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CallTool calls a tool and returns its structured content, or else its
// one text content (which datatools checks is JSON). A result marked as an
// error is datatools.ErrMCPTool, without its text.
func (c *Client) CallTool(ctx context.Context, srv datatools.MCPServer, tool string, args map[string]any) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.do(ctx, srv, "call", func(cs *sdk.ClientSession) error {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			return err
		}
		if res.IsError {
			return datatools.ErrMCPTool
		}
		if res.StructuredContent != nil {
			b, err := json.Marshal(res.StructuredContent)
			if err != nil {
				return errors.New("the structured content is not JSON")
			}
			out = b
			return nil
		}
		var texts []string
		for _, ct := range res.Content {
			tc, ok := ct.(*sdk.TextContent)
			if !ok {
				return fmt.Errorf("the result has %T content, not text", ct)
			}
			texts = append(texts, tc.Text)
		}
		if len(texts) != 1 {
			return fmt.Errorf("the result has %d text contents, not one", len(texts))
		}
		out = json.RawMessage(texts[0])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Close ends every session.
func (c *Client) Close() error {
	c.mu.Lock()
	slots := c.slots
	c.slots = make(map[string]*slot)
	c.mu.Unlock()
	var errs []error
	for _, s := range slots {
		s.mu.Lock()
		if s.cs != nil {
			errs = append(errs, s.cs.Close())
			s.cs = nil
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// do runs fn on the server's session. A failed session is dropped, so the
// next call opens a new one; when the server no longer knows the session
// or the connection was closed (the request was not handled), fn is tried
// once more on a new session.
func (c *Client) do(ctx context.Context, srv datatools.MCPServer, what string, fn func(*sdk.ClientSession) error) error {
	for attempt := 0; ; attempt++ {
		cs, fresh, err := c.session(ctx, srv)
		if err != nil {
			return fmt.Errorf("connect: %w", clean(err, srv))
		}
		err = fn(cs)
		if err == nil {
			return nil
		}
		var rpc *jsonrpc.Error
		if errors.Is(err, datatools.ErrMCPTool) || errors.As(err, &rpc) {
			return fmt.Errorf("%s: %w", what, clean(err, srv))
		}
		c.drop(srv, cs)
		stale := errors.Is(err, sdk.ErrSessionMissing) || errors.Is(err, sdk.ErrConnectionClosed)
		if fresh || !stale || attempt > 0 || ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, clean(err, srv))
		}
	}
}

func keyOf(srv datatools.MCPServer) [32]byte {
	return sha256.Sum256([]byte(srv.URL + "\x00" + srv.Token))
}

// session returns the server's session, opening it when there is none or
// when the server's URL or token changed; fresh says it was just opened.
func (c *Client) session(ctx context.Context, srv datatools.MCPServer) (*sdk.ClientSession, bool, error) {
	c.mu.Lock()
	s := c.slots[srv.Name]
	if s == nil {
		s = &slot{}
		c.slots[srv.Name] = s
	}
	c.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := keyOf(srv)
	if s.cs != nil && s.key == key {
		return s.cs, false, nil
	}
	if s.cs != nil {
		_ = s.cs.Close()
		s.cs = nil
	}
	u, err := url.Parse(srv.URL)
	if err != nil || u.Host == "" {
		return nil, false, errors.New("invalid URL")
	}
	hc := &http.Client{
		Transport: &bearer{base: c.base, token: srv.Token, scheme: u.Scheme, host: u.Host},
		// A redirect could carry the request elsewhere: never follow one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t := &sdk.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: hc, MaxRetries: 1, DisableStandaloneSSE: true}
	cs, err := c.client.Connect(ctx, t, nil)
	if err != nil {
		return nil, false, err
	}
	s.cs, s.key = cs, key
	return cs, true, nil
}

// drop closes cs if it is still the server's session.
func (c *Client) drop(srv datatools.MCPServer, cs *sdk.ClientSession) {
	c.mu.Lock()
	s := c.slots[srv.Name]
	c.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cs == cs {
		_ = cs.Close()
		s.cs = nil
	}
}

// clean keeps the token and the URL out of an error, keeping what it
// wraps for errors.Is.
func clean(err error, srv datatools.MCPServer) error {
	msg := err.Error()
	for _, sec := range []string{srv.Token, srv.URL} {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	if msg == err.Error() {
		return err
	}
	return cleaned{msg: msg, err: err}
}

type cleaned struct {
	msg string
	err error
}

func (e cleaned) Error() string { return e.msg }
func (e cleaned) Unwrap() error { return e.err }

// bearer sets the token on requests to the server's own scheme and host.
type bearer struct {
	base         http.RoundTripper
	token        string
	scheme, host string
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" || r.URL.Scheme != b.scheme || r.URL.Host != b.host {
		return b.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// String names nothing secret.
func (b *bearer) String() string { return "mcp.bearer{" + b.host + "}" }

package datatools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// MCP servers (the mcp: section of tools.yaml) are data tools too: only the
// tools allow-listed in the file are offered to the model, under the name
// the file gives them; the argument the file names as customer_argument is
// removed from the schema the model sees and filled with the caller's
// customer id; what comes back goes through the same owner filter, field
// projection, masking and content bound as an HTTP tool's response.
//
// This package does not speak MCP: an MCPCaller (adapters/mcp, with the
// official SDK) does, given in Options.MCP.
//
// A server's tools are listed when they are first needed (by Defs or Call)
// and the listing is kept for MCPListTTL; a failed listing is not retried
// for MCPRetryAfter, so that a server that is down does not slow every
// turn. A server that is down has its tools left out of Defs, and a call
// to one of them fails closed (OutcomeError). The listing is shared by a
// Set and the copies WithOptions makes of it.

// Limits of MCP servers.
const (
	DefaultMCPTimeout = 10 * time.Second
	MCPListTTL        = 10 * time.Minute
	MCPRetryAfter     = 30 * time.Second
	maxMCPServers     = 10
	maxMCPDescription = 1024
)

// MCPServer is one server of the mcp: section, resolved from the
// environment, as an MCPCaller needs it. Its String never shows the URL or
// the token.
type MCPServer struct {
	Name    string
	URL     string
	Token   string // sent as Authorization: Bearer; "" for none
	Timeout time.Duration
}

func (s MCPServer) String() string { return fmt.Sprintf("mcp server %q", s.Name) }

// GoString is String, so that %#v prints no secret either.
func (s MCPServer) GoString() string { return s.String() }

// MCPTool is one tool a server lists.
type MCPTool struct {
	Name        string
	Description string
	// InputSchema is the JSON Schema of the tool's arguments, as the
	// server lists it.
	InputSchema json.RawMessage
}

// MCPCaller speaks MCP to the servers of a tools file. Calls are made
// under the server's timeout (the ctx has it). Errors should not contain
// the token; this package redacts the URL and token from whatever it
// reports anyway.
type MCPCaller interface {
	// ListTools returns every tool the server lists.
	ListTools(ctx context.Context, server MCPServer) ([]MCPTool, error)
	// CallTool calls a tool and returns its result: the structured
	// content, or else the text content, which this package requires to be
	// one JSON value. A result the server marks as an error is an error
	// (ErrMCPTool).
	CallTool(ctx context.Context, server MCPServer, tool string, args map[string]any) (json.RawMessage, error)
}

// ErrMCPTool is what an MCPCaller wraps when a tool returns an error
// result. Its text, which may hold customer data, is left out.
var ErrMCPTool = errors.New("the tool returned an error")

// mcpServer is one parsed server.
type mcpServer struct {
	name string
	pub  MCPServer
}

// mcpTool is what makes a tool an MCP tool.
type mcpTool struct {
	server      *mcpServer
	remote      string     // the tool's name on the server
	customerArg string     // "" for none
	description string     // the file's, overriding the server's
	node        *yaml.Node // where the file declares it, for errors
}

var mcpToolNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
var mcpArgRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)

// mcpSection reads the mcp: section: a list of servers, each with its
// allow-listed tools.
func (p *parser) mcpSection(n *yaml.Node) []*tool {
	if n.Kind != yaml.SequenceNode {
		if !isNull(n) {
			p.errf(n, "mcp: expected a list of servers")
		}
		return nil
	}
	if len(n.Content) > maxMCPServers {
		p.errf(n, "mcp: at most %d servers", maxMCPServers)
	}
	var out []*tool
	seen := make(map[string]bool)
	for _, sn := range n.Content {
		srv, toolsNode := p.mcpServer(sn)
		if srv == nil {
			continue
		}
		if seen[srv.name] {
			p.errf(sn, "mcp server %q: the name is used twice", srv.name)
			continue
		}
		seen[srv.name] = true
		out = append(out, p.mcpTools(srv, toolsNode)...)
	}
	return out
}

func (p *parser) mcpServer(n *yaml.Node) (*mcpServer, *yaml.Node) {
	kvs := p.mapping(n, "mcp server")
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	nerr := len(p.errs)
	srv := &mcpServer{pub: MCPServer{Timeout: DefaultMCPTimeout}}
	var nameNode, urlNode, tokenNode, timeoutNode, toolsNode *yaml.Node
	for _, kv := range kvs {
		switch kv.key.Value {
		case "name":
			nameNode = kv.val
		case "url":
			urlNode = kv.val
		case "token":
			tokenNode = kv.val
		case "timeout":
			timeoutNode = kv.val
		case "tools":
			toolsNode = kv.val
		default:
			p.errf(kv.key, "mcp server: unknown key %q (expected name, url, token, timeout, tools)", kv.key.Value)
		}
	}
	label := "mcp server"
	if nameNode == nil {
		p.errf(n, "mcp server: name is required")
	} else if s, ok := p.str(nameNode, "mcp server: name"); ok {
		label = fmt.Sprintf("mcp server %q", truncate(s, 64))
		if !nameRe.MatchString(s) || len(s) > 32 {
			p.errf(nameNode, "%s: a name is a lower-case letter, then lower-case letters, digits or _ (at most 32)", label)
		}
		srv.name = s
	}
	if timeoutNode != nil {
		if s, ok := p.str(timeoutNode, label+": timeout"); ok {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 || d > MaxTimeout {
				p.errf(timeoutNode, "%s: timeout: expected a duration such as 10s, at most %s", label, MaxTimeout)
			} else {
				srv.pub.Timeout = d
			}
		}
	}
	if urlNode == nil {
		p.errf(n, "%s: url is required", label)
	} else if s, ok := p.env1(urlNode, label+": url"); ok {
		u, err := url.Parse(s)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			p.errf(urlNode, "%s: url: expected an http or https URL", label)
		case u.User != nil:
			p.errf(urlNode, "%s: url: no user or password in the URL: use token", label)
		case u.Fragment != "":
			p.errf(urlNode, "%s: url: no #fragment", label)
		default:
			srv.pub.URL = s
		}
	}
	if tokenNode != nil {
		if raw, ok := p.str(tokenNode, label+": token"); ok {
			if !envRe.MatchString(raw) {
				p.errf(tokenNode, "%s: token: a secret comes from the environment: write ${NAME}", label)
			} else if s, ok := p.env1(tokenNode, label+": token"); ok {
				if strings.ContainsFunc(s, func(r rune) bool { return isCtl(r) || r == ' ' }) {
					p.errf(tokenNode, "%s: token: the value may not contain spaces or control characters", label)
				} else {
					srv.pub.Token = s
				}
			}
		}
	}
	if toolsNode == nil {
		p.errf(n, "%s: tools is required: only the tools listed are offered to the model", label)
	}
	srv.pub.Name = srv.name
	if len(p.errs) > nerr {
		return nil, nil
	}
	return srv, toolsNode
}

// env1 reads a text with ${VAR} references resolved (and remembered as
// secrets), and no {{ }} template.
func (p *parser) env1(n *yaml.Node, what string) (string, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return "", false
	}
	if strings.Contains(s, "{{") {
		p.errf(n, "%s: no {{ }} template here", what)
		return "", false
	}
	parts, secrets, err := splitEnv(s, p.env)
	p.secrets = append(p.secrets, secrets...)
	if err != nil {
		p.errf(n, "%s: %v", what, err)
		return "", false
	}
	var b strings.Builder
	for _, pt := range parts {
		b.WriteString(pt.lit)
	}
	return b.String(), true
}

func (p *parser) mcpTools(srv *mcpServer, n *yaml.Node) []*tool {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "mcp server %q: tools: expected a list of the tools to offer", srv.name)
		return nil
	}
	if len(n.Content) > maxTools {
		p.errf(n, "mcp server %q: tools: at most %d tools", srv.name, maxTools)
	}
	var out []*tool
	seen := make(map[string]bool)
	for _, tn := range n.Content {
		t := p.mcpTool(srv, tn)
		if t == nil {
			continue
		}
		if seen[t.mcp.remote] {
			p.errf(tn, "mcp server %q: tool %q is listed twice", srv.name, t.mcp.remote)
			continue
		}
		seen[t.mcp.remote] = true
		out = append(out, t)
	}
	return out
}

func (p *parser) mcpTool(srv *mcpServer, n *yaml.Node) *tool {
	kvs := p.mapping(n, "mcp tool")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	nerr := len(p.errs)
	mt := &mcpTool{server: srv, node: n}
	t := &tool{linked: true, private: true, maxBytes: DefaultMaxResponseBytes, timeout: srv.pub.Timeout, mcp: mt}
	var nameNode, asNode, custNode, respNode, respKey *yaml.Node
	for _, kv := range kvs {
		switch kv.key.Value {
		case "name":
			nameNode = kv.val
		case "as":
			asNode = kv.val
		case "description":
			if s, ok := p.str(kv.val, "description"); ok {
				mt.description = strings.TrimSpace(s)
			}
		case "customer_argument":
			custNode = kv.val
		case "requires":
			p.requires(kv.val, t)
		case "response":
			respNode, respKey = kv.val, kv.key
		default:
			p.errf(kv.key, "mcp tool: unknown key %q (expected name, as, description, customer_argument, requires, response)", kv.key.Value)
		}
	}
	label := fmt.Sprintf("mcp server %q: tool", srv.name)
	if nameNode == nil {
		p.errf(n, "%s: name is required (the tool's name on the server)", label)
	} else if s, ok := p.str(nameNode, "name"); ok {
		label = fmt.Sprintf("mcp server %q: tool %q", srv.name, truncate(s, 64))
		if !mcpToolNameRe.MatchString(s) {
			p.errf(nameNode, "%s: an MCP tool name is letters, digits, _, - or . (at most 128)", label)
		}
		mt.remote = s
		t.name = srv.name + "_" + s
	}
	at := nameNode
	if asNode != nil {
		at = asNode
		if s, ok := p.str(asNode, "as"); ok {
			t.name = s
		}
	}
	if t.name != "" && at != nil {
		switch {
		case !nameRe.MatchString(t.name):
			if asNode == nil {
				p.errf(at, "%s: %q is not a name the model can see: set as: to a lower-case letter, then lower-case letters, digits or _ (at most 64)", label, truncate(t.name, 80))
			} else {
				p.errf(at, "%s: as: a name is a lower-case letter, then lower-case letters, digits or _ (at most 64)", label)
			}
		case slices.Contains(builtinNames, t.name):
			p.errf(at, "%s: %q is a built-in tool's name", label, t.name)
		}
	}
	if custNode != nil {
		if s, ok := p.str(custNode, "customer_argument"); ok {
			if !mcpArgRe.MatchString(s) {
				p.errf(custNode, "%s: customer_argument: expected the name of one of the tool's arguments", label)
			}
			mt.customerArg = s
		}
	}
	if respNode == nil {
		p.errf(n, "%s: response is required: it says which field holds the owner and which fields the model sees", label)
	} else {
		p.response(t, respNode, respKey, label)
		if t.linked && t.owner == nil {
			p.errf(respKey, "%s: response.owner is required for a tool that needs a linked customer: records not owned by the asking customer are dropped", label)
		}
	}
	if !t.linked {
		if t.owner != nil {
			p.errf(respKey, "%s: response.owner needs requires.linked: true", label)
		}
		if mt.customerArg != "" {
			p.errf(custNode, "%s: customer_argument needs requires.linked: true", label)
		}
	}
	if len(p.errs) > nerr {
		return nil
	}
	return t
}

// mcpState is what a Set knows of its servers' tools, shared by the copies
// WithOptions makes.
type mcpState struct {
	mu       sync.Mutex
	listings map[string]*mcpListing // by server name
}

type mcpListing struct {
	at     time.Time // when listed; zero when never
	failed time.Time // when a listing last failed
	detail string    // why it failed
	tools  map[string]*mcpListed
}

// mcpListed is one allow-listed tool as its server lists it: the schema
// Firstline checks and the model sees, or why it cannot be offered.
type mcpListed struct {
	params      schema
	description string
	why         string
}

func (s *Set) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// listing returns the server's allow-listed tools, listing them when the
// last listing is older than MCPListTTL; detail says why there is none.
func (s *Set) listing(ctx context.Context, srv *mcpServer) (*mcpListing, string) {
	now := s.now()
	st := s.mcp
	st.mu.Lock()
	l := st.listings[srv.name]
	if l != nil && !l.at.IsZero() && now.Sub(l.at) < MCPListTTL {
		st.mu.Unlock()
		return l, ""
	}
	if l != nil && !l.failed.IsZero() && now.Sub(l.failed) < MCPRetryAfter {
		st.mu.Unlock()
		return nil, l.detail
	}
	st.mu.Unlock()
	where := "mcp " + srv.name
	if s.opts.MCP == nil {
		return nil, where + ": no MCP client is configured"
	}
	lctx, cancel := context.WithTimeout(ctx, srv.pub.Timeout)
	defer cancel()
	listed, err := s.opts.MCP.ListTools(lctx, srv.pub)
	if err != nil {
		detail := where + ": " + s.mcpErr(lctx, err)
		st.mu.Lock()
		st.listings[srv.name] = &mcpListing{failed: s.now(), detail: detail}
		st.mu.Unlock()
		return nil, detail
	}
	byName := make(map[string]MCPTool, len(listed))
	for _, lt := range listed {
		byName[lt.Name] = lt
	}
	l = &mcpListing{at: s.now(), tools: make(map[string]*mcpListed)}
	for _, t := range s.tools {
		if t.mcp == nil || t.mcp.server != srv {
			continue
		}
		lt, ok := byName[t.mcp.remote]
		if !ok {
			l.tools[t.mcp.remote] = &mcpListed{why: "the server does not list this tool"}
			continue
		}
		l.tools[t.mcp.remote] = t.mcp.derive(lt)
	}
	st.mu.Lock()
	st.listings[srv.name] = l
	st.mu.Unlock()
	return l, ""
}

// mcpErr describes an MCP client error for the operator's log, secrets
// redacted and bounded.
func (s *Set) mcpErr(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || isTimeout(err):
		return "timed out"
	case errors.Is(err, ErrMCPTool):
		return ErrMCPTool.Error()
	}
	return truncate(redact(err.Error(), s.secrets), 300)
}

// propSchema is the part of a property's JSON Schema Firstline checks.
type propSchema struct {
	Type        any               `json:"type"`
	Description string            `json:"description"`
	Enum        []json.RawMessage `json:"enum"`
	Pattern     *string           `json:"pattern"`
	MaxLength   *float64          `json:"maxLength"`
	MinLength   *float64          `json:"minLength"`
	Minimum     *float64          `json:"minimum"`
	Maximum     *float64          `json:"maximum"`
}

// derive turns a listed tool's input schema into the schema Firstline
// checks and the model sees: the customer argument removed, every other
// argument a string, integer, number or boolean with the rules Firstline
// can check (a tool with any other argument is not offered), unknown
// arguments refused.
func (mt *mcpTool) derive(lt MCPTool) *mcpListed {
	bad := func(format string, args ...any) *mcpListed {
		return &mcpListed{why: fmt.Sprintf(format, args...)}
	}
	var in struct {
		Type       any                        `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if len(lt.InputSchema) > 0 {
		if err := json.Unmarshal(lt.InputSchema, &in); err != nil {
			return bad("the input schema is not a JSON Schema object")
		}
	}
	if in.Type != nil && in.Type != "object" {
		return bad("the input schema is not of type object")
	}
	if mt.customerArg != "" {
		if _, ok := in.Properties[mt.customerArg]; !ok {
			return bad("the input schema has no argument %q (customer_argument)", mt.customerArg)
		}
	}
	if len(in.Properties) > maxParams+1 {
		return bad("more than %d arguments", maxParams)
	}
	sc := schema{byName: make(map[string]*param)}
	names := make([]string, 0, len(in.Properties))
	for name := range in.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name == mt.customerArg {
			continue
		}
		if !mcpArgRe.MatchString(name) {
			return bad("argument %q: not a name Firstline accepts", truncate(name, 40))
		}
		if customerParamRe.MatchString(strings.ReplaceAll(strings.ToLower(name), "-", "_")) {
			return bad("argument %q would let the model choose the customer: name it in customer_argument", name)
		}
		pr, why := deriveParam(name, in.Properties[name])
		if why != "" {
			return bad("argument %q: %s", name, why)
		}
		pr.required = slices.Contains(in.Required, name)
		sc.params = append(sc.params, pr)
		sc.byName[name] = pr
	}
	desc := mt.description
	if desc == "" {
		desc = truncate(strings.TrimSpace(lt.Description), maxMCPDescription)
	}
	return &mcpListed{params: sc, description: desc}
}

func deriveParam(name string, raw json.RawMessage) (*param, string) {
	var ps propSchema
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, "its schema is not an object"
	}
	typ, _ := ps.Type.(string)
	pr := &param{name: name, typ: paramType(typ), description: truncate(strings.TrimSpace(ps.Description), maxMCPDescription)}
	switch pr.typ {
	case typeString:
		pr.maxLength = defaultMaxLength
		if ps.MaxLength != nil {
			pr.maxLength = int(math.Max(0, math.Min(*ps.MaxLength, maxMaxLength)))
		}
		if ps.MinLength != nil {
			pr.minLength = int(math.Max(0, math.Min(*ps.MinLength, maxMaxLength)))
		}
		if ps.Pattern != nil {
			// JSON Schema patterns are not anchored; Firstline's are, so
			// the pattern is kept unanchored: .*(?:p).*
			src := `.*(?:` + *ps.Pattern + `).*`
			re, err := regexp.Compile(anchor(src))
			if err != nil {
				return nil, "its pattern is not one Go can check"
			}
			pr.pattern, pr.patternSrc = re, src
		}
		for _, e := range ps.Enum {
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				return nil, "its enum is not of strings"
			}
			pr.enumS = append(pr.enumS, s)
		}
	case typeInteger:
		if ps.Minimum != nil {
			v := int64(math.Ceil(math.Max(*ps.Minimum, math.MinInt64/2)))
			pr.minimum = &v
		}
		if ps.Maximum != nil {
			v := int64(math.Floor(math.Min(*ps.Maximum, math.MaxInt64/2)))
			pr.maximum = &v
		}
		for _, e := range ps.Enum {
			var i int64
			if err := json.Unmarshal(e, &i); err != nil {
				return nil, "its enum is not of integers"
			}
			pr.enumI = append(pr.enumI, i)
		}
	case typeNumber, typeBoolean:
		if len(ps.Enum) > 0 {
			return nil, "an enum is only checked for strings and integers"
		}
	default:
		return nil, "only string, integer, number and boolean arguments are supported"
	}
	return pr, ""
}

// mcpDefs returns the Defs of the MCP tools whose servers list them, listing
// each server at most once, concurrently.
func (s *Set) mcpDefs(ctx context.Context) map[string]Def {
	servers := make(map[*mcpServer]bool)
	for _, t := range s.tools {
		if t.mcp != nil {
			servers[t.mcp.server] = true
		}
	}
	if len(servers) == 0 {
		return nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := make(map[string]Def)
	for srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, _ := s.listing(ctx, srv)
			if l == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, t := range s.tools {
				if t.mcp == nil || t.mcp.server != srv {
					continue
				}
				if lt := l.tools[t.mcp.remote]; lt != nil && lt.why == "" {
					out[t.name] = Def{Name: t.name, Description: lt.description, Parameters: lt.params.jsonSchema()}
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// callMCP runs an MCP tool: the customer argument refused from the model,
// the caller checked, the arguments validated against the listed schema,
// the customer argument set, and the result mapped as an HTTP tool's.
func (s *Set) callMCP(ctx context.Context, t *tool, args json.RawMessage, caller Caller) Result {
	mt := t.mcp
	var top map[string]json.RawMessage
	if json.Unmarshal(args, &top) == nil && mt.customerArg != "" {
		if _, ok := top[mt.customerArg]; ok {
			return reply(OutcomeInvalid, ReasonInvalidArguments, map[string]any{
				"error":   ReasonInvalidArguments,
				"message": fmt.Sprintf("%q is set by Firstline to the customer linked to this chat; it is never an argument. Leave it out.", mt.customerArg),
			})
		}
	}
	if r, refused := s.checkCaller(t, caller); refused {
		return r
	}
	l, detail := s.listing(ctx, mt.server)
	if l == nil {
		return unavailable(ReasonUpstreamError, detail)
	}
	lt := l.tools[mt.remote]
	if lt == nil || lt.why != "" {
		why := "not listed"
		if lt != nil {
			why = lt.why
		}
		return unavailable(ReasonUpstreamInvalid, t.where()+": the tool cannot be offered: "+why)
	}
	params, err := lt.params.validate(args)
	if err != nil {
		return reply(OutcomeInvalid, ReasonInvalidArguments, map[string]any{
			"error": ReasonInvalidArguments, "message": maskString(err.Error()),
		})
	}
	callArgs := make(map[string]any, len(params)+1)
	for k, v := range params {
		callArgs[k] = v.jsonValue()
	}
	customer := ""
	if t.linked {
		customer = caller.CustomerID
	}
	if mt.customerArg != "" {
		callArgs[mt.customerArg] = customer
	}
	if s.opts.MCP == nil {
		return unavailable(ReasonUpstreamError, t.where()+": no MCP client is configured")
	}
	cctx, cancel := context.WithTimeout(ctx, mt.server.pub.Timeout)
	defer cancel()
	body, err := s.opts.MCP.CallTool(cctx, mt.server.pub, mt.remote, callArgs)
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil || isTimeout(err)):
		return unavailable(ReasonTimeout, t.where()+": timed out")
	case err != nil:
		return unavailable(ReasonUpstreamError, t.where()+": "+s.mcpErr(cctx, err))
	case int64(len(body)) > t.maxBytes:
		return unavailable(ReasonTooLarge, fmt.Sprintf("%s: the result is larger than %d bytes", t.where(), t.maxBytes))
	}
	return s.mapResponse(t, data{params: params, customer: customer}, body)
}

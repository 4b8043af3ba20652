package datatools

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/firstlinehq/firstline/bot/fileerr"
)

// Limits of a tool's request.
const (
	DefaultTimeout          = 5 * time.Second
	MaxTimeout              = 30 * time.Second
	DefaultRetries          = 1
	MaxRetries              = 3
	DefaultMaxResponseBytes = 64 << 10
	MaxMaxResponseBytes     = 1 << 20
	maxFields               = 50
	maxTools                = 50
)

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
var headerNameRe = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,64}$`)
var pathRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,7}$`)

// builtinNames are the tools Firstline defines itself; a declared tool may
// not take their names.
var builtinNames = []string{"payment_status", "handoff_to_human", "search_help_center"}

// Parameter names that would stand for the customer: the customer is
// {{.Customer.ID}}, bound by Firstline, and never a parameter the model sets.
var customerParamRe = regexp.MustCompile(`^(customer|customer_?id|cust_?id|client_?id|user_?id|account_?id|owner|owner_?id)$`)

// Error is one problem in a tools file; Errors is every problem found in
// it, one per line, in line order.
type (
	Error  = fileerr.Error
	Errors = fileerr.Errors
)

type parser struct {
	file    string
	errs    Errors
	secrets []string
	env     func(string) string
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads a tools file (tools.yaml). name is the file's name for error
// messages; env resolves ${VAR} references (os.Getenv in production).
// Every problem is reported, each with file:line, in an Errors; no error
// ever contains the value of an environment variable.
//
// The file:
//
//	tools:
//	  - name: order_status            # ^[a-z][a-z0-9_]{0,63}$
//	    description: …                # for the model
//	    requires: {linked: true, private: true}   # the defaults
//	    parameters:                   # JSON Schema subset
//	      type: object
//	      properties:
//	        reference: {type: string, pattern: "ORD-[0-9]{4,10}", maxLength: 20}
//	      required: [reference]
//	    request:
//	      method: GET                 # or POST
//	      url: "${ORDERS_API_URL}/orders/{{.Params.reference}}"
//	      headers: {Authorization: "Bearer ${ORDERS_API_TOKEN}"}
//	      body: {…}                   # POST only; string leaves are templates
//	      timeout: 5s                 # at most 30s
//	      retries: 1                  # on 5xx and transport errors, at most 3
//	      max_response_bytes: 65536
//	    response:
//	      records: orders             # path of the array; omit for one object
//	      owner: customer_id          # field holding the owner's customer id
//	      id: reference               # field naming the record, for the audit
//	      fields: [reference, status, shipping.carrier]
//
// MCP servers, whose tools are data tools too (see MCPCaller):
//
//	mcp:
//	  - name: billing                 # ^[a-z][a-z0-9_]{0,31}$
//	    url: "${BILLING_MCP_URL}"     # streamable HTTP endpoint
//	    token: "${BILLING_MCP_TOKEN}" # sent as Authorization: Bearer
//	    timeout: 10s                  # the default; at most 30s
//	    tools:                        # the allow-list: nothing else is offered
//	      - name: get_subscription    # the tool's name on the server
//	        as: subscription_status   # the model's name; default billing_get_subscription
//	        description: …            # default: the server's
//	        customer_argument: customer   # filled by Firstline, hidden from the model
//	        requires: {linked: true, private: true}
//	        response: {records: subscriptions, owner: customer_id, id: id, fields: [id, plan, status]}
func Parse(name string, data []byte, env func(string) string) (*Set, error) {
	p := &parser{file: name, env: env}
	s := &Set{byName: make(map[string]*tool), opts: defaultOptions(), mcp: &mcpState{listings: make(map[string]*mcpListing)}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = yamlLineRe.ReplaceAllString(msg, "")
		}
		return nil, Errors{{File: name, Line: line, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
	}
	if len(doc.Content) == 0 {
		return s, nil // an empty file declares no tools
	}
	root := doc.Content[0]
	for _, kv := range p.mapping(root, "the file") {
		switch kv.key.Value {
		case "tools":
			if kv.val.Kind != yaml.SequenceNode {
				if !isNull(kv.val) {
					p.errf(kv.val, "tools: expected a list of tools")
				}
				continue
			}
			if len(kv.val.Content) > maxTools {
				p.errf(kv.val, "tools: at most %d tools", maxTools)
			}
			for _, n := range kv.val.Content {
				t := p.tool(n)
				if t == nil {
					continue
				}
				if _, dup := s.byName[t.name]; dup {
					p.errf(n, "tool %q: the name is used twice", t.name)
					continue
				}
				s.byName[t.name] = t
				s.tools = append(s.tools, t)
			}
		case "mcp":
			for _, t := range p.mcpSection(kv.val) {
				if _, dup := s.byName[t.name]; dup {
					p.errf(t.mcp.node, "mcp tool %q: the name is used twice (set as: to another name)", t.name)
					continue
				}
				s.byName[t.name] = t
				s.tools = append(s.tools, t)
			}
		default:
			p.errf(kv.key, "unknown key %q (expected tools, mcp)", kv.key.Value)
		}
	}
	s.secrets = p.secrets
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b Error) int { return cmp.Compare(a.Line, b.Line) })
		for i := range p.errs {
			p.errs[i].Msg = redact(p.errs[i].Msg, p.secrets)
		}
		return nil, p.errs
	}
	return s, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+): `)

type keyVal struct{ key, val *yaml.Node }

// mapping returns n's pairs, reporting a node that is not a mapping and
// duplicate keys.
func (p *parser) mapping(n *yaml.Node, what string) []keyVal {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			p.errf(n, "%s: expected a mapping", what)
		}
		return nil
	}
	var out []keyVal
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errf(k, "%s: key %q is given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, keyVal{k, v})
	}
	return out
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, "%s: expected text", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) integer(n *yaml.Node, what string) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errf(n, "%s: expected an integer", what)
		return 0, false
	}
	i, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		p.errf(n, "%s: expected an integer", what)
		return 0, false
	}
	return i, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errf(n, "%s: expected true or false", what)
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errf(n, "%s: expected true or false", what)
		return false, false
	}
	return b, true
}

func (p *parser) strList(n *yaml.Node, what string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s: expected a list", what)
		return nil, false
	}
	var out []string
	ok := true
	for _, c := range n.Content {
		s, k := p.str(c, what)
		ok = ok && k
		out = append(out, s)
	}
	return out, ok
}

func (p *parser) tool(n *yaml.Node) *tool {
	t := &tool{linked: true, private: true, method: http.MethodGet, timeout: DefaultTimeout,
		retries: DefaultRetries, maxBytes: DefaultMaxResponseBytes}
	kvs := p.mapping(n, "tool")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	nerr := len(p.errs)
	var nameNode, paramsNode, reqNode, respNode, respKey *yaml.Node
	for _, kv := range kvs {
		switch kv.key.Value {
		case "name":
			nameNode = kv.val
		case "description":
			if s, ok := p.str(kv.val, "description"); ok {
				t.description = strings.TrimSpace(s)
			}
		case "parameters":
			paramsNode = kv.val
		case "requires":
			p.requires(kv.val, t)
		case "request":
			reqNode = kv.val
		case "response":
			respNode, respKey = kv.val, kv.key
		default:
			p.errf(kv.key, "tool: unknown key %q (expected name, description, requires, parameters, request, response)", kv.key.Value)
		}
	}
	label := "tool"
	if nameNode == nil {
		p.errf(n, "tool: name is required")
	} else if s, ok := p.str(nameNode, "name"); ok {
		label = fmt.Sprintf("tool %q", truncate(s, 64))
		switch {
		case !nameRe.MatchString(s):
			p.errf(nameNode, "%s: a name is a lower-case letter, then lower-case letters, digits or _ (at most 64)", label)
		case slices.Contains(builtinNames, s):
			p.errf(nameNode, "%s: the name is a built-in tool's", label)
		}
		t.name = s
	}
	if t.description == "" {
		p.errf(n, "%s: description is required (the model reads it to choose the tool)", label)
	}
	t.params = p.schema(paramsNode, n, label)
	if reqNode == nil {
		p.errf(n, "%s: request is required", label)
	} else {
		p.request(t, reqNode, label)
	}
	if respNode == nil {
		if t.linked {
			p.errf(n, "%s: response is required: it says which field holds the owner and which fields the model sees", label)
		}
	} else {
		p.response(t, respNode, respKey, label)
	}
	if t.linked && respNode != nil && t.owner == nil {
		p.errf(respKey, "%s: response.owner is required for a tool that needs a linked customer: records not owned by the asking customer are dropped", label)
	}
	if !t.linked {
		if t.owner != nil {
			p.errf(respKey, "%s: response.owner needs requires.linked: true", label)
		}
		if t.usesCustomer() {
			p.errf(reqNode, "%s: {{.Customer.ID}} needs requires.linked: true", label)
		}
	}
	if len(p.errs) > nerr {
		return nil
	}
	return t
}

func (p *parser) schema(n, toolNode *yaml.Node, label string) schema {
	s := schema{byName: make(map[string]*param)}
	if n == nil {
		return s // no parameters
	}
	var required *yaml.Node
	for _, kv := range p.mapping(n, label+": parameters") {
		switch kv.key.Value {
		case "type":
			if v, ok := p.str(kv.val, "parameters.type"); ok && v != "object" {
				p.errf(kv.val, "%s: parameters.type must be object", label)
			}
		case "description":
		case "additionalProperties":
			if b, ok := p.boolean(kv.val, "additionalProperties"); ok && b {
				p.errf(kv.val, "%s: additionalProperties may only be false: unknown parameters are always refused", label)
			}
		case "properties":
			for _, pk := range p.mapping(kv.val, label+": parameters.properties") {
				if len(s.params) == maxParams {
					p.errf(pk.key, "%s: at most %d parameters", label, maxParams)
					break
				}
				if pr := p.param(pk.key, pk.val, label); pr != nil {
					s.params = append(s.params, pr)
					s.byName[pr.name] = pr
				}
			}
		case "required":
			required = kv.val
		default:
			p.errf(kv.key, "%s: parameters: %q is not supported (type, properties, required, additionalProperties)", label, kv.key.Value)
		}
	}
	if required != nil {
		names, _ := p.strList(required, "required")
		for i, r := range names {
			pr, ok := s.byName[r]
			if !ok {
				p.errf(required.Content[i], "%s: required names %q, which is not a parameter", label, r)
				continue
			}
			pr.required = true
		}
	}
	return s
}

func (p *parser) param(k, n *yaml.Node, label string) *param {
	pr := &param{name: k.Value}
	bad := len(p.errs)
	switch {
	case !nameRe.MatchString(pr.name):
		p.errf(k, "%s: parameter %q: a name is a lower-case letter, then lower-case letters, digits or _", label, truncate(pr.name, 64))
	case customerParamRe.MatchString(pr.name):
		p.errf(k, "%s: parameter %q: the customer is never a parameter; use {{.Customer.ID}}, which Firstline binds from the linked identity", label, pr.name)
	}
	what := fmt.Sprintf("%s: parameter %q", label, pr.name)
	kvs := p.mapping(n, what)
	for _, kv := range kvs {
		if kv.key.Value == "type" {
			if s, ok := p.str(kv.val, what+": type"); ok {
				switch paramType(s) {
				case typeString, typeInteger, typeBoolean:
					pr.typ = paramType(s)
				default:
					p.errf(kv.val, "%s: type %q is not supported (string, integer, boolean)", what, s)
				}
			}
		}
	}
	if pr.typ == "" {
		if len(p.errs) == bad {
			p.errf(k, "%s: type is required (string, integer, boolean)", what)
		}
		return nil
	}
	maxLenSet := false
	for _, kv := range kvs {
		key := kv.key.Value
		allowed := map[paramType][]string{
			typeString:  {"type", "description", "enum", "pattern", "maxLength", "minLength"},
			typeInteger: {"type", "description", "enum", "minimum", "maximum"},
			typeBoolean: {"type", "description"},
		}[pr.typ]
		if !slices.Contains(allowed, key) {
			p.errf(kv.key, "%s: %q is not supported for type %s (%s)", what, key, pr.typ, strings.Join(allowed[1:], ", "))
			continue
		}
		switch key {
		case "description":
			if s, ok := p.str(kv.val, what+": description"); ok {
				pr.description = strings.TrimSpace(s)
			}
		case "enum":
			if kv.val.Kind != yaml.SequenceNode || len(kv.val.Content) == 0 {
				p.errf(kv.val, "%s: enum: expected a list of values", what)
				continue
			}
			for _, c := range kv.val.Content {
				if pr.typ == typeString {
					if s, ok := p.str(c, what+": enum"); ok {
						pr.enumS = append(pr.enumS, s)
					}
				} else if i, ok := p.integer(c, what+": enum"); ok {
					pr.enumI = append(pr.enumI, i)
				}
			}
		case "pattern":
			if s, ok := p.str(kv.val, what+": pattern"); ok {
				re, err := regexp.Compile(anchor(s))
				if err != nil {
					p.errf(kv.val, "%s: pattern is not a valid regular expression: %v", what, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
					continue
				}
				pr.pattern, pr.patternSrc = re, s
			}
		case "maxLength", "minLength":
			i, ok := p.integer(kv.val, what+": "+key)
			if !ok {
				continue
			}
			if i < 0 || i > maxMaxLength {
				p.errf(kv.val, "%s: %s must be between 0 and %d", what, key, maxMaxLength)
				continue
			}
			if key == "maxLength" {
				pr.maxLength, maxLenSet = int(i), true
			} else {
				pr.minLength = int(i)
			}
		case "minimum", "maximum":
			if i, ok := p.integer(kv.val, what+": "+key); ok {
				if key == "minimum" {
					pr.minimum = &i
				} else {
					pr.maximum = &i
				}
			}
		}
	}
	if pr.typ == typeString && !maxLenSet {
		pr.maxLength = defaultMaxLength
	}
	if pr.typ == typeString && pr.minLength > pr.maxLength {
		p.errf(k, "%s: minLength is more than maxLength", what)
	}
	if pr.minimum != nil && pr.maximum != nil && *pr.minimum > *pr.maximum {
		p.errf(k, "%s: minimum is more than maximum", what)
	}
	if len(p.errs) > bad {
		return nil
	}
	return pr
}

func (p *parser) tmpl(n *yaml.Node, what string, params map[string]*param) template {
	s, ok := p.str(n, what)
	if !ok {
		return nil
	}
	t, secrets, err := parseTemplate(s, p.env, params)
	p.secrets = append(p.secrets, secrets...)
	if err != nil {
		p.errf(n, "%s: %v", what, err)
		return nil
	}
	return t
}

func (p *parser) request(t *tool, n *yaml.Node, label string) {
	params := t.params.byName
	var bodyNode, urlNode *yaml.Node
	for _, kv := range p.mapping(n, label+": request") {
		what := label + ": request." + kv.key.Value
		switch kv.key.Value {
		case "method":
			if s, ok := p.str(kv.val, what); ok {
				switch m := strings.ToUpper(s); m {
				case http.MethodGet, http.MethodPost:
					t.method = m
				default:
					p.errf(kv.val, "%s: %q is not supported (GET, POST)", what, truncate(s, 20))
				}
			}
		case "url":
			urlNode = kv.val
		case "headers":
			for _, h := range p.mapping(kv.val, what) {
				hn := h.key.Value
				switch {
				case !headerNameRe.MatchString(hn):
					p.errf(h.key, "%s: %q is not a valid header name", what, truncate(hn, 64))
					continue
				case slices.Contains([]string{"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}, strings.ToLower(hn)):
					p.errf(h.key, "%s: header %s is set by Firstline", what, hn)
					continue
				}
				ht := p.tmpl(h.val, what+"."+hn, params)
				if ht == nil && h.val.Value != "" {
					continue
				}
				for _, pt := range ht {
					if !pt.isRef() && strings.ContainsFunc(pt.lit, isCtl) {
						p.errf(h.val, "%s.%s: a header value may not contain control characters", what, hn)
					}
				}
				t.headers = append(t.headers, header{name: http.CanonicalHeaderKey(hn), value: ht})
			}
		case "body":
			bodyNode = kv.val
		case "timeout":
			s, ok := p.str(kv.val, what)
			if !ok {
				continue
			}
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 || d > MaxTimeout {
				p.errf(kv.val, "%s: expected a duration such as 5s, at most %s", what, MaxTimeout)
				continue
			}
			t.timeout = d
		case "retries":
			if i, ok := p.integer(kv.val, what); ok {
				if i < 0 || i > MaxRetries {
					p.errf(kv.val, "%s: must be between 0 and %d", what, MaxRetries)
					continue
				}
				t.retries = int(i)
			}
		case "max_response_bytes":
			if i, ok := p.integer(kv.val, what); ok {
				if i < 1 || i > MaxMaxResponseBytes {
					p.errf(kv.val, "%s: must be between 1 and %d", what, MaxMaxResponseBytes)
					continue
				}
				t.maxBytes = i
			}
		default:
			p.errf(kv.key, "%s: unknown key (expected method, url, headers, body, timeout, retries, max_response_bytes)", what)
		}
	}
	if urlNode == nil {
		p.errf(n, "%s: request.url is required", label)
	} else if ut := p.tmpl(urlNode, label+": request.url", params); ut != nil {
		u, err := parseURL(ut)
		if err != nil {
			p.errf(urlNode, "%s: request.%v", label, err)
		} else if _, err := u.render(sampleData(params)); err != nil {
			p.errf(urlNode, "%s: request.url: not a valid URL", label)
		} else {
			t.url = u
			// A path value must be there: an optional parameter in the
			// path would change which resource is asked for.
			for _, seg := range u.path {
				seg.refs(func(r ref) {
					if r.kind == refParam && !params[r.name].required {
						p.errf(urlNode, "%s: request.url: parameter %q stands in the path, so it must be required", label, r.name)
					}
				})
			}
		}
	}
	if bodyNode != nil {
		if t.method != http.MethodPost {
			p.errf(bodyNode, "%s: request.body needs method POST", label)
		}
		if bodyNode.Kind == yaml.ScalarNode && bodyNode.Tag == "!!str" {
			// A JSON text: JSON is YAML, so it is read into the same tree,
			// keeping its lines.
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(bodyNode.Value), &doc); err != nil || len(doc.Content) == 0 {
				p.errf(bodyNode, "%s: request.body: not valid JSON", label)
				return
			}
			b := p.body(doc.Content[0], label+": request.body", params, bodyNode.Line)
			t.body = &b
			return
		}
		b := p.body(bodyNode, label+": request.body", params, 0)
		t.body = &b
	}
}

// body reads a body template: mappings, lists and scalars; string scalars
// are templates. line, when set, is the line to report errors at (a body
// written as one JSON string).
func (p *parser) body(n *yaml.Node, what string, params map[string]*param, line int) bodyNode {
	at := n
	if line > 0 {
		at = &yaml.Node{Line: line}
	}
	switch n.Kind {
	case yaml.MappingNode:
		b := bodyNode{kind: bodyObject}
		for _, kv := range p.mapping(n, what) {
			b.keys = append(b.keys, kv.key.Value)
			b.items = append(b.items, p.body(kv.val, what+"."+kv.key.Value, params, line))
		}
		return b
	case yaml.SequenceNode:
		b := bodyNode{kind: bodyArray}
		for i, c := range n.Content {
			b.items = append(b.items, p.body(c, fmt.Sprintf("%s[%d]", what, i), params, line))
		}
		return b
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			t, secrets, err := parseTemplate(n.Value, p.env, params)
			p.secrets = append(p.secrets, secrets...)
			if err != nil {
				p.errf(at, "%s: %v", what, err)
			}
			return bodyNode{kind: bodyString, tmpl: t}
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				p.errf(at, "%s: not a JSON number", what)
			}
			return bodyNode{kind: bodyLiteral, lit: f}
		case "!!bool":
			var v bool
			_ = n.Decode(&v)
			return bodyNode{kind: bodyLiteral, lit: v}
		case "!!null":
			return bodyNode{kind: bodyLiteral, lit: nil}
		}
	}
	p.errf(at, "%s: not JSON", what)
	return bodyNode{kind: bodyLiteral}
}

func (p *parser) response(t *tool, n, key *yaml.Node, label string) {
	path := func(kv keyVal) []string {
		s, ok := p.str(kv.val, label+": response."+kv.key.Value)
		if !ok {
			return nil
		}
		if !pathRe.MatchString(s) {
			p.errf(kv.val, "%s: response.%s: expected a field name or a dotted path such as data.items", label, kv.key.Value)
			return nil
		}
		return strings.Split(s, ".")
	}
	var fieldsNode *yaml.Node
	for _, kv := range p.mapping(n, label+": response") {
		switch kv.key.Value {
		case "records":
			if kv.val.Kind == yaml.ScalarNode && kv.val.Value == "" {
				continue // one object
			}
			t.records = path(kv)
		case "owner":
			t.owner = path(kv)
		case "id":
			t.id = path(kv)
		case "fields":
			fieldsNode = kv.val
			list, ok := p.strList(kv.val, label+": response.fields")
			if !ok {
				continue
			}
			if len(list) > maxFields {
				p.errf(kv.val, "%s: response.fields: at most %d", label, maxFields)
			}
			t.fields = newFieldTree()
			for i, f := range list {
				if !pathRe.MatchString(f) {
					p.errf(kv.val.Content[i], "%s: response.fields: %q is not a field name or dotted path", label, truncate(f, 64))
					continue
				}
				if err := t.fields.add(strings.Split(f, ".")); err != nil {
					p.errf(kv.val.Content[i], "%s: response.fields: %v", label, err)
				}
			}
		default:
			p.errf(kv.key, "%s: response: unknown key %q (expected records, owner, id, fields)", label, kv.key.Value)
		}
	}
	if fieldsNode == nil || len(t.fields) == 0 {
		p.errf(key, "%s: response.fields is required: only the fields listed reach the model", label)
	}
}

// sampleData has a plain value for every parameter, to check that a
// template makes a valid request.
func sampleData(params map[string]*param) data {
	d := data{params: make(map[string]value, len(params)), customer: "C-1"}
	for name, p := range params {
		d.params[name] = value{typ: p.typ, s: "x", i: 1, b: true}
	}
	return d
}

// requires reads a tool's requires: section into t (linked and private,
// both true unless the file says otherwise).
func (p *parser) requires(n *yaml.Node, t *tool) {
	for _, r := range p.mapping(n, "requires") {
		switch r.key.Value {
		case "linked":
			if b, ok := p.boolean(r.val, "requires.linked"); ok {
				t.linked = b
			}
		case "private":
			if b, ok := p.boolean(r.val, "requires.private"); ok {
				t.private = b
			}
		default:
			p.errf(r.key, "requires: unknown key %q (expected linked, private)", r.key.Value)
		}
	}
}

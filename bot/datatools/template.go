package datatools

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/template/parse"
)

// A template is an admin's templated string (a URL, a header value, a body
// leaf) cut into parts: literal text, text from the environment, and
// references to a parameter or to the customer id. It is parsed once with
// text/template's parser and never executed by text/template: rendering
// walks the parts and escapes each value for where it stands, so a value is
// only ever data, whatever it contains ("{{" included).
type template []part

type part struct {
	lit    string // literal text, when ref is zero
	secret bool   // lit came from an environment variable
	ref    ref
}

type refKind int

const (
	refNone refKind = iota
	refParam
	refCustomer
)

// ref is what an action names: {{.Params.NAME}} or {{.Customer.ID}}.
type ref struct {
	kind refKind
	name string // the parameter's name, for refParam
}

func (p part) isRef() bool { return p.ref.kind != refNone }

var envRe = regexp.MustCompile(`\$\{([^}]*)\}`)
var envNameRe = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// parseTemplate parses s. Actions may only be {{.Params.NAME}} (a declared
// parameter) or {{.Customer.ID}}; no functions, pipelines, variables or
// control structures. ${VAR} in literal text is replaced by the variable's
// value from env, which must be set; the value stays literal text (it is
// never parsed as a template) and is remembered as a secret.
func parseTemplate(s string, env func(string) string, params map[string]*param) (template, []string, error) {
	trees, err := parse.Parse("t", s, "{{", "}}")
	if err != nil {
		return nil, nil, fmt.Errorf("template: %s", cleanParseErr(err))
	}
	if len(trees) != 1 {
		return nil, nil, errors.New("template: {{define}} and {{block}} are not allowed")
	}
	tree := trees["t"]
	if tree == nil || tree.Root == nil {
		return nil, nil, nil
	}
	var t template
	var secrets []string
	var errs []string
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			ps, sec, err := splitEnv(string(n.Text), env)
			if err != nil {
				errs = append(errs, err.Error())
			}
			t = append(t, ps...)
			secrets = append(secrets, sec...)
		case *parse.ActionNode:
			r, err := actionRef(n, params)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			t = append(t, part{ref: r})
		case *parse.CommentNode:
		default:
			errs = append(errs, fmt.Sprintf("template: %q is not allowed: only {{.Params.NAME}} and {{.Customer.ID}}", truncate(n.String(), 40)))
		}
	}
	if len(errs) > 0 {
		return nil, secrets, errors.New(strings.Join(errs, "; "))
	}
	return t.merge(), secrets, nil
}

func cleanParseErr(err error) string {
	// "template: t:1: unexpected ..." → "unexpected ..."
	msg := err.Error()
	if i := strings.Index(msg, "t:1: "); i >= 0 {
		msg = msg[i+len("t:1: "):]
	}
	msg = strings.TrimPrefix(msg, "template: ")
	return msg
}

func actionRef(n *parse.ActionNode, params map[string]*param) (ref, error) {
	bad := fmt.Errorf("template: %s is not allowed: only {{.Params.NAME}} and {{.Customer.ID}}", truncate(n.String(), 40))
	if n.Pipe == nil || len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return ref{}, bad
	}
	f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 2 {
		return ref{}, bad
	}
	switch f.Ident[0] {
	case "Customer":
		if f.Ident[1] != "ID" {
			return ref{}, bad
		}
		return ref{kind: refCustomer}, nil
	case "Params":
		if _, ok := params[f.Ident[1]]; !ok {
			return ref{}, fmt.Errorf("template: {{.Params.%s}} names no declared parameter", f.Ident[1])
		}
		return ref{kind: refParam, name: f.Ident[1]}, nil
	}
	return ref{}, bad
}

// splitEnv cuts literal text at ${VAR} references and resolves them.
func splitEnv(s string, env func(string) string) ([]part, []string, error) {
	var ps []part
	var secrets []string
	var errs []string
	for {
		loc := envRe.FindStringSubmatchIndex(s)
		if loc == nil {
			break
		}
		if loc[0] > 0 {
			ps = append(ps, part{lit: s[:loc[0]]})
		}
		name := s[loc[2]:loc[3]]
		switch {
		case !envNameRe.MatchString(name):
			errs = append(errs, fmt.Sprintf("${%s}: an environment variable name is upper-case letters, digits and _", truncate(name, 40)))
		case env == nil || env(name) == "":
			errs = append(errs, fmt.Sprintf("environment variable %s is not set", name))
		default:
			v := env(name)
			ps = append(ps, part{lit: v, secret: true})
			secrets = append(secrets, v)
		}
		s = s[loc[1]:]
	}
	if strings.Contains(s, "${") {
		errs = append(errs, "unclosed ${: write ${NAME}")
	}
	if s != "" {
		ps = append(ps, part{lit: s})
	}
	if len(errs) > 0 {
		return ps, secrets, errors.New(strings.Join(errs, "; "))
	}
	return ps, secrets, nil
}

// merge joins adjacent literal parts (keeping the secret mark).
func (t template) merge() template {
	var out template
	for _, p := range t {
		if n := len(out); n > 0 && !p.isRef() && !out[n-1].isRef() {
			out[n-1].lit += p.lit
			out[n-1].secret = out[n-1].secret || p.secret
			continue
		}
		out = append(out, p)
	}
	return out
}

// refs calls fn for every reference in t.
func (t template) refs(fn func(ref)) {
	for _, p := range t {
		if p.isRef() {
			fn(p.ref)
		}
	}
}

// onlyRef reports the reference when t is exactly one action.
func (t template) onlyRef() (ref, bool) {
	if len(t) == 1 && t[0].isRef() {
		return t[0].ref, true
	}
	return ref{}, false
}

// data is what templates see: the validated arguments and the customer
// bound by Firstline.
type data struct {
	params   map[string]value
	customer string
}

// value is one validated argument.
type value struct {
	typ paramType
	s   string
	i   int64
	b   bool
}

func (v value) text() string {
	switch v.typ {
	case typeInteger:
		return strconv.FormatInt(v.i, 10)
	case typeBoolean:
		return strconv.FormatBool(v.b)
	}
	return v.s
}

func (v value) jsonValue() any {
	switch v.typ {
	case typeNumber:
		return json.Number(v.s)
	case typeInteger:
		return v.i
	case typeBoolean:
		return v.b
	}
	return v.s
}

// lookup returns the value r names, and whether it is present.
func (d data) lookup(r ref) (value, bool) {
	switch r.kind {
	case refCustomer:
		return value{typ: typeString, s: d.customer}, d.customer != ""
	case refParam:
		v, ok := d.params[r.name]
		return v, ok
	}
	return value{}, false
}

// errValue is a value that may not stand where the template puts it.
type errValue struct {
	where string
	why   string
}

func (e *errValue) Error() string { return e.where + ": " + e.why }

// renderHeader renders a header value: literal text as written, values
// as they are, refusing control characters (CR, LF) that would end the
// header or start another.
func (t template) renderHeader(d data) (string, error) {
	var b strings.Builder
	for _, p := range t {
		if !p.isRef() {
			b.WriteString(p.lit)
			continue
		}
		v, _ := d.lookup(p.ref)
		s := v.text()
		if strings.ContainsFunc(s, isCtl) {
			return "", &errValue{where: "header", why: "a value may not contain control characters such as CR or LF"}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

// renderText renders t as plain text (a body string).
func (t template) renderText(d data) string {
	var b strings.Builder
	for _, p := range t {
		if !p.isRef() {
			b.WriteString(p.lit)
			continue
		}
		v, _ := d.lookup(p.ref)
		b.WriteString(v.text())
	}
	return b.String()
}

// urlTemplate is a request URL cut by where its parts stand. The scheme,
// host and port are literal; parameters stand only in whole or partial
// path segments and in query values.
type urlTemplate struct {
	base  string     // scheme://host[:port], literal
	host  string     // as url.Parse reads it from base
	path  []template // segments after the leading "/"; nil: no path
	query []queryPair
}

type queryPair struct {
	key   string // literal, as written
	value template
	bare  bool // written without "="
}

// parseURL cuts a parsed template into a urlTemplate.
func parseURL(t template) (*urlTemplate, error) {
	u := &urlTemplate{}
	const (
		stAuthority = iota
		stPath
		stKey
		stValue
	)
	if len(t) == 0 || t[0].isRef() {
		return nil, errors.New("url: must start with http:// or https:// and a host")
	}
	first := t[0].lit
	var scheme string
	for _, s := range []string{"http://", "https://"} {
		if len(first) >= len(s) && strings.EqualFold(first[:len(s)], s) {
			scheme = first[:len(s)]
		}
	}
	if scheme == "" {
		return nil, errors.New("url: must start with http:// or https:// and a host")
	}
	t = append(template{{lit: first[len(scheme):], secret: t[0].secret}}, t[1:]...)
	st := stAuthority
	var base strings.Builder
	base.WriteString(scheme)
	var seg template
	var pair queryPair
	endSeg := func() { u.path = append(u.path, seg.merge()); seg = nil }
	endPair := func() {
		if pair.key != "" || len(pair.value) > 0 {
			pair.value = pair.value.merge()
			u.query = append(u.query, pair)
		}
		pair = queryPair{bare: true}
	}
	pair.bare = true
	for _, p := range t {
		if p.isRef() {
			switch st {
			case stAuthority:
				return nil, errors.New("url: a parameter or the customer id may not stand in the scheme, host or port")
			case stPath:
				seg = append(seg, p)
			case stKey:
				return nil, errors.New("url: a parameter may stand in a query value, not in a query key")
			case stValue:
				pair.value = append(pair.value, p)
			}
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			c := p.lit[i]
			if c == '#' {
				return nil, errors.New("url: a fragment (#) is not allowed")
			}
			switch st {
			case stAuthority:
				switch c {
				case '/':
					st = stPath
				case '?':
					st = stKey
				default:
					base.WriteByte(c)
				}
			case stPath:
				switch c {
				case '/':
					endSeg()
				case '?':
					endSeg()
					st = stKey
				default:
					seg = append(seg, part{lit: string(c), secret: p.secret})
				}
			case stKey, stValue:
				switch {
				case c == '&':
					endPair()
					st = stKey
				case c == '=' && st == stKey:
					st = stValue
					pair.bare = false
				case st == stKey:
					pair.key += string(c)
				default:
					pair.value = append(pair.value, part{lit: string(c), secret: p.secret})
				}
			}
		}
	}
	switch st {
	case stPath:
		endSeg()
	case stKey, stValue:
		endPair()
	}
	for _, q := range u.query {
		if q.key == "" {
			return nil, errors.New("url: a query pair has no key")
		}
	}
	u.base = base.String()
	parsed, err := url.Parse(u.base)
	switch {
	case err != nil:
		return nil, errors.New("url: the scheme and host are not a valid URL")
	case parsed.User != nil:
		return nil, errors.New("url: credentials in the URL are not allowed; send them in a header")
	case parsed.Host == "" || parsed.Path != "" || parsed.RawQuery != "":
		return nil, errors.New("url: must start with http:// or https:// and a host")
	}
	u.host = parsed.Host
	return u, nil
}

// checkSegment refuses a value that would change the path's shape: empty,
// "." or "..", or holding "/" or "\", also when percent-decoded (some
// servers decode twice).
func checkSegment(s string) error {
	if s == "" {
		return &errValue{where: "path", why: "a value in the URL path may not be empty"}
	}
	for range 4 {
		if s == "." || s == ".." {
			return &errValue{where: "path", why: `a value in the URL path may not be "." or ".."`}
		}
		if strings.ContainsAny(s, `/\`) {
			return &errValue{where: "path", why: `a value in the URL path may not contain "/" or "\"`}
		}
		u, err := url.PathUnescape(s)
		if err != nil || u == s {
			break
		}
		s = u
	}
	return nil
}

// render builds the request URL for d. Each value is escaped for where it
// stands: a path value is one path segment (url.PathEscape), a query value
// is url.QueryEscape'd. A query pair whose value is one absent optional
// parameter is left out.
func (u *urlTemplate) render(d data) (string, error) {
	var b strings.Builder
	b.WriteString(u.base)
	for _, seg := range u.path {
		b.WriteByte('/')
		for _, p := range seg {
			if !p.isRef() {
				b.WriteString(p.lit)
				continue
			}
			v, ok := d.lookup(p.ref)
			if !ok {
				return "", &errValue{where: "path", why: "a value in the URL path is missing"}
			}
			s := v.text()
			if err := checkSegment(s); err != nil {
				return "", err
			}
			b.WriteString(url.PathEscape(s))
		}
	}
	sep := byte('?')
	for _, q := range u.query {
		if r, only := q.value.onlyRef(); only {
			if _, ok := d.lookup(r); !ok {
				continue
			}
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(q.key)
		if q.bare {
			continue
		}
		b.WriteByte('=')
		for _, p := range q.value {
			if !p.isRef() {
				b.WriteString(p.lit)
				continue
			}
			v, _ := d.lookup(p.ref)
			b.WriteString(url.QueryEscape(v.text()))
		}
	}
	out := b.String()
	// Defense in depth: what was built must still point at the host the
	// admin wrote.
	parsed, err := url.Parse(out)
	if err != nil || parsed.Host != u.host || parsed.User != nil {
		return "", &errValue{where: "url", why: "the values do not make a valid URL"}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

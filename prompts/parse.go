package prompts

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"gopkg.in/yaml.v3"
)

// messageVars lists, for every message, the variables its template may use
// and sample values to check templates with. It mirrors the header of
// messages.yaml.
var messageVars = map[string]map[string]any{
	"greeting":        {},
	"handoff_ack":     {"Position": 2},
	"agent_joined":    {"Agent": "Alex"},
	"agent_left":      {},
	"resolved":        {},
	"rating_thanks":   {"Rating": 5},
	"out_of_hours":    {"Until": "Monday 09:00 CET"},
	"error":           {},
	"offer_person":    {},
	"not_linked":      {},
	"private_only":    {},
	"payments":        {"Payments": []map[string]any{samplePayment()}},
	"payment":         {"Payment": samplePayment()},
	"payment_unknown": {"Reference": "PAY-1001"},
	"no_payments":     {},
	"fallback":        {},
	"talk_to_person":  {},
}

// MessageNames lists the canned messages, sorted.
func MessageNames() []string {
	names := make([]string, 0, len(messageVars))
	for n := range messageVars {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func samplePayment() map[string]any {
	return map[string]any{
		"Reference": "PAY-1001", "Amount": "120.00", "Currency": "EUR",
		"Status": "settled", "Merchant": "Acme", "Date": "2026-11-01",
	}
}

func systemSample() any {
	return SystemData{Linked: true, Private: true, Today: "2026-01-02",
		FAQ: []FAQEntry{{ID: "x", Question: "Q?", Answer: "A."}}}
}

func summarySample() any {
	return map[string]any{
		"ID": int64(7), "Customer": "C-1001", "User": "Ada", "Platform": "slack",
		"Reason":   "customer asked for a person",
		"Messages": []map[string]any{{"Role": "customer", "Text": "hello"}},
	}
}

// tmplErrRe picks the line (and column) out of text/template's errors,
// which read "template: NAME:LINE:COL: message" or "template: NAME:LINE: message".
var tmplErrRe = regexp.MustCompile(`^template: [^:]*:(\d+)(?::\d+)?: (.*)$`)

// parseTemplate parses a template whose first line is at file line base,
// rejects variables its sample data does not have, and test-executes it.
func parseTemplate(file string, text []byte, base int, sample any) (*template.Template, error) {
	return parseNamed(file, file, string(text), base, sample)
}

func parseNamed(file, name, text string, base int, sample any) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, templateError(file, base, err)
	}
	if err := checkFields(file, name, text, base, t, sample); err != nil {
		return nil, err
	}
	if _, err := execute(t, sample); err != nil {
		return nil, templateError(file, base, errors.Unwrap(err))
	}
	return t, nil
}

func templateError(file string, base int, err error) Error {
	if err == nil {
		return Error{File: file, Line: base, Msg: "invalid template"}
	}
	msg := err.Error()
	if m := tmplErrRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Error{File: file, Line: base + n - 1, Msg: m[2]}
	}
	return Error{File: file, Line: base, Msg: msg}
}

// checkFields finds references to top-level variables ({{.Name}}) that the
// sample does not have, including in branches a test execution would not
// reach. References inside range and with blocks, where dot changes, are
// left to the test execution.
func checkFields(file, name, text string, base int, t *template.Template, sample any) error {
	known := fieldsOf(sample)
	var bad *parse.FieldNode
	var walk func(n parse.Node, rebound bool)
	walkPipe := func(p *parse.PipeNode, rebound bool) {
		if p == nil {
			return
		}
		for _, c := range p.Cmds {
			for _, a := range c.Args {
				walk(a, rebound)
			}
		}
	}
	walk = func(n parse.Node, rebound bool) {
		if n == nil || bad != nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c, rebound)
			}
		case *parse.ActionNode:
			walkPipe(n.Pipe, rebound)
		case *parse.PipeNode:
			walkPipe(n, rebound)
		case *parse.IfNode:
			walkPipe(n.Pipe, rebound)
			walk(n.List, rebound)
			walk(n.ElseList, rebound)
		case *parse.RangeNode:
			walkPipe(n.Pipe, rebound)
			walk(n.List, true)
			walk(n.ElseList, rebound)
		case *parse.WithNode:
			walkPipe(n.Pipe, rebound)
			walk(n.List, true)
			walk(n.ElseList, rebound)
		case *parse.FieldNode:
			if !rebound && !known[n.Ident[0]] {
				bad = n
			}
		case *parse.ChainNode:
			walk(n.Node, rebound)
		}
	}
	walk(t.Tree.Root, false)
	if bad == nil {
		return nil
	}
	line := base + strings.Count(text[:int(bad.Pos)], "\n")
	return Error{File: file, Line: line, Msg: fmt.Sprintf("%s: unknown variable .%s (known: %s)", name, bad.Ident[0], knownList(known))}
}

func fieldsOf(sample any) map[string]bool {
	known := map[string]bool{}
	switch s := sample.(type) {
	case map[string]any:
		for k := range s {
			known[k] = true
		}
	case SystemData:
		for _, k := range []string{"Linked", "Private", "FAQ", "Today"} {
			known[k] = true
		}
	}
	return known
}

func knownList(known map[string]bool) string {
	if len(known) == 0 {
		return "none"
	}
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, "."+k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// parseYAML parses a YAML document into its root mapping node.
func parseYAML(file string, b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Error{File: file, Line: 1, Msg: "file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Error{File: file, Line: root.Line, Msg: "expected a mapping at the top level"}
	}
	return root, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

func yamlError(file string, err error) Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Error{File: file, Line: n, Msg: m[2]}
	}
	return Error{File: file, Line: 1, Msg: msg}
}

// pairs returns a mapping node's key/value pairs in order.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

func stringList(file string, n *yaml.Node, what string) ([]string, Errors) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, Errors{{File: file, Line: n.Line, Msg: what + " must be a list"}}
	}
	var errs Errors
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			errs = append(errs, Error{File: file, Line: item.Line, Msg: what + ": each item must be text"})
			continue
		}
		v := strings.TrimSpace(item.Value)
		if v == "" {
			errs = append(errs, Error{File: file, Line: item.Line, Msg: what + ": empty item"})
			continue
		}
		out = append(out, v)
	}
	return out, errs
}

func parseFAQ(b []byte) ([]FAQEntry, error) {
	root, err := parseYAML(FileFAQ, b)
	if err != nil {
		return nil, err
	}
	var errs Errors
	var entries *yaml.Node
	for _, kv := range pairs(root) {
		switch kv[0].Value {
		case "entries":
			entries = kv[1]
		default:
			errs = append(errs, Error{File: FileFAQ, Line: kv[0].Line, Msg: fmt.Sprintf("unknown key %q (expected entries)", kv[0].Value)})
		}
	}
	if entries == nil {
		return nil, append(errs, Error{File: FileFAQ, Line: root.Line, Msg: "missing entries"})
	}
	if entries.Kind != yaml.SequenceNode {
		return nil, append(errs, Error{File: FileFAQ, Line: entries.Line, Msg: "entries must be a list"})
	}
	seen := map[string]int{}
	out := make([]FAQEntry, 0, len(entries.Content))
	for _, item := range entries.Content {
		if item.Kind != yaml.MappingNode {
			errs = append(errs, Error{File: FileFAQ, Line: item.Line, Msg: "each entry must have id, question, keywords and answer"})
			continue
		}
		var e FAQEntry
		for _, kv := range pairs(item) {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "id", "question", "answer":
				if v.Kind != yaml.ScalarNode {
					errs = append(errs, Error{File: FileFAQ, Line: v.Line, Msg: k.Value + " must be text"})
					continue
				}
				s := strings.TrimSpace(v.Value)
				switch k.Value {
				case "id":
					e.ID = s
				case "question":
					e.Question = s
				case "answer":
					e.Answer = s
				}
			case "keywords":
				kw, kerrs := stringList(FileFAQ, v, "keywords")
				errs = append(errs, kerrs...)
				e.Keywords = kw
			default:
				errs = append(errs, Error{File: FileFAQ, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (expected id, question, keywords, answer)", k.Value)})
			}
		}
		switch {
		case e.ID == "":
			errs = append(errs, Error{File: FileFAQ, Line: item.Line, Msg: "entry has no id"})
		case seen[e.ID] > 0:
			errs = append(errs, Error{File: FileFAQ, Line: item.Line, Msg: fmt.Sprintf("duplicate id %q (first at line %d)", e.ID, seen[e.ID])})
		default:
			seen[e.ID] = item.Line
		}
		if e.Question == "" {
			errs = append(errs, Error{File: FileFAQ, Line: item.Line, Msg: fmt.Sprintf("entry %q has no question", e.ID)})
		}
		if e.Answer == "" {
			errs = append(errs, Error{File: FileFAQ, Line: item.Line, Msg: fmt.Sprintf("entry %q has no answer", e.ID)})
		}
		if len(e.Keywords) == 0 {
			errs = append(errs, Error{File: FileFAQ, Line: item.Line, Msg: fmt.Sprintf("entry %q has no keywords", e.ID)})
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func parsePhrases(b []byte) ([]PhraseLang, error) {
	root, err := parseYAML(FilePhrases, b)
	if err != nil {
		return nil, err
	}
	var errs Errors
	var langs *yaml.Node
	for _, kv := range pairs(root) {
		if kv[0].Value == "languages" {
			langs = kv[1]
			continue
		}
		errs = append(errs, Error{File: FilePhrases, Line: kv[0].Line, Msg: fmt.Sprintf("unknown key %q (expected languages)", kv[0].Value)})
	}
	if langs == nil || langs.Kind != yaml.MappingNode || len(langs.Content) == 0 {
		line := root.Line
		if langs != nil {
			line = langs.Line
		}
		return nil, append(errs, Error{File: FilePhrases, Line: line, Msg: "languages must list at least one language"})
	}
	var out []PhraseLang
	for _, kv := range pairs(langs) {
		code, body := kv[0].Value, kv[1]
		if body.Kind != yaml.MappingNode {
			errs = append(errs, Error{File: FilePhrases, Line: body.Line, Msg: fmt.Sprintf("language %q: expected phrases, alone, fillers, negations, except", code)})
			continue
		}
		l := PhraseLang{Code: code}
		for _, f := range pairs(body) {
			what := code + "." + f[0].Value
			list, lerrs := stringList(FilePhrases, f[1], what)
			errs = append(errs, lerrs...)
			switch f[0].Value {
			case "phrases":
				l.Phrases = list
			case "alone":
				l.Alone = list
			case "fillers":
				l.Fillers = list
			case "negations":
				l.Negations = list
			case "except":
				l.Except = list
			default:
				errs = append(errs, Error{File: FilePhrases, Line: f[0].Line, Msg: fmt.Sprintf("language %q: unknown key %q (expected phrases, alone, fillers, negations, except)", code, f[0].Value)})
			}
		}
		if len(l.Phrases) == 0 && len(l.Alone) == 0 {
			errs = append(errs, Error{File: FilePhrases, Line: kv[0].Line, Msg: fmt.Sprintf("language %q has no phrases: a customer writing in it could not ask for a person", code)})
		}
		out = append(out, l)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func parseMessages(b []byte, fromFolder bool) (map[string]map[string]*template.Template, error) {
	root, err := parseYAML(FileMessages, b)
	if err != nil {
		return nil, err
	}
	var errs Errors
	out := map[string]map[string]*template.Template{}
	for _, kv := range pairs(root) {
		name, body := kv[0].Value, kv[1]
		sample, ok := messageVars[name]
		if !ok {
			errs = append(errs, Error{File: FileMessages, Line: kv[0].Line, Msg: fmt.Sprintf("unknown message %q", name)})
			continue
		}
		if body.Kind != yaml.MappingNode {
			errs = append(errs, Error{File: FileMessages, Line: body.Line, Msg: fmt.Sprintf("message %q: expected one entry per language (en: ...)", name)})
			continue
		}
		byLang := map[string]*template.Template{}
		for _, lv := range pairs(body) {
			lang, v := lv[0].Value, lv[1]
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				errs = append(errs, Error{File: FileMessages, Line: v.Line, Msg: fmt.Sprintf("message %q, language %q: expected text", name, lang)})
				continue
			}
			base := v.Line
			if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				base++ // block scalars start on the line after the indicator
			}
			t, err := parseNamed(FileMessages, name+"."+lang, v.Value, base, sample)
			if err != nil {
				errs = appendErr(errs, FileMessages, err)
				continue
			}
			byLang[lang] = t
		}
		if _, ok := byLang["en"]; !ok && len(byLang) > 0 {
			errs = append(errs, Error{File: FileMessages, Line: kv[0].Line, Msg: fmt.Sprintf("message %q has no \"en\" text, the fallback for other languages", name)})
		}
		out[name] = byLang
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// An admin's file may predate a message added in a later release: those
	// keep their embedded default rather than failing the whole file.
	if fromFolder {
		def, err := defaultMessages()
		if err != nil {
			return nil, err
		}
		for name, byLang := range def {
			if _, ok := out[name]; !ok {
				out[name] = byLang
			}
		}
	}
	for name := range messageVars {
		if _, ok := out[name]; !ok {
			errs = append(errs, Error{File: FileMessages, Msg: fmt.Sprintf("missing message %q", name)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func defaultMessages() (map[string]map[string]*template.Template, error) {
	b, err := defaultFiles.ReadFile("defaults/" + FileMessages)
	if err != nil {
		return nil, err
	}
	return parseMessages(b, false)
}

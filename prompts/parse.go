package prompts

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/template"
	"unicode"

	"gopkg.in/yaml.v3"
)

// messageVars lists, for every message, the variables its template may use
// and sample values to check templates with. It mirrors the header of
// messages.yaml.
var messageVars = map[string]map[string]any{
	"greeting":          {},
	"hello":             {},
	"handoff_ack":       {"Position": 2},
	"handoff_elsewhere": {"Position": 2},
	"agent_joined":      {"Agent": "Alex"},
	"agent_left":        {"Position": 2},
	"resolved":          {},
	"rating_thanks":     {"Rating": 5},
	"out_of_hours":      {"Until": "tomorrow at 09:00 (CET)", "Weekday": "Monday", "Date": "2026-11-09", "Time": "09:00", "Zone": "CET", "Days": 1},
	"handoff_delayed":   {"Position": 3, "Closes": "17:00 (CET)"},
	"queue_position":    {"Position": 2},
	"offer_repeat":      {},
	"offer_frustrated":  {},
	"error":             {},
	"offer_person":      {},
	"not_linked":        {},
	"private_only":      {},
	"payments":          {"Payments": []map[string]any{samplePayment()}},
	"payment":           {"Payment": samplePayment()},
	"payment_unknown":   {"Reference": "PAY-1001"},
	"no_payments":       {},
	"fallback":          {},
	"talk_to_person":    {},
	"feedback_down":     {},

	// Privacy and abuse protection (docs/privacy.md).
	"rate_limited":        {},
	"message_truncated":   {"KB": 16},
	"attachments_dropped": {"Dropped": 2, "Max": 10},
	"cannot_share":        {},
	"verify_ask_email":    {},
	"verify_code_sent":    {"Minutes": 10},
	"verify_wrong":        {"Left": 3},
	"verify_locked":       {},
	"verify_expired":      {},
	"verify_ok":           {},
	"verify_unavailable":  {},

	// Connecting the chat to an account (FIRSTLINE_CONNECT_URL).
	"connect_offer":   {"Minutes": 10},
	"connect_button":  {},
	"connect_done":    {},
	"disconnected":    {},
	"disconnect_none": {},
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

// MessageSample returns sample values of the variables message name takes,
// as documented in messages.yaml (nil for an unknown message). Every message
// of a loaded Set renders with them. The map is new on each call.
func MessageSample(name string) map[string]any {
	vars, ok := messageVars[name]
	if !ok {
		return nil
	}
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		out[k] = v
	}
	return out
}

func samplePayment() map[string]any {
	return map[string]any{
		"Reference": "PAY-1001", "Amount": "120.00", "Currency": "EUR",
		"Status": "settled", "Merchant": "Acme", "Date": "2026-11-01",
	}
}

func systemSample() any {
	return SystemData{Linked: true, Private: true, HelpCenter: true, Today: "2026-01-02",
		FAQ: []FAQEntry{{ID: "x", Question: "Q?", Keywords: []string{"q"}, Answer: "A."}}}
}

func summarySample() any {
	return map[string]any{
		"ID": int64(7), "Customer": "C-1001", "User": "Ada", "Platform": "slack",
		"Reason":   "customer asked for a person",
		"Messages": []map[string]any{{"Role": "customer", "Text": "hello"}},
	}
}

// parseYAML parses a YAML document into its root mapping node.
func parseYAML(file string, b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlError(file, b, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Error{File: file, Line: 1, Msg: "file is empty"}
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, Error{File: file, Line: 1, Msg: "file is empty"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, Error{File: file, Line: root.Line, Msg: "expected a mapping at the top level"}
	}
	return root, nil
}

// yamlError reports a YAML syntax error at the line of the mistake.
func yamlError(file string, src []byte, err error) Error {
	line, problem := splitYAMLError(err)
	if l := locateYAMLError(src, problem, line); l > 0 {
		line = l
	}
	return Error{File: file, Line: max(line, 1), Msg: problem}
}

// pairs returns a mapping node's key/value pairs in order.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

// uniquePairs returns a mapping node's key/value pairs in order, and an
// error for each key given twice (the YAML library keeps both silently).
// what names the keys in the message ("message", "language"); fold compares
// keys without regard to case.
func uniquePairs(file string, n *yaml.Node, what string, fold bool) ([][2]*yaml.Node, Errors) {
	kvs := pairs(n)
	var errs Errors
	first := make(map[string]int, len(kvs))
	for _, kv := range kvs {
		k := kv[0].Value
		if fold {
			k = strings.ToLower(k)
		}
		if line, dup := first[k]; dup {
			errs = append(errs, Error{File: file, Line: kv[0].Line, Msg: fmt.Sprintf("%s %q is given twice (first at line %d)", what, kv[0].Value, line)})
			continue
		}
		first[k] = kv[0].Line
	}
	return kvs, errs
}

// scalarText returns the value of a scalar node that holds text, or false for a
// list, a mapping, an alias or null.
func scalarText(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
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
		v, _ := scalarText(item) // null is an empty item
		if v = strings.TrimSpace(v); v == "" {
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
	kvs, errs := uniquePairs(FileFAQ, root, "key", false)
	var entries *yaml.Node
	for _, kv := range kvs {
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
	if entries.Kind == yaml.ScalarNode && entries.Tag == "!!null" {
		return nil, append(errs, Error{File: FileFAQ, Line: entries.Line, Msg: "entries is empty (write entries: [] for no FAQ)"})
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
		kvs, kerrs := uniquePairs(FileFAQ, item, "key", false)
		errs = append(errs, kerrs...)
		for _, kv := range kvs {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "id", "question", "answer":
				s, ok := scalarText(v)
				if !ok {
					errs = append(errs, Error{File: FileFAQ, Line: v.Line, Msg: k.Value + " must be text"})
					continue
				}
				s = strings.TrimSpace(s)
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
	kvs, errs := uniquePairs(FilePhrases, root, "key", false)
	var langs *yaml.Node
	for _, kv := range kvs {
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
	lkvs, lerrs := uniquePairs(FilePhrases, langs, "language", true)
	errs = append(errs, lerrs...)
	for _, kv := range lkvs {
		code, body := strings.TrimSpace(kv[0].Value), kv[1]
		if code == "" {
			errs = append(errs, Error{File: FilePhrases, Line: kv[0].Line, Msg: "a language needs a code (en, sv, ...)"})
			continue
		}
		if body.Kind != yaml.MappingNode {
			errs = append(errs, Error{File: FilePhrases, Line: body.Line, Msg: fmt.Sprintf("language %q: expected phrases, alone, fillers, negations, except, disconnect", code)})
			continue
		}
		l := PhraseLang{Code: code}
		fkvs, ferrs := uniquePairs(FilePhrases, body, fmt.Sprintf("language %q: list", code), false)
		errs = append(errs, ferrs...)
		for _, f := range fkvs {
			what := code + "." + f[0].Value
			list, lerrs := stringList(FilePhrases, f[1], what)
			errs = append(errs, lerrs...)
			errs = append(errs, phraseWords(f[1], what, f[0].Value == "negations")...)
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
			case "disconnect":
				l.Disconnect = list
			default:
				errs = append(errs, Error{File: FilePhrases, Line: f[0].Line, Msg: fmt.Sprintf("language %q: unknown key %q (expected phrases, alone, fillers, negations, except, disconnect)", code, f[0].Value)})
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

// phraseWords checks the entries of one phrase list the way the matcher
// reads them: an entry needs a word (letters or digits; punctuation is
// ignored), and a negation is exactly one word. The matcher rejects such a
// file too, but without the line.
func phraseWords(list *yaml.Node, what string, single bool) Errors {
	if list.Kind != yaml.SequenceNode {
		return nil
	}
	var errs Errors
	for _, item := range list.Content {
		s, ok := scalarText(item)
		if !ok || strings.TrimSpace(s) == "" {
			continue // reported by stringList
		}
		switch n := countWords(s); {
		case n == 0:
			errs = append(errs, Error{File: FilePhrases, Line: item.Line, Msg: fmt.Sprintf("%s: %q has no words, only punctuation", what, s)})
		case single && n > 1:
			errs = append(errs, Error{File: FilePhrases, Line: item.Line, Msg: fmt.Sprintf("%s: %q must be a single word", what, s)})
		}
	}
	return errs
}

// countWords counts the words of s as the phrase matcher splits them:
// letters and digits, with apostrophes inside a word ("don't") and combining
// marks kept in it; anything else separates words.
func countWords(s string) int {
	n, inWord := 0, false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				n++
			}
			inWord = true
		case inWord && (isApostrophe(r) || unicode.IsMark(r) || unicode.Is(unicode.Cf, r)):
		default:
			inWord = false
		}
	}
	return n
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', 'ʼ', '`', '´', '‘':
		return true
	}
	return false
}

func parseMessages(b []byte, fromFolder bool) (map[string]map[string]*template.Template, error) {
	root, err := parseYAML(FileMessages, b)
	if err != nil {
		return nil, err
	}
	kvs, errs := uniquePairs(FileMessages, root, "message", false)
	out := map[string]map[string]*template.Template{}
	for _, kv := range kvs {
		name, body := kv[0].Value, kv[1]
		sample, ok := messageVars[name]
		if !ok {
			errs = append(errs, Error{File: FileMessages, Line: kv[0].Line, Msg: fmt.Sprintf("unknown message %q (known: %s)", name, strings.Join(MessageNames(), ", "))})
			continue
		}
		if body.Kind != yaml.MappingNode {
			errs = append(errs, Error{File: FileMessages, Line: body.Line, Msg: fmt.Sprintf("message %q: expected one entry per language (en: ...)", name)})
			continue
		}
		lkvs, lerrs := uniquePairs(FileMessages, body, fmt.Sprintf("message %q: language", name), false)
		errs = append(errs, lerrs...)
		byLang := map[string]*template.Template{}
		for _, lv := range lkvs {
			lang, v := lv[0].Value, lv[1]
			s, ok := scalarText(v)
			if !ok || strings.TrimSpace(s) == "" {
				errs = append(errs, Error{File: FileMessages, Line: v.Line, Msg: fmt.Sprintf("message %q, language %q: expected text", name, lang)})
				continue
			}
			lines := sync.OnceValue(func() []int { return scalarLines(b, v) })
			t, err := parseNamed(FileMessages, name+"."+lang, s, lines, sample)
			if err != nil {
				errs = appendErr(errs, FileMessages, err)
				continue
			}
			byLang[lang] = t
		}
		if !slices.ContainsFunc(lkvs, func(lv [2]*yaml.Node) bool { return lv[0].Value == "en" }) {
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
	for _, name := range MessageNames() {
		if _, ok := out[name]; !ok {
			errs = append(errs, Error{File: FileMessages, Msg: fmt.Sprintf("missing message %q", name)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// defaultMessages parses the embedded messages once; the templates are
// immutable and shared by every Set that falls back to them.
func defaultMessages() (map[string]map[string]*template.Template, error) {
	defaults.once.Do(func() {
		b, err := defaultFiles.ReadFile(FileMessages)
		if err == nil {
			defaults.messages, err = parseMessages(b, false)
		}
		defaults.err = err
	})
	return defaults.messages, defaults.err
}

var defaults struct {
	once     sync.Once
	messages map[string]map[string]*template.Template
	err      error
}

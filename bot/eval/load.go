package eval

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

// LoadError is one problem in a scenario file.
type LoadError struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
}

func (e LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadErrors is every problem found in the scenario files, one per line.
type LoadErrors []LoadError

func (es LoadErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// LoadFiles reads scenarios from YAML files and folders (every *.yaml and
// *.yml file directly inside, in name order). Files are validated strictly:
// unknown keys, empty turns, expectations that cannot apply and malformed
// YAML are errors. The error, when not nil, lists every problem found with
// file:line (a LoadErrors, unless a path could not be read at all).
func LoadFiles(paths ...string) ([]Scenario, error) {
	if len(paths) == 0 {
		return nil, errors.New("eval: no scenario files given")
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		n := len(files)
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == n {
			return nil, fmt.Errorf("eval: %s: no *.yaml scenario files in this folder", p)
		}
	}
	var all []Scenario
	var errs LoadErrors
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		scs, err := Parse(f, data)
		var les LoadErrors
		switch {
		case errors.As(err, &les):
			errs = append(errs, les...)
		case err != nil:
			return nil, err
		}
		all = append(all, scs...)
	}
	errs = append(errs, duplicateNames(all)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return all, nil
}

// duplicateNames reports scenarios that share a name across files: names
// identify scenarios in reports, so they must be unique.
func duplicateNames(all []Scenario) LoadErrors {
	var errs LoadErrors
	first := map[string]Scenario{}
	for _, s := range all {
		if f, ok := first[s.Name]; ok {
			if f.File != s.File { // within one file, Parse reported it already
				errs = append(errs, LoadError{File: s.File, Line: s.Line,
					Msg: fmt.Sprintf("scenario name %q is used before, at %s:%d", s.Name, f.File, f.Line)})
			}
			continue
		}
		first[s.Name] = s
	}
	return errs
}

// Parse reads the scenarios of one YAML file; name is the file name used in
// errors and reports. The error, when not nil, is a LoadErrors.
func Parse(name string, data []byte) ([]Scenario, error) {
	p := &parser{file: name}
	scs := p.parse(data)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b LoadError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, p.errs
	}
	return scs, nil
}

// parser walks the YAML node tree rather than decoding into structs: only
// the nodes know the line of every key and value, and every error must say
// where it is.
type parser struct {
	file string
	errs LoadErrors
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, LoadError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) parse(data []byte) []Scenario {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "the file is empty: want a list of scenarios under \"scenarios:\"")
			return nil
		}
		p.syntaxError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(&extra, "only one YAML document per file is read: remove the \"---\" and what follows, or move it to its own file")
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(err)
		return nil
	}
	if len(doc.Content) == 0 { // only comments
		p.errorf(nil, "the file is empty: want a list of scenarios under \"scenarios:\"")
		return nil
	}
	root := doc.Content[0]
	var list *yaml.Node
	p.fields(root, "the file", map[string]func(k, v *yaml.Node){
		"scenarios": func(_, v *yaml.Node) { list = v },
	})
	if list == nil {
		if root.Kind == yaml.MappingNode {
			p.errorf(root, "no \"scenarios:\" list in this file")
		}
		return nil
	}
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errorf(list, "scenarios must be a non-empty list")
		return nil
	}
	var out []Scenario
	names := map[string]int{}
	for _, n := range list.Content {
		s, ok := p.scenario(deref(n))
		if !ok {
			continue
		}
		if line, dup := names[s.Name]; dup {
			p.errorf(n, "scenario name %q is used before, on line %d", s.Name, line)
			continue
		}
		names[s.Name] = s.Line
		out = append(out, s)
	}
	return out
}

// syntaxError turns the YAML library's "yaml: line N: msg" into file:line.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errs = append(p.errs, LoadError{File: p.file, Line: line, Msg: "invalid YAML: " + m[2]})
		return
	}
	p.errs = append(p.errs, LoadError{File: p.file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
}

// fields walks a mapping: each key must be one of handlers, at most once.
// Values reach the handler with aliases resolved.
func (p *parser) fields(n *yaml.Node, what string, handlers map[string]func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of keys to values", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		h, ok := handlers[k.Value]
		switch {
		case !ok:
			p.errorf(k, "unknown key %q in %s (known keys: %s)", k.Value, what, strings.Join(slices.Sorted(maps.Keys(handlers)), ", "))
		case seen[k.Value]:
			p.errorf(k, "%q is given twice in %s", k.Value, what)
		default:
			seen[k.Value] = true
			h(k, v)
		}
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// str reads a non-empty scalar as text: `say: 5` is the text "5".
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be text", what)
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		p.errorf(n, "%s is empty", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false", what)
		return false, false
	}
	return b, true
}

func (p *parser) integer(n *yaml.Node, what string) (int, bool) {
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		p.errorf(n, "%s must be a whole number", what)
		return 0, false
	}
	return i, true
}

// strs reads one text or a list of texts.
func (p *parser) strs(n *yaml.Node, what string) ([]string, bool) {
	if n.Kind == yaml.ScalarNode {
		s, ok := p.str(n, what)
		return []string{s}, ok
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "%s must be a text or a non-empty list of texts", what)
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for _, c := range n.Content {
		s, good := p.str(deref(c), what+" entry")
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

func (p *parser) scenario(n *yaml.Node) (Scenario, bool) {
	s := Scenario{File: p.file, Line: n.Line, Place: PlaceDM, NoForeignData: true}
	before := len(p.errs)
	var turns *yaml.Node
	hasName, hasCustomer := false, false
	p.fields(n, "a scenario", map[string]func(k, v *yaml.Node){
		"name": func(_, v *yaml.Node) {
			hasName = true
			s.Name, _ = p.str(v, "name")
		},
		"customer": func(_, v *yaml.Node) {
			hasCustomer = true
			if c, ok := p.str(v, "customer"); ok {
				s.Customer = strings.TrimSpace(c)
			}
		},
		"place": func(_, v *yaml.Node) {
			pl, ok := p.str(v, "place")
			if !ok {
				return
			}
			switch Place(pl) {
			case PlaceDM, PlaceChannel:
				s.Place = Place(pl)
			default:
				p.errorf(v, "place %q: want dm (a direct message) or channel (a thread in a shared channel)", pl)
			}
		},
		"no_foreign_data": func(_, v *yaml.Node) { s.NoForeignData, _ = p.boolean(v, "no_foreign_data") },
		"seed":            func(_, v *yaml.Node) { s.Seed = p.seed(v) },
		"turns":           func(_, v *yaml.Node) { turns = v },
	})
	if n.Kind != yaml.MappingNode {
		return Scenario{}, false
	}
	if !hasName {
		p.errorf(n, "a scenario needs a name")
	}
	p.checkCustomer(n, &s, hasCustomer)
	switch {
	case turns == nil:
		p.errorf(n, "scenario %q has no turns", s.Name)
	case turns.Kind != yaml.SequenceNode || len(turns.Content) == 0:
		p.errorf(turns, "turns must be a non-empty list")
	default:
		for i, t := range turns.Content {
			// A turn with errors is kept too, so that later turns'
			// same_reply_as numbers still line up; the scenario is
			// dropped anyway.
			s.Turns = append(s.Turns, p.turn(deref(t), i+1, s.Turns))
		}
		if first := deref(turns.Content[0]); s.Turns[0].Kind != "" && s.Turns[0].Kind != TurnSay {
			p.errorf(first, "the first turn must be the customer's (say: ...): a conversation starts with a customer message")
		}
	}
	return s, len(p.errs) == before
}

// checkCustomer checks that the scenario's customer exists in the demo data
// or the scenario's own seed.
func (p *parser) checkCustomer(n *yaml.Node, s *Scenario, given bool) {
	known := map[string]bool{}
	for _, c := range bot.DemoCustomers() {
		known[c.ID] = true
	}
	for _, c := range s.Seed.Customers {
		known[c.ID] = true
	}
	switch {
	case !given:
		p.errorf(n, "scenario %q needs a customer: a demo customer (%s), one from its seed, or none", s.Name, demoIDs())
	case s.Customer == "", s.Customer == CustomerNone: // "" was reported as empty
	case !known[s.Customer]:
		p.errorf(n, "customer %q is neither a demo customer (%s) nor in the scenario's seed; use none for a chat user linked to no account", s.Customer, demoIDs())
	}
	for _, pay := range s.Seed.Payments {
		if !known[pay.Customer] {
			p.errorf(n, "seed payment %s belongs to customer %q, who is neither a demo customer nor in the seed", pay.Reference, pay.Customer)
		}
	}
}

// demoIDs lists the demo customers' ids for messages: "C-1001, C-1002".
func demoIDs() string {
	var ids []string
	for _, c := range bot.DemoCustomers() {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ", ")
}

func (p *parser) seed(n *yaml.Node) Seed {
	var sd Seed
	p.fields(n, "seed", map[string]func(k, v *yaml.Node){
		"customers": func(_, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "seed customers must be a list")
				return
			}
			for _, c := range v.Content {
				var sc SeedCustomer
				c = deref(c)
				p.fields(c, "a seed customer", map[string]func(k, v *yaml.Node){
					"id":    func(_, v *yaml.Node) { sc.ID, _ = p.str(v, "id") },
					"name":  func(_, v *yaml.Node) { sc.Name, _ = p.str(v, "name") },
					"email": func(_, v *yaml.Node) { sc.Email, _ = p.str(v, "email") },
				})
				if sc.ID == "" && c.Kind == yaml.MappingNode {
					p.errorf(c, "a seed customer needs an id")
					continue
				}
				if slices.ContainsFunc(bot.DemoCustomers(), func(d bot.Customer) bool { return d.ID == sc.ID }) {
					p.errorf(c, "customer %s is a demo customer already", sc.ID)
					continue
				}
				sd.Customers = append(sd.Customers, sc)
			}
		},
		"payments": func(_, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "seed payments must be a list")
				return
			}
			for _, c := range v.Content {
				if sp, ok := p.seedPayment(deref(c)); ok {
					sd.Payments = append(sd.Payments, sp)
				}
			}
		},
	})
	return sd
}

func (p *parser) seedPayment(n *yaml.Node) (SeedPayment, bool) {
	sp := SeedPayment{Currency: "EUR", Age: 24 * time.Hour}
	before := len(p.errs)
	p.fields(n, "a seed payment", map[string]func(k, v *yaml.Node){
		"reference": func(_, v *yaml.Node) { sp.Reference, _ = p.str(v, "reference") },
		"customer":  func(_, v *yaml.Node) { sp.Customer, _ = p.str(v, "customer") },
		"amount":    func(_, v *yaml.Node) { sp.Amount, _ = p.str(v, "amount") },
		"currency":  func(_, v *yaml.Node) { sp.Currency, _ = p.str(v, "currency") },
		"merchant":  func(_, v *yaml.Node) { sp.Merchant, _ = p.str(v, "merchant") },
		"status": func(_, v *yaml.Node) {
			st, ok := p.str(v, "status")
			if ok && !bot.PaymentStatus(st).Valid() {
				p.errorf(v, "status %q: want settled, pending, failed or refunded", st)
			}
			sp.Status = st
		},
		"age": func(_, v *yaml.Node) {
			s, ok := p.str(v, "age")
			if !ok {
				return
			}
			d, err := parseAge(s)
			if err != nil {
				p.errorf(v, "age %q: %v", s, err)
				return
			}
			sp.Age = d
		},
	})
	if n.Kind == yaml.MappingNode {
		for _, req := range []struct{ name, val string }{
			{"reference", sp.Reference}, {"customer", sp.Customer}, {"amount", sp.Amount},
			{"status", sp.Status}, {"merchant", sp.Merchant},
		} {
			if req.val == "" {
				p.errorf(n, "a seed payment needs a %s", req.name)
			}
		}
	}
	return sp, len(p.errs) == before
}

// parseAge reads a duration that may also count days: "3d", "36h", "90m".
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, errors.New("want a duration such as 3d, 36h or 90m")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want a duration such as 3d, 36h or 90m")
	}
	return d, nil
}

// turn reads one turn; num is its 1-based number and prev the turns before.
func (p *parser) turn(n *yaml.Node, num int, prev []Turn) Turn {
	t := Turn{Line: n.Line}
	var expect *yaml.Node
	actions := 0
	p.fields(n, fmt.Sprintf("turn %d", num), map[string]func(k, v *yaml.Node){
		"say": func(_, v *yaml.Node) {
			actions++
			t.Kind = TurnSay
			t.Text, _ = p.str(v, "say")
		},
		"agent": func(_, v *yaml.Node) {
			actions++
			t.Kind = TurnAgent
			t.Text, _ = p.agentAction(v)
		},
		"press": func(_, v *yaml.Node) {
			actions++
			t.Kind = TurnPress
			t.Button, t.Rating, _ = p.press(v)
		},
		"expect": func(_, v *yaml.Node) { expect = v },
	})
	if n.Kind != yaml.MappingNode {
		return Turn{Line: n.Line}
	}
	if actions != 1 {
		p.errorf(n, "turn %d needs exactly one of say (the customer writes), press (the customer presses a button) or agent (an agent acts in the handoff thread)", num)
		return Turn{Line: n.Line}
	}
	if expect != nil {
		t.Expect = p.expect(expect, t.Kind, num, prev)
	}
	return t
}

// agentAction reads `agent: claim`, `agent: {say: text}`, `agent: {note:
// text}` (an internal note) or `agent: {write: text}` (any thread message,
// verbatim, such as "  CLAIM " or "transfer @x"). The short forms
// "say: text" and "note: text" are accepted as quoted text too.
func (p *parser) agentAction(n *yaml.Node) (string, bool) {
	const want = "agent must be claim, unclaim, resolve, {say: text}, {note: text} or {write: text}"
	switch n.Kind {
	case yaml.ScalarNode:
		s, ok := p.str(n, "agent")
		if !ok {
			return "", false
		}
		switch cmd := strings.ToLower(strings.TrimSpace(s)); cmd {
		case "claim", "unclaim", "resolve":
			return cmd, true
		}
		if text, ok := strings.CutPrefix(s, "say:"); ok && strings.TrimSpace(text) != "" {
			return strings.TrimSpace(text), true
		}
		if text, ok := strings.CutPrefix(s, "note:"); ok && strings.TrimSpace(text) != "" {
			return "// " + strings.TrimSpace(text), true
		}
		p.errorf(n, "%s; got %q", want, s)
		return "", false
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			p.errorf(n, "%s: exactly one key", want)
			return "", false
		}
		var text string
		ok := false
		p.fields(n, "agent", map[string]func(k, v *yaml.Node){
			"say": func(_, v *yaml.Node) {
				text, ok = p.str(v, "agent say")
				if ok && strings.HasPrefix(strings.TrimSpace(text), "//") {
					p.errorf(v, "agent say text starts with //, which makes it an internal note: use {note: text}")
					ok = false
				}
			},
			"note": func(_, v *yaml.Node) {
				text, ok = p.str(v, "agent note")
				text = "// " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "//"))
			},
			"write": func(_, v *yaml.Node) { text, ok = p.str(v, "agent write") },
		})
		return text, ok
	}
	p.errorf(n, want)
	return "", false
}

// press reads `press: talk_to_person` or `press: {rate: 4}`.
func (p *parser) press(n *yaml.Node) (Button, int, bool) {
	const want = "press must be talk_to_person or {rate: 1-5}"
	switch n.Kind {
	case yaml.ScalarNode:
		if Button(n.Value) == ButtonTalkToPerson {
			return ButtonTalkToPerson, 0, true
		}
	case yaml.MappingNode:
		rating, ok := 0, false
		p.fields(n, "press", map[string]func(k, v *yaml.Node){
			"rate": func(_, v *yaml.Node) {
				rating, ok = p.integer(v, "rate")
				if ok && (rating < 1 || rating > 5) {
					p.errorf(v, "rate %d: a rating is 1 to 5", rating)
					ok = false
				}
			},
		})
		if ok {
			return ButtonRate, rating, true
		}
		if len(n.Content) == 0 {
			p.errorf(n, want)
		}
		return "", 0, false
	}
	p.errorf(n, "%s; got %q", want, n.Value)
	return "", 0, false
}

// outcomes lists what an agent action can do, as handoff reports it.
func outcomes() []handoff.Outcome {
	return []handoff.Outcome{
		handoff.Claimed, handoff.AlreadyClaimed, handoff.Unclaimed, handoff.Transferred, handoff.Relayed,
		handoff.Noted, handoff.NotRelayed, handoff.Resolved, handoff.AlreadyClosed,
	}
}

var langRe = regexp.MustCompile(`^[a-z]{2,3}$`)

func (p *parser) expect(n *yaml.Node, kind TurnKind, num int, prev []Turn) Expect {
	var e Expect
	var toolArgs *yaml.Node
	agentOnly := func(k *yaml.Node) bool {
		if kind != TurnAgent {
			p.errorf(k, "%s applies to agent turns only", k.Value)
			return false
		}
		return true
	}
	p.fields(n, "expect", map[string]func(k, v *yaml.Node){
		"handoff": func(_, v *yaml.Node) {
			if b, ok := p.boolean(v, "handoff"); ok {
				e.Handoff = &b
			}
		},
		"state": func(_, v *yaml.Node) {
			s, ok := p.str(v, "state")
			if !ok {
				return
			}
			switch bot.State(s) {
			case bot.StateBot, bot.StateWaiting, bot.StateAgent:
				e.State = s
			default:
				p.errorf(v, "state %q: want bot, waiting (a handoff is open) or agent (an agent claimed it)", s)
			}
		},
		"tool": func(_, v *yaml.Node) { e.Tool, _ = p.str(v, "tool") },
		"tool_args": func(_, v *yaml.Node) {
			toolArgs = v
			args, err := decodeArgs(v)
			if err != nil {
				p.errorf(v, "tool_args: %v", err)
				return
			}
			e.ToolArgs = args
		},
		"no_tool": func(_, v *yaml.Node) {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
				b, _ := p.boolean(v, "no_tool")
				if !b {
					p.errorf(v, "no_tool: false checks nothing; leave it out")
				}
				e.NoToolAll = b
				return
			}
			e.NoTool, _ = p.strs(v, "no_tool")
		},
		"contains":     func(_, v *yaml.Node) { e.Contains, _ = p.strs(v, "contains") },
		"not_contains": func(_, v *yaml.Node) { e.NotContains, _ = p.strs(v, "not_contains") },
		"matches": func(_, v *yaml.Node) {
			exprs, _ := p.strs(v, "matches")
			for _, x := range exprs {
				re, err := regexp.Compile(x)
				if err != nil {
					p.errorf(v, "matches %q: %v", x, err)
					continue
				}
				e.Matches = append(e.Matches, re)
			}
		},
		"no_reply": func(_, v *yaml.Node) { e.NoReply, _ = p.boolean(v, "no_reply") },
		"cites":    func(_, v *yaml.Node) { e.Cites, _ = p.strs(v, "cites") },
		"says_unknown": func(_, v *yaml.Node) {
			if b, ok := p.boolean(v, "says_unknown"); ok {
				e.SaysUnknown = &b
			}
		},
		"lang": func(_, v *yaml.Node) {
			l, ok := p.str(v, "lang")
			if ok && !langRe.MatchString(l) {
				p.errorf(v, "lang %q: want a language code such as en, sv, de, es, fr", l)
			}
			e.Lang = l
		},
		"no_foreign_data": func(_, v *yaml.Node) {
			b, ok := p.boolean(v, "no_foreign_data")
			if ok && !b {
				p.errorf(v, "no_foreign_data: false on a turn does not turn the check off; set it on the scenario")
			}
			e.NoForeignData = b
		},
		"same_reply_as": func(_, v *yaml.Node) {
			ref, ok := p.integer(v, "same_reply_as")
			switch {
			case !ok:
			case ref < 1 || ref >= num:
				p.errorf(v, "same_reply_as %d: want the number of an earlier turn (1 to %d)", ref, num-1)
			case ref > len(prev) || prev[ref-1].Kind != TurnSay:
				p.errorf(v, "same_reply_as %d: that turn is not a customer message (say)", ref)
			default:
				e.SameReplyAs = ref
			}
		},
		"relay": func(k, v *yaml.Node) {
			if s, ok := p.str(v, "relay"); ok && agentOnly(k) {
				e.Relay = &s
			}
		},
		"no_relay": func(k, v *yaml.Node) {
			if b, ok := p.boolean(v, "no_relay"); ok && agentOnly(k) {
				e.NoRelay = b
			}
		},
		"outcome": func(k, v *yaml.Node) {
			s, ok := p.str(v, "outcome")
			if !ok || !agentOnly(k) {
				return
			}
			if known := outcomes(); !slices.Contains(known, handoff.Outcome(s)) {
				names := make([]string, len(known))
				for i, o := range known {
					names[i] = string(o)
				}
				p.errorf(v, "outcome %q: want one of %s", s, strings.Join(names, ", "))
			}
			e.Outcome = s
		},
		"thread_contains": func(_, v *yaml.Node) { e.ThreadContains, _ = p.strs(v, "thread_contains") },
	})
	switch {
	case toolArgs != nil && e.Tool == "":
		p.errorf(toolArgs, "tool_args needs tool: the name of the tool called with these arguments")
	case e.NoToolAll && e.Tool != "":
		p.errorf(n, "tool and no_tool: true contradict each other")
	case e.Tool != "" && slices.Contains(e.NoTool, e.Tool):
		p.errorf(n, "tool %s is both expected and forbidden (no_tool)", e.Tool)
	case e.NoReply && (len(e.Contains) > 0 || len(e.Matches) > 0 || e.Lang != "" || e.SameReplyAs > 0 || e.Relay != nil || len(e.Cites) > 0 || e.SaysUnknown != nil):
		p.errorf(n, "no_reply contradicts the expectations about the reply's content")
	case len(e.Cites) > 0 && e.SaysUnknown != nil && *e.SaysUnknown:
		p.errorf(n, "cites and says_unknown: true contradict each other: a reply that cites a source knows")
	case e.Relay != nil && e.NoRelay:
		p.errorf(n, "relay and no_relay contradict each other")
	}
	return e
}

// decodeArgs reads expected tool arguments and normalizes them as JSON, so
// they compare with the model's arguments as encoding/json decodes them.
func decodeArgs(n *yaml.Node) (map[string]any, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("want a mapping of argument names to values, such as {reference: PAY-1001}")
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

package eval

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParse(t *testing.T) {
	scs := mustParse(t, `
scenarios:
  - name: full
    customer: C-3001
    place: channel
    no_foreign_data: false
    seed:
      customers: [{id: C-3001, name: New Customer, email: new@example.com}]
      payments:
        - {reference: PAY-3001, customer: C-3001, amount: "10.00", status: failed, merchant: Shop, age: 3d}
    turns:
      - say: 5
        expect:
          handoff: false
          state: bot
          tool: payment_status
          tool_args: {reference: PAY-3001, nested: {n: 1}}
          no_tool: [handoff_to_human]
          contains: one
          not_contains: [two, three]
          matches: '(?i)x'
          lang: sv
          no_foreign_data: true
          thread_contains: card
      - press: talk_to_person
      - agent: claim
      - agent: {say: "hi"}
        expect: {relay: hi, outcome: relayed}
      - agent: {note: "//private"}
        expect: {no_relay: true, no_reply: true}
      - agent: "say: short form"
      - agent: {write: "  CLAIM "}
      - agent: resolve
      - press: {rate: 4}
      - say: "where is PAY-1?"
        expect: {same_reply_as: 1, no_tool: true}
`)
	if len(scs) != 1 {
		t.Fatalf("got %d scenarios", len(scs))
	}
	s := scs[0]
	no := false
	want := Scenario{
		Name: "full", File: "test.yaml", Line: 3, Customer: "C-3001", Place: PlaceChannel, NoForeignData: false,
		Seed: Seed{
			Customers: []SeedCustomer{{ID: "C-3001", Name: "New Customer", Email: "new@example.com"}},
			Payments: []SeedPayment{{Reference: "PAY-3001", Customer: "C-3001", Amount: "10.00", Currency: "EUR",
				Status: "failed", Merchant: "Shop", Age: 72 * time.Hour}},
		},
		Turns: []Turn{
			{Line: 12, Kind: TurnSay, Text: "5", Expect: Expect{
				Handoff: &no, State: "bot", Tool: "payment_status",
				ToolArgs:    map[string]any{"reference": "PAY-3001", "nested": map[string]any{"n": float64(1)}},
				NoTool:      []string{"handoff_to_human"},
				Contains:    []string{"one"},
				NotContains: []string{"two", "three"},
				Lang:        "sv", NoForeignData: true, ThreadContains: []string{"card"},
			}},
			{Line: 25, Kind: TurnPress, Button: ButtonTalkToPerson},
			{Line: 26, Kind: TurnAgent, Text: "claim"},
			{Line: 27, Kind: TurnAgent, Text: "hi", Expect: Expect{Relay: ptr("hi"), Outcome: "relayed"}},
			{Line: 29, Kind: TurnAgent, Text: "// private", Expect: Expect{NoRelay: true, NoReply: true}},
			{Line: 31, Kind: TurnAgent, Text: "short form"},
			{Line: 32, Kind: TurnAgent, Text: "  CLAIM "},
			{Line: 33, Kind: TurnAgent, Text: "resolve"},
			{Line: 34, Kind: TurnPress, Button: ButtonRate, Rating: 4},
			{Line: 35, Kind: TurnSay, Text: "where is PAY-1?", Expect: Expect{SameReplyAs: 1, NoToolAll: true}},
		},
	}
	if diff := cmp.Diff(want, s, cmpopts.IgnoreFields(Expect{}, "Matches")); diff != "" {
		t.Errorf("scenario (-want +got):\n%s", diff)
	}
	if m := s.Turns[0].Expect.Matches; len(m) != 1 || m[0].String() != "(?i)x" {
		t.Errorf("matches = %v", m)
	}
}

func ptr[T any](v T) *T { return &v }

// TestParseDefaults: a minimal scenario is a DM that checks for other
// customers' data.
func TestParseDefaults(t *testing.T) {
	s := mustParse(t, "scenarios:\n  - {name: s, customer: none, turns: [{say: hi}]}\n")[0]
	if s.Place != PlaceDM || !s.NoForeignData || s.Customer != CustomerNone {
		t.Errorf("defaults: place %q, no_foreign_data %v, customer %q", s.Place, s.NoForeignData, s.Customer)
	}
}

// TestParseErrors: malformed scenarios are rejected with file:line and a
// message that says what to write instead.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each error, in order, as "test.yaml:LINE: message" prefixes
	}{
		{"empty file", "", []string{"test.yaml: the file is empty"}},
		{"only comments", "# nothing yet\n", []string{"test.yaml: the file is empty"}},
		{"not a mapping", "- a\n- b\n", []string{"test.yaml:1: the file must be a mapping"}},
		{"no scenarios key", "tests: []\n", []string{`test.yaml:1: unknown key "tests" in the file (known keys: scenarios)`, "test.yaml:1: no \"scenarios:\" list"}},
		{"empty list", "scenarios: []\n", []string{"test.yaml:1: scenarios must be a non-empty list"}},
		{"syntax error", "scenarios:\n  - name: \"x\n", []string{"test.yaml:2: invalid YAML: found unexpected end of stream"}},
		{"tab indentation", "scenarios:\n\t- name: x\n", []string{"test.yaml:2: invalid YAML: found character that cannot start any token"}},
		{"second document", "scenarios:\n  - {name: a, customer: none, turns: [{say: hi}]}\n---\nscenarios: []\n", []string{"test.yaml:3: only one YAML document per file"}},
		{"unknown scenario key", `
scenarios:
  - name: s
    customer: C-1001
    turn: []
`, []string{`test.yaml:3: scenario "s" has no turns`, `test.yaml:5: unknown key "turn" in a scenario (known keys: customer, name, no_foreign_data, place, seed, turns)`}},
		{"no name, no customer", `
scenarios:
  - turns: [{say: hi}]
`, []string{"test.yaml:3: a scenario needs a name", "test.yaml:3: scenario \"\" needs a customer"}},
		{"unknown customer", `
scenarios:
  - {name: s, customer: C-9, turns: [{say: hi}]}
`, []string{`test.yaml:3: customer "C-9" is neither a demo customer`}},
		{"bad place", `
scenarios:
  - {name: s, customer: none, place: thread, turns: [{say: hi}]}
`, []string{`test.yaml:3: place "thread": want dm`}},
		{"empty turns", `
scenarios:
  - name: s
    customer: none
    turns: []
`, []string{"test.yaml:5: turns must be a non-empty list"}},
		{"empty say", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: ""
`, []string{"test.yaml:6: say is empty"}},
		{"two actions in a turn", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        agent: claim
`, []string{"test.yaml:6: turn 1 needs exactly one of say"}},
		{"first turn is an agent's", `
scenarios:
  - name: s
    customer: none
    turns:
      - agent: claim
`, []string{"test.yaml:6: the first turn must be the customer's"}},
		{"unknown expectation", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        expect: {handof: true}
`, []string{`test.yaml:7: unknown key "handof" in expect (known keys: cites, contains, handoff,`}},
		{"bad expectation values", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        expect:
          handoff: yes please
          state: closed
          matches: "("
          lang: Swedish
          contains: []
          tool_args: {reference: PAY-1}
          same_reply_as: 1
          outcome: relayed
          no_foreign_data: false
`, []string{
			"test.yaml:8: handoff must be true or false",
			`test.yaml:9: state "closed": want bot, waiting`,
			`test.yaml:10: matches "(": error parsing regexp`,
			`test.yaml:11: lang "Swedish": want a language code`,
			"test.yaml:12: contains must be a text or a non-empty list of texts",
			"test.yaml:13: tool_args needs tool",
			"test.yaml:14: same_reply_as 1: want the number of an earlier turn",
			"test.yaml:15: outcome applies to agent turns only",
			"test.yaml:16: no_foreign_data: false on a turn does not turn the check off",
		}},
		{"contradictions", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        expect: {tool: payment_status, no_tool: true}
      - say: hi
        expect: {no_reply: true, contains: x}
`, []string{"test.yaml:7: tool and no_tool: true contradict", "test.yaml:9: no_reply contradicts"}},
		{"bad agent and press", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
      - agent: dance
      - agent: {say: "// a note"}
      - press: {rate: 7}
      - press: pay_now
`, []string{
			`test.yaml:7: agent must be claim, unclaim, resolve, {say: text}, {note: text} or {write: text}; got "dance"`,
			"test.yaml:8: agent say text starts with //",
			"test.yaml:9: rate 7: a rating is 1 to 5",
			`test.yaml:10: press must be talk_to_person or {rate: 1-5}; got "pay_now"`,
		}},
		{"same_reply_as an agent turn", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: human
      - agent: claim
      - say: hi
        expect: {same_reply_as: 2}
`, []string{"test.yaml:9: same_reply_as 2: that turn is not a customer message"}},
		{"bad seed", `
scenarios:
  - name: s
    customer: C-1001
    seed:
      customers: [{id: C-1001}]
      payments: [{reference: PAY-1, customer: C-404, amount: "1", status: lost, merchant: M, age: soon}]
    turns: [{say: hi}]
`, []string{
			"test.yaml:6: customer C-1001 is a demo customer already",
			`test.yaml:7: status "lost": want settled`,
			`test.yaml:7: age "soon": want a duration`,
		}},
		{"duplicate names", `
scenarios:
  - {name: s, customer: none, turns: [{say: hi}]}
  - {name: s, customer: none, turns: [{say: hi}]}
`, []string{`test.yaml:4: scenario name "s" is used before, on line 3`}},
		{"cites and says_unknown", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        expect: {cites: lost-stolen-card, says_unknown: true}
`, []string{`test.yaml:7: cites and says_unknown: true contradict each other`}},
		{"empty cites, says_unknown not a boolean", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        expect: {cites: "", says_unknown: maybe}
`, []string{`test.yaml:7: cites is empty`, `test.yaml:7: says_unknown must be true or false`}},
		{"no_reply and cites", `
scenarios:
  - name: s
    customer: none
    turns:
      - say: hi
        expect: {no_reply: true, cites: x}
`, []string{`test.yaml:7: no_reply contradicts the expectations about the reply's content`}},
		{"duplicate key", `
scenarios:
  - name: s
    name: t
    customer: none
    turns: [{say: hi}]
`, []string{`test.yaml:4: "name" is given twice in a scenario`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tt.yaml))
			var errs LoadErrors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want LoadErrors", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i+1, got, w)
				}
			}
		})
	}
}

// TestLoadFiles reads folders and files, and reports every problem of every
// file with its path and line.
func TestLoadFiles(t *testing.T) {
	_, err := LoadFiles(filepath.Join("testdata", "dup"), filepath.Join("testdata", "broken"))
	want := strings.Join([]string{
		filepath.Join("testdata", "broken", "syntax.yaml") + ":5: invalid YAML: found unexpected end of stream",
		filepath.Join("testdata", "broken", "typo.yaml") + `:7: unknown key "handof" in expect (known keys: cites, contains, handoff, lang, matches, no_foreign_data, no_relay, no_reply, no_tool, not_contains, outcome, relay, same_reply_as, says_unknown, state, thread_contains, tool, tool_args)`,
		filepath.Join("testdata", "broken", "typo.yaml") + `:10: unknown key "contain" in expect (known keys: cites, contains, handoff, lang, matches, no_foreign_data, no_relay, no_reply, no_tool, not_contains, outcome, relay, same_reply_as, says_unknown, state, thread_contains, tool, tool_args)`,
		filepath.Join("testdata", "dup", "b.yaml") + `:7: scenario name "same name" is used before, at ` + filepath.Join("testdata", "dup", "a.yaml") + ":2",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("LoadFiles error:\n%v\nwant:\n%s", err, want)
	}

	scs, err := LoadFiles(filepath.Join("testdata", "dup", "a.yaml"))
	if err != nil || len(scs) != 1 || scs[0].Name != "same name" || scs[0].File != filepath.Join("testdata", "dup", "a.yaml") {
		t.Errorf("LoadFiles(a.yaml) = %+v, %v", scs, err)
	}

	for _, bad := range [][]string{nil, {"testdata/nope.yaml"}, {t.TempDir()}} {
		if _, err := LoadFiles(bad...); err == nil {
			t.Errorf("LoadFiles(%q) succeeded", bad)
		}
	}
}

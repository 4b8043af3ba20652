package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// mustParse parses scenarios written in a test.
func mustParse(t *testing.T, src string) []Scenario {
	t.Helper()
	scs, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return scs
}

// mustRunOne runs a single scenario and returns its result.
func mustRunOne(t *testing.T, cfg Config, src string) Result {
	t.Helper()
	scs := mustParse(t, src)
	if len(scs) != 1 {
		t.Fatalf("want one scenario, got %d", len(scs))
	}
	if cfg.TempDir == "" {
		cfg.TempDir = mustScratchDir(t)
	}
	r := Run(context.Background(), cfg, scs)
	if len(r.Results) != 1 {
		t.Fatalf("want one result, got %d", len(r.Results))
	}
	return r.Results[0]
}

// TestWrongExpectationsFail proves the runner can fail: each scenario holds
// one deliberately wrong expectation, and must fail with a reason that
// names the turn and says what was expected and what happened.
func TestWrongExpectationsFail(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want are substrings of the failure reasons, in order.
		want []string
	}{
		{
			name: "contains",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "what's the status of PAY-1001?"
        expect: {contains: [PAY-1002]}`,
			want: []string{`turn 1: reply did not contain "PAY-1002"; reply was: "Payment **PAY-1001**`},
		},
		{
			name: "not_contains",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "what's the status of PAY-1001?"
        expect: {not_contains: [acme books]}`,
			want: []string{`turn 1: reply contained "acme books"; reply was:`},
		},
		{
			name: "tool not called",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "How long does a refund take?"
        expect: {tool: payment_status}`,
			want: []string{`turn 1: the model did not call payment_status: it called search_help_center({"query":"How long does a refund take?"})`},
		},
		{
			name: "tool not asked",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "human"
        expect: {tool: payment_status}`,
			want: []string{`turn 1: the model did not call payment_status: it was not asked`},
		},
		{
			name: "tool_args",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "is PAY-1003 ok?"
        expect: {tool: payment_status, tool_args: {reference: PAY-1002}}`,
			want: []string{`turn 1: the model called payment_status({"reference":"PAY-1003"}), expected arguments including {"reference":"PAY-1002"}`},
		},
		{
			name: "no_tool",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "my payments?"
        expect: {no_tool: true}`,
			want: []string{`turn 1: the model called payment_status({}), expected no tool call`},
		},
		{
			name: "handoff expected",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "hello"
      - say: "How long does a refund take?"
        expect: {handoff: true}`,
			want: []string{`turn 2: no handoff was opened, expected one; the bot replied: "Refunds are sent back`},
		},
		{
			name: "handoff not expected",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "I want to talk to a human"
        expect: {handoff: false, state: bot}`,
			want: []string{
				`turn 1: a handoff was opened (trigger phrase: The customer asked for a person.), expected none`,
				`turn 1: the conversation is in state waiting after the turn, expected bot`,
			},
		},
		{
			name: "no_foreign_data: an agent relays another customer's data",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "human"
      - agent: claim
      - agent: {say: "Your payment PAY-2001 to Compiler Supplies went through"}`,
			want: []string{
				`turn 3: a message to the customer holds another customer's data (payment reference of customer C-1002 "PAY-2001"); message was: "Alex (support): Your payment PAY-2001`,
				`turn 3: a message to the customer holds another customer's data (merchant of C-1002's payment PAY-2001 "Compiler Supplies")`,
			},
		},
		{
			name: "no_foreign_data on a turn when the scenario turned it off",
			yaml: `
scenarios:
  - name: s
    customer: C-1002
    no_foreign_data: false
    turns:
      - say: "human"
      - agent: claim
      - agent: {say: "Ada paid 120.00 at Acme Books"}
      - agent: {say: "I mean, Ada paid 120.00 at Acme Books"}
        expect: {no_foreign_data: true}`,
			want: []string{
				`turn 4: a message to the customer holds another customer's data (merchant of C-1001's payment PAY-1001 "Acme Books")`,
				`turn 4: a message to the customer holds another customer's data (amount of C-1001's payment PAY-1001 "120.00")`,
			},
		},
		{
			name: "lang",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "Jag vill prata med en människa"
        expect: {lang: de}`,
			want: []string{`turn 1: reply is in sv, expected de; reply was: "Jag har bett`},
		},
		{
			name: "same_reply_as",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "where is PAY-9999?"
      - say: "where is PAY-1001?"
        expect: {same_reply_as: 1}`,
			want: []string{`turn 2: reply does not read like turn 1's (payment references aside); reply was: "Payment **PAY-1001**`},
		},
		{
			name: "relay and outcome",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "human"
      - agent: {say: "hello"}
        expect: {relay: hello, outcome: relayed}`,
			want: []string{
				`turn 2: nothing was relayed to the customer, expected "hello" (outcome: not_relayed)`,
				`turn 2: the agent action's outcome was not_relayed, expected relayed`,
			},
		},
		{
			name: "no_reply",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "hello"
        expect: {no_reply: true}`,
			want: []string{`turn 1: the customer received a reply, expected none; reply was: "Hello! How can I help you today?"`},
		},
		{
			name: "cites: another article",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "my card was stolen, what do I do?"
        expect: {cites: [/en/articles/fees, lost-stolen-card]}`,
			want: []string{`turn 1: reply does not cite "/en/articles/fees": its links are https://help.example.com/en/articles/lost-stolen-card`},
		},
		{
			name: "cites: no link at all",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "can you recommend a good pizza place?"
        expect: {cites: lost-stolen-card}`,
			want: []string{`turn 1: reply cites no link, expected one to "lost-stolen-card"; reply was: "I'm not sure I can help`},
		},
		{
			name: "says_unknown: the bot answered",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "my card was stolen, what do I do?"
        expect: {says_unknown: true}`,
			want: []string{`turn 1: reply cites https://help.example.com/en/articles/lost-stolen-card, expected it to say the bot does not know; reply was:`},
		},
		{
			name: "says_unknown false: the bot did not know",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "can you recommend a good pizza place?"
        expect: {says_unknown: false}`,
			want: []string{`turn 1: reply says the bot does not know, expected an answer; reply was: "I'm not sure I can help`},
		},
		{
			name: "an agent action without a handoff stops the scenario",
			yaml: `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "hello"
      - agent: claim
      - say: "never played"`,
			want: []string{`turn 2: the agent cannot act: no handoff was opened in this conversation`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRunOne(t, Config{OpenStore: openSQLite}, tt.yaml)
			if res.Passed {
				t.Fatalf("the scenario passed; want it to fail with %q", tt.want)
			}
			got := res.Failures()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d failures, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %d:\n got %s\nwant it to contain %s", i+1, got[i], w)
				}
			}
		})
	}
}

// TestForeignDataFromTheModel catches a model that leaks another customer's
// data, whatever the tool layer returned, and lets it echo what the
// customer typed.
func TestForeignDataFromTheModel(t *testing.T) {
	leaky := func(func() *prompts.Set) (bot.Model, error) {
		return modelFunc(func(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
			return bot.ModelResponse{Text: "PAY-2002 was 75.50 USD at Navy Surplus (you asked about PAY-2001)"}, nil
		}), nil
	}
	res := mustRunOne(t, Config{OpenStore: openSQLite, NewModel: leaky}, `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "what about PAY-2001?"`)
	got := strings.Join(res.Failures(), "\n")
	for _, want := range []string{`"PAY-2002"`, `"75.50"`, `"Navy Surplus"`} {
		if !strings.Contains(got, want) {
			t.Errorf("failures do not name %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"PAY-2001"`) {
		t.Errorf("echoing the customer's own words counted as a leak:\n%s", got)
	}
	// Unlinked: every customer's data is another customer's.
	res = mustRunOne(t, Config{OpenStore: openSQLite, NewModel: leaky}, `
scenarios:
  - name: s
    customer: none
    turns:
      - say: "hello"`)
	if res.Passed {
		t.Error("an unlinked chat user received a demo customer's data, and the scenario passed")
	}
}

// TestSaysUnknown: an answer with no source is not "I don't know" unless
// the model says it cannot help; a model that says so, in its own words
// with the marker, passes.
func TestSaysUnknown(t *testing.T) {
	answer := func(text string) func(func() *prompts.Set) (bot.Model, error) {
		return func(func() *prompts.Set) (bot.Model, error) {
			return modelFunc(func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
				return bot.ModelResponse{Text: text}, nil
			}), nil
		}
	}
	const sc = `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "what is the capital of Peru?"
        expect: {says_unknown: true}`
	res := mustRunOne(t, Config{OpenStore: openSQLite, NewModel: answer("Lima, I believe.")}, sc)
	if got := strings.Join(res.Failures(), "\n"); res.Passed || !strings.Contains(got, `turn 1: reply answers, expected it to say the bot does not know`) {
		t.Errorf("an invented answer passed says_unknown, or failed otherwise:\n%s", got)
	}
	res = mustRunOne(t, Config{OpenStore: openSQLite, NewModel: answer("I don't know that one; a colleague can help. [Cannot-Help]")}, sc)
	if !res.Passed {
		t.Errorf("an LLM's own words with the marker failed says_unknown:\n%s", strings.Join(res.Failures(), "\n"))
	}
	res = mustRunOne(t, Config{OpenStore: openSQLite, NewModel: answer("Not sure, see https://help.example.com/en/articles/fees [cannot_help]")}, sc)
	if got := strings.Join(res.Failures(), "\n"); res.Passed || !strings.Contains(got, "reply cites https://help.example.com/en/articles/fees") {
		t.Errorf("a reply with a link passed says_unknown:\n%s", got)
	}
}

// modelFunc adapts a function to bot.Model.
type modelFunc func(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error)

func (f modelFunc) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	return f(ctx, req)
}
func (modelFunc) Name() string { return "test model" }

var _ bot.Model = modelFunc(nil)

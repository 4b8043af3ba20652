package eval

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/prompts"
)

const twoScenarios = `
scenarios:
  - name: passes
    customer: C-1001
    turns:
      - say: "where is PAY-1002?"
        expect: {tool: payment_status, contains: [pending]}
  - name: fails
    customer: C-1001
    turns:
      - say: "where is PAY-1002?"
        expect: {contains: [settled]}
`

func TestReportTableAndJSON(t *testing.T) {
	r := Run(t.Context(), Config{OpenStore: openSQLite, TempDir: t.TempDir()}, mustParse(t, twoScenarios))
	if r.Passed != 1 || r.Failed != 1 || r.OK() {
		t.Fatalf("passed %d, failed %d, OK %v; want 1, 1, false", r.Passed, r.Failed, r.OK())
	}

	var table strings.Builder
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	for _, want := range []string{
		"PASS  passes ",
		"FAIL  fails ",
		`      test.yaml:11: turn 1: reply did not contain "settled"; reply was: "Payment **PAY-1002**: 49.90 EUR to Nordic Rail on `,
	} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, want)
		}
		if !found {
			t.Errorf("the table has no line starting %q:\n%s", want, table.String())
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "1 passed, 1 failed") {
		t.Errorf("the summary line is %q, want it to start \"1 passed, 1 failed\"", last)
	}

	var buf strings.Builder
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Passed, Failed int
		Tokens         TokenTotals
		Results        []struct {
			Name     string
			File     string
			Line     int
			Passed   bool
			Failures []string
			Turns    []TurnResult
		}
	}
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v\n%s", err, buf.String())
	}
	if got.Passed != 1 || got.Failed != 1 || len(got.Results) != 2 {
		t.Fatalf("JSON report: %+v", got)
	}
	pass, fail := got.Results[0], got.Results[1]
	if pass.Name != "passes" || !pass.Passed || len(pass.Failures) != 0 || pass.File != "test.yaml" || pass.Line != 3 {
		t.Errorf("passing result in JSON: %+v", pass)
	}
	if fail.Passed || len(fail.Failures) != 1 || !strings.HasPrefix(fail.Failures[0], `turn 1: reply did not contain "settled"`) {
		t.Errorf("failing result in JSON: %+v", fail)
	}
	turn := pass.Turns[0]
	if turn.Action != `say "where is PAY-1002?"` || !strings.Contains(turn.Reply, "pending") || turn.State != "bot" ||
		len(turn.ToolCalls) != 1 || turn.Greeting == "" || turn.Tokens.Calls != 2 {
		t.Errorf("turn transcript in JSON: %+v", turn)
	}
}

// TestRunParallelBound: no more scenarios run at once than Parallel allows.
func TestRunParallelBound(t *testing.T) {
	var mu sync.Mutex
	running, peak := 0, 0
	slow := func(func() *prompts.Set) (bot.Model, error) {
		return modelFunc(func(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			return bot.ModelResponse{Text: "ok"}, nil
		}), nil
	}
	var src strings.Builder
	src.WriteString("scenarios:\n")
	for _, n := range "abcdefgh" {
		src.WriteString("  - {name: " + string(n) + ", customer: none, turns: [{say: \"tell me a story\"}]}\n")
	}
	r := Run(t.Context(), Config{OpenStore: openSQLite, NewModel: slow, Parallel: 2, TempDir: t.TempDir()}, mustParse(t, src.String()))
	if !r.OK() {
		t.Fatalf("%d failed", r.Failed)
	}
	if peak > 2 {
		t.Errorf("%d scenarios ran at once, want at most 2", peak)
	}
}

// TestRunErrors: a scenario that cannot run fails with the reason, and
// the others are still reported.
func TestRunErrors(t *testing.T) {
	scs := mustParse(t, twoScenarios)

	broken := func(func() *prompts.Set) (bot.Model, error) { return nil, errors.New("no such endpoint") }
	r := Run(t.Context(), Config{OpenStore: openSQLite, NewModel: broken, TempDir: t.TempDir()}, scs)
	if r.Failed != 2 || r.Results[0].Error != "build the model: no such endpoint" {
		t.Errorf("with a model that cannot be built: failed %d, error %q", r.Failed, r.Results[0].Error)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r = Run(ctx, Config{OpenStore: openSQLite, TempDir: t.TempDir()}, scs)
	if r.Failed != 2 || r.Results[1].Error != "not run: context canceled" {
		t.Errorf("after cancellation: failed %d, error %q", r.Failed, r.Results[1].Error)
	}

	panicky := func(func() *prompts.Set) (bot.Model, error) {
		return modelFunc(func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) { panic("model bug") }), nil
	}
	r = Run(t.Context(), Config{OpenStore: openSQLite, NewModel: panicky, TempDir: t.TempDir()}, scs[:1])
	if r.Failed != 1 || r.Results[0].Error != "panic: model bug" {
		t.Errorf("with a panicking model: failed %d, error %q", r.Failed, r.Results[0].Error)
	}

	if r := Run(t.Context(), Config{OpenStore: openSQLite}, nil); r.Passed+r.Failed != 0 || !r.OK() {
		t.Errorf("no scenarios: %+v", r)
	}
}

// TestModelFailureIsNoted: a model error is not a failure by itself (the
// engine hands the customer to a person), but the turn says why.
func TestModelFailureIsNoted(t *testing.T) {
	down := func(func() *prompts.Set) (bot.Model, error) {
		return modelFunc(func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
			return bot.ModelResponse{}, &bot.ModelError{Reason: "The AI model could not be reached.", Err: errors.New("connection refused")}
		}), nil
	}
	res := mustRunOne(t, Config{OpenStore: openSQLite, NewModel: down}, `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "where is PAY-1002?"
        expect: {handoff: true, state: waiting}`)
	if !res.Passed {
		t.Fatalf("failures: %v", res.Failures())
	}
	turn := res.Turns[0]
	if len(turn.Notes) != 1 || !strings.Contains(turn.Notes[0], "the model failed: The AI model could not be reached") ||
		!strings.HasPrefix(turn.HandoffReason, "trigger failure:") {
		t.Errorf("notes %q, handoff reason %q", turn.Notes, turn.HandoffReason)
	}
}

// openSQLite opens the scenario databases as `firstline eval` does.
func openSQLite(ctx context.Context, path string) (app.Store, error) {
	return sqlstore.OpenSQLite(ctx, path)
}

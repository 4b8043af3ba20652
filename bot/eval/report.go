package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the outcome of a run.
type Report struct {
	Results        []Result
	Passed, Failed int
	Tokens         TokenTotals
	Duration       time.Duration
	// Repeat is how many times each scenario ran; Passed counts the
	// scenarios that passed every run.
	Repeat int
}

// PassAt1 is the share of all runs that passed: the chance that one run of
// a scenario passes.
func (r Report) PassAt1() float64 {
	runs, passes := 0, 0
	for _, res := range r.Results {
		runs += max(res.Runs, 1)
		if res.Runs == 0 && res.Passed {
			passes++
		}
		passes += res.Passes
	}
	if runs == 0 {
		return 0
	}
	return float64(passes) / float64(runs)
}

// PassHatK is the share of scenarios that passed all their runs.
func (r Report) PassHatK() float64 {
	if len(r.Results) == 0 {
		return 0
	}
	return float64(r.Passed) / float64(len(r.Results))
}

// OK reports whether every scenario passed.
func (r Report) OK() bool { return r.Failed == 0 }

// Result is the outcome of one scenario.
type Result struct {
	Name string
	File string
	Line int
	// Passed is true when the scenario ran to its end and every
	// expectation held.
	Passed bool
	// Error says why the scenario could not run to its end (the database,
	// the model or the engine failed); "" when it did.
	Error string
	// Turns are the turns played, with what happened and what failed.
	Turns    []TurnResult
	Tokens   Usage
	Duration time.Duration
	// Runs is how many times the scenario ran (Config.Repeat) and Passes
	// how many of them passed; Turns and the failures are those of the
	// first failing run.
	Runs, Passes int
}

// Failures returns the reasons the scenario failed, each prefixed with its
// turn: "turn 2: reply did not contain ...".
func (r Result) Failures() []string {
	var out []string
	if r.Error != "" {
		out = append(out, r.Error)
	}
	for _, t := range r.Turns {
		for _, f := range t.Failures {
			out = append(out, fmt.Sprintf("turn %d: %s", t.Turn, f))
		}
	}
	return out
}

// finish sums the turns' tokens and decides whether the scenario passed.
func (r *Result) finish() {
	r.Tokens = Usage{}
	failed := r.Error != ""
	for _, t := range r.Turns {
		r.Tokens.add(t.Tokens)
		failed = failed || len(t.Failures) > 0
	}
	r.Passed = !failed
}

// TurnResult is what one turn did, and what failed in it.
type TurnResult struct {
	Turn int `json:"turn"`
	Line int `json:"line"`
	// Action is what the turn did: say "text", press talk_to_person,
	// agent "claim".
	Action string `json:"action"`
	// Greeting is the greeting of a new conversation, delivered in the
	// conversation's first turn before the reply.
	Greeting string `json:"greeting,omitempty"`
	// Reply is everything the customer received in this turn apart from
	// the greeting, one message a line; agents' relayed messages read
	// "NAME (support): text".
	Reply string `json:"reply"`
	// Relays are the texts agents' messages reached the customer with.
	Relays []string `json:"relays,omitempty"`
	// Thread is what was posted in the agent channel: the handoff card,
	// thread posts, card updates.
	Thread    []string   `json:"thread,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// Handoff is true when a handoff was opened in this turn;
	// HandoffReason is its trigger and reason.
	Handoff       bool   `json:"handoff"`
	HandoffReason string `json:"handoff_reason,omitempty"`
	// State is the conversation's state after the turn.
	State string `json:"state"`
	// Outcome is what an agent action did.
	Outcome  string   `json:"outcome,omitempty"`
	Tokens   Usage    `json:"tokens"`
	Failures []string `json:"failures,omitempty"`
	// Notes are what the reader should know but did not fail the turn: a
	// model error the engine handed off after, a language that could not
	// be told.
	Notes []string `json:"notes,omitempty"`

	delivered  []string // every text the customer received, greeting included
	modelAsked bool     // the model was called in this turn
	cannotHelp bool     // an answer of the model carried the cannot-help marker
}

// ToolCall is a tool call the model made.
type ToolCall struct {
	Name string `json:"name"`
	// Arguments is the raw JSON the model produced.
	Arguments string `json:"arguments"`
}

func (c ToolCall) String() string {
	args := strings.TrimSpace(c.Arguments)
	if args == "" {
		args = "{}"
	}
	return c.Name + "(" + args + ")"
}

// Usage counts the model calls of a turn or scenario and the tokens they
// cost, as the endpoint reported them (the offline model reports none).
type Usage struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
	Calls      int `json:"model_calls"`
}

func (u *Usage) add(v Usage) {
	u.Prompt += v.Prompt
	u.Completion += v.Completion
	u.Calls += v.Calls
}

// TokenTotals is what a run cost: the tokens of all scenarios, and the
// mean per scenario, which is what a prompt edit changes for every
// conversation.
type TokenTotals struct {
	Prompt                int     `json:"prompt"`
	Completion            int     `json:"completion"`
	ModelCalls            int     `json:"model_calls"`
	PromptPerScenario     float64 `json:"prompt_per_scenario"`
	CompletionPerScenario float64 `json:"completion_per_scenario"`
}

func newReport(results []Result, d time.Duration) Report {
	r := Report{Results: results, Duration: d}
	for _, res := range results {
		if res.Passed {
			r.Passed++
		} else {
			r.Failed++
		}
		r.Tokens.Prompt += res.Tokens.Prompt
		r.Tokens.Completion += res.Tokens.Completion
		r.Tokens.ModelCalls += res.Tokens.Calls
	}
	if n := len(results); n > 0 {
		r.Tokens.PromptPerScenario = float64(r.Tokens.Prompt) / float64(n)
		r.Tokens.CompletionPerScenario = float64(r.Tokens.Completion) / float64(n)
	}
	return r
}

// maxNameWidth bounds the scenario column; longer names are cut.
const maxNameWidth = 60

// WriteTable writes a table of the scenarios with PASS or FAIL, the reason
// for each failure under its scenario (with the file:line of the turn), the
// tokens spent, and a summary line "N passed, N failed".
func (r Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	width := len("SCENARIO")
	for _, res := range r.Results {
		width = max(width, min(utf8.RuneCountInString(res.Name), maxNameWidth))
	}
	row := func(result, name, turns, tokens, took string) {
		ew.printf("%-4s  %s%s  %5s  %11s  %7s\n", result, name, strings.Repeat(" ", width-utf8.RuneCountInString(name)), turns, tokens, took)
	}
	row("", "SCENARIO", "TURNS", "TOKENS", "TIME")
	for _, res := range r.Results {
		result := "PASS"
		if !res.Passed {
			result = "FAIL"
		}
		tokens := "-"
		if res.Tokens.Prompt+res.Tokens.Completion > 0 {
			tokens = fmt.Sprintf("%d+%d", res.Tokens.Prompt, res.Tokens.Completion)
		}
		row(result, oneLine(res.Name, maxNameWidth), fmt.Sprint(len(res.Turns)), tokens, roundDuration(res.Duration))
		const indent = "      "
		if res.Error != "" {
			ew.printf("%s%s:%d: %s\n", indent, res.File, res.Line, res.Error)
		}
		for _, t := range res.Turns {
			for _, f := range t.Failures {
				ew.printf("%s%s:%d: turn %d: %s\n", indent, res.File, t.Line, t.Turn, f)
			}
			// Notes show on passing scenarios too: a handoff expected and
			// seen may be one the engine made because the model failed.
			for _, n := range t.Notes {
				ew.printf("%s%s:%d: turn %d: note: %s\n", indent, res.File, t.Line, t.Turn, n)
			}
		}
	}
	ew.printf("\n")
	if r.Tokens.ModelCalls > 0 && r.Tokens.Prompt+r.Tokens.Completion == 0 {
		ew.printf("%d model calls; the model reports no token usage\n", r.Tokens.ModelCalls)
	} else {
		ew.printf("tokens: %d prompt + %d completion in %d model calls; per scenario %.0f + %.0f\n",
			r.Tokens.Prompt, r.Tokens.Completion, r.Tokens.ModelCalls, r.Tokens.PromptPerScenario, r.Tokens.CompletionPerScenario)
	}
	if r.Repeat > 1 {
		ew.printf("each scenario ran %d times: pass@1 %.3f (runs that passed), pass^%d %.3f (scenarios that passed every run)\n",
			r.Repeat, r.PassAt1(), r.Repeat, r.PassHatK())
		for _, res := range r.Results {
			if res.Passes > 0 && res.Passes < res.Runs {
				ew.printf("      flaky: %s passed %d of %d runs\n", oneLine(res.Name, maxNameWidth), res.Passes, res.Runs)
			}
		}
	}
	ew.printf("%d passed, %d failed (%d scenarios in %s)\n", r.Passed, r.Failed, len(r.Results), roundDuration(r.Duration))
	return ew.err
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// errWriter keeps the first write error, so the table is written without
// checking every line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// The JSON form of a report, for CI.
type (
	jsonReport struct {
		Passed     int          `json:"passed"`
		Failed     int          `json:"failed"`
		DurationMS int64        `json:"duration_ms"`
		Tokens     TokenTotals  `json:"tokens"`
		Repeat     int          `json:"repeat"`
		PassAt1    float64      `json:"pass_at_1"`
		PassHatK   float64      `json:"pass_hat_k"`
		Results    []jsonResult `json:"results"`
	}
	jsonResult struct {
		Name       string       `json:"name"`
		File       string       `json:"file"`
		Line       int          `json:"line"`
		Passed     bool         `json:"passed"`
		Error      string       `json:"error,omitempty"`
		Failures   []string     `json:"failures,omitempty"`
		DurationMS int64        `json:"duration_ms"`
		Tokens     Usage        `json:"tokens"`
		Runs       int          `json:"runs"`
		Passes     int          `json:"passes"`
		Turns      []TurnResult `json:"turns"`
	}
)

// WriteJSON writes the report as one indented JSON object: passed, failed,
// duration_ms, tokens, and results (each scenario with its failures and a
// transcript of its turns).
func (r Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Passed: r.Passed, Failed: r.Failed, DurationMS: r.Duration.Milliseconds(),
		Tokens: r.Tokens, Repeat: max(r.Repeat, 1), PassAt1: r.PassAt1(), PassHatK: r.PassHatK(),
		Results: make([]jsonResult, len(r.Results)),
	}
	for i, res := range r.Results {
		turns := res.Turns
		if turns == nil {
			turns = []TurnResult{}
		}
		out.Results[i] = jsonResult{
			Name: res.Name, File: res.File, Line: res.Line, Passed: res.Passed, Error: res.Error,
			Failures: res.Failures(), DurationMS: res.Duration.Milliseconds(), Tokens: res.Tokens,
			Runs: max(res.Runs, 1), Passes: res.Passes, Turns: turns,
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

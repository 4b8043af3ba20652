package eval

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/openai"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// The fake server reads requests into these structs, written from the
// OpenAI API reference, so the test checks what goes over the wire.
type (
	chatRequest struct {
		Model    string        `json:"model"`
		Messages []chatMessage `json:"messages"`
		Tools    []struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	chatMessage struct {
		Role       string `json:"role"`
		Content    string `json:"content"`
		ToolCallID string `json:"tool_call_id"`
	}
)

// fakeOpenAI is a local OpenAI-compatible chat-completions endpoint that
// plays a small LLM: a payment reference in the customer's message makes it
// call payment_status, a tool result makes it answer from that result.
type fakeOpenAI struct {
	t   *testing.T
	srv *httptest.Server
	// refArg is the reference the fake passes to payment_status; "" means
	// the one the customer wrote.
	refArg string

	mu       sync.Mutex
	requests []chatRequest
}

// Usage the fake reports for each kind of answer.
const (
	toolCallPrompt, toolCallCompletion = 300, 20
	answerPrompt, answerCompletion     = 420, 35
)

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

var fakeRefRe = regexp.MustCompile(`PAY-\d+`)

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("fake OpenAI: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	var req chatRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || len(req.Messages) == 0 {
		f.t.Errorf("fake OpenAI: unreadable request (%v): %s", err, body)
		http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()

	last := req.Messages[len(req.Messages)-1]
	var message map[string]any
	var usage [2]int
	switch ref := fakeRefRe.FindString(last.Content); {
	case last.Role == "tool":
		// Answer from the tool's result, as a model would.
		var res struct {
			Payment struct{ Reference, Status string }
		}
		_ = json.Unmarshal([]byte(last.Content), &res)
		text := "I could not find that payment on your account."
		if res.Payment.Reference != "" {
			text = "Payment " + res.Payment.Reference + " is " + res.Payment.Status + "."
		}
		message, usage = map[string]any{"role": "assistant", "content": text}, [2]int{answerPrompt, answerCompletion}
	case last.Role == "user" && ref != "":
		if f.refArg != "" {
			ref = f.refArg
		}
		args, _ := json.Marshal(map[string]string{"reference": ref})
		message = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"id": "call_1", "type": "function",
			"function": map[string]any{"name": bot.ToolPaymentStatus, "arguments": string(args)},
		}}}
		usage = [2]int{toolCallPrompt, toolCallCompletion}
	default:
		message, usage = map[string]any{"role": "assistant", "content": "How can I help?"}, [2]int{answerPrompt, answerCompletion}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-eval", "object": "chat.completion", "created": 1767225600, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": message, "finish_reason": "stop"}},
		"usage": map[string]any{
			"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": usage[0] + usage[1],
		},
	})
}

func (f *fakeOpenAI) all() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatRequest(nil), f.requests...)
}

// config runs scenarios against the fake through adapters/openai, as `firstline
// eval` does with OPENAI_BASE_URL set.
func (f *fakeOpenAI) config(t *testing.T) Config {
	return Config{
		OpenStore: openSQLite,
		NewModel: func(func() *prompts.Set) (bot.Model, error) {
			return openai.New(openai.Config{
				BaseURL: f.srv.URL + "/v1", Model: "fake-model", MaxRetries: -1, Timeout: 10 * time.Second,
			})
		},
		TempDir: t.TempDir(),
	}
}

const openAIScenarios = `
scenarios:
  - name: a payment looked up by the LLM
    customer: C-1001
    turns:
      - say: "Where is PAY-1002?"
        expect:
          handoff: false
          tool: payment_status
          tool_args: {reference: PAY-1002}
          contains: [PAY-1002, pending]
  - name: a person request never reaches the LLM
    customer: C-1001
    turns:
      - say: "I want to talk to a human"
        expect: {handoff: true, no_tool: true}
`

// TestOpenAIModelPath runs scenarios end to end through adapters/openai and
// go-openai against a local fake of the chat-completions API: the tool call
// and its arguments are recorded from the wire, and the token totals come
// from the fake's usage.
func TestOpenAIModelPath(t *testing.T) {
	fake := newFakeOpenAI(t)
	scs := mustParse(t, openAIScenarios)
	r := Run(t.Context(), fake.config(t), scs)
	if !r.OK() {
		var b strings.Builder
		_ = r.WriteTable(&b)
		t.Fatalf("scenarios failed against the fake OpenAI server:\n%s", b.String())
	}

	// Two calls for the lookup (tool call, then the answer), none for the
	// person request.
	want := Usage{Prompt: toolCallPrompt + answerPrompt, Completion: toolCallCompletion + answerCompletion, Calls: 2}
	if got := r.Results[0].Tokens; got != want {
		t.Errorf("tokens of the lookup scenario = %+v, want %+v", got, want)
	}
	if got := r.Results[1].Tokens; got != (Usage{}) {
		t.Errorf("tokens of the person request = %+v, want none", got)
	}
	wantTotals := TokenTotals{
		Prompt: want.Prompt, Completion: want.Completion, ModelCalls: 2,
		PromptPerScenario: float64(want.Prompt) / 2, CompletionPerScenario: float64(want.Completion) / 2,
	}
	if r.Tokens != wantTotals {
		t.Errorf("report tokens = %+v, want %+v", r.Tokens, wantTotals)
	}
	turn := r.Results[0].Turns[0]
	if len(turn.ToolCalls) != 1 || turn.ToolCalls[0].String() != `payment_status({"reference":"PAY-1002"})` {
		t.Errorf("recorded tool calls = %v", turn.ToolCalls)
	}

	// What went over the wire: the system prompt of the prompt files, the
	// tools, and the tool result from the scenario's own database.
	reqs := fake.all()
	if len(reqs) != 2 {
		t.Fatalf("the fake received %d requests, want 2", len(reqs))
	}
	first, second := reqs[0], reqs[1]
	if first.Messages[0].Role != "system" || !strings.Contains(first.Messages[0].Content, "You are Firstline") {
		t.Errorf("the first message is not the system prompt: %+v", first.Messages[0])
	}
	var tools []string
	for _, tl := range first.Tools {
		tools = append(tools, tl.Function.Name)
	}
	if !strings.Contains(strings.Join(tools, ","), bot.ToolPaymentStatus) {
		t.Errorf("tools sent = %v, want payment_status among them", tools)
	}
	last := second.Messages[len(second.Messages)-1]
	if last.Role != "tool" || last.ToolCallID != "call_1" || !strings.Contains(last.Content, `"merchant":"Nordic Rail"`) {
		t.Errorf("the tool result sent back = %+v, want PAY-1002 from the demo data", last)
	}

	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "tokens: 720 prompt + 55 completion in 2 model calls") {
		t.Errorf("the table does not report the tokens:\n%s", b.String())
	}
}

// TestOpenAIWrongToolArgs: a model that looks up the wrong payment fails
// the scenario on tool_args, with both the call and the expectation named.
func TestOpenAIWrongToolArgs(t *testing.T) {
	fake := newFakeOpenAI(t)
	fake.refArg = "PAY-1001"
	res := mustRunOne(t, fake.config(t), `
scenarios:
  - name: s
    customer: C-1001
    turns:
      - say: "Where is PAY-1002?"
        expect: {tool: payment_status, tool_args: {reference: PAY-1002}}`)
	got := strings.Join(res.Failures(), "\n")
	want := `turn 1: the model called payment_status({"reference":"PAY-1001"}), expected arguments including {"reference":"PAY-1002"}`
	if res.Passed || got != want {
		t.Errorf("failures:\n got %s\nwant %s", got, want)
	}
	if res.Tokens.Calls != 2 || res.Tokens.Prompt == 0 {
		t.Errorf("tokens of a failed scenario = %+v, want them counted too", res.Tokens)
	}
}

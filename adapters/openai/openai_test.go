package openai

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// ask is a small request, as the engine sends one.
func ask(text string) bot.ModelRequest {
	return bot.ModelRequest{
		System:   "You are a support assistant.",
		Messages: []bot.ChatMessage{{Role: bot.ChatUser, Content: text}},
		Tools: []bot.ToolDef{{
			Name: "payment_status", Description: "Look up a payment.",
			Parameters: []byte(`{"type":"object","properties":{"reference":{"type":"string"}}}`),
		}},
	}
}

// mustModelError returns err as a *bot.ModelError.
func mustModelError(t *testing.T, err error) *bot.ModelError {
	t.Helper()
	var me *bot.ModelError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *bot.ModelError", err, err)
	}
	return me
}

func TestNewChecksConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no model", Config{BaseURL: "http://localhost:11434/v1"}, "model name is required"},
		{"blank model", Config{Model: "  "}, "model name is required"},
		{"relative URL", Config{Model: "m", BaseURL: "localhost:11434/v1"}, "absolute http"},
		{"other scheme", Config{Model: "m", BaseURL: "ftp://example.com/v1"}, "absolute http"},
		{"query in URL", Config{Model: "m", BaseURL: "https://proxy.example.com/v1?api-key=x"}, "query"},
		{"control character in key", Config{Model: "m", APIKey: "sk-a\x00b"}, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%+v) = %v; want an error about %q", tt.cfg, err, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	m, err := New(Config{Model: "gpt-4o-mini", APIKey: testKey + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	c := m.cfg
	if c.Timeout != 30*time.Second || c.MaxRetries != 3 || c.BaseBackoff != 500*time.Millisecond ||
		c.MaxBackoff != 8*time.Second || c.HistoryBudget != 6000 || c.MaxTokens != 800 || c.Sleep == nil || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.APIKey != testKey {
		t.Errorf("the key was not trimmed of its newline")
	}
	if got, want := m.Name(), "gpt-4o-mini at https://api.openai.com/v1"; got != want {
		t.Errorf("Name() = %q; want %q", got, want)
	}
	if m, _ := New(Config{Model: "m", MaxRetries: -1}); m.cfg.MaxRetries != 0 {
		t.Errorf("MaxRetries -1 gives %d retries; want 0", m.cfg.MaxRetries)
	}
}

func TestNameHidesSecrets(t *testing.T) {
	m, err := New(Config{Model: "llama3.1", APIKey: testKey, BaseURL: "http://user:" + testKey + "@localhost:11434/v1/"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Name(), "llama3.1 at http://localhost:11434/v1"; got != want {
		t.Errorf("Name() = %q; want %q", got, want)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"with a key", testKey, "Bearer " + testKey},
		{"without a key (Ollama, vLLM, llama.cpp)", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, always(http.StatusOK, textAnswer("hi")))
			m := mustModel(t, f, func(c *Config) { c.APIKey = tt.key })
			resp, err := m.Complete(context.Background(), ask("hello"))
			if err != nil || resp.Text != "hi" {
				t.Fatalf("Complete = %+v, %v", resp, err)
			}
			h := f.Calls()[0].header
			if got := h.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization = %q; want %q", got, tt.want)
			}
			if got := h.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	tests := []struct {
		name string
		body any
		want bot.ModelResponse
	}{
		{"text is trimmed", textAnswer("\n  Your payment is settled.  \n"), bot.ModelResponse{Text: "Your payment is settled."}},
		{
			"tool calls keep the raw arguments",
			toolAnswer(toolCall("call_1", "payment_status", `{"reference":"PAY-1"}`), toolCall("call_2", "no_such_tool", `not json`)),
			bot.ModelResponse{ToolCalls: []bot.ToolCall{
				{ID: "call_1", Name: "payment_status", Arguments: `{"reference":"PAY-1"}`},
				{ID: "call_2", Name: "no_such_tool", Arguments: `not json`},
			}},
		},
		{
			"text with tool calls",
			completion(map[string]any{"content": "Let me check.", "tool_calls": []any{toolCall("c", "payment_status", "{}")}}, "tool_calls"),
			bot.ModelResponse{Text: "Let me check.", ToolCalls: []bot.ToolCall{{ID: "c", Name: "payment_status", Arguments: "{}"}}},
		},
		{
			"a refusal is an answer",
			completion(map[string]any{"content": nil, "refusal": "I can't help with that."}, "stop"),
			bot.ModelResponse{Text: "I can't help with that."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, always(http.StatusOK, tt.body))
			got, err := mustModel(t, f).Complete(context.Background(), ask("status?"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != tt.want.Text || len(got.ToolCalls) != len(tt.want.ToolCalls) {
				t.Fatalf("got %+v; want %+v", got, tt.want)
			}
			for i := range got.ToolCalls {
				if got.ToolCalls[i] != tt.want.ToolCalls[i] {
					t.Errorf("tool call %d = %+v; want %+v", i, got.ToolCalls[i], tt.want.ToolCalls[i])
				}
			}
		})
	}
}

func TestGarbageResponses(t *testing.T) {
	raw := func(body string) handlerFunc {
		return func(w http.ResponseWriter, _ *http.Request, _ call) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name   string
		handle handlerFunc
		reason string
	}{
		{"not JSON", raw("<html>Bad gateway</html>"), reasonMalformed},
		{"cut off", raw(`{"choices":[{"message":{"role":"assistant","content":"Hi`), reasonMalformed},
		{"empty body", raw(""), reasonMalformed},
		{"JSON null", raw("null"), reasonMalformed},
		{"no choices", always(http.StatusOK, map[string]any{"id": "x", "object": "chat.completion", "choices": []any{}}), reasonMalformed},
		{"empty message", always(http.StatusOK, completion(map[string]any{"content": "  "}, "stop")), reasonMalformed},
		{"tool call without a name", always(http.StatusOK, toolAnswer(toolCall("c1", "", "{}"))), reasonMalformed},
		{"tool call without an id", always(http.StatusOK, toolAnswer(toolCall("", "payment_status", "{}"))), reasonMalformed},
		{"repeated tool call id", always(http.StatusOK, toolAnswer(toolCall("c1", "a", "{}"), toolCall("c1", "b", "{}"))), reasonMalformed},
		{"content filter", always(http.StatusOK, completion(map[string]any{"content": nil}, "content_filter")), "content filter"},
		{"too large", raw(`{"choices":[{"message":{"role":"assistant","content":"` + strings.Repeat("a", maxResponseBytes) + `"}}]}`), reasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, tt.handle)
			_, err := mustModel(t, f).Complete(context.Background(), ask("hello"))
			me := mustModelError(t, err)
			if !strings.Contains(me.Reason, tt.reason) {
				t.Errorf("reason %q; want %q", me.Reason, tt.reason)
			}
			if me.Err == nil {
				t.Errorf("the underlying error is not wrapped")
			}
			if n := len(f.Calls()); n != 1 {
				t.Errorf("%d tries; garbage is not retried", n)
			}
		})
	}
}

// Configuration errors fail at once, with a reason that says what to check.
func TestConfigurationErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		status int
		body   any
		reason string
	}{
		{http.StatusUnauthorized, apiError("invalid_request_error", "Incorrect API key provided: "+testKey[:8]+"****"), "The AI model rejected the request (HTTP 401): check OPENAI_API_KEY."},
		{http.StatusForbidden, apiError("invalid_request_error", "Project does not have access to model"), "(HTTP 403): check that OPENAI_API_KEY may use FIRSTLINE_MODEL."},
		{http.StatusNotFound, apiError("invalid_request_error", "The model `nope` does not exist"), "(HTTP 404): check OPENAI_BASE_URL and FIRSTLINE_MODEL."},
		{http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "registry.ollama.ai/library/gemma:2b does not support tools"}}, "(HTTP 400): check that FIRSTLINE_MODEL exists at OPENAI_BASE_URL and supports tool calls."},
		{http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "maximum context length is 8192 tokens", "type": "invalid_request_error", "code": "context_length_exceeded"}}, "does not fit its context window"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFakeAPI(t, always(tt.status, tt.body))
			m := mustModel(t, f)
			_, err := m.Complete(context.Background(), ask("hello"))
			me := mustModelError(t, err)
			if !strings.Contains(me.Reason, tt.reason) {
				t.Errorf("reason %q; want %q", me.Reason, tt.reason)
			}
			if n := len(f.Calls()); n != 1 {
				t.Errorf("HTTP %d was tried %d times; want once", tt.status, n)
			}
			if w := m.sleeps.all(); len(w) != 0 {
				t.Errorf("waited %v before failing", w)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name   string
		handle handlerFunc
		retry  int
		tries  int
		reason string
	}{
		{"HTTP 503", always(http.StatusServiceUnavailable, apiError("server_error", "overloaded")), 2, 3, "The AI model answered HTTP 503 three times."},
		{"HTTP 429", always(http.StatusTooManyRequests, apiError("requests", "Rate limit reached")), 3, 4, "The AI model answered HTTP 429 (rate limited) four times."},
		{"HTTP 502 HTML page", func(w http.ResponseWriter, _ *http.Request, _ call) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		}, 1, 2, "The AI model answered HTTP 502 twice."},
		{"mixed", func(w http.ResponseWriter, _ *http.Request, c call) {
			status := map[int]int{1: 500, 2: 429, 3: 503}[c.n]
			writeJSON(w, status, apiError("server_error", "x"))
		}, 2, 3, "The AI model failed three times in a row; the last try got HTTP 503."},
		{"no retries", always(http.StatusInternalServerError, apiError("server_error", "x")), -1, 1, "The AI model answered HTTP 500 once."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, tt.handle)
			m := mustModel(t, f, func(c *Config) { c.MaxRetries = tt.retry })
			_, err := m.Complete(context.Background(), ask("hello"))
			me := mustModelError(t, err)
			if me.Reason != tt.reason {
				t.Errorf("reason %q; want %q", me.Reason, tt.reason)
			}
			if n := len(f.Calls()); n != tt.tries {
				t.Errorf("%d tries; want %d", n, tt.tries)
			}
			if n := len(m.sleeps.all()); n != tt.tries-1 {
				t.Errorf("%d waits; want %d", n, tt.tries-1)
			}
		})
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	f := newFakeAPI(t, always(http.StatusOK, textAnswer("unused")))
	f.srv.Close() // nothing listens at the address any more
	m := mustModel(t, f)
	_, err := m.Complete(context.Background(), ask("hello"))
	me := mustModelError(t, err)
	if want := "The AI model could not be reached in four tries."; me.Reason != want {
		t.Errorf("reason %q; want %q", me.Reason, want)
	}
	if n := len(m.sleeps.all()); n != 3 {
		t.Errorf("%d waits; want 3", n)
	}
}

// A server that asks for a longer wait than MaxBackoff is not retried: the
// customer is better served by a person than by a long silence.
func TestLongRetryAfterFailsAtOnce(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request, _ call) {
		w.Header().Set("Retry-After", "120")
		writeJSON(w, http.StatusTooManyRequests, apiError("tokens", "Rate limit reached for tokens per day"))
	})
	m := mustModel(t, f)
	_, err := m.Complete(context.Background(), ask("hello"))
	me := mustModelError(t, err)
	if want := "The AI model is overloaded (HTTP 429) and asked to wait 2m0s before trying again."; me.Reason != want {
		t.Errorf("reason %q; want %q", me.Reason, want)
	}
	if n := len(f.Calls()); n != 1 {
		t.Errorf("%d tries; want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	m := mustModel(t, newFakeAPI(t, hang))
	m.jitter = func(ceiling time.Duration) time.Duration { return ceiling } // the top of the range
	for try, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 5: 8 * time.Second, 6: 8 * time.Second, 80: 8 * time.Second} {
		if got := m.backoff(try, 0); got != want {
			t.Errorf("backoff(%d) = %v; want %v", try, got, want)
		}
	}
	m.jitter = func(time.Duration) time.Duration { return 0 } // the bottom
	if got := m.backoff(1, 3*time.Second); got != 3*time.Second {
		t.Errorf("with Retry-After 3s, backoff = %v; want 3s", got)
	}
	// The real jitter stays in [0, cap].
	m2 := mustModel(t, newFakeAPI(t, hang))
	for range 1000 {
		if d := m2.backoff(2, 0); d < 0 || d > time.Second {
			t.Fatalf("backoff(2) = %v; want within [0, 1s]", d)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{"HTTP date", map[string]string{"Retry-After": now.Add(5 * time.Second).Format(http.TimeFormat)}, 5 * time.Second},
		{"date in the past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"OpenAI milliseconds win", map[string]string{"Retry-After": "3", "Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{"garbage", map[string]string{"Retry-After": "soon"}, -1},
		{"negative", map[string]string{"Retry-After": "-4"}, -1},
		{"absent", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestTimeoutPerTry(t *testing.T) {
	f := newFakeAPI(t, hang)
	m := mustModel(t, f, func(c *Config) { c.Timeout = 100 * time.Millisecond })
	start := time.Now()
	_, err := m.Complete(context.Background(), ask("hello"))
	took := time.Since(start)
	me := mustModelError(t, err)
	if want := "The AI model did not answer within 100ms."; me.Reason != want {
		t.Errorf("reason %q; want %q", me.Reason, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestCallerCancellation(t *testing.T) {
	t.Run("during a request", func(t *testing.T) {
		f := newFakeAPI(t, hang)
		m := mustModel(t, f)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := m.Complete(ctx, ask("hello"))
		if !errors.Is(err, context.Canceled) || err != context.Canceled {
			t.Errorf("err = %v; want context.Canceled itself", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("returned after %v", took)
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		f := newFakeAPI(t, always(http.StatusServiceUnavailable, apiError("server_error", "x")))
		m := mustModel(t, f, func(c *Config) {
			c.Sleep = nil // the real timer
			c.BaseBackoff, c.MaxBackoff = time.Minute, time.Minute
		})
		m.jitter = func(ceiling time.Duration) time.Duration { return ceiling }
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := m.Complete(ctx, ask("hello"))
		if err != context.Canceled {
			t.Errorf("err = %v; want context.Canceled", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("returned after %v", took)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		f := newFakeAPI(t, always(http.StatusOK, textAnswer("hi")))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := mustModel(t, f).Complete(ctx, ask("hello")); err != context.Canceled {
			t.Errorf("err = %v; want context.Canceled", err)
		}
		if n := len(f.Calls()); n != 0 {
			t.Errorf("%d requests sent after cancellation", n)
		}
	})
}

// The API key appears in no name, error or log line, even when the
// endpoint echoes it back in its error bodies.
func TestKeyNeverLeaks(t *testing.T) {
	// Servers that quote the request in their errors, as vLLM's
	// validation errors and some proxies' error pages do.
	echo := func(status int) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request, c call) {
			last := c.req.Messages[len(c.req.Messages)-1].text()
			writeJSON(w, status, apiError("invalid_request_error", "bad request "+r.Header.Get("Authorization")+" input: "+last))
		}
	}
	html := func(w http.ResponseWriter, r *http.Request, c call) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<pre>" + r.Header.Get("Authorization") + "\n" + string(c.body) + "</pre>"))
	}
	handlers := map[string]handlerFunc{
		"401 echo": echo(http.StatusUnauthorized),
		"400 echo": echo(http.StatusBadRequest),
		"500 echo": echo(http.StatusInternalServerError),
		"502 page": html,
		"hang":     hang,
	}
	for name, handle := range handlers {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t, handle)
			m := mustModel(t, f, func(c *Config) { c.Timeout = 100 * time.Millisecond })
			_, err := m.Complete(context.Background(), ask("my mother's maiden name is Rumpelstiltskin"))
			me := mustModelError(t, err)
			for what, s := range map[string]string{"Name()": m.Name(), "error": err.Error(), "reason": me.Reason, "logs": m.logs.String()} {
				if strings.Contains(s, testKey) {
					t.Errorf("%s contains the API key: %s", what, s)
				}
				if strings.Contains(s, "Rumpelstiltskin") {
					t.Errorf("%s contains the customer's text: %s", what, s)
				}
			}
		})
	}
}

// The request carries the engine's messages in order, with tool calls and
// results in the API's shape, and max_completion_tokens for the reasoning
// models that refuse max_tokens.
func TestRequestShape(t *testing.T) {
	f := newFakeAPI(t, always(http.StatusOK, textAnswer("ok")))
	m := mustModel(t, f, func(c *Config) { c.Model = "o4-mini"; c.MaxTokens = 321 })
	req := ask("status of PAY-1?")
	req.Messages = append([]bot.ChatMessage{{Role: bot.ChatAssistant, Content: "Hi, I'm the AI assistant."}}, req.Messages...)
	req.Messages = append(req.Messages,
		bot.ChatMessage{Role: bot.ChatAssistant, ToolCalls: []bot.ToolCall{{ID: "c1", Name: "payment_status", Arguments: ""}}},
		bot.ChatMessage{Role: bot.ChatTool, ToolCallID: "c1", Content: `{"payment":{}}`},
	)
	if _, err := m.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := f.Calls()[0].req
	if got.Model != "o4-mini" || got.MaxCompletionTokens != 321 || got.MaxTokens != 0 {
		t.Errorf("model %q, max_completion_tokens %d, max_tokens %d", got.Model, got.MaxCompletionTokens, got.MaxTokens)
	}
	var roles []string
	for _, m := range got.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,assistant,user,assistant,tool" {
		t.Errorf("roles = %v", roles)
	}
	tc := got.Messages[3].ToolCalls
	if len(tc) != 1 || tc[0].ID != "c1" || tc[0].Type != "function" || tc[0].Function.Arguments != "{}" {
		t.Errorf("tool call = %+v; want c1 with arguments {}", tc)
	}
	if got.Messages[4].ToolCallID != "c1" {
		t.Errorf("tool result tool_call_id = %q", got.Messages[4].ToolCallID)
	}
	if len(got.Tools) != 1 || string(got.Tools[0].Function.Parameters) != `{"type":"object","properties":{"reference":{"type":"string"}}}` {
		t.Errorf("tools = %+v", got.Tools)
	}

	// No tools: no tool_choice either, which OpenAI would reject.
	req.Tools = nil
	if _, err := m.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls()[1].req; got.Tools != nil || got.ToolChoice != nil {
		t.Errorf("without tools: tools %v, tool_choice %s", got.Tools, got.ToolChoice)
	}
}

// go-openai refuses some requests before sending them; that is a
// configuration problem, reported at once.
func TestRequestRefusedBeforeSending(t *testing.T) {
	f := newFakeAPI(t, always(http.StatusOK, textAnswer("unused")))
	m := mustModel(t, f, func(c *Config) { c.Model = "gpt-6-astra" }) // needs the Responses API for tools
	_, err := m.Complete(context.Background(), ask("hello"))
	me := mustModelError(t, err)
	if !strings.HasPrefix(me.Reason, "The AI model request could not be sent for gpt-6-astra: ") || !strings.HasSuffix(me.Reason, ".") {
		t.Errorf("reason %q", me.Reason)
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// When the caller's deadline would expire during the wait before a retry,
// the call fails with a reason at once, rather than ending later in a bare
// context error that would leave the customer without an answer.
func TestRetryWaitPastCallerDeadline(t *testing.T) {
	f := newFakeAPI(t, always(http.StatusServiceUnavailable, apiError("server_error", "x")))
	m := mustModel(t, f, func(c *Config) { c.Sleep = nil; c.BaseBackoff, c.MaxBackoff = time.Minute, time.Minute })
	m.jitter = func(ceiling time.Duration) time.Duration { return ceiling }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := m.Complete(ctx, ask("hello"))
	me := mustModelError(t, err)
	if want := "The AI model answered HTTP 503 once."; me.Reason != want {
		t.Errorf("reason %q; want %q", me.Reason, want)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

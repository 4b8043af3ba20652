package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// The fake server reads requests into these structs, written from the
// OpenAI API reference rather than taken from go-openai, so that the tests
// check what goes over the wire, not what the library believes it sends.
type (
	wireRequest struct {
		Model               string          `json:"model"`
		Messages            []wireMsg       `json:"messages"`
		Tools               []wireTool      `json:"tools"`
		ToolChoice          json.RawMessage `json:"tool_choice"`
		MaxTokens           int             `json:"max_tokens"`
		MaxCompletionTokens int             `json:"max_completion_tokens"`
		Stream              bool            `json:"stream"`
	}
	wireMsg struct {
		Role       string         `json:"role"`
		Content    *string        `json:"content"`
		ToolCalls  []wireToolCall `json:"tool_calls"`
		ToolCallID string         `json:"tool_call_id"`
	}
	wireToolCall struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	wireTool struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
)

func (m wireMsg) text() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

// call is one request the fake server received.
type call struct {
	n      int // 1 for the first request
	header http.Header
	body   []byte
	req    wireRequest
}

// handlerFunc answers the n-th request. It writes the response itself, so
// tests can send any status, header or body.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c call)

// fakeAPI is a local OpenAI-compatible chat-completions endpoint.
type fakeAPI struct {
	t      testing.TB
	srv    *httptest.Server
	handle handlerFunc
	mu     sync.Mutex
	calls  []call
}

// newFakeAPI starts a fake endpoint at <srv.URL>/v1 answering with handle.
func newFakeAPI(t testing.TB, handle handlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL to configure: the API root including /v1.
func (f *fakeAPI) URL() string { return f.srv.URL + "/v1" }

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("fake API: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake API: read body: %v", err)
		return
	}
	var req wireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("fake API: request is not JSON: %v", err)
		writeJSON(w, http.StatusBadRequest, apiError("invalid_request_error", "bad json"))
		return
	}
	f.mu.Lock()
	c := call{n: len(f.calls) + 1, header: r.Header.Clone(), body: body, req: req}
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	f.handle(w, r, c)
}

// Calls returns the requests received so far.
func (f *fakeAPI) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// completion is a chat.completion object with one choice.
func completion(message map[string]any, finish string) map[string]any {
	message["role"] = "assistant"
	return map[string]any{
		"id":      "chatcmpl-test",
		"object":  "chat.completion",
		"created": 1767225600,
		"model":   "test-model",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       message,
			"logprobs":      nil,
			"finish_reason": finish,
		}},
		"usage": map[string]any{"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
	}
}

// textAnswer is a completion that answers text.
func textAnswer(text string) map[string]any {
	return completion(map[string]any{"content": text, "refusal": nil}, "stop")
}

// toolCall is one entry of a message's tool_calls.
func toolCall(id, name, args string) map[string]any {
	return map[string]any{"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args}}
}

// toolAnswer is a completion that calls tools, with content null as OpenAI
// sends it.
func toolAnswer(calls ...map[string]any) map[string]any {
	return completion(map[string]any{"content": nil, "tool_calls": calls}, "tool_calls")
}

// apiError is an OpenAI error object.
func apiError(typ, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}}
}

// always answers every request with status and body.
func always(status int, body any) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ call) { writeJSON(w, status, body) }
}

// hang waits until the client gives up.
func hang(_ http.ResponseWriter, r *http.Request, _ call) { <-r.Context().Done() }

// sleeps records the waits asked of Config.Sleep, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testKey is the API key the tests configure; it must never show up in
// names, errors or logs.
const testKey = "sk-test-Zq8XbT3kVfY1nR6pL0wJ"

// syncBuffer is a bytes.Buffer safe for a logger used from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testModel is a Model on a fake endpoint, with no real sleeping and its
// log captured.
type testModel struct {
	*Model
	sleeps *sleeps
	logs   *syncBuffer
}

// mustModel returns a Model for f configured with testKey, after applying
// change to the config.
func mustModel(t testing.TB, f *fakeAPI, change ...func(*Config)) testModel {
	t.Helper()
	s, logs := &sleeps{}, &syncBuffer{}
	cfg := Config{
		BaseURL: f.URL(),
		APIKey:  testKey,
		Model:   "test-model",
		Sleep:   s.sleep,
		Timeout: 5 * time.Second,
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, c := range change {
		c(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return testModel{Model: m, sleeps: s, logs: logs}
}

// botMessages turns the wire messages back into the engine's form, to
// measure a received request with the same estimate the model used. The
// first system message is returned apart, as the system prompt.
func botMessages(req wireRequest) (system string, msgs []bot.ChatMessage, tools []bot.ToolDef) {
	for i, m := range req.Messages {
		if i == 0 && m.Role == "system" {
			system = m.text()
			continue
		}
		cm := bot.ChatMessage{Role: bot.ChatRole(m.Role), Content: m.text(), ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			cm.ToolCalls = append(cm.ToolCalls, bot.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		msgs = append(msgs, cm)
	}
	for _, td := range req.Tools {
		tools = append(tools, bot.ToolDef{Name: td.Function.Name, Description: td.Function.Description, Parameters: td.Function.Parameters})
	}
	return system, msgs, tools
}

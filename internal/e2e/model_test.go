package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tokenRe finds the tokens the tests put in customers' messages ("T0042"):
// the fake model's answer names those it answers, so the test can tell
// which message each answer is for.
var tokenRe = regexp.MustCompile(`\bT\d{4,}\b`)

// fakeModel is an OpenAI-compatible chat-completions endpoint that answers
// at once (or after delay) "Answer to T0042 T0043.", naming the tokens of
// the customer's messages since the bot last said something other than an
// answer that no answer named yet: the ones the turn answers.
type fakeModel struct {
	srv   *httptest.Server
	delay atomic.Int64 // nanoseconds
	calls atomic.Int64
}

func newFakeModel(t *testing.T) *fakeModel {
	m := &fakeModel{}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

// baseURL is the OPENAI_BASE_URL pointing at the fake.
func (m *fakeModel) baseURL() string { return m.srv.URL + "/v1" }

// setDelay makes every answer take d.
func (m *fakeModel) setDelay(d time.Duration) { m.delay.Store(int64(d)) }

func (m *fakeModel) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "unexpected request "+r.URL.Path, http.StatusNotFound)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	m.calls.Add(1)
	if d := time.Duration(m.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	// The tokens of the customer's messages since the bot last said
	// something other than an answer, less those an answer named: a
	// message that arrives during a turn is stored before that turn's
	// answer, and the next turn answers it.
	var tokens []string
	answered := map[string]bool{}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role == "assistant" {
			if !strings.HasPrefix(m.Content, "Answer to") {
				break
			}
			for _, tok := range tokenRe.FindAllString(m.Content, -1) {
				answered[tok] = true
			}
			continue
		}
		if m.Role == "user" {
			toks := tokenRe.FindAllString(m.Content, -1)
			for j := len(toks) - 1; j >= 0; j-- {
				if !answered[toks[j]] {
					tokens = append([]string{toks[j]}, tokens...)
				}
			}
		}
	}
	text := "Answer to " + strings.Join(tokens, " ") + "."
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-e2e", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
}

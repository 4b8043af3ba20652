package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The chat binary answers through an OpenAI-compatible server when only
// OPENAI_BASE_URL is set (as for Ollama), tools included: the server asks
// for payment_status, and its second answer quotes the tool result.
func TestChatThroughOpenAICompatibleServer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "unexpected request "+r.URL.Path, http.StatusBadRequest)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Role       string `json:"role"`
				Content    string `json:"content"`
				ToolCallID string `json:"tool_call_id"`
			} `json:"messages"`
			Tools []struct {
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			} `json:"tools"`
		}
		// payment_status, handoff_to_human and the shipped help center's
		// search_help_center.
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "local-model" || len(req.Tools) != 3 ||
			req.Tools[2].Function.Name != "search_help_center" {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		calls.Add(1)
		last := req.Messages[len(req.Messages)-1]
		var msg map[string]any
		if last.Role == "tool" {
			msg = map[string]any{"role": "assistant", "content": "From the tool: " + last.Content}
		} else {
			msg = map[string]any{"role": "assistant", "content": nil, "tool_calls": []map[string]any{{
				"id": "call_1", "type": "function",
				"function": map[string]any{"name": "payment_status", "arguments": `{"reference":"PAY-1002"}`},
			}}}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
		})
	}))
	defer srv.Close()

	env := []string{"OPENAI_BASE_URL=" + srv.URL + "/v1", "FIRSTLINE_MODEL=local-model"}
	out, errOut, code := runBinaryEnv(t, t.TempDir(), env, "is PAY-1002 through yet?\n", "chat")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "local-model at "+srv.URL) {
		t.Errorf("start-up does not name the model: %q", errOut)
	}
	if !strings.Contains(out, `From the tool: {"payment":{"reference":"PAY-1002"`) || !strings.Contains(out, `"status":"pending"`) {
		t.Errorf("answer did not come through the model and the tool:\n%s", out)
	}
	if calls.Load() != 2 {
		t.Errorf("%d model calls; want 2 (tool call, then answer)", calls.Load())
	}
}

// TestEvalDefaultFolder: without FILES, eval runs the evals folder beside
// the prompt files, and says so plainly when a prompt folder has none.
func TestEvalDefaultFolder(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "system.md"), "You are a support assistant.\n")
	var out, errb bytes.Buffer
	no := false
	env := map[string]string{"FIRSTLINE_PROMPTS_DIR": dir}
	sys := stdio{in: strings.NewReader(""), out: &out, err: &errb, getenv: func(k string) string { return env[k] }, interactive: &no}
	if code := run(context.Background(), []string{"eval"}, sys); code != 1 || !strings.Contains(errb.String(), "no scenarios at "+filepath.Join(dir, "evals")) {
		t.Errorf("eval with a prompt folder without evals: exit %d, %q; want 1 naming %s/evals", code, errb.String(), dir)
	}

	scenario := "scenarios:\n  - name: a person on request\n    customer: C-1001\n    turns:\n      - say: \"human please\"\n        expect:\n          handoff: true\n"
	if err := os.Mkdir(filepath.Join(dir, "evals"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "evals", "one.yaml"), scenario)
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"eval"}, sys); code != 0 || !strings.Contains(out.String(), "1 passed") {
		t.Errorf("eval of the folder's evals: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	// --repeat K runs each scenario K times and reports pass^k.
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"eval", "--repeat", "3"}, sys); code != 0 || !strings.Contains(out.String(), "pass^3 1.000") {
		t.Errorf("eval --repeat 3: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if code := run(context.Background(), []string{"eval", "--repeat", "0"}, sys); code != 2 {
		t.Errorf("eval --repeat 0: exit %d, want the usage error", code)
	}
}

// A customer in the terminal votes on an answer; a 👎 offers a person, and
// `firstline stats` counts the votes.
func TestChatFeedback(t *testing.T) {
	dir := t.TempDir()
	script := "how long does a refund take?\n/bad\n/good\nstatus of PAY-1002\n/good\n"
	out, errOut, code := runBinary(t, dir, script, "chat")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := strings.Count(out, "your vote is counted"); n != 3 {
		t.Errorf("%d votes acknowledged, want 3:\n%s", n, out)
	}
	if n := strings.Count(out, "didn't help"); n != 1 {
		t.Errorf("the offer of a person after 👎 printed %d times, want once (a second press changes nothing):\n%s", n, out)
	}
	stats, errOut, code := runBinary(t, dir, "", "stats", "--db", "firstline-demo.db")
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stats, "answers rated helpful") || !strings.Contains(stats, "1 👍, 1 👎") {
		t.Errorf("stats do not count the votes (want 1 👍, 1 👎):\n%s", stats)
	}
	// Before any answer there is nothing to vote on.
	out, _, _ = runBinary(t, t.TempDir(), "/good\n", "chat")
	if !strings.Contains(out, "no answer to vote on yet") {
		t.Errorf("a vote before any answer: %q", out)
	}
}

// With zero configuration, the terminal chat answers a question the FAQ
// does not cover from the shipped help center, with the article as its
// source, in the customer's language; a question nothing answers gets an
// offer of a person, not an invented answer.
func TestChatAnswersFromTheHelpCenter(t *testing.T) {
	out, errOut, code := runBinary(t, t.TempDir(), "my card was stolen, what do I do?\nmitt kort är borttappat, vad gör jag?\nhur lång tid tar en återbetalning?\nwhat is the capital of Peru?\n", "chat", "--as", "none")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Source: ", "https://help.example.com/en/articles/lost-stolen-card",
		"https://help.example.com/sv/articles/lost-stolen-card", "https://help.example.com/sv/articles/refund-times",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "Source: ") != 3 {
		t.Errorf("want a source under the three help-center answers only:\n%s", out)
	}
}

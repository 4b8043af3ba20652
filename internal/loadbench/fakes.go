package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// answer is what the fake model says to every turn; marker finds it in
// the posts (the greeting of a new conversation is a post too).
const (
	marker = "[loadbench]"
	answer = "Our support team answers from 9:00 to 17:00, Monday to Friday. " + marker
)

// agent is the one agent of SLACK_AGENTS.
const agent = "UAGENT1"

// customerID is the Slack user id of customer i; their DM channel is
// fakeslack.DMChannel of it.
func customerID(i int) string { return fmt.Sprintf("ULB%06d", i) }

// slackSide is the fake Slack of one run, with an observer on its Web API
// that hands the arrival time of each answer to the customer waiting for it.
type slackSide struct {
	fake *fakeslack.Server
	tb   *cleanupTB
	// arrivals has one channel per customer DM, made before the run and
	// only read after: a map the hook reads without a lock.
	arrivals map[string]chan time.Time
}

func newSlackSide(customers, messages int) *slackSide {
	tb := &cleanupTB{}
	s := &slackSide{fake: fakeslack.New(tb), tb: tb, arrivals: make(map[string]chan time.Time, customers)}
	s.fake.AddUser(agent, fakeslack.User{Handle: "agent", Display: "Agent", RealName: "Agent One"})
	for i := range customers {
		id := customerID(i)
		s.fake.AddUser(id, fakeslack.User{Handle: fmt.Sprintf("customer%d", i), Display: fmt.Sprintf("Customer %d", i),
			RealName: fmt.Sprintf("Customer %d", i), Email: fmt.Sprintf("customer%d@example.com", i)})
		// Room for duplicates too: the hook never blocks Slack.
		s.arrivals[fakeslack.DMChannel(id)] = make(chan time.Time, messages+4)
	}
	s.fake.SetHook(s.observe)
	return s
}

// observe sees every Web API call before the fake carries it out, and
// lets the fake answer (nil).
func (s *slackSide) observe(method string, form url.Values) *fakeslack.Reply {
	if method != "chat.postMessage" || !strings.Contains(form.Get("text")+form.Get("blocks"), marker) {
		return nil
	}
	now := time.Now()
	if ch, ok := s.arrivals[form.Get("channel")]; ok {
		select {
		case ch <- now:
		default: // a flood of duplicates; tally counts them
		}
	}
	return nil
}

// tally counts what the fake received in the customers' DMs.
type tally struct {
	answers, missing, duplicated int
	// others are the other posts in DMs: the greeting of each new
	// conversation.
	others int
}

func (s *slackSide) tally(customers, messages int) tally {
	perDM := map[string]int{}
	var t tally
	for _, p := range s.fake.Posts() {
		if p.Method != "chat.postMessage" {
			continue
		}
		if _, ours := s.arrivals[p.Channel]; !ours {
			continue
		}
		if strings.Contains(p.Text+p.Section(), marker) {
			perDM[p.Channel]++
			t.answers++
		} else {
			t.others++
		}
	}
	for i := range customers {
		n := perDM[fakeslack.DMChannel(customerID(i))]
		t.missing += max(0, messages-n)
		t.duplicated += max(0, n-messages)
	}
	return t
}

func (s *slackSide) Close() { s.tb.cleanup() }

// cleanupTB is the testing.TB fakeslack.New asks for, outside a test: the
// fake uses it to register its Close, which cleanup runs. The methods it
// does not define are not called by the fake.
type cleanupTB struct {
	testing.TB
	cleanups []func()
}

func (t *cleanupTB) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *cleanupTB) Helper()                         {}
func (t *cleanupTB) Name() string                    { return "loadbench" }
func (t *cleanupTB) Logf(format string, args ...any) {}
func (t *cleanupTB) Errorf(format string, args ...any) {
	panic("fakeslack: " + fmt.Sprintf(format, args...))
}
func (t *cleanupTB) Fatalf(format string, args ...any) {
	panic("fakeslack: " + fmt.Sprintf(format, args...))
}

func (t *cleanupTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

// model is an OpenAI-compatible chat-completions endpoint that answers
// every request at once with answer, in the API's JSON shape.
type model struct {
	srv   *httptest.Server
	calls atomic.Int64
}

func newModel() *model {
	m := &model{}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// baseURL is the OPENAI_BASE_URL pointing at the endpoint.
func (m *model) baseURL() string { return m.srv.URL + "/v1" }

func (m *model) Close() { m.srv.Close() }

func (m *model) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	var req struct {
		Model string `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	n := m.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": answer}}},
		"usage": map[string]int{"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220},
	})
}

package slack

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// mode is how events reach the adapter.
type mode string

const (
	socketMode mode = "socket"
	httpMode   mode = "http"
)

var bothModes = []mode{socketMode, httpMode}

// The fake workspace's credentials and bot, under the names these tests
// use.
const (
	testBotToken = fakeslack.BotToken
	testAppToken = fakeslack.AppToken
	testSecret   = fakeslack.SigningSecret
	botUser      = fakeslack.BotUser
	botID        = fakeslack.BotID
)

// What the fake Slack records, under the names these tests use.
type (
	post     = fakeslack.Post
	button   = fakeslack.Button
	reaction = fakeslack.Reaction
	reply    = fakeslack.Reply
)

// env is the real product (engine, handoff flow, outbox, SQLite) wired to
// the adapter, which talks to a fake Slack through slack-go.
type env struct {
	t    *testing.T
	mode mode
	h    *testkit.Harness
	fake *fakeslack.Server
	a    *Adapter
	app  *httptest.Server // the adapter's HTTP endpoints, in HTTP mode
	logs *lockedBuffer
}

type envOptions struct {
	// manualClock uses testkit's settable clock for the engine, the
	// dispatcher and the shaper; the dispatcher does not run, tests Flush.
	manualClock bool
	// burst replaces the shaper's burst (flows post more than four
	// messages a second to the agent channel; the shaper has its own test).
	burst  int
	config func(*Config)
	// setup prepares the fake Slack before the adapter starts.
	setup func(*fakeslack.Server)
	// harness are more options for the product (testkit).
	harness []testkit.Option
}

type envOption func(*envOptions)

func withManualClock() envOption           { return func(o *envOptions) { o.manualClock = true } }
func withConfig(f func(*Config)) envOption { return func(o *envOptions) { o.config = f } }
func withFake(f func(*fakeslack.Server)) envOption {
	return func(o *envOptions) { o.setup = f }
}
func withHarness(opts ...testkit.Option) envOption {
	return func(o *envOptions) { o.harness = append(o.harness, opts...) }
}

func newEnv(t *testing.T, m mode, opts ...envOption) *env {
	t.Helper()
	o := envOptions{burst: 50}
	for _, opt := range opts {
		opt(&o)
	}
	fake := fakeslack.New(t)
	if o.setup != nil {
		o.setup(fake)
	}
	logs := &lockedBuffer{}
	var a *Adapter
	newAdapter := func(p testkit.Parts) (map[bot.Platform]outbox.Sender, error) {
		now := time.Now
		if o.manualClock {
			now = p.Clock.Now
		}
		cfg := Config{
			BotToken: testBotToken, SigningSecret: testSecret, APIURL: fake.APIURL(),
			AgentChannel: testkit.AgentChannel, AgentMention: "here",
			// The fake's agents, named: tests of agent behaviour act with
			// real roles (agents_test.go covers the other sources).
			Agents: []string{"U-alex", "U-sam"},
			Engine: p.Engine, Handoffs: p.Handoffs, Now: now,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		}
		if m == socketMode {
			cfg.AppToken = testAppToken
		}
		if o.config != nil {
			o.config(&cfg)
		}
		var err error
		if a, err = New(cfg); err != nil {
			return nil, err
		}
		if o.burst > 0 {
			a.shaper = newShaper(now, channelRate, o.burst)
		}
		return map[bot.Platform]outbox.Sender{bot.Slack: a}, nil
	}
	var h *testkit.Harness
	if o.manualClock {
		o.burst = 0
		h = testkit.New(t, append(o.harness, testkit.WithSenders(newAdapter))...)
	} else {
		h = testkit.New(t, append(o.harness, testkit.WithClock(time.Now), testkit.WithSenders(newAdapter))...)
	}
	e := &env{t: t, mode: m, h: h, fake: fake, a: a, logs: logs}

	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- a.Run(ctx) }()
	dispDone := make(chan struct{})
	if o.manualClock {
		close(dispDone)
	} else {
		go func() {
			defer close(dispDone)
			_ = h.Disp.Run(ctx)
		}()
	}
	if m == httpMode {
		mux := http.NewServeMux()
		mux.Handle("POST /slack/events", a.EventsHandler())
		mux.Handle("POST /slack/interactions", a.InteractionsHandler())
		e.app = httptest.NewServer(mux)
	}
	t.Cleanup(func() {
		// Input first, then turns, then the outbox: serve's order.
		if e.app != nil {
			e.app.Close()
		}
		cancel()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
		dctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = h.Engine.Drain(dctx)
		<-dispDone
	})
	waitUntil(t, "the adapter is ready", a.Ready)
	return e
}

// waitUntil polls cond until it holds or a deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mark is where the posts received so far end; waitPost looks after it.
func (e *env) mark() int { return len(e.fake.Posts()) }

// waitPost waits for a post after since that matches and returns it.
func (e *env) waitPost(since int, what string, match func(post) bool) post {
	e.t.Helper()
	var found post
	waitUntil(e.t, what, func() bool {
		for _, p := range e.fake.Posts()[since:] {
			if match(p) {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

// posts returns the posts after since that match.
func (e *env) posts(since int, match func(post) bool) []post {
	var out []post
	for _, p := range e.fake.Posts()[since:] {
		if match(p) {
			out = append(out, p)
		}
	}
	return out
}

// to matches posts to channel (any thread) whose section contains text.
func to(channel, text string) func(post) bool {
	return func(p post) bool {
		return p.Method == "chat.postMessage" && p.Channel == channel && strings.Contains(p.Section(), text)
	}
}

// inThread matches posts in a thread of channel whose section contains text.
func inThread(channel, thread, text string) func(post) bool {
	return func(p post) bool {
		return p.Method == "chat.postMessage" && p.Channel == channel && p.ThreadTS == thread && strings.Contains(p.Section(), text)
	}
}

// customerInThread matches a customer's words relayed to a handoff thread:
// attributed to who, however the handoff flow quotes them.
func customerInThread(channel, thread, who, text string) func(post) bool {
	return func(p post) bool {
		return inThread(channel, thread, text)(p) && strings.Contains(p.Section(), who)
	}
}

// waitCard waits for a handoff card posted after since, and until the
// outbox recorded it as sent: only then does its thread lead to the handoff
// (an agent cannot reply faster than that in Slack, a test can).
func (e *env) waitCard(since int) post {
	e.t.Helper()
	c := e.waitPost(since, "the handoff card", card)
	waitUntil(e.t, "the card is recorded as sent", func() bool {
		threads, err := e.h.Handoffs.Threads(context.Background(), bot.Slack)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, th := range threads {
			if th.Thread == c.TS {
				return true
			}
		}
		return false
	})
	return c
}

// card matches a handoff announcement.
func card(p post) bool {
	return p.Method == "chat.postMessage" && p.Channel == testkit.AgentChannel && p.ThreadTS == "" && strings.Contains(p.Section(), "Handoff #")
}

func updateOf(ts, text string) func(post) bool {
	return func(p post) bool {
		return p.Method == "chat.update" && p.TS == ts && strings.Contains(p.Section(), text)
	}
}

// deliver hands an event to the adapter and waits until Slack would see it
// delivered: HTTP 200, or the Socket Mode envelope acknowledged.
func (e *env) deliver(inner map[string]any) {
	e.t.Helper()
	e.deliverBody(e.fake.EventCallback(inner), 0)
}

// deliverBody delivers an event_callback body; retry > 0 marks it as Slack's
// redelivery (X-Slack-Retry-Num, or a new envelope with retry_attempt).
func (e *env) deliverBody(body []byte, retry int) {
	e.t.Helper()
	switch e.mode {
	case httpMode:
		h := http.Header{"Content-Type": {"application/json"}}
		if retry > 0 {
			h.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			h.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		if code, _ := e.signedPost("/slack/events", body, h, time.Now()); code != http.StatusOK {
			e.t.Fatalf("POST /slack/events: %d", code)
		}
	case socketMode:
		e.envelope(fakeslack.EventsAPI, body, retry)
	}
}

// envelope sends a Socket Mode envelope and waits for its acknowledgement.
func (e *env) envelope(typ string, payload []byte, retry int) string {
	e.t.Helper()
	id := e.fake.DeliverRetry(typ, payload, retry)
	waitUntil(e.t, "envelope "+id+" is acknowledged", func() bool { return e.fake.Acked(id) > 0 })
	return id
}

// signedPost posts body to the adapter's HTTP endpoint, signed as Slack
// signs requests at time at, and returns the status and body.
func (e *env) signedPost(path string, body []byte, h http.Header, at time.Time) (int, string) {
	e.t.Helper()
	return postSigned(e.t, e.app.URL+path, body, h, testSecret, at)
}

func postSigned(t *testing.T, u string, body []byte, h http.Header, secret string, at time.Time) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if secret != "" {
		ts, sig := fakeslack.Sign(secret, at, body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// dm delivers a direct message from user and returns its ts.
func (e *env) dm(user, text string) string {
	e.t.Helper()
	ts := e.fake.NewTS()
	e.deliver(fakeslack.IMEvent(user, text, ts))
	return ts
}

// agentSays delivers an agent's reply in a handoff thread.
func (e *env) agentSays(user, thread, text string) string {
	e.t.Helper()
	ts := e.fake.NewTS()
	e.deliver(fakeslack.ChannelEvent(user, testkit.AgentChannel, text, ts, thread))
	return ts
}

// press delivers a block_actions payload: user pressed a button of the
// message ts in channel.
func (e *env) press(user, channel, ts string, b button) {
	e.t.Helper()
	code, body := e.pressStatus(user, channel, ts, b)
	if code != http.StatusOK {
		e.t.Fatalf("press %s: %d %s", b.ActionID, code, body)
	}
}

func (e *env) pressStatus(user, channel, ts string, b button) (int, string) {
	e.t.Helper()
	return e.sendAction(fakeslack.BlockActions(user, channel, ts, b))
}

// pressFeedback presses b, one of a feedback_buttons element's buttons.
func (e *env) pressFeedback(user, channel, ts string, b button) {
	e.t.Helper()
	if code, body := e.sendAction(fakeslack.FeedbackActions(user, channel, ts, b)); code != http.StatusOK {
		e.t.Fatalf("press feedback %s: %d %s", b.Value, code, body)
	}
}

// sendAction delivers a block_actions payload.
func (e *env) sendAction(payload []byte) (int, string) {
	e.t.Helper()
	switch e.mode {
	case httpMode:
		form := url.Values{"payload": {string(payload)}}
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		return e.signedPost("/slack/interactions", []byte(form.Encode()), h, time.Now())
	default:
		e.envelope(fakeslack.Interactive, payload, 0)
		return http.StatusOK, ""
	}
}

// pressConcurrently is press for use from several goroutines at once: it
// does not wait for a Socket Mode acknowledgement (it returns the envelope
// id to wait for) and reports failures as errors.
func (e *env) pressConcurrently(user, channel, ts string, b button) (string, error) {
	payload := fakeslack.BlockActions(user, channel, ts, b)
	if e.mode == socketMode {
		return e.fake.Press(user, channel, ts, b), nil
	}
	form := url.Values{"payload": {string(payload)}}
	req, err := http.NewRequest(http.MethodPost, e.app.URL+"/slack/interactions", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	ts2, sig := fakeslack.Sign(testSecret, time.Now(), []byte(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts2)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("press %s: HTTP %d", b.ActionID, resp.StatusCode)
	}
	return "", nil
}

// reactionsOn counts the reactions added to the message ts: one per
// message the engine accepted (duplicates get none).
func (e *env) reactionsOn(ts string) int {
	n := 0
	for _, r := range e.fake.Reactions() {
		if r.TS == ts {
			n++
		}
	}
	return n
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The fake workspace: team T1 (testkit.Team), the bot UBOT, and its
// credentials. The tokens look like real ones so that the redaction of
// token-shaped strings is exercised too.
const (
	testBotToken = "xoxb-1111-2222-fAkEbOtToKeN"
	testAppToken = "xapp-1-A111-3333-fAkEaPpToKeN"
	testSecret   = "8f742231b10e8888abcd99fakesecret"
	botUser      = "UBOT"
	botID        = "BBOT"
)

// fakeUser is a users.info answer.
type fakeUser struct {
	handle, display, real, email string
}

// post is a message the fake received: chat.postMessage, chat.update or
// chat.postEphemeral.
type post struct {
	Method    string
	Channel   string
	TS        string // the message's ts (the updated one for chat.update)
	ThreadTS  string
	User      string // chat.postEphemeral's recipient
	Text      string
	Parse     string
	LinkNames string
	Blocks    []fakeBlock
}

type fakeBlock struct {
	Type string `json:"type"`
	Text *struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Verbatim bool   `json:"verbatim"`
	} `json:"text"`
	Elements []struct {
		Type     string `json:"type"`
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		Style    string `json:"style"`
		Text     struct {
			Text string `json:"text"`
		} `json:"text"`
	} `json:"elements"`
}

// section is the text of the post's section blocks.
func (p post) section() string {
	var parts []string
	for _, b := range p.Blocks {
		if b.Type == "section" && b.Text != nil {
			parts = append(parts, b.Text.Text)
		}
	}
	return strings.Join(parts, "\n")
}

type button struct{ ActionID, Value, Label string }

// buttons are the post's buttons, in order.
func (p post) buttons() []button {
	var out []button
	for _, b := range p.Blocks {
		for _, e := range b.Elements {
			if e.Type == "button" {
				out = append(out, button{e.ActionID, e.Value, e.Text.Text})
			}
		}
	}
	return out
}

// button returns the post's button whose action id starts with prefix.
func (p post) button(t *testing.T, actionID string) button {
	t.Helper()
	for _, b := range p.buttons() {
		if b.ActionID == actionID {
			return b
		}
	}
	t.Fatalf("no button %s in %+v", actionID, p.buttons())
	return button{}
}

type reaction struct{ Name, Channel, TS string }

// reply is a canned HTTP answer a test makes the fake give.
type reply struct {
	status int
	header map[string]string
	body   string
}

// fakeSlack is Slack as far as the adapter sees it: the Web API methods it
// calls, over HTTP, and a Socket Mode WebSocket reached through
// apps.connections.open. It records what it receives.
type fakeSlack struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	posts     []post
	reactions []reaction
	users     map[string]fakeUser
	seq       int
	calls     map[string]int
	// hook may answer a Web API call instead of the fake (429s, errors).
	hook func(method string, form url.Values) *reply

	// Socket Mode.
	conn    *websocket.Conn
	writeMu sync.Mutex
	acks    map[string]int
	opened  chan struct{}
	closing chan struct{}
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{
		t: t,
		users: map[string]fakeUser{
			"U-ada":   {handle: "ada", display: "Ada", real: "Ada Lovelace", email: "ada@example.com"},
			"U-grace": {handle: "grace", display: "Grace", real: "Grace Hopper", email: "grace@example.com"},
			"U-alex":  {handle: "alex", display: "Alex", real: "Alex Agent"},
			"U-sam":   {handle: "sam", display: "", real: "Sam Agent"},
		},
		calls:   map[string]int{},
		acks:    map[string]int{},
		opened:  make(chan struct{}, 16),
		closing: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", f.api)
	mux.HandleFunc("/link/", f.socket)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.close)
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) close() {
	f.mu.Lock()
	select {
	case <-f.closing:
	default:
		close(f.closing)
	}
	conn := f.conn
	f.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	f.srv.Close()
}

func (f *fakeSlack) setHook(h func(method string, form url.Values) *reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func (f *fakeSlack) addUser(id string, u fakeUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = u
}

// all returns the posts received so far.
func (f *fakeSlack) all() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

func (f *fakeSlack) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeSlack) allReactions() []reaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reaction(nil), f.reactions...)
}

func (f *fakeSlack) nextTS() string {
	f.seq++
	return fmt.Sprintf("1762077600.%06d", 500000+f.seq)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// api serves the Web API methods the adapter calls, as Slack does: form
// bodies with the token in them (or a bearer token), JSON answers with ok.
func (f *fakeSlack) api(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.PostForm
	token := form.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	want := testBotToken
	if method == "apps.connections.open" {
		want = testAppToken
	}
	f.mu.Lock()
	f.calls[method]++
	hook := f.hook
	f.mu.Unlock()
	if token != want {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	if hook != nil {
		if rep := hook(method, form); rep != nil {
			for k, v := range rep.header {
				w.Header().Set(k, v)
			}
			if rep.body != "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(rep.status)
			_, _ = w.Write([]byte(rep.body))
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "url": "https://test.slack.com/", "team": "Test", "user": "firstline",
			"team_id": "T1", "user_id": botUser, "bot_id": botID, "is_enterprise_install": false})
	case "users.info":
		id := form.Get("user")
		u, ok := f.users[id]
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "user": map[string]any{
			"id": id, "team_id": "T1", "name": u.handle, "real_name": u.real, "deleted": false, "is_bot": false,
			"profile": map[string]any{"display_name": u.display, "real_name": u.real, "email": u.email},
		}})
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		p := post{Method: method, Channel: form.Get("channel"), ThreadTS: form.Get("thread_ts"), User: form.Get("user"),
			Text: form.Get("text"), Parse: form.Get("parse"), LinkNames: form.Get("link_names")}
		if b := form.Get("blocks"); b != "" {
			if err := json.Unmarshal([]byte(b), &p.Blocks); err != nil {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks"})
				return
			}
		}
		if p.Channel == "" {
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		switch method {
		case "chat.update":
			p.TS = form.Get("ts")
		default:
			p.TS = f.nextTS()
		}
		f.posts = append(f.posts, p)
		if method == "chat.postEphemeral" {
			writeJSON(w, map[string]any{"ok": true, "message_ts": p.TS})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS, "text": p.Text,
			"message": map[string]any{"type": "message", "text": p.Text, "user": botUser, "bot_id": botID, "ts": p.TS}})
	case "reactions.add":
		f.reactions = append(f.reactions, reaction{form.Get("name"), form.Get("channel"), form.Get("timestamp")})
		writeJSON(w, map[string]any{"ok": true})
	case "apps.connections.open":
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/link/?ticket=fake-ticket"})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// socket is the Socket Mode endpoint: it says hello, pings, and records the
// acknowledgements it reads.
func (f *fakeSlack) socket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	if old := f.conn; old != nil {
		old.Close()
	}
	f.conn = conn
	f.mu.Unlock()
	hello := map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A1"}}
	if err := f.write(conn, hello); err != nil {
		return
	}
	f.opened <- struct{}{}
	// The handler returns at once: httptest.Server.Close waits for handlers,
	// and this connection lives until the adapter or the test closes it.
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-f.closing:
				return
			case <-t.C:
				if conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)) != nil {
					return
				}
			}
		}
	}()
	go func() {
		for {
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if err := conn.ReadJSON(&ack); err != nil {
				return
			}
			f.mu.Lock()
			f.acks[ack.EnvelopeID]++
			f.mu.Unlock()
		}
	}()
}

func (f *fakeSlack) write(conn *websocket.Conn, v any) error {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	return conn.WriteJSON(v)
}

// push sends a Socket Mode envelope on the open connection.
func (f *fakeSlack) push(t *testing.T, env map[string]any) {
	t.Helper()
	if err := f.pushErr(env); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeSlack) pushErr(env map[string]any) error {
	f.mu.Lock()
	conn := f.conn
	f.mu.Unlock()
	if conn == nil {
		return errors.New("socket mode: no connection")
	}
	if err := f.write(conn, env); err != nil {
		return fmt.Errorf("socket mode: write envelope: %w", err)
	}
	return nil
}

func (f *fakeSlack) acked(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acks[id]
}

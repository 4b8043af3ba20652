package discord

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// A fake Discord: a REST server (httptest) and a gateway WebSocket server
// speaking the real opcodes and JSON shapes, as discordgo expects them.
// Everything the bot sends is recorded for the tests to check.

// Ids in the fake server (snowflakes are decimal strings).
const (
	testBotID   = "1100000000000000001"
	testGuild   = "1200000000000000001"
	testGeneral = "1200000000000000002" // a text channel in the server
	testAgents  = "1200000000000000003" // the agent channel
	testRole    = "1200000000000000004" // the agent role
	testAda     = "1300000000000000001" // a customer
	testGrace   = "1300000000000000002" // an agent
	testLinus   = "1300000000000000003" // another agent
	testOtherBt = "1300000000000000004" // another bot
	testDMAda   = "1400000000000000001" // Ada's DM channel with the bot
	testDMGone  = "1400000000000000002" // a DM channel Discord refuses (50007)
)

// testToken looks like a real bot token: base64 of the bot's id, a
// timestamp part and an HMAC part. Its secret part must never be logged.
var testToken = base64.RawStdEncoding.EncodeToString([]byte(testBotID)) + ".GhJkLm.s3cr3t-HMAC-part_never-in-logs-0123456789"

type fakeUser struct {
	ID, Username, GlobalName, Nick string
	Bot                            bool
}

var fakeUsers = map[string]fakeUser{
	testBotID:   {ID: testBotID, Username: "firstline", Bot: true},
	testAda:     {ID: testAda, Username: "ada", GlobalName: "Ada Lovelace"},
	testGrace:   {ID: testGrace, Username: "grace", GlobalName: "Grace Hopper", Nick: "Grace (support)"},
	testLinus:   {ID: testLinus, Username: "linus", GlobalName: "Linus"},
	testOtherBt: {ID: testOtherBt, Username: "otherbot", Bot: true},
}

type fakeChannel struct {
	ID, GuildID, ParentID string
	Type                  int // 0 text, 1 DM, 11 public thread
}

// fakeMessage is a message in the fake's history.
type fakeMessage struct {
	ID, ChannelID, AuthorID, Content string
	Attachments                      []map[string]any
	Body                             map[string]any // what the bot sent, for its messages
}

// sent is a message create or edit the bot made.
type sent struct {
	Method, Channel, ID string // ID: the message created or edited
	Content             string
	Nonce               string
	EnforceNonce        bool
	AllowedMentions     map[string]any
	HasAllowedMentions  bool
	Components          []any
	Deduped             bool // Discord returned an earlier message for the nonce
}

// customIDs returns the custom_ids of a message's buttons, in order.
func (s sent) customIDs() []string {
	var out []string
	for _, row := range s.Components {
		r, _ := row.(map[string]any)
		cs, _ := r["components"].([]any)
		for _, c := range cs {
			b, _ := c.(map[string]any)
			if id, ok := b["custom_id"].(string); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

type callback struct {
	Interaction string
	Type        int
	Content     string
	Flags       int
}

type threadStart struct {
	Channel, Message, Name string
}

type frame struct {
	Op int    `json:"op"`
	S  *int64 `json:"s"`
	T  string `json:"t,omitempty"`
	D  any    `json:"d"`
}

type fakeDiscord struct {
	t    testing.TB
	rest *httptest.Server
	gw   *httptest.Server

	mu        sync.Mutex
	lastID    uint64
	channels  map[string]fakeChannel
	history   map[string][]*fakeMessage
	nonces    map[string]string // channel + nonce → message id
	sends     []sent
	typing    []string
	threads   []threadStart
	callbacks []callback
	followups []callback
	requests  []string // "METHOD /path?query", every REST request
	failures  map[string][]failure
	appFlags  int64
	rejectAll bool // answer 401 to everything

	// gateway
	conn          *fakeConn
	sessionID     string
	sessions      int
	seq           int64
	events        []frame // dispatched in this session, for Resume
	identifies    int
	resumes       int
	heartbeats    int
	intents       int64
	invalidResume bool // answer the next Resume with Invalid Session
	silent        bool // accept connections and send nothing
}

// failure is an injected REST error for a channel's message posts.
type failure struct {
	after      int // posts let through first
	status     int
	code       int
	retryAfter time.Duration // for 429
}

func newFakeDiscord(t testing.TB) *fakeDiscord {
	f := &fakeDiscord{
		t:        t,
		channels: map[string]fakeChannel{},
		history:  map[string][]*fakeMessage{},
		nonces:   map[string]string{},
		failures: map[string][]failure{},
		appFlags: appFlagGatewayMessageContentLimited,
	}
	for _, c := range []fakeChannel{
		{ID: testGeneral, GuildID: testGuild, Type: 0},
		{ID: testAgents, GuildID: testGuild, Type: 0},
		{ID: testDMAda, Type: 1},
		{ID: testDMGone, Type: 1},
	} {
		f.channels[c.ID] = c
	}
	f.rest = httptest.NewServer(f.restHandler())
	t.Cleanup(f.rest.Close)
	f.gw = httptest.NewServer(http.HandlerFunc(f.serveGateway))
	t.Cleanup(f.gw.Close)
	return f
}

// apiURL is the DISCORD_API_URL pointing at the fake.
func (f *fakeDiscord) apiURL() string { return f.rest.URL + "/api/v9" }

// newID returns a snowflake later than any before.
func (f *fakeDiscord) newID() string {
	id := uint64(time.Now().UnixMilli()-discordEpoch) << 22
	if id <= f.lastID {
		id = f.lastID + 1
	}
	f.lastID = id
	return strconv.FormatUint(id, 10)
}

// ---- REST ----

func (f *fakeDiscord) restHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v9/gateway", f.gateway)
	mux.HandleFunc("GET /api/v9/gateway/bot", f.gateway)
	mux.HandleFunc("GET /api/v9/users/@me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, userJSON(fakeUsers[testBotID]))
	})
	mux.HandleFunc("GET /api/v9/applications/@me", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		flags := f.appFlags
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"id": testBotID, "name": "Firstline", "flags": flags, "bot_public": false})
	})
	mux.HandleFunc("GET /api/v9/channels/{ch}", f.getChannel)
	mux.HandleFunc("GET /api/v9/channels/{ch}/messages", f.getMessages)
	mux.HandleFunc("POST /api/v9/channels/{ch}/messages", f.postMessage)
	mux.HandleFunc("PATCH /api/v9/channels/{ch}/messages/{id}", f.editMessage)
	mux.HandleFunc("POST /api/v9/channels/{ch}/messages/{id}/threads", f.startThread)
	mux.HandleFunc("POST /api/v9/channels/{ch}/typing", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.typing = append(f.typing, r.PathValue("ch"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", f.interactionCallback)
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", f.followup)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		reject := f.rejectAll
		f.mu.Unlock()
		if reject || r.Header.Get("Authorization") != "Bot "+testToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"url":                 "ws" + strings.TrimPrefix(f.gw.URL, "http"),
		"shards":              1,
		"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
	})
}

func (f *fakeDiscord) getChannel(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	c, ok := f.channels[r.PathValue("ch")]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	writeJSON(w, http.StatusOK, channelJSON(c))
}

// getMessages serves GET /channels/{id}/messages?after=&limit=: the
// messages right after `after`, newest first, as Discord returns them.
func (f *fakeDiscord) getMessages(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := r.PathValue("ch")
	if _, ok := f.channels[ch]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	after := r.URL.Query().Get("after")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	var out []map[string]any
	for _, m := range f.history[ch] {
		if after == "" || compareSnowflakes(m.ID, after) > 0 {
			out = append(out, f.messageJSON(m, false))
			if len(out) == limit {
				break
			}
		}
	}
	slices.Reverse(out)
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeDiscord) postMessage(w http.ResponseWriter, r *http.Request) {
	ch := r.PathValue("ch")
	body := mustBody(f.t, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if q := f.failures[ch]; len(q) > 0 {
		if q[0].after > 0 {
			q[0].after--
		} else {
			f.failures[ch] = q[1:]
			writeFailure(w, q[0])
			return
		}
	}
	c, ok := f.channels[ch]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	if c.ID == testDMGone {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "Cannot send messages to this user", "code": codeCannotSendToUser})
		return
	}
	s := recordSent(http.MethodPost, ch, body)
	if utf8.RuneCountInString(s.Content) > MaxMessageLen {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
		return
	}
	if s.EnforceNonce && s.Nonce != "" {
		if id, ok := f.nonces[ch+"/"+s.Nonce]; ok {
			s.ID, s.Deduped = id, true
			f.sends = append(f.sends, s)
			writeJSON(w, http.StatusOK, f.messageJSON(f.find(ch, id), false))
			return
		}
	}
	m := &fakeMessage{ID: f.newID(), ChannelID: ch, AuthorID: testBotID, Content: s.Content, Body: body}
	f.history[ch] = append(f.history[ch], m)
	if s.Nonce != "" {
		f.nonces[ch+"/"+s.Nonce] = m.ID
	}
	s.ID = m.ID
	f.sends = append(f.sends, s)
	writeJSON(w, http.StatusOK, f.messageJSON(m, false))
}

func (f *fakeDiscord) editMessage(w http.ResponseWriter, r *http.Request) {
	ch, id := r.PathValue("ch"), r.PathValue("id")
	body := mustBody(f.t, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.find(ch, id)
	if m == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Message", "code": codeUnknownMessage})
		return
	}
	s := recordSent(http.MethodPatch, ch, body)
	s.ID = id
	f.sends = append(f.sends, s)
	m.Content, m.Body = s.Content, body
	writeJSON(w, http.StatusOK, f.messageJSON(m, false))
}

func (f *fakeDiscord) startThread(w http.ResponseWriter, r *http.Request) {
	ch, id := r.PathValue("ch"), r.PathValue("id")
	body := mustBody(f.t, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	parent, ok := f.channels[ch]
	if !ok || f.find(ch, id) == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Message", "code": codeUnknownMessage})
		return
	}
	if _, exists := f.channels[id]; exists {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "A thread has already been created for this message", "code": codeThreadAlreadyCreated})
		return
	}
	name, _ := body["name"].(string)
	f.threads = append(f.threads, threadStart{Channel: ch, Message: id, Name: name})
	// A thread started from a message has the message's id.
	c := fakeChannel{ID: id, GuildID: parent.GuildID, ParentID: ch, Type: 11}
	f.channels[id] = c
	writeJSON(w, http.StatusCreated, channelJSON(c))
}

func (f *fakeDiscord) interactionCallback(w http.ResponseWriter, r *http.Request) {
	body := mustBody(f.t, r)
	cb := callback{Interaction: r.PathValue("id"), Type: int(num(body["type"]))}
	if d, ok := body["data"].(map[string]any); ok {
		cb.Content, _ = d["content"].(string)
		cb.Flags = int(num(d["flags"]))
	}
	f.mu.Lock()
	f.callbacks = append(f.callbacks, cb)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeDiscord) followup(w http.ResponseWriter, r *http.Request) {
	body := mustBody(f.t, r)
	cb := callback{Interaction: r.PathValue("token"), Flags: int(num(body["flags"]))}
	cb.Content, _ = body["content"].(string)
	f.mu.Lock()
	f.followups = append(f.followups, cb)
	id := f.newID()
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "channel_id": testAgents, "content": cb.Content, "author": userJSON(fakeUsers[testBotID])})
}

// failNext makes the next posts to a channel fail, in order.
func (f *fakeDiscord) failNext(channel string, fails ...failure) {
	f.mu.Lock()
	f.failures[channel] = append(f.failures[channel], fails...)
	f.mu.Unlock()
}

func writeFailure(w http.ResponseWriter, fail failure) {
	if fail.status == http.StatusTooManyRequests {
		secs := fail.retryAfter.Seconds()
		w.Header().Set("Retry-After", strconv.Itoa(int(secs+0.999)))
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
		w.Header().Set("X-RateLimit-Bucket", "fakebucket")
		w.Header().Set("X-RateLimit-Scope", "user")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": false})
		return
	}
	writeJSON(w, fail.status, map[string]any{"message": http.StatusText(fail.status), "code": fail.code})
}

func recordSent(method, ch string, body map[string]any) sent {
	s := sent{Method: method, Channel: ch}
	s.Content, _ = body["content"].(string)
	s.Nonce, _ = body["nonce"].(string)
	s.EnforceNonce, _ = body["enforce_nonce"].(bool)
	s.AllowedMentions, s.HasAllowedMentions = body["allowed_mentions"].(map[string]any)
	s.Components, _ = body["components"].([]any)
	return s
}

func (f *fakeDiscord) find(ch, id string) *fakeMessage {
	for _, m := range f.history[ch] {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// ---- what the tests read ----

// sentTo returns the messages the bot created (not edits, not nonce
// replays) in a channel, in order.
func (f *fakeDiscord) sentTo(channel string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, s := range f.sends {
		if s.Method == http.MethodPost && s.Channel == channel && !s.Deduped {
			out = append(out, s)
		}
	}
	return out
}

func (f *fakeDiscord) allSends() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sends)
}

func (f *fakeDiscord) edits(id string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, s := range f.sends {
		if s.Method == http.MethodPatch && s.ID == id {
			out = append(out, s)
		}
	}
	return out
}

func (f *fakeDiscord) threadStarts() []threadStart {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.threads)
}

func (f *fakeDiscord) callbacksFor(interaction string) []callback {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []callback
	for _, c := range f.callbacks {
		if c.Interaction == interaction {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeDiscord) typedIn(channel string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.typing {
		if c == channel {
			n++
		}
	}
	return n
}

func (f *fakeDiscord) requested(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeDiscord) counts() (identifies, resumes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identifies, f.resumes
}

// ---- gateway ----

type fakeConn struct {
	ws    *websocket.Conn
	mu    sync.Mutex
	ready bool // identified or resumed: dispatches are sent
}

func (c *fakeConn) send(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(v)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveGateway speaks the gateway protocol on one connection: Hello;
// Heartbeat → Heartbeat ACK; Identify → READY; Resume → the missed events
// and RESUMED, or Invalid Session.
func (f *fakeDiscord) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	conn := &fakeConn{ws: ws}
	f.mu.Lock()
	f.conn = conn
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		if f.conn == conn {
			f.conn = nil
		}
		f.mu.Unlock()
	}()
	f.mu.Lock()
	silent := f.silent
	f.mu.Unlock()
	if silent {
		// Accept the connection and say nothing, not even Hello.
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}
	if conn.send(frame{Op: 10, D: map[string]any{"heartbeat_interval": 1000, "_trace": []string{"fake-gateway"}}}) != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &p) != nil {
			f.t.Errorf("gateway: client sent invalid JSON: %s", data)
			return
		}
		switch p.Op {
		case 1:
			f.mu.Lock()
			f.heartbeats++
			f.mu.Unlock()
			_ = conn.send(frame{Op: 11})
		case 2:
			f.identify(conn, p.D)
		case 6:
			f.resume(conn, p.D)
		}
	}
}

func (f *fakeDiscord) identify(conn *fakeConn, raw json.RawMessage) {
	var d struct {
		Token   string `json:"token"`
		Intents int64  `json:"intents"`
	}
	_ = json.Unmarshal(raw, &d)
	if strings.TrimPrefix(d.Token, "Bot ") != testToken {
		_ = conn.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
		conn.ws.Close()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.identifies++
	f.sessions++
	f.intents = d.Intents
	f.sessionID = fmt.Sprintf("session-%d", f.sessions)
	f.seq, f.events = 0, nil
	conn.ready = true
	f.dispatchLocked("READY", map[string]any{
		"v":                  10,
		"user":               userJSON(fakeUsers[testBotID]),
		"guilds":             []any{map[string]any{"id": testGuild, "unavailable": true}},
		"session_id":         f.sessionID,
		"resume_gateway_url": "ws" + strings.TrimPrefix(f.gw.URL, "http"),
		"shard":              []int{0, 1},
		"application":        map[string]any{"id": testBotID, "flags": f.appFlags},
		"private_channels":   []any{},
		"_trace":             []string{"fake-gateway"},
	})
}

func (f *fakeDiscord) resume(conn *fakeConn, raw json.RawMessage) {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	_ = json.Unmarshal(raw, &d)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resumes++
	if f.invalidResume || d.SessionID != f.sessionID || strings.TrimPrefix(d.Token, "Bot ") != testToken {
		f.invalidResume = false
		_ = conn.send(frame{Op: 9, D: false})
		return
	}
	conn.ready = true
	for _, e := range f.events {
		if *e.S > d.Seq {
			_ = conn.send(e)
		}
	}
	f.dispatchLocked("RESUMED", map[string]any{"_trace": []string{"fake-gateway"}})
}

// dispatch sends an event (op 0) in the current session; while the bot is
// disconnected it is only kept, for a Resume to replay.
func (f *fakeDiscord) dispatch(t string, d any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dispatchLocked(t, d)
}

func (f *fakeDiscord) dispatchLocked(t string, d any) {
	f.seq++
	s := f.seq
	e := frame{Op: 0, S: &s, T: t, D: d}
	f.events = append(f.events, e)
	if f.conn != nil && f.conn.ready {
		_ = f.conn.send(e)
	}
}

// drop breaks the connection the way a network failure does: no close
// frame. With invalid set, Discord will not resume the session.
func (f *fakeDiscord) drop(invalid bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidResume = invalid
	if f.conn != nil {
		f.conn.ready = false
		f.conn.ws.UnderlyingConn().Close()
		f.conn = nil
	}
}

// ---- messages from people ----

type msgOpt func(m *fakeMessage)

func withAttachment(name, url string) msgOpt {
	return func(m *fakeMessage) {
		m.Attachments = append(m.Attachments, map[string]any{
			"id": "1500000000000000001", "filename": name, "size": 1234, "url": url,
			"proxy_url": url, "content_type": "image/png", "width": 10, "height": 10,
		})
	}
}

// say stores a message by user in a channel's history and dispatches
// MESSAGE_CREATE for it. It returns the message's id.
func (f *fakeDiscord) say(channel, user, content string, opts ...msgOpt) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.addLocked(channel, user, content, opts...)
	f.dispatchLocked("MESSAGE_CREATE", f.messageJSON(m, true))
	return m.ID
}

// sayOffline stores a message without any event: written while the bot
// was disconnected, to be found only by fetching history.
func (f *fakeDiscord) sayOffline(channel, user, content string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(channel, user, content).ID
}

// redeliver dispatches MESSAGE_CREATE again for a message sent before.
func (f *fakeDiscord) redeliver(channel, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dispatchLocked("MESSAGE_CREATE", f.messageJSON(f.find(channel, id), true))
}

func (f *fakeDiscord) addLocked(channel, user, content string, opts ...msgOpt) *fakeMessage {
	if _, ok := f.channels[channel]; !ok {
		f.t.Fatalf("fake: no channel %s", channel)
	}
	m := &fakeMessage{ID: f.newID(), ChannelID: channel, AuthorID: user, Content: content}
	for _, o := range opts {
		o(m)
	}
	f.history[channel] = append(f.history[channel], m)
	return m
}

// click dispatches INTERACTION_CREATE for a button on a message the bot
// sent, pressed by user. It returns the interaction's id.
func (f *fakeDiscord) click(channel, messageID, customID, user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[channel]
	id := f.newID()
	u := fakeUsers[user]
	d := map[string]any{
		"id":                             id,
		"application_id":                 testBotID,
		"type":                           3,
		"data":                           map[string]any{"custom_id": customID, "component_type": 2},
		"channel_id":                     channel,
		"channel":                        channelJSON(c),
		"token":                          "interaction-token-" + id,
		"version":                        1,
		"locale":                         "en-US",
		"app_permissions":                "2248473465835073",
		"entitlements":                   []any{},
		"authorizing_integration_owners": map[string]any{"0": testGuild},
		"context":                        0,
	}
	if m := f.find(channel, messageID); m != nil {
		d["message"] = f.messageJSON(m, false)
	}
	if c.GuildID != "" {
		d["guild_id"] = c.GuildID
		d["guild_locale"] = "en-US"
		d["member"] = memberJSON(u, true)
	} else {
		d["user"] = userJSON(u)
		d["context"] = 1
	}
	f.dispatchLocked("INTERACTION_CREATE", d)
	return id
}

// ---- JSON shapes ----

func userJSON(u fakeUser) map[string]any {
	var global any
	if u.GlobalName != "" {
		global = u.GlobalName
	}
	return map[string]any{
		"id": u.ID, "username": u.Username, "global_name": global, "discriminator": "0",
		"avatar": nil, "bot": u.Bot, "public_flags": 0,
	}
}

func memberJSON(u fakeUser, withUser bool) map[string]any {
	var nick any
	if u.Nick != "" {
		nick = u.Nick
	}
	m := map[string]any{
		"nick": nick, "roles": []string{}, "joined_at": "2025-01-02T03:04:05.000000+00:00",
		"deaf": false, "mute": false, "flags": 0, "pending": false, "avatar": nil,
	}
	if withUser {
		m["user"] = userJSON(u)
		m["permissions"] = "2248473465835073"
	}
	return m
}

func channelJSON(c fakeChannel) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type, "flags": 0}
	switch c.Type {
	case 1:
		out["recipients"] = []any{userJSON(fakeUsers[testAda])}
		out["last_message_id"] = nil
	case 11:
		out["guild_id"], out["parent_id"], out["name"] = c.GuildID, c.ParentID, "thread"
		out["owner_id"] = testBotID
		out["thread_metadata"] = map[string]any{"archived": false, "auto_archive_duration": 1440, "locked": false, "archive_timestamp": "2026-01-01T00:00:00.000000+00:00"}
	default:
		out["guild_id"], out["name"], out["position"] = c.GuildID, "general", 0
	}
	return out
}

// messageJSON is a message object; a gateway MESSAGE_CREATE adds guild_id
// and member in a server.
func (f *fakeDiscord) messageJSON(m *fakeMessage, event bool) map[string]any {
	author := fakeUsers[m.AuthorID]
	mentions := []any{}
	for id, u := range fakeUsers {
		if strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">") {
			mj := userJSON(u)
			if c := f.channels[m.ChannelID]; c.GuildID != "" {
				mj["member"] = memberJSON(u, false)
			}
			mentions = append(mentions, mj)
		}
	}
	attachments := []any{}
	for _, a := range m.Attachments {
		attachments = append(attachments, a)
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "author": userJSON(author), "content": m.Content,
		"timestamp": "2026-11-02T10:00:00.000000+00:00", "edited_timestamp": nil, "tts": false,
		"mention_everyone": false, "mentions": mentions, "mention_roles": []any{},
		"attachments": attachments, "embeds": []any{}, "pinned": false, "type": 0, "flags": 0,
		"components": []any{},
	}
	if m.Body != nil {
		if cs, ok := m.Body["components"]; ok {
			out["components"] = cs
		}
	}
	if c := f.channels[m.ChannelID]; event && c.GuildID != "" {
		out["guild_id"] = c.GuildID
		out["member"] = memberJSON(author, false)
	}
	return out
}

// ---- helpers ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func mustBody(t testing.TB, r *http.Request) map[string]any {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("fake: read body: %v", err)
	}
	body := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			t.Errorf("fake: %s %s: body is not JSON: %v: %s", r.Method, r.URL.Path, err, data)
		}
	}
	return body
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

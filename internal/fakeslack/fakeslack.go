// Package fakeslack is Slack as Firstline's tests see it: the Web API
// methods the Slack adapter calls, over HTTP, and Socket Mode, a WebSocket
// reached through apps.connections.open, both served by one httptest
// server.
//
// A test drives it as Slack would: customers and agents write (DM, Say),
// press buttons (Press), open assistant threads and write in them
// (StartAssistantThread, AssistantSay); the Web API fails, rate-limits or
// hangs (FailNext, SetHook); connections drop (DropConnections); messages
// reach the history but not the bot, as when Slack gave up on an event
// (Write). It keeps every channel's history, so the bot can look up what it
// posted and fetch back what it missed (conversations.history and
// conversations.replies, paged, with message metadata), and records
// everything the bot did (Posts, Reactions, AssistantCalls, Calls) for the
// test to check.
//
// Socket Mode envelopes are delivered as Slack delivers them: each waits
// for its acknowledgement, and an event envelope left unacknowledged when
// its connection dies (the bot process was killed) is delivered again, with
// retry_attempt counted, on the next connection. A bot process killed and
// started again therefore finds, as with Slack, everything it did not
// acknowledge.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake workspace: team Team, the bot BotUser, and its credentials. The
// tokens look like real ones so that the redaction of token-shaped strings
// is exercised too.
const (
	BotToken      = "xoxb-1111-2222-fAkEbOtToKeN"
	AppToken      = "xapp-1-A111-3333-fAkEaPpToKeN"
	SigningSecret = "8f742231b10e8888abcd99fakesecret"
	BotUser       = "UBOT"
	BotID         = "BBOT"
	Team          = "T1"
)

// User is a users.info answer.
type User struct {
	Handle, Display, RealName, Email string
	// Team is the user's own workspace (team_id), Team when empty: another
	// is a Slack Connect user of another organization.
	Team string
	// Guest is a multi- or single-channel guest (is_restricted,
	// is_ultra_restricted); EmailUnconfirmed clears is_email_confirmed.
	Guest, EmailUnconfirmed bool
	// Locale is the user's Slack language (users.info with
	// include_locale), "en-US" when empty.
	Locale string
}

// Metadata is a message's metadata (chat.postMessage's metadata argument).
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Post is a Web API call that posted or changed a message:
// chat.postMessage, chat.update or chat.postEphemeral.
type Post struct {
	Method    string
	Channel   string
	TS        string // the message's ts (the updated one for chat.update)
	ThreadTS  string
	User      string // chat.postEphemeral's recipient
	Text      string
	Parse     string
	LinkNames string
	Blocks    []Block
	// Metadata is what the post carried, nil for none.
	Metadata *Metadata
}

// Block is a Block Kit block as far as the tests read it.
type Block struct {
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
		URL      string `json:"url"` // a link button's
		Style    string `json:"style"`
		// Text is a button's label; a context block's text element has
		// its text as a plain string instead (elementText reads both).
		Text elementText `json:"text"`
		// A feedback_buttons element's two buttons.
		PositiveButton *feedbackButton `json:"positive_button"`
		NegativeButton *feedbackButton `json:"negative_button"`
	} `json:"elements"`
}

// elementText is an element's "text": a text object, or (in a context
// block's mrkdwn element) a string.
type elementText struct{ Text string }

func (t *elementText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &t.Text)
	}
	var obj struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	t.Text = obj.Text
	return nil
}

// Context is the text of the post's context blocks.
func (p Post) Context() string {
	var parts []string
	for _, b := range p.Blocks {
		if b.Type == "context" {
			for _, e := range b.Elements {
				parts = append(parts, e.Text.Text)
			}
		}
	}
	return strings.Join(parts, "\n")
}

// feedbackButton is one button of a feedback_buttons element.
type feedbackButton struct {
	Text struct {
		Text string `json:"text"`
	} `json:"text"`
	Value              string `json:"value"`
	AccessibilityLabel string `json:"accessibility_label"`
}

// Feedback returns the 👍 and 👎 buttons of the post's feedback_buttons
// element (in a context_actions block), and whether it has one.
func (p Post) Feedback() (up, down Button, ok bool) {
	for _, b := range p.Blocks {
		if b.Type != "context_actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "feedback_buttons" && e.PositiveButton != nil && e.NegativeButton != nil {
				return Button{ActionID: e.ActionID, Value: e.PositiveButton.Value, Label: e.PositiveButton.Text.Text},
					Button{ActionID: e.ActionID, Value: e.NegativeButton.Value, Label: e.NegativeButton.Text.Text}, true
			}
		}
	}
	return Button{}, Button{}, false
}

// Section is the text of the post's section blocks.
func (p Post) Section() string {
	var parts []string
	for _, b := range p.Blocks {
		if b.Type == "section" && b.Text != nil {
			parts = append(parts, b.Text.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Button is a button of a posted message; URL is a link button's.
type Button struct{ ActionID, Value, Label, URL string }

// Buttons are the post's buttons, in order.
func (p Post) Buttons() []Button {
	var out []Button
	for _, b := range p.Blocks {
		for _, e := range b.Elements {
			if e.Type == "button" {
				out = append(out, Button{e.ActionID, e.Value, e.Text.Text, e.URL})
			}
		}
	}
	return out
}

// Button returns the post's button with this action id, failing the test
// when there is none.
func (p Post) Button(t testing.TB, actionID string) Button {
	t.Helper()
	for _, b := range p.Buttons() {
		if b.ActionID == actionID {
			return b
		}
	}
	t.Fatalf("fakeslack: no button %s in %+v", actionID, p.Buttons())
	return Button{}
}

// OutboxID returns the outbox id and part a post's metadata carries (the
// Slack adapter's firstline_outbox metadata), and whether it carries one.
func (p Post) OutboxID() (id string, part int, ok bool) {
	if p.Metadata == nil || p.Metadata.EventType != "firstline_outbox" {
		return "", 0, false
	}
	id, _ = p.Metadata.EventPayload["id"].(string)
	if n, isNum := p.Metadata.EventPayload["part"].(float64); isNum {
		part = int(n)
	}
	return id, part, id != ""
}

// Reaction is a reactions.add call.
type Reaction struct{ Name, Channel, TS string }

// Reply is a canned HTTP answer a test makes the fake give.
type Reply struct {
	// After is how many calls FailNext lets through before this reply.
	After  int
	Status int
	Header map[string]string
	Body   string
	// Hang holds the request this long (or until the client gives up)
	// before answering.
	Hang time.Duration
	// AfterPost carries out the call first, then answers with the reply:
	// Slack has the message, the bot was not told.
	AfterPost bool
}

// msg is a message in a channel's history.
type msg struct {
	TS, ThreadTS string
	User, BotID  string
	Subtype      string
	Text         string
	Blocks       json.RawMessage
	Metadata     *Metadata
}

// Server is a fake Slack.
type Server struct {
	t       testing.TB
	srv     *httptest.Server
	closing chan struct{}

	mu        sync.Mutex
	posts     []Post
	reactions []Reaction
	users     map[string]User
	calls     map[string]int
	history   map[string][]*msg // channel → messages, oldest first
	lastTS    time.Time
	seq       int
	hook      func(method string, form url.Values) *Reply
	latency   time.Duration       // before each answer, after the call is carried out
	failures  map[string][]Reply  // method + " " + channel → replies, in order
	groups    map[string][]string // user group → its users
	members   map[string][]string // channel → its members
	private   map[string]bool     // channel → is_private
	// assistThreads are the assistant threads opened (channel:thread_ts);
	// assistCalls the assistant.threads calls accepted.
	assistThreads map[string]bool
	assistCalls   []AssistantCall

	socket socketState
}

// New starts a fake Slack that stops when the test ends. It knows the
// users U-ada, U-grace (customers), U-alex and U-sam (agents), and the
// private AgentChannel, whose members are the bot, U-alex and U-sam.
func New(t testing.TB) *Server {
	s := &Server{
		t: t,
		users: map[string]User{
			"U-ada":   {Handle: "ada", Display: "Ada", RealName: "Ada Lovelace", Email: "ada@example.com"},
			"U-grace": {Handle: "grace", Display: "Grace", RealName: "Grace Hopper", Email: "grace@example.com"},
			"U-alex":  {Handle: "alex", Display: "Alex", RealName: "Alex Agent"},
			"U-sam":   {Handle: "sam", Display: "", RealName: "Sam Agent"},
		},
		calls:    map[string]int{},
		history:  map[string][]*msg{},
		failures: map[string][]Reply{},
		groups:   map[string][]string{},
		members:  map[string][]string{AgentChannel: {BotUser, "U-alex", "U-sam"}},
		private:  map[string]bool{AgentChannel: true},
		closing:  make(chan struct{}),
	}
	s.socket.init()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.api)
	mux.HandleFunc("/link/", s.serveSocket)
	// Started after the assignment: handlers read s.srv.URL.
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Start()
	go s.deliverLoop()
	t.Cleanup(s.Close)
	return s
}

// APIURL is the SLACK_API_URL pointing at the fake.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Close closes the Socket Mode connections and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		return
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.DropConnections()
	s.srv.Close()
}

// SetHook makes h answer Web API calls before the fake does: a non-nil
// Reply is the answer (429s, errors, hangs).
func (s *Server) SetHook(h func(method string, form url.Values) *Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// SetLatency makes every Web API call take d: the call is carried out at
// once and answered after d, as the real API takes its time. A bot killed
// meanwhile never learns that Slack has its message.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailNext makes the next calls of a Web API method for a channel (its
// channel argument, channel_id for the assistant.threads methods) answer
// with replies, one each, in order (each after letting its After calls
// through).
func (s *Server) FailNext(method, channel string, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + channel
	s.failures[k] = append(s.failures[k], replies...)
}

// AddUser adds a user users.info knows.
func (s *Server) AddUser(id string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = u
}

// NewTS returns a message ts, later than any before, from the current
// time as Slack's are: a ts the bot computes from its own clock compares
// with it.
func (s *Server) NewTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTSLocked()
}

func (s *Server) newTSLocked() string {
	now := time.Now().Truncate(time.Microsecond)
	if !now.After(s.lastTS) {
		now = s.lastTS.Add(time.Microsecond)
	}
	s.lastTS = now
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

// Posts returns the posts received so far.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// PostsSince returns the posts received after the first n, for a reader
// that follows them as they come.
func (s *Server) PostsSince(n int) []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= len(s.posts) {
		return nil
	}
	return slices.Clone(s.posts[max(n, 0):])
}

// Calls counts the calls of a Web API method.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Reactions returns the reactions added so far.
func (s *Server) Reactions() []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reactions)
}

// DMChannel is the id of a user's direct message channel with the bot.
func DMChannel(user string) string { return "D" + strings.TrimPrefix(user, "U") }

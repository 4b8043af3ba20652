package fakeslack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// call makes a Web API call as a bot would and decodes the answer.
func call(t *testing.T, s *Server, method string, form url.Values) map[string]any {
	t.Helper()
	token := BotToken
	if method == "apps.connections.open" {
		token = AppToken
	}
	form.Set("token", token)
	resp, err := http.PostForm(s.APIURL()+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// connect opens a Socket Mode connection and reads its hello.
func connect(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	open := call(t, s, "apps.connections.open", url.Values{})
	ws, _, err := websocket.DefaultDialer.Dial(open["url"].(string), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello = %v, %v", hello, err)
	}
	return ws
}

type wireEnvelope struct {
	EnvelopeID   string `json:"envelope_id"`
	Type         string `json:"type"`
	RetryAttempt int    `json:"retry_attempt"`
}

func read(t *testing.T, ws *websocket.Conn) wireEnvelope {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var e wireEnvelope
	if err := ws.ReadJSON(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRedeliveryAfterCrash: an event envelope left unacknowledged by a
// connection that dies is delivered again on the next connection, with
// retry_attempt counted; a button press is not.
func TestRedeliveryAfterCrash(t *testing.T) {
	s := New(t)
	first := connect(t, s)
	_, ev := s.DM("U-ada", "hello")
	press := s.Press("U-ada", DMChannel("U-ada"), "1.2", Button{ActionID: "x", Value: "1"})
	if e := read(t, first); e.EnvelopeID != ev || e.RetryAttempt != 0 {
		t.Fatalf("first delivery = %+v, want %s", e, ev)
	}
	read(t, first) // the press
	first.UnderlyingConn().Close()

	second := connect(t, s)
	e := read(t, second)
	if e.EnvelopeID != ev || e.RetryAttempt != 1 || e.Type != EventsAPI {
		t.Fatalf("after the crash = %+v, want %s again with retry_attempt 1", e, ev)
	}
	if err := second.WriteJSON(map[string]string{"envelope_id": ev}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Acked(ev) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Acked(ev) != 1 {
		t.Fatal("the acknowledgement was not recorded")
	}
	for _, st := range s.Envelopes() {
		if st.ID == press && (!st.Dropped || st.Deliveries != 1) {
			t.Errorf("press: %+v, want delivered once and dropped with its connection", st)
		}
	}
	if opened, live := s.Connections(); opened != 2 || live != 1 {
		t.Errorf("connections: %d opened, %d live; want 2 and 1", opened, live)
	}
}

// TestHistoryWithMetadata: what the bot posted can be read back, newest
// first, a page at a time, with its metadata only when asked for.
func TestHistoryWithMetadata(t *testing.T) {
	s := New(t)
	for i := range 3 {
		call(t, s, "chat.postMessage", url.Values{"channel": {"D1"}, "text": {"m" + string(rune('0'+i))},
			"metadata": {`{"event_type":"firstline_outbox","event_payload":{"id":"` + string(rune('1'+i)) + `","part":0}}`}})
	}
	s.Say("U-ada", "D1", "a customer's words", "")
	page := call(t, s, "conversations.history", url.Values{"channel": {"D1"}, "limit": {"2"}, "include_all_metadata": {"1"}})
	msgs := page["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["text"] != "a customer's words" || page["has_more"] != true {
		t.Fatalf("first page = %v", page)
	}
	if md, _ := msgs[1].(map[string]any)["metadata"].(map[string]any); md["event_type"] != "firstline_outbox" {
		t.Errorf("metadata = %v", msgs[1])
	}
	cursor := page["response_metadata"].(map[string]any)["next_cursor"].(string)
	page = call(t, s, "conversations.history", url.Values{"channel": {"D1"}, "limit": {"2"}, "cursor": {cursor}})
	msgs = page["messages"].([]any)
	if len(msgs) != 2 || msgs[1].(map[string]any)["text"] != "m0" || msgs[1].(map[string]any)["metadata"] != nil {
		t.Errorf("second page = %v, want the oldest last and no metadata unasked", page)
	}
	if p := s.Posts()[0]; !strings.HasPrefix(p.TS, "17") && !strings.HasPrefix(p.TS, "18") {
		t.Errorf("ts %s is not a current Unix time", p.TS)
	}
	if id, part, ok := s.Posts()[2].OutboxID(); !ok || id != "3" || part != 0 {
		t.Errorf("OutboxID = %s, %d, %v", id, part, ok)
	}
}

// TestDirectory: usergroups.users.list, conversations.members (a page at a
// time) and conversations.info answer as Slack does.
func TestDirectory(t *testing.T) {
	s := New(t)
	if got := call(t, s, "conversations.info", url.Values{"channel": {AgentChannel}}); got["ok"] != true ||
		got["channel"].(map[string]any)["is_private"] != true {
		t.Errorf("agent channel info = %v, want private", got)
	}
	s.SetPrivate(AgentChannel, false)
	if got := call(t, s, "conversations.info", url.Values{"channel": {AgentChannel}}); got["channel"].(map[string]any)["is_private"] != false {
		t.Errorf("info after SetPrivate(false) = %v", got)
	}
	if got := call(t, s, "usergroups.users.list", url.Values{"usergroup": {"SNONE"}}); got["ok"] != false || got["error"] != "no_such_subteam" {
		t.Errorf("unknown group = %v", got)
	}
	s.SetGroup("SAGENTS", "U-alex", "U-sam")
	if got := call(t, s, "usergroups.users.list", url.Values{"usergroup": {"SAGENTS"}}); got["ok"] != true || len(got["users"].([]any)) != 2 {
		t.Errorf("group = %v", got)
	}
	s.SetChannelMembers("CX", "U1", "U2", "U3")
	var all []any
	cursor := ""
	for range 5 {
		got := call(t, s, "conversations.members", url.Values{"channel": {"CX"}, "limit": {"2"}, "cursor": {cursor}})
		all = append(all, got["members"].([]any)...)
		cursor, _ = got["response_metadata"].(map[string]any)["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(all) != 3 {
		t.Errorf("members = %v, want U1 U2 U3", all)
	}
	if got := call(t, s, "conversations.members", url.Values{"channel": {"CNONE"}}); got["error"] != "channel_not_found" {
		t.Errorf("unknown channel members = %v", got)
	}
}

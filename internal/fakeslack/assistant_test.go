package fakeslack

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack/slackevents"
)

// TestAssistantMethods: the assistant.threads methods answer as Slack's
// do, for threads that were opened only, and record what Slack accepted.
func TestAssistantMethods(t *testing.T) {
	t.Parallel()
	s := New(t)
	dm := DMChannel("U-ada")
	if got := call(t, s, SetStatus, url.Values{"channel_id": {dm}, "thread_ts": {"1.000001"}, "status": {"is thinking…"}}); got["error"] != "invalid_thread_ts" {
		t.Errorf("setStatus on a thread never opened: %v", got)
	}
	thread, _ := s.OpenAssistantThread("U-ada", "")
	base := func(more url.Values) url.Values {
		v := url.Values{"channel_id": {dm}, "thread_ts": {thread}}
		for k, x := range more {
			v[k] = x
		}
		return v
	}
	for _, tc := range []struct {
		method string
		form   url.Values
		err    string
	}{
		{SetStatus, base(url.Values{"status": {"is thinking…"}, "loading_messages": {"Reading…,Looking…"}}), ""},
		{SetStatus, base(url.Values{"status": {""}}), ""},
		{SetStatus, base(nil), "invalid_arguments"},
		{SetTitle, base(url.Values{"title": {"Where is my refund?"}}), ""},
		{SetTitle, base(nil), "invalid_arguments"},
		{SetSuggestedPrompts, base(url.Values{"title": {"How can I help?"}, "prompts": {`[{"title":"Refund","message":"Where is my refund?"}]`}}), ""},
		{SetSuggestedPrompts, base(url.Values{"prompts": {`[{"title":"a","message":"a"},{"title":"b","message":"b"},{"title":"c","message":"c"},{"title":"d","message":"d"},{"title":"e","message":"e"}]`}}), "invalid_arguments"},
		{SetSuggestedPrompts, base(url.Values{"prompts": {`[{"title":"no message"}]`}}), "invalid_arguments"},
	} {
		got := call(t, s, tc.method, tc.form)
		if tc.err == "" && got["ok"] != true || tc.err != "" && got["error"] != tc.err {
			t.Errorf("%s %v: %v, want error %q", tc.method, tc.form, got, tc.err)
		}
	}
	want := []AssistantCall{
		{Method: SetStatus, Channel: dm, ThreadTS: thread, Status: "is thinking…", LoadingMessages: []string{"Reading…", "Looking…"}},
		{Method: SetStatus, Channel: dm, ThreadTS: thread},
		{Method: SetTitle, Channel: dm, ThreadTS: thread, Title: "Where is my refund?"},
		{Method: SetSuggestedPrompts, Channel: dm, ThreadTS: thread, Title: "How can I help?", Prompts: []Prompt{{"Refund", "Where is my refund?"}}},
	}
	if diff := cmp.Diff(want, s.AssistantCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// The title is the root message's text now.
	h := call(t, s, "conversations.history", url.Values{"channel": {dm}})
	msgs, _ := h["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "Where is my refund?" || msgs[0].(map[string]any)["subtype"] != "assistant_app_thread" {
		t.Errorf("history = %v", h)
	}
	// FailNext finds these methods by channel_id.
	s.FailNext(SetStatus, dm, Reply{Body: `{"ok":false,"error":"internal_error"}`})
	if got := call(t, s, SetStatus, base(url.Values{"status": {"x"}})); got["error"] != "internal_error" {
		t.Errorf("injected failure: %v", got)
	}
	if n := len(s.AssistantCalls()); n != len(want) {
		t.Errorf("%d calls recorded, want the failed one left out", n)
	}
}

// TestAssistantEvents: the assistant events are what slack-go reads as
// Slack's.
func TestAssistantEvents(t *testing.T) {
	t.Parallel()
	s := New(t)
	thread, started := s.OpenAssistantThread("U-ada", "C-GENERAL")
	for _, tc := range []struct {
		inner map[string]any
		check func(any) bool
	}{
		{started, func(d any) bool {
			e, ok := d.(*slackevents.AssistantThreadStartedEvent)
			return ok && e.AssistantThread.UserID == "U-ada" && e.AssistantThread.ChannelID == DMChannel("U-ada") &&
				e.AssistantThread.ThreadTimeStamp == thread && e.AssistantThread.Context.ChannelID == "C-GENERAL"
		}},
		{AssistantContextChangedEvent("U-ada", thread, "C-RANDOM"), func(d any) bool {
			e, ok := d.(*slackevents.AssistantThreadContextChangedEvent)
			return ok && e.AssistantThread.Context.ChannelID == "C-RANDOM" && e.AssistantThread.Context.TeamID == Team
		}},
		{AssistantIMEvent("U-ada", "hello", "2.000001", thread), func(d any) bool {
			e, ok := d.(*slackevents.MessageEvent)
			return ok && e.ChannelType == "im" && e.ThreadTimeStamp == thread && e.TimeStamp == "2.000001"
		}},
		{AssistantTitleEvent("U-ada", thread, "Refund", "3.000001"), func(d any) bool {
			e, ok := d.(*slackevents.MessageEvent)
			return ok && e.SubType == "message_changed" && e.Message != nil && e.Message.SubType == "assistant_app_thread" &&
				e.Message.Text == "Refund" && e.Message.Edited != nil
		}},
	} {
		body := s.EventCallback(tc.inner)
		ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatalf("%s: %v", tc.inner["type"], err)
		}
		if !tc.check(ev.InnerEvent.Data) {
			t.Errorf("%s read as %#v", tc.inner["type"], ev.InnerEvent.Data)
		}
	}
}

// TestAssistantOverSocket: StartAssistantThread and AssistantSay deliver
// their events over Socket Mode, in order; the message joins the thread.
func TestAssistantOverSocket(t *testing.T) {
	t.Parallel()
	s := New(t)
	ws := connect(t, s)
	thread, started := s.StartAssistantThread("U-ada", "")
	ts, said := s.AssistantSay("U-ada", thread, "where is my refund?")
	for _, want := range []struct{ id, event string }{{started, "assistant_thread_started"}, {said, "message"}} {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var env struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
			Payload    struct {
				Event struct {
					Type     string `json:"type"`
					ThreadTS string `json:"thread_ts"`
					Thread   struct {
						ThreadTS string `json:"thread_ts"`
					} `json:"assistant_thread"`
				} `json:"event"`
			} `json:"payload"`
		}
		if err := ws.ReadJSON(&env); err != nil {
			t.Fatal(err)
		}
		ev := env.Payload.Event
		if env.EnvelopeID != want.id || env.Type != EventsAPI || ev.Type != want.event || ev.ThreadTS+ev.Thread.ThreadTS != thread {
			t.Errorf("envelope = %+v, want %s (%s) in thread %s", env, want.id, want.event, thread)
		}
	}
	r := call(t, s, "conversations.replies", url.Values{"channel": {DMChannel("U-ada")}, "ts": {thread}})
	msgs, _ := r["messages"].([]any)
	if len(msgs) != 2 || msgs[1].(map[string]any)["ts"] != ts {
		t.Errorf("replies = %v, want the root and the message", r)
	}
}

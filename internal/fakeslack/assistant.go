package fakeslack

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Slack's assistant threads (Agents & AI Apps), as docs.slack.dev documents
// them: the assistant_thread_started and assistant_thread_context_changed
// events, and the Web API methods assistant.threads.setStatus,
// assistant.threads.setSuggestedPrompts and assistant.threads.setTitle. A
// thread is opened with OpenAssistantThread (or StartAssistantThread, which
// also delivers the event over Socket Mode); the methods answer
// invalid_thread_ts for a thread that was never opened, as Slack does for
// one it does not know.

// Prompt is one suggested prompt of setSuggestedPrompts.
type Prompt struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// AssistantCall is a call of an assistant.threads method that Slack
// accepted (a call answered with an error, injected or not, is not one).
type AssistantCall struct {
	Method   string // assistant.threads.setStatus, …
	Channel  string // channel_id
	ThreadTS string
	// Status and LoadingMessages are setStatus's; Status "" clears it.
	Status          string
	LoadingMessages []string
	// Title is setTitle's title, or setSuggestedPrompts' title of the list.
	Title   string
	Prompts []Prompt
	// PostsBefore is how many posts (Posts) the fake had received when
	// this call came: a call made before a post has PostsBefore <= the
	// post's index.
	PostsBefore int
}

// The assistant.threads methods.
const (
	SetStatus           = "assistant.threads.setStatus"
	SetSuggestedPrompts = "assistant.threads.setSuggestedPrompts"
	SetTitle            = "assistant.threads.setTitle"
)

// AssistantThreadStartedEvent is the assistant_thread_started event of user
// opening the assistant container: the thread lives in the user's DM
// channel with the app; viewing is the channel the user was looking at
// (its context), "" for none.
func AssistantThreadStartedEvent(user, thread, viewing string) map[string]any {
	return assistantEvent("assistant_thread_started", user, thread, viewing)
}

// AssistantContextChangedEvent is the assistant_thread_context_changed
// event of user moving to another channel while the container is open.
func AssistantContextChangedEvent(user, thread, viewing string) map[string]any {
	return assistantEvent("assistant_thread_context_changed", user, thread, viewing)
}

func assistantEvent(typ, user, thread, viewing string) map[string]any {
	ctx := map[string]any{"team_id": Team, "enterprise_id": nil}
	if viewing != "" {
		ctx["channel_id"] = viewing
	}
	return map[string]any{"type": typ, "event_ts": thread,
		"assistant_thread": map[string]any{"user_id": user, "context": ctx,
			"channel_id": DMChannel(user), "thread_ts": thread}}
}

// AssistantIMEvent is a message event of user in an assistant thread: a
// message.im in the user's DM channel, in the thread.
func AssistantIMEvent(user, text, ts, thread string) map[string]any {
	ev := IMEvent(user, text, ts)
	ev["thread_ts"] = thread
	return ev
}

// OpenAssistantThread opens an assistant thread in user's DM channel, as
// Slack does when the user opens the container, and returns its thread_ts
// and the assistant_thread_started event to deliver (HTTP tests sign and
// post it; StartAssistantThread delivers it over Socket Mode).
//
// The thread's root message joins the DM's history as Slack's does: the
// user's, of subtype assistant_app_thread, reading "Chats from …" until
// setTitle changes it.
func (s *Server) OpenAssistantThread(user, viewing string) (thread string, event map[string]any) {
	s.mu.Lock()
	thread = s.newTSLocked()
	if s.assistThreads == nil {
		s.assistThreads = map[string]bool{}
	}
	s.assistThreads[DMChannel(user)+":"+thread] = true
	s.history[DMChannel(user)] = append(s.history[DMChannel(user)], &msg{TS: thread, User: user,
		Subtype: "assistant_app_thread", Text: "Chats from " + time.Now().UTC().Format(time.RFC3339)})
	s.mu.Unlock()
	return thread, AssistantThreadStartedEvent(user, thread, viewing)
}

// AssistantTitleEvent is the message_changed event Slack sends when the
// title of user's assistant thread is set: its root message, of subtype
// assistant_app_thread, edited to read title.
func AssistantTitleEvent(user, thread, title, editTS string) map[string]any {
	root := func(text string) map[string]any {
		return map[string]any{"type": "message", "subtype": "assistant_app_thread", "user": user, "text": text,
			"ts": thread, "thread_ts": thread, "team": Team}
	}
	edited := root(title)
	edited["edited"] = map[string]any{"user": user, "ts": editTS}
	edited["assistant_app_thread"] = map[string]any{"title": title, "title_blocks": []any{}, "artifacts": []any{}}
	return map[string]any{"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": DMChannel(user), "channel_type": "im", "ts": editTS, "event_ts": editTS,
		"message": edited, "previous_message": root("Chats from …")}
}

// StartAssistantThread is user opening the assistant container, over Socket
// Mode. It returns the thread's thread_ts and the envelope's id.
func (s *Server) StartAssistantThread(user, viewing string) (thread, envelope string) {
	thread, ev := s.OpenAssistantThread(user, viewing)
	return thread, s.Deliver(EventsAPI, s.EventCallback(ev))
}

// AssistantSay is user writing text in an assistant thread, over Socket
// Mode: the message joins the thread's history and its event is queued. It
// returns the message's ts and the envelope's id.
func (s *Server) AssistantSay(user, thread, text string) (ts, envelope string) {
	s.mu.Lock()
	ts = s.addLocked(DMChannel(user), user, text, thread)
	s.mu.Unlock()
	return ts, s.Deliver(EventsAPI, s.EventCallback(AssistantIMEvent(user, text, ts, thread)))
}

// AssistantCalls returns the accepted assistant.threads calls so far, in
// order.
func (s *Server) AssistantCalls() []AssistantCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.assistCalls)
}

// assistantLocked serves the assistant.threads methods.
func (s *Server) assistantLocked(method string, form url.Values) answer {
	c := AssistantCall{Method: method, Channel: form.Get("channel_id"), ThreadTS: form.Get("thread_ts"),
		PostsBefore: len(s.posts)}
	switch {
	case c.Channel == "":
		return fail("channel_not_found")
	case c.ThreadTS == "" || !s.assistThreads[c.Channel+":"+c.ThreadTS]:
		return fail("invalid_thread_ts")
	}
	switch method {
	case SetStatus:
		if _, given := form["status"]; !given {
			return fail("invalid_arguments")
		}
		c.Status = form.Get("status")
		lm := form.Get("loading_messages")
		switch {
		case strings.HasPrefix(lm, "["):
			if json.Unmarshal([]byte(lm), &c.LoadingMessages) != nil {
				return fail("invalid_arguments")
			}
		case lm != "":
			c.LoadingMessages = strings.Split(lm, ",")
		}
		if len(c.LoadingMessages) > 10 {
			return fail("invalid_arguments")
		}
	case SetTitle:
		c.Title = form.Get("title")
		if c.Title == "" {
			return fail("invalid_arguments")
		}
		if root := s.findLocked(c.Channel, c.ThreadTS); root != nil {
			root.Text = c.Title
		}
	case SetSuggestedPrompts:
		c.Title = form.Get("title")
		if err := json.Unmarshal([]byte(form.Get("prompts")), &c.Prompts); err != nil {
			return fail("invalid_arguments")
		}
		if len(c.Prompts) == 0 || len(c.Prompts) > 4 {
			return fail("invalid_arguments")
		}
		for _, p := range c.Prompts {
			if p.Title == "" || p.Message == "" {
				return fail("invalid_arguments")
			}
		}
	}
	s.assistCalls = append(s.assistCalls, c)
	return ok(map[string]any{})
}

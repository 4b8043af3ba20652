package fakeslack

import (
	"net/url"
	"testing"
)

// TestWrite: a written message joins the history as Slack shows it
// (subtype, bot_id, a thread's parent with its own thread_ts), after
// oldest only, and no event is delivered for it.
func TestWrite(t *testing.T) {
	s := New(t)
	first := s.Write("D1", Message{User: "U-ada", Text: "hello"})
	root := s.Write("C1", Message{User: "U-ada", Text: "<@UBOT> help"})
	s.Write("C1", Message{User: "U-ada", Text: "more", Thread: root})
	s.Write("D1", Message{BotID: "BOTHER", Subtype: "bot_message", Text: "deploy done"})
	if envs := s.Envelopes(); len(envs) != 0 {
		t.Errorf("envelopes = %+v, want none: Write delivers nothing", envs)
	}

	page := call(t, s, "conversations.history", url.Values{"channel": {"D1"}, "oldest": {first}})
	msgs := page["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("history after the first message = %v, want the app's message only", page)
	}
	if m := msgs[0].(map[string]any); m["subtype"] != "bot_message" || m["bot_id"] != "BOTHER" || m["type"] != "message" {
		t.Errorf("app message = %v", m)
	}

	page = call(t, s, "conversations.replies", url.Values{"channel": {"C1"}, "ts": {root}})
	msgs = page["messages"].([]any)
	if len(msgs) != 2 || page["has_more"] != false {
		t.Fatalf("replies = %v, want the parent and its reply", page)
	}
	for i, m := range msgs {
		if got := m.(map[string]any)["thread_ts"]; got != root {
			t.Errorf("message %d: thread_ts %v, want the parent's ts %s", i, got, root)
		}
	}
}

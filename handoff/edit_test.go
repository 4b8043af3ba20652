package handoff_test

import (
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// A customer's edits and deletions during a handoff are noted in its
// thread, once each, with secrets masked; outside a handoff, and for
// messages that are not the customer's, nothing is posted.
func TestEditsNotedInHandoffThread(t *testing.T) {
	h := testkit.New(t)
	before := h.DM("U-ada", "status of PAY-1001")
	h.Send(before) // answered by the bot: an edit of it now changes nothing
	edited := func(ed bot.Edit) (bool, []bot.Outgoing) {
		t.Helper()
		n := len(h.Platform.All())
		noted, err := h.Engine.Edited(h.Ctx, ed)
		if err != nil {
			t.Fatalf("Edited(%+v): %v", ed, err)
		}
		// Each edit is a post of its own once the burst gap has passed.
		h.Clock.Advance(burstGap)
		h.Flush()
		return noted, h.Platform.All()[n:]
	}
	if noted, out := edited(bot.Edit{Platform: bot.Slack, MessageID: before.MessageID, EditID: "e0", Text: "status of PAY-1002"}); noted || len(out) != 0 {
		t.Errorf("edit while the bot answers: noted %v, posted %+v; want nothing", noted, out)
	}

	ann := openHandoff(t, h)
	waiting := h.DM("U-ada", "my card 4111 1111 1111 1111 was charged twice")
	h.Send(waiting)

	tests := []struct {
		name      string
		edit      bot.Edit
		wantNoted bool
		want      []string // in the thread post
		notWant   []string
	}{
		{"an edit", bot.Edit{Platform: bot.Slack, MessageID: waiting.MessageID, EditID: "e1", Text: "my card 4111 1111 1111 1111 was charged three times"},
			true, []string{"edited their message of", "charged three times"}, []string{"4111 1111 1111 1111"}},
		{"the same edit delivered again", bot.Edit{Platform: bot.Slack, MessageID: waiting.MessageID, EditID: "e1", Text: "my card was charged three times"},
			false, nil, nil},
		{"a message from before the handoff", bot.Edit{Platform: bot.Slack, MessageID: before.MessageID, EditID: "e2", Text: "status of PAY-1003"},
			true, []string{"PAY-1003"}, nil},
		{"a deletion", bot.Edit{Platform: bot.Slack, MessageID: waiting.MessageID, Deleted: true},
			true, []string{"deleted their message of"}, []string{"charged"}},
		{"a deletion delivered again", bot.Edit{Platform: bot.Slack, MessageID: waiting.MessageID, Deleted: true},
			false, nil, nil},
		{"a message never stored", bot.Edit{Platform: bot.Slack, MessageID: "unknown", EditID: "e3", Text: "x"},
			false, nil, nil},
		{"the same id on the other platform", bot.Edit{Platform: bot.Discord, MessageID: waiting.MessageID, EditID: "e4", Text: "x"},
			false, nil, nil},
	}
	for _, tt := range tests {
		noted, out := edited(tt.edit)
		posts := testkit.Only(out, bot.KindThread)
		if noted != tt.wantNoted || len(posts) != len(out) || (len(posts) == 1) != tt.wantNoted {
			t.Errorf("%s: noted %v, posted %+v; want noted %v and one thread post if noted", tt.name, noted, out, tt.wantNoted)
			continue
		}
		if !noted {
			continue
		}
		if posts[0].ParentID != ann.ID {
			t.Errorf("%s: posted under %d, want the announcement %d", tt.name, posts[0].ParentID, ann.ID)
		}
		for _, w := range tt.want {
			if !strings.Contains(posts[0].Text, w) {
				t.Errorf("%s: thread post %q lacks %q", tt.name, posts[0].Text, w)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(posts[0].Text, w) {
				t.Errorf("%s: thread post %q contains %q", tt.name, posts[0].Text, w)
			}
		}
	}
	// The notes are not messages of the platform: the cursor from which
	// Discord's missed messages are fetched back stays the customer's last
	// real message.
	cursors, err := h.Engine.Cursors(h.Ctx, bot.Slack)
	if err != nil || len(cursors) != 1 || cursors[0].LastMessageID != waiting.MessageID {
		t.Errorf("cursors after the edits = %+v, %v; want the last message, %s", cursors, err, waiting.MessageID)
	}

	// An agent's message in the thread is not the customer's to edit.
	h.Agent(ann, "A1", "claim")
	h.Agent(ann, "A1", "hello Ada")
	var last bot.Message
	err = h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		ms, err := tx.RecentMessages(h.Ctx, ann.ConversationID, 1)
		if err == nil && len(ms) == 1 {
			last = ms[0]
		}
		return err
	})
	if err != nil || last.Role != bot.RoleAgent || !strings.HasPrefix(last.DedupeKey, "slack:") {
		t.Fatalf("the agent's message as stored: %+v, %v", last, err)
	}
	agentMsg := strings.TrimPrefix(last.DedupeKey, "slack:")
	if noted, out := edited(bot.Edit{Platform: bot.Slack, MessageID: agentMsg, EditID: "e5", Text: "x"}); noted || len(out) != 0 {
		t.Errorf("edit of an agent's message: noted %v, posted %+v", noted, out)
	}

	if _, err := h.Engine.Edited(h.Ctx, bot.Edit{Platform: "irc", MessageID: "1"}); err == nil {
		t.Error("an edit from an unknown platform was accepted")
	}
	if _, err := h.Engine.Edited(h.Ctx, bot.Edit{Platform: bot.Slack}); err == nil {
		t.Error("an edit without a message id was accepted")
	}
}

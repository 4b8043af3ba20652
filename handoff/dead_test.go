package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// failingSender refuses for good the messages fail picks and passes the
// others to the harness's recorder.
type failingSender struct {
	rec  *testkit.Recorder
	fail func(m bot.Outgoing) bool
}

func (f failingSender) Send(ctx context.Context, m bot.Outgoing) (string, error) {
	if f.fail(m) {
		return "", outbox.Permanent(errors.New("slack: post: channel_not_found"))
	}
	return f.rec.Send(ctx, m)
}

// TestDeadMessagesReachAgents: a message about a handoff that the outbox
// gives up is reported in the handoff's thread, once; messages about no
// handoff, and thread posts themselves, are not.
func TestDeadMessagesReachAgents(t *testing.T) {
	tests := []struct {
		name string
		fail func(m bot.Outgoing) bool
		// want is what the notice says, "" for no notice.
		want string
	}{
		{"relay", kindWith(bot.KindRelay, "refunded"), "A message to the customer could not be delivered: slack: post: channel_not_found\n> refunded yesterday"},
		{"agent joined", kindWith(bot.KindReply, "has joined"), "A message to the customer could not be delivered"},
		{"rating request", kindWith(bot.KindReply, "as resolved"), "A message to the customer could not be delivered"},
		{"card", kindWith(bot.KindAnnounce, ""), "The card of this handoff could not be posted: slack: post: channel_not_found"},
		{"card update", kindWith(bot.KindUpdate, "claimed"), "The card of this handoff could not be updated"},
		{"answer before any handoff", kindWith(bot.KindReply, "PAY-1001"), ""},
		{"thread post", kindWith(bot.KindThread, "claimed this handoff"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testkit.New(t)
			senders := map[bot.Platform]outbox.Sender{bot.Slack: failingSender{rec: h.Platform, fail: tt.fail}}
			d, err := outbox.New(outbox.Config{Store: h.Store, Senders: senders, Now: h.Clock.Now,
				OnDead: h.Handoffs.DeliveryFailed, MaxAttempts: 3})
			if err != nil {
				t.Fatal(err)
			}
			flush := func() {
				t.Helper()
				if _, err := d.Flush(h.Ctx); err != nil {
					t.Fatal(err)
				}
			}
			say := func(text string) {
				t.Helper()
				if _, err := h.Engine.Handle(h.Ctx, h.DM("U-ada", text)); err != nil {
					t.Fatal(err)
				}
				flush()
			}
			say("status of PAY-1001")
			say("I want to talk to a human")
			hid := handoffOf(t, h)
			alex := handoff.Agent{ID: "U-alex", Name: "Alex", Role: handoff.RoleAgent}
			if _, err := h.Handoffs.Claim(h.Ctx, hid, alex); err != nil {
				t.Fatal(err)
			}
			flush()
			if ann := testkit.Only(h.Platform.All(), bot.KindAnnounce); len(ann) == 1 {
				if _, err := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{Platform: bot.Slack, Channel: testkit.AgentChannel,
					Thread: fmt.Sprintf("ts-%d", ann[0].ID), Agent: alex, Text: "refunded yesterday", MessageID: "a1"}); err != nil {
					t.Fatal(err)
				}
				flush()
			}
			if _, err := h.Handoffs.Resolve(h.Ctx, hid, alex); err != nil {
				t.Fatal(err)
			}
			flush()
			h.Clock.Advance(time.Hour) // any retries come due
			flush()

			var notices []bot.Outgoing
			for _, m := range h.Platform.All() {
				if strings.HasPrefix(m.Text, "⚠️") {
					notices = append(notices, m)
				}
			}
			if tt.want == "" {
				if len(notices) != 0 {
					t.Fatalf("notices %+v, want none", notices)
				}
				return
			}
			n := testkit.MustOne(t, notices, "notice")
			if n.Kind != bot.KindThread || n.HandoffID != hid || !strings.Contains(n.Text, tt.want) {
				t.Errorf("notice = %s for handoff %d: %q; want a thread post of handoff %d saying %q", n.Kind, n.HandoffID, n.Text, hid, tt.want)
			}
		})
	}
}

// kindWith picks the messages of a kind whose text contains text.
func kindWith(kind bot.OutKind, text string) func(bot.Outgoing) bool {
	return func(m bot.Outgoing) bool { return m.Kind == kind && strings.Contains(m.Text, text) }
}

// handoffOf returns the id of U-ada's open handoff.
func handoffOf(t *testing.T, h *testkit.Harness) int64 {
	t.Helper()
	var id int64
	err := h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		conv, err := tx.ActiveConversation(h.Ctx, h.DM("U-ada", "").Key)
		if err != nil {
			return err
		}
		ho, err := tx.OpenHandoff(h.Ctx, conv.ID)
		id = ho.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

package console

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

type fakeEngine struct{}

func (fakeEngine) Handle(context.Context, bot.Incoming) (bot.Accepted, error) {
	return bot.Accepted{}, nil
}

func (fakeEngine) Feedback(context.Context, string, int64, bool) error { return nil }

type fakeHandoffs struct{}

func (fakeHandoffs) AgentMessage(context.Context, handoff.AgentMessage) (handoff.Result, error) {
	return handoff.Result{}, nil
}

func (fakeHandoffs) SendDraft(context.Context, int64, handoff.Agent) (handoff.Result, error) {
	return handoff.Result{}, nil
}

func (fakeHandoffs) Threads(context.Context, bot.Platform) ([]handoff.ThreadCursor, error) {
	return nil, nil
}

var (
	_ Engine   = fakeEngine{}
	_ Handoffs = fakeHandoffs{}
)

func mustConsole(t *testing.T, terminal bool) (*Console, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	c, err := New(Config{Engine: fakeEngine{}, Handoffs: fakeHandoffs{}, Out: &out, Terminal: terminal})
	if err != nil {
		t.Fatal(err)
	}
	return c, &out
}

func TestSendRendersMarkdown(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		msg      bot.Outgoing
		want     string
	}{
		{
			name: "reply, plain",
			msg:  bot.Outgoing{Kind: bot.KindReply, Text: "Here are your payments:\n- **PAY-1002**: 49.90 EUR"},
			want: "bot> Here are your payments:\n     • PAY-1002: 49.90 EUR\n",
		},
		{
			name:     "reply, terminal",
			terminal: true,
			msg:      bot.Outgoing{Kind: bot.KindReply, Text: "Payment **PAY-1002** is **pending**."},
			want:     "bot> Payment \x1b[1mPAY-1002\x1b[22m is \x1b[1mpending\x1b[22m.\n",
		},
		{
			name:     "announcement, terminal: prefixes stay unstyled",
			terminal: true,
			msg:      bot.Outgoing{Kind: bot.KindAnnounce, Mention: true, Text: "**Handoff #1**: Ada\nReason: *asked*"},
			want:     "[agents] @here \x1b[1mHandoff #1\x1b[22m: Ada\n[agents] Reason: \x1b[3masked\x1b[23m\n",
		},
		{
			name: "card update shows its status",
			msg:  bot.Outgoing{Kind: bot.KindUpdate, HandoffID: 3, Text: "**Handoff #3**\n**Status:** claimed by **Alex**"},
			want: "[agents] #3 card: claimed by Alex\n",
		},
		{
			name:     "hostile relay",
			terminal: true,
			msg:      bot.Outgoing{Kind: bot.KindRelay, Author: "Al\x1b[8mex\n", Text: "hi\x1b]0;pwned\x07 \u202e**x**"},
			want:     "agent Al[8mex> hi]0;pwned \x1b[1mx\x1b[22m\n",
		},
		{
			name: "hostile button",
			msg: bot.Outgoing{Kind: bot.KindReply, Text: "see", Buttons: []bot.Button{
				{Action: bot.ActionOpenURL, Label: "Help\x1b[2J", Value: "https://x.test/\u009b"},
			}},
			want: "bot> see\n     [Help[2J] https://x.test/\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out := mustConsole(t, tt.terminal)
			if _, err := c.Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("printed %q; want %q", got, tt.want)
			}
			if !tt.terminal && strings.ContainsRune(out.String(), '\x1b') {
				t.Errorf("plain output holds ESC: %q", out.String())
			}
		})
	}
}

package discord

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// TestNoDoubleAfterCrash: a message whose earlier attempt reached Discord
// although the bot never learned it, retried after Discord forgot the
// nonce (its window is a few minutes), is found among the channel's recent
// messages by its nonce and not created again; only missing parts are.
func TestNoDoubleAfterCrash(t *testing.T) {
	t.Parallel()
	para := strings.Repeat("word ", 300) // 1,500 characters
	tests := []struct {
		name string
		m    bot.Outgoing
		// lost is the create (1-based) whose answer is lost.
		lost int
	}{
		{"reply", bot.Outgoing{ID: 61, Channel: testDMAda, Kind: bot.KindReply, Text: "Your payment is settled."}, 1},
		{"long reply, lost on part 2", bot.Outgoing{ID: 62, Channel: testDMAda, Kind: bot.KindReply, Text: para + "\n\n" + para + "\n\n" + para}, 2},
		{"card", bot.Outgoing{ID: 63, Channel: testAgents, Kind: bot.KindAnnounce, HandoffID: 5, Text: "**Handoff #5**", Mention: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakediscord.New(t)
			a := newSender(t, f, nil)
			f.FailNext(tt.m.Channel, failure{After: tt.lost - 1, AfterCreate: true, Status: http.StatusGatewayTimeout})
			if _, err := a.Send(context.Background(), tt.m); err == nil {
				t.Fatal("the lost answer was not an error")
			}
			f.ExpireNonces()
			m := tt.m
			m.MaybeSent = true
			id, err := newSender(t, f, nil).Send(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			byNonce := map[string]int{}
			for _, s := range f.SentTo(m.Channel) {
				byNonce[s.Nonce]++
			}
			for n, c := range byNonce {
				if c != 1 {
					t.Errorf("nonce %s: %d messages, want 1", n, c)
				}
			}
			if first := f.SentTo(m.Channel)[0]; id != first.ID {
				t.Errorf("Send returned %s, want the first message %s", id, first.ID)
			}
			if m.Kind == bot.KindAnnounce && len(f.ThreadStarts()) != 1 {
				t.Errorf("threads started: %v, want the card's one", f.ThreadStarts())
			}
		})
	}
}

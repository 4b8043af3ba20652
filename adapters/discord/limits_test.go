package discord

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// Gateway events far larger or deeper than Discord sends are handled
// without crashing or stalling: a huge message is cut with a notice,
// attachments are capped, junk nested thousands deep is skipped by the
// decoder, and the next message is answered as usual.
func TestHostileGatewayPayloads(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")

	var opts []fakediscord.MsgOpt
	for i := range 15 {
		opts = append(opts, fakediscord.WithAttachment(fmt.Sprintf("r%d.png", i), fmt.Sprintf("https://cdn.example.com/r%d.png", i)))
	}
	e.f.Say(testDMAda, testAda, strings.Repeat("status of my payments ", 20000), opts...) // 440 KB
	e.waitSent(testDMAda, "only read its first 16 KB")
	e.waitSent(testDMAda, "5 of your attachments could not be passed on")
	for _, m := range e.stored(dmKey()) {
		if len(m.Text) > bot.MaxTextLen {
			t.Errorf("stored a message of %d bytes", len(m.Text))
		}
	}

	// A MESSAGE_CREATE carrying a field nested 5,000 deep.
	nested := json.RawMessage(strings.Repeat("[", 5000) + strings.Repeat("]", 5000))
	e.f.Dispatch("MESSAGE_CREATE", map[string]any{
		"id": "1900000000000000001", "channel_id": testDMAda, "content": "status of PAY-1001",
		"author":    map[string]any{"id": testAda, "username": "ada", "global_name": "Ada Lovelace", "discriminator": "0"},
		"timestamp": "2026-11-02T10:00:00.000000+00:00", "type": 0, "attachments": []any{}, "embeds": []any{},
		"mentions": []any{}, "junk": nested,
	})
	e.waitSent(testDMAda, "120.00")

	// The gateway session is still up: a plain message is answered too.
	e.f.Say(testDMAda, testAda, "status of PAY-1002")
	e.waitSent(testDMAda, "49.90")
}

// FuzzGatewayMessage runs what the adapter does with a MESSAGE_CREATE or
// INTERACTION_CREATE payload before the engine or the handoff flow sees
// it: discordgo's decoding, the checks of who wrote it, the mention and
// attachment translation, and the parsing of button ids. None of it may
// panic, whatever the payload.
func FuzzGatewayMessage(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","channel_id":"2","content":"hi <@` + testBotID + `> and <@!3>","author":{"id":"4","username":"ada"},"mentions":[{"id":"3","username":"grace"},null,{}],"attachments":[{"url":"https://x","filename":"r.png"},null]}`,
		`{"id":"1","type":19,"content":"x","author":{"id":"4","bot":true},"webhook_id":"9"}`,
		`{"type":3,"data":{"custom_id":"fl:claim:7","component_type":2},"channel_id":"2","member":{"user":{"id":"4"}}}`,
		`{"type":3,"data":{"custom_id":"fl:rate:1:5"}}`, `{}`, `null`, `[]`, `{"author":null,"mentions":null}`,
	} {
		f.Add([]byte(s))
	}
	a, err := New(Config{Token: testToken, Engine: noEngine{}, Handoffs: noHandoffs{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 64<<10 {
			return // Discord's messages are far smaller
		}
		var mc discordgo.MessageCreate
		if json.Unmarshal(body, &mc) == nil && mc.Message != nil {
			m := mc.Message
			if a.fromPerson(m) {
				_ = a.text(m)
				_ = a.mentionsSelf(m)
				_ = a.mentioned(m)
				_ = attachments(m)
				_ = threadName(userName(m.Author))
			}
		}
		var ic discordgo.InteractionCreate
		if json.Unmarshal(body, &ic) == nil && ic.Interaction != nil && ic.Type == discordgo.InteractionMessageComponent {
			_, _, _ = parseCustomID(ic.MessageComponentData().CustomID)
		}
	})
}

// noEngine and noHandoffs stand in where the fuzz target never calls them.
type (
	noEngine   struct{ Engine }
	noHandoffs struct{ Handoffs }
)

package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

func TestDirectMessageAnsweredThroughTool(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")

	id := e.f.Say(testDMAda, testAda, "status of PAY-1002")
	reply := e.waitSent(testDMAda, "PAY-1002")

	if !strings.Contains(reply.Content, "**pending**") || !strings.Contains(reply.Content, "49.90 EUR") {
		t.Errorf("answer = %q, want PAY-1002's amount and pending status from the tool", reply.Content)
	}
	if first := e.f.SentTo(testDMAda)[0]; !strings.Contains(first.Content, "AI support assistant") {
		t.Errorf("first message = %q, want the greeting", first.Content)
	}
	ids := reply.CustomIDs()
	if len(ids) != 1 || !strings.HasPrefix(ids[0], "fl:talk_to_person:") {
		t.Errorf("answer buttons = %v, want one Talk to a person", ids)
	}
	if e.f.TypedIn(testDMAda) == 0 {
		t.Error("no typing indicator in the DM")
	}
	e.storedOnce(dmKey(), id)
	var conv bot.Conversation
	err := e.h.Store.WithTx(context.Background(), func(tx bot.Tx) (err error) {
		conv, err = tx.ActiveConversation(context.Background(), dmKey())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !conv.Private || conv.User != testAda || conv.UserName != "Ada Lovelace" || conv.CustomerID != "C-1" {
		t.Errorf("conversation = %+v, want private, Ada's, linked to C-1", conv)
	}
}

func TestGuildMentionAnsweredInThread(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")

	mention := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> status of PAY-1002")
	// The conversation lives in a thread started from the mention, which
	// has the mention's id.
	thread := mention
	refusal := e.waitSent(thread, "direct message")
	starts := e.f.ThreadStarts()
	if len(starts) != 1 || starts[0] != (threadStart{Channel: testGeneral, Message: mention, Name: "Support for Ada Lovelace"}) {
		t.Errorf("threads started = %+v, want one from the mention", starts)
	}
	for _, s := range e.f.SentTo(thread) {
		if strings.Contains(s.Content, "49.90") || strings.Contains(s.Content, "pending") {
			t.Errorf("account data shown in a server thread: %q", s.Content)
		}
	}
	if len(e.f.SentTo(testGeneral)) != 0 {
		t.Errorf("the bot posted in the channel itself: %+v", e.f.SentTo(testGeneral))
	}
	key := bot.ConversationKey{Platform: bot.Discord, Workspace: testGuild, Channel: thread}
	if msgs := e.stored(key); len(msgs) != 1 || msgs[0].Text != "status of PAY-1002" {
		t.Errorf("stored = %+v, want the mention without the bot's mention", msgs)
	}

	// A follow-up in the thread counts without a mention.
	e.f.Say(thread, testAda, "when are you open?")
	e.waitSent(thread, "Monday to")

	// Chatter elsewhere, and other bots, are not for the bot. A second
	// mention afterwards on the same channel is handled after them.
	e.f.Say(testGeneral, testLinus, "lunch anyone?")
	e.f.Say(testGeneral, testOtherBt, "<@"+testBotID+"> beep")
	second := e.f.Say(testGeneral, testLinus, "<@"+testBotID+"> hi there")
	e.waitSent(second, "AI support assistant")
	if n := len(e.f.ThreadStarts()); n != 2 {
		t.Errorf("%d threads started, want 2 (Ada's and Linus's mentions)", n)
	}

	// The Talk to a person button works only for the thread's customer.
	ids := refusal.CustomIDs()
	if len(ids) != 1 {
		t.Fatalf("refusal buttons = %v, want Talk to a person", ids)
	}
	other := e.f.Click(thread, refusal.ID, ids[0], testLinus)
	if cb := e.waitCallback(other); cb.Type != 4 || cb.Flags != 64 || cb.Content != msgNotYours {
		t.Errorf("another user's click answered %+v, want an ephemeral refusal", cb)
	}
	own := e.f.Click(thread, refusal.ID, ids[0], testAda)
	if cb := e.waitCallback(own); cb.Type != 6 {
		t.Errorf("the customer's click answered %+v, want a deferred update", cb)
	}
	card := e.waitCard()
	if !strings.Contains(card.Content, "Ada Lovelace on discord") {
		t.Errorf("card = %q", card.Content)
	}
	e.waitSent(thread, "asked a person")
}

func TestAttachmentsReachAgentsAsLinks(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	card := e.waitCard()
	e.f.Say(testDMAda, testAda, "here is my receipt", fakediscord.WithAttachment("receipt.png", "https://cdn.discordapp.com/attachments/1/2/receipt.png"))
	post := e.waitSent(card.ID, "here is my receipt")
	if !strings.Contains(post.Content, "receipt.png: https://cdn.discordapp.com/attachments/1/2/receipt.png") {
		t.Errorf("thread post = %q, want the attachment as a link", post.Content)
	}
}

func TestMassMentionsNeverPing(t *testing.T) {
	t.Parallel()
	e := start(t)
	text := "@everyone @here <@&1234567> <@" + testLinus + "> I need a human"
	e.f.Say(testDMAda, testAda, text)
	card := e.waitCard()

	roles, _ := card.AllowedMentions["roles"].([]any)
	if parse, _ := card.AllowedMentions["parse"].([]any); len(parse) != 0 || len(roles) != 1 || roles[0] != testRole {
		t.Errorf("card allowed_mentions = %v, want parse [] and roles [%s]", card.AllowedMentions, testRole)
	}
	if !strings.HasPrefix(card.Content, "<@&"+testRole+"> ") {
		t.Errorf("card = %q, want the agent role mentioned first", card.Content)
	}
	if strings.Contains(card.Content, "@everyone") || strings.Contains(card.Content, "@here") {
		t.Errorf("card = %q: mass mentions not defused", card.Content)
	}
	e.f.Say(testDMAda, testAda, "@everyone hurry up")
	post := e.waitSent(card.ID, "hurry up")
	if parse, _ := post.AllowedMentions["parse"].([]any); len(parse) != 0 || post.AllowedMentions["roles"] != nil {
		t.Errorf("thread post allowed_mentions = %v, want parse [] only", post.AllowedMentions)
	}
	// checkInvariants checks every other message at the end.
}

// An unlinked customer asking for account data gets the "Connect your
// account" link as a Discord link button: style 5 with the URL, no
// custom_id (pressing it sends the bot nothing).
func TestConnectLinkButton(t *testing.T) {
	t.Parallel()
	e := start(t, withEngine(func(c *bot.Config) { c.ConnectURL = "https://login.example/connect" }))
	e.f.Say(testDMAda, testAda, "status of my payments")
	offer := e.waitSent(testDMAda, "connect this chat")
	var buttons []map[string]any
	for _, row := range offer.Components {
		r, _ := row.(map[string]any)
		cs, _ := r["components"].([]any)
		for _, c := range cs {
			b, _ := c.(map[string]any)
			buttons = append(buttons, b)
		}
	}
	if len(buttons) != 1 {
		t.Fatalf("buttons = %v, want the link button", buttons)
	}
	b := buttons[0]
	url, _ := b["url"].(string)
	if b["style"] != float64(5) || !strings.HasPrefix(url, "https://login.example/connect?state=") || b["custom_id"] != nil {
		t.Errorf("button = %v; want style 5, the connect URL with a state, no custom_id", b)
	}
	if b["label"] != "Connect your account" {
		t.Errorf("label = %v", b["label"])
	}
}

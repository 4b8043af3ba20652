package discord

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// threadTries returns the thread starts the bot asked for from a message
// of the general channel, failed ones included.
func (e *env) threadTries(message string) int {
	return len(e.f.Requested("POST /api/v9/channels/" + testGeneral + "/messages/" + message + "/threads"))
}

// checkInChannel checks that a message of the bot's in the general channel
// is for user: it starts with their mention, may ping only them, and
// replies to their message replyTo ("" for no reply).
func checkInChannel(t *testing.T, s sent, user, replyTo string) {
	t.Helper()
	if !strings.HasPrefix(s.Content, "<@"+user+"> ") {
		t.Errorf("message in the channel = %q, want it to start with the customer's mention", s.Content)
	}
	if users, _ := s.AllowedMentions["users"].([]any); len(users) != 1 || users[0] != user {
		t.Errorf("allowed_mentions = %v, want users [%s]", s.AllowedMentions, user)
	}
	switch ref := s.MessageReference; {
	case replyTo == "" && ref != nil:
		t.Errorf("message_reference = %v, want none", ref)
	case replyTo != "" && (ref == nil || ref["message_id"] != replyTo || ref["channel_id"] != testGeneral || ref["fail_if_not_exists"] != false):
		t.Errorf("message_reference = %v, want a reply to %s that does not fail if it is gone", ref, replyTo)
	}
}

// Discord's thread endpoint answers 503 to every try: the mention is
// stored all the same, in a conversation held in the channel itself; a
// request for a person opens the handoff, and everything the customer is
// told (the notice, the agent's words) arrives in the channel as replies
// that mention them. Their later mentions continue that conversation;
// nobody else's messages, nor their own chatter, are taken in.
func TestMentionAnsweredInChannelWhenThreadsFail(t *testing.T) {
	t.Parallel()
	e := start(t)
	unavailable := make([]failure, 10)
	for i := range unavailable {
		unavailable[i] = failure{Status: 503}
	}
	e.f.FailThreadStarts(testGeneral, unavailable...)

	mention := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> I want to talk to a human")
	card := e.waitCard()
	if !strings.Contains(card.Content, "Ada Lovelace on discord") || !strings.Contains(card.Content, "The customer asked for a person.") {
		t.Errorf("card = %q", card.Content)
	}
	checkInChannel(t, e.waitSent(testGeneral, "asked a person"), testAda, mention)
	if n := e.threadTries(mention); n != 3 {
		t.Errorf("%d thread starts tried, want 3", n)
	}
	for _, s := range e.f.ThreadStarts() {
		if s.Channel == testGeneral {
			t.Errorf("thread started in the channel: %+v", s)
		}
	}
	key := inChannelKey(testGuild, testGeneral, testAda)
	if msgs := e.stored(key); len(msgs) != 1 || msgs[0].Text != "I want to talk to a human" || msgs[0].DedupeKey != "discord:"+mention {
		t.Errorf("stored = %+v, want the mention", msgs)
	}

	// An agent claims and answers: the words reach the channel.
	e.waitCallback(e.f.Click(testAgents, card.ID, "fl:claim:"+handoffID(t, card), testGrace))
	checkInChannel(t, e.waitSent(testGeneral, "has joined"), testAda, mention)
	e.f.Say(card.ID, testGrace, "Hi Ada, what happened?")
	checkInChannel(t, e.waitSent(testGeneral, "(support): Hi Ada, what happened?"), testAda, mention)

	// Chatter is not for the bot, the customer's own included; her next
	// mention continues her conversation without another thread.
	e.f.Say(testGeneral, testLinus, "lunch anyone?")
	e.f.Say(testGeneral, testAda, "brb")
	next := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> the payment failed twice")
	if post := e.waitSent(card.ID, "the payment failed twice"); !strings.Contains(post.Content, "Ada Lovelace") {
		t.Errorf("handoff thread post = %q, want it attributed to Ada Lovelace", post.Content)
	}
	e.storedOnce(key, mention, next)
	if n := len(e.stored(key)); n != 2 {
		t.Errorf("%d messages stored, want the two mentions", n)
	}
	if n := e.threadTries(next); n != 0 {
		t.Errorf("%d thread starts tried for a follow-up, want none", n)
	}
	e.f.Say(card.ID, testGrace, "Retrying it now")
	checkInChannel(t, e.waitSent(testGeneral, "Retrying it now"), testAda, next)

	for _, s := range e.f.SentTo(testGeneral) {
		if !strings.HasPrefix(s.Content, "<@"+testAda+"> ") {
			t.Errorf("the bot said %q in the channel, not to Ada", s.Content)
		}
	}
}

// Where the bot lacks Create Public Threads, Discord's 403 is final: one
// try, then the conversation is held in the channel. A reply to the bot
// counts as addressing it; another person's mention is their own
// conversation.
func TestMentionAnsweredInChannelWithoutThreadPermission(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.DenyThreads(testGeneral)

	first := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> when are you open?")
	answer := e.waitSent(testGeneral, "Monday to")
	checkInChannel(t, answer, testAda, first)
	if greeting := e.f.SentTo(testGeneral)[0]; !strings.Contains(greeting.Content, "AI support assistant") {
		t.Errorf("first message = %q, want the greeting", greeting.Content)
	} else {
		checkInChannel(t, greeting, testAda, first)
	}
	if n := e.threadTries(first); n != 1 {
		t.Errorf("%d thread starts tried, want 1: missing permission is not retried", n)
	}
	if e.f.TypedIn(testGeneral) == 0 {
		t.Error("no typing indicator in the channel")
	}

	// Discord's Reply with the mention switched off mentions nobody.
	reply := e.f.Say(testGeneral, testAda, "how long does a refund take?", fakediscord.ReplyTo(answer.ID))
	checkInChannel(t, e.waitSent(testGeneral, "5 business"), testAda, reply)

	third := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> I want to talk to a human")
	e.waitCard()
	checkInChannel(t, e.waitSent(testGeneral, "asked a person"), testAda, third)
	key := inChannelKey(testGuild, testGeneral, testAda)
	e.storedOnce(key, first, reply, third)
	if tries := e.f.Requested("POST /api/v9/channels/" + testGeneral + "/messages/"); len(tries) != 1 {
		t.Errorf("thread starts tried: %v, want only the first mention's", tries)
	}

	linus := e.f.Say(testGeneral, testLinus, "<@"+testBotID+"> hi there")
	greeting := e.waitSent(testGeneral, "<@"+testLinus+"> ")
	checkInChannel(t, greeting, testLinus, linus)
	e.storedOnce(inChannelKey(testGuild, testGeneral, testLinus), linus)
	e.storedOnce(key, first, reply, third)
	if n := len(e.stored(key)); n != 3 {
		t.Errorf("Ada's conversation has %d messages, want 3", n)
	}
}

// Without Read Message History the bot cannot reply to a message: it
// mentions the customer in a plain message instead.
func TestInChannelWithoutReadHistoryMentionsOnly(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.DenyThreads(testGeneral)
	e.f.DenyReadHistory(testGeneral)

	e.f.Say(testGeneral, testAda, "<@"+testBotID+"> when are you open?")
	checkInChannel(t, e.waitSent(testGeneral, "Monday to"), testAda, "")
	if !strings.Contains(e.logs.String(), "Read Message History") {
		t.Error("no warning about Read Message History in the logs")
	}
}

// After a new gateway session the bot fetches back the channel of an
// in-channel conversation, and takes in only what its customer wrote to
// the bot.
func TestInChannelBackfillTakesOnlyTheCustomersMentions(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.f.DenyThreads(testGeneral)
	first := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> when are you open?")
	e.waitSent(testGeneral, "Monday to")

	e.f.Drop(true)
	e.f.SayOffline(testGeneral, testLinus, "lunch anyone?")
	e.f.SayOffline(testGeneral, testAda, "brb")
	e.f.SayOffline(testGeneral, testLinus, "<@"+testBotID+"> how long does a refund take?")
	missed := e.f.SayOffline(testGeneral, testAda, "<@"+testBotID+"> how long does a refund take?")

	e.eventually("a new session", func() bool {
		identifies, _ := e.f.Counts()
		return identifies == 2 && e.a.Ready()
	})
	checkInChannel(t, e.waitSent(testGeneral, "5 business"), testAda, missed)
	key := inChannelKey(testGuild, testGeneral, testAda)
	var texts []string
	for _, m := range e.stored(key) {
		texts = append(texts, m.Text)
	}
	if want := []string{"when are you open?", "how long does a refund take?"}; !slices.Equal(texts, want) {
		t.Errorf("stored = %q, want %q", texts, want)
	}
	e.storedOnce(key, first, missed)
	// Linus's missed mention opened no conversation: nothing fetches a
	// channel back for someone who has none.
	if n := e.countSent(testGeneral, "<@"+testLinus+">"); n != 0 {
		t.Errorf("%d messages to Linus, want none", n)
	}
}

func TestInChannelKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, workspace, thread, user string
		ok                            bool
	}{
		{"in a channel", testGuild, "user:" + testAda, testAda, true},
		{"a thread conversation", testGuild, "", "", false},
		{"a direct message", "", "user:" + testAda, "", false},
		{"not an id", testGuild, "user:<@&1>", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, ok := inChannelCustomer(tc.workspace, tc.thread)
			if user != tc.user || ok != tc.ok {
				t.Errorf("inChannelCustomer(%q, %q) = %q, %v; want %q, %v", tc.workspace, tc.thread, user, ok, tc.user, tc.ok)
			}
		})
	}
	if k := inChannelKey(testGuild, testGeneral, testAda); k != (bot.ConversationKey{Platform: bot.Discord, Workspace: testGuild, Channel: testGeneral, Thread: "user:" + testAda}) {
		t.Errorf("key = %+v", k)
	}
}

// A long message to an in-channel conversation is split with room for the
// mention, which only its first part carries, with the reply; a target
// fetched back later than a newer one does not replace it.
func TestSendInChannelLongReply(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	a := newSender(t, f, nil)
	older := f.SayOffline(testGeneral, testAda, "first")
	newer := f.SayOffline(testGeneral, testAda, "second")
	a.replies.put(testGeneral, testAda, newer)
	a.replies.put(testGeneral, testAda, older)

	text := strings.Repeat("word ", 500) // 2,500 characters
	m := bot.Outgoing{ID: 11, Platform: bot.Discord, Workspace: testGuild, Channel: testGeneral, Thread: "user:" + testAda, Kind: bot.KindReply, Text: text}
	if _, err := a.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	parts := f.SentTo(testGeneral)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	checkInChannel(t, parts[0], testAda, newer)
	if n := utf8.RuneCountInString(parts[0].Content); n > MaxMessageLen {
		t.Errorf("first part has %d characters, over Discord's limit", n)
	}
	if second := parts[1]; strings.Contains(second.Content, "<@") || second.MessageReference != nil || second.AllowedMentions["users"] != nil {
		t.Errorf("second part = %+v, want neither mention nor reply", second)
	}
	var got strings.Builder
	for i, p := range parts {
		c := p.Content
		if i == 0 {
			c = strings.TrimPrefix(c, mentionPrefix(testAda))
		}
		got.WriteString(c + " ")
	}
	if strings.Join(strings.Fields(got.String()), " ") != strings.TrimSpace(text) {
		t.Error("the parts do not add up to the text")
	}

	// A thread conversation's reply mentions nobody.
	plain := bot.Outgoing{ID: 12, Platform: bot.Discord, Workspace: testGuild, Channel: testGeneral, Kind: bot.KindReply, Text: "hello"}
	if _, err := a.Send(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	if last := f.SentTo(testGeneral)[2]; last.Content != "hello" || last.MessageReference != nil || last.AllowedMentions["users"] != nil {
		t.Errorf("plain reply = %+v", last)
	}
}

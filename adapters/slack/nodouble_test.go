package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
	slackapi "github.com/slack-go/slack"
)

// restarted returns a second adapter on the same fake Slack, as after a
// restart: it remembers nothing of what the first one posted.
func (e *env) restarted() *Adapter {
	e.t.Helper()
	a, err := New(Config{BotToken: testBotToken, SigningSecret: testSecret, APIURL: e.fake.APIURL(),
		AgentChannel: testkit.AgentChannel, Engine: e.h.Engine, Handoffs: e.h.Handoffs, Logger: e.a.log})
	if err != nil {
		e.t.Fatal(err)
	}
	a.shaper = newShaper(time.Now, channelRate, 50)
	return a
}

// postsOf returns the posts made for outbox row id, by part.
func (e *env) postsOf(id int64) map[int][]post {
	out := map[int][]post{}
	for _, p := range e.fake.Posts() {
		if got, part, ok := p.OutboxID(); ok && got == fmt.Sprint(id) {
			out[part] = append(out[part], p)
		}
	}
	return out
}

// longText is a text Slack takes in three or more parts.
func longText() string {
	var paras []string
	for i := range 40 {
		paras = append(paras, strings.Repeat("word ", 40)+"end of paragraph "+string(rune('A'+i%26)))
	}
	return strings.Join(paras, "\n\n")
}

// TestNoDoubleAfterCrash: a message whose earlier attempt reached Slack
// although the bot never learned it (the answer was lost, the process
// died) is found by its metadata and not posted again; only the parts
// still missing are posted.
func TestNoDoubleAfterCrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	tests := []struct {
		name string
		m    bot.Outgoing
		// lost is the post (1-based) whose answer is lost: Slack has it.
		lost int
	}{
		{"reply", bot.Outgoing{Channel: "DNODBL1", Kind: bot.KindReply, Text: "Your payment is settled."}, 1},
		{"long reply, lost on part 2", bot.Outgoing{Channel: "DNODBL2", Kind: bot.KindReply, Text: longText(),
			Buttons: []bot.Button{{Action: bot.ActionTalkToPerson, Label: "Talk to a person", Value: "7"}}}, 2},
		{"long reply, lost on its last part", bot.Outgoing{Channel: "DNODBL3", Kind: bot.KindReply, Text: longText()}, 3},
		{"card", bot.Outgoing{Channel: "CNODBL4", Kind: bot.KindAnnounce, Text: "Handoff #9", Mention: true, HandoffID: 9}, 1},
		{"thread post", bot.Outgoing{Channel: "CNODBL5", Kind: bot.KindThread, Text: "Ada: hello?"}, 1},
		{"channel thread reply", bot.Outgoing{Channel: "CNODBL6", Thread: "", Kind: bot.KindReply, Text: "In the thread."}, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m := tt.m
			m.ID, m.CreatedAt = int64(9000+i), time.Now()
			if m.Kind == bot.KindThread || tt.name == "channel thread reply" {
				// The thread the message goes under.
				root, _ := e.fake.Say("U-ada", m.Channel, "the thread's root", "")
				m.ParentRef, m.Thread = root, root
			}
			e.fake.FailNext("chat.postMessage", m.Channel, fakeslack.Reply{After: tt.lost - 1, AfterPost: true, Status: http.StatusGatewayTimeout})
			if _, err := e.a.Send(ctx, m); err == nil {
				t.Fatal("the lost answer was not an error")
			}
			// The row comes back after a restart, maybe sent.
			m.MaybeSent = true
			ts, err := e.restarted().Send(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			parts := e.postsOf(m.ID)
			for part, ps := range parts {
				if len(ps) != 1 {
					t.Errorf("part %d posted %d times", part, len(ps))
				}
			}
			if len(parts) < tt.lost || parts[0] == nil || ts != parts[0][0].TS {
				t.Errorf("returned %s, parts %v; want the first part's ts", ts, parts)
			}
		})
	}
}

// TestLookup pins the pieces around the lookup: every post carries its
// outbox id in metadata; without MaybeSent nothing is looked up; a lookup
// Slack refuses for good posts anyway; a rate-limited lookup waits.
func TestLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	ctx := context.Background()
	m := bot.Outgoing{ID: 77, Channel: "DLOOKUP", Kind: bot.KindReply, Text: "hello", CreatedAt: time.Now()}
	if _, err := e.a.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	p := e.postsOf(77)[0]
	if len(p) != 1 || p[0].Metadata.EventType != "firstline_outbox" || p[0].Metadata.EventPayload["id"] != "77" {
		t.Fatalf("posts of row 77: %+v; want one with firstline_outbox metadata", p)
	}
	if n := e.fake.Calls("conversations.history"); n != 0 {
		t.Errorf("%d lookups for a message not maybe sent", n)
	}

	m.ID, m.MaybeSent = 78, true
	e.fake.FailNext("conversations.history", m.Channel, fakeslack.Reply{Body: `{"ok":false,"error":"missing_scope","needed":"im:history"}`})
	if _, err := e.a.Send(ctx, m); err != nil {
		t.Fatalf("refused lookup: %v, want the message posted anyway", err)
	}
	if n := len(e.postsOf(78)[0]); n != 1 {
		t.Errorf("posted %d times after a refused lookup, want once", n)
	}
	if !strings.Contains(e.logs.String(), "cannot look for an earlier attempt") {
		t.Error("the refused lookup was not logged")
	}

	m.ID = 79
	e.fake.FailNext("conversations.history", m.Channel, fakeslack.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "3"}})
	_, err := e.a.Send(ctx, m)
	var se *outbox.SendError
	if !errors.As(err, &se) || se.RetryAfter != 3*time.Second {
		t.Errorf("rate-limited lookup: %v, want to wait 3s", err)
	}
	if n := len(e.postsOf(79)); n != 0 {
		t.Errorf("posted before the lookup could run")
	}
}

// TestLookupTrustsOnlyTheBot: a message carrying a row's firstline_outbox
// metadata counts as already posted only when the bot itself posted it
// (its bot_id, from auth.test). A look-alike from a person (no bot_id) or
// from another app (another bot_id) must not suppress the reply.
func TestLookupTrustsOnlyTheBot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	ctx := context.Background()
	const id = 9100
	m := bot.Outgoing{ID: id, Channel: "DSPOOF", Kind: bot.KindReply, Text: "Your payment is settled.",
		CreatedAt: time.Now(), MaybeSent: true}
	md := func() *fakeslack.Metadata {
		return &fakeslack.Metadata{EventType: "firstline_outbox", EventPayload: map[string]any{"id": fmt.Sprint(id), "part": 0}}
	}
	e.fake.Write(m.Channel, fakeslack.Message{User: "U-mallory", Text: "Your payment is settled.", Metadata: md()})
	e.fake.Write(m.Channel, fakeslack.Message{User: "U-otherapp", BotID: "BOTHER", Subtype: "bot_message",
		Text: "Your payment is settled.", Metadata: md()})

	ts, err := e.restarted().Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	posts := e.postsOf(id)[0]
	if len(posts) != 1 || ts != posts[0].TS {
		t.Fatalf("with look-alikes only: posted %d times (returned %q); want the bot to post it once", len(posts), ts)
	}
	if n := e.fake.Calls("conversations.history"); n == 0 {
		t.Error("a maybe-sent row was posted without a lookup")
	}

	// Now the bot's own message is there: a further retry finds it.
	again, err := e.restarted().Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.postsOf(id)[0]); n != 1 || again != ts {
		t.Errorf("with the bot's own message: posted %d times in all, returned %q; want once, %q", n, again, ts)
	}
}

// TestOutboxPart pins whose messages the lookup trusts.
func TestOutboxPart(t *testing.T) {
	t.Parallel()
	md := slackapi.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"id": "5", "part": float64(1)}}
	tests := []struct {
		name  string
		msg   slackapi.Message
		botID string
		want  bool
	}{
		{"the bot's own", msgBy(fakeslack.BotUser, fakeslack.BotID, md), fakeslack.BotID, true},
		{"a person's, no bot_id", msgBy("U-mallory", "", md), fakeslack.BotID, false},
		{"another app's", msgBy("U-other", "BOTHER", md), fakeslack.BotID, false},
		{"the bot's own, its id unknown", msgBy(fakeslack.BotUser, fakeslack.BotID, md), "", false},
		{"the bot's, another row", msgBy(fakeslack.BotUser, fakeslack.BotID,
			slackapi.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"id": "6"}}), fakeslack.BotID, false},
		{"the bot's, other metadata", msgBy(fakeslack.BotUser, fakeslack.BotID,
			slackapi.SlackMetadata{EventType: "other", EventPayload: md.EventPayload}), fakeslack.BotID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part, ok := outboxPart(tt.msg, "5", tt.botID)
			if ok != tt.want || (ok && part != 1) {
				t.Errorf("outboxPart = %d, %v; want %v", part, ok, tt.want)
			}
		})
	}
}

func msgBy(user, botID string, md slackapi.SlackMetadata) slackapi.Message {
	var m slackapi.Message
	m.User, m.BotID, m.Metadata = user, botID, md
	return m
}

package slack

import (
	"context"
	"errors"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// noPing reports where text holds a mention or a link that Slack would act
// on, other than the allowed prefix.
func noPing(t *testing.T, what, text, allowedPrefix string) {
	t.Helper()
	rest := strings.TrimPrefix(text, allowedPrefix)
	for _, bad := range []string{"<!", "<@", "<#"} {
		if strings.Contains(rest, bad) {
			t.Errorf("%s holds %q, which Slack acts on:\n%s", what, bad, text)
		}
	}
}

// TestCustomerTextDoesNotPing: mentions a customer types (@channel, @here,
// a user, a user group) reach the agent channel as words that ping no one.
func TestCustomerTextDoesNotPing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	since := e.mark()
	e.dm("U-ada", "human please <!channel> <!here> <@U123> <!subteam^S999|@oncall> <!everyone> and a literal &lt;!here&gt;")
	c := e.waitCard(since)
	noPing(t, "the card", c.Section(), "<!here> ")
	noPing(t, "the card's text", c.Text, "<!here> ")
	for _, want := range []string{"@channel", "@here", "@U123", "@oncall", "@everyone", "&lt;!here&gt;"} {
		if !strings.Contains(c.Section(), want) {
			t.Errorf("the card lacks %q:\n%s", want, c.Section())
		}
	}
	since = e.mark()
	e.dm("U-ada", "hello? <!channel> <@UBOT> [click](@U123) <@U-alex>")
	p := e.waitPost(since, "the thread post", inThread(testkit.AgentChannel, c.TS, "hello?"))
	noPing(t, "the thread post", p.Section(), "")
	if !strings.Contains(p.Section(), "@alex") {
		t.Errorf("a mentioned user is not named: %q", p.Section())
	}
}

// TestSendEscapes: whatever the product's text holds (a model's answer, a
// prompt file), nothing in it pings; the adapter's own mention does.
func TestSendEscapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode, withConfig(func(c *Config) { c.AgentMention = "S0AGENTS" }))
	for _, kind := range []bot.OutKind{bot.KindReply, bot.KindRelay, bot.KindThread, bot.KindAnnounce} {
		since := e.mark()
		m := bot.Outgoing{Platform: bot.Slack, Channel: "CX", Kind: kind, Author: "<!channel>", Mention: kind == bot.KindAnnounce,
			Text: "<!channel> <!here|here> <@U123> <!subteam^S1> <#C1> [x](@U1) [y](!here) <https://evil|x> & done"}
		if _, err := e.a.Send(context.Background(), m); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		p := e.fake.Posts()[since]
		prefix := ""
		if kind == bot.KindAnnounce {
			prefix = "<!subteam^S0AGENTS> "
			if !strings.HasPrefix(p.Section(), prefix) {
				t.Errorf("announce = %q, want the user group mention first", p.Section())
			}
		}
		noPing(t, string(kind), p.Section(), prefix)
		noPing(t, string(kind)+" text", p.Text, prefix)
		if !strings.Contains(p.Section(), "&amp; done") || !strings.Contains(p.Section(), "&lt;!channel&gt;") {
			t.Errorf("%s not escaped: %q", kind, p.Section())
		}
		if p.Parse != "none" || p.LinkNames != "false" {
			t.Errorf("%s: parse=%q link_names=%q", kind, p.Parse, p.LinkNames)
		}
		for _, b := range p.Blocks {
			if b.Text != nil && !b.Text.Verbatim {
				t.Errorf("%s: a %s text object is not verbatim: Slack would parse mentions in it", kind, b.Type)
			}
		}
	}
}

// TestAgentMention: SLACK_AGENT_MENTION in Slack's syntax, and bad values
// refused at start-up.
func TestAgentMention(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "<!here>"}, {"here", "<!here>"}, {"channel", "<!channel>"},
		{"S123", "<!subteam^S123>"}, {"U123", "<@U123>"}, {"W0ABC", "<@W0ABC>"},
		{"everyone", ""}, {"@here", ""}, {"S12>", ""}, {"u123", ""},
	}
	for _, tt := range tests {
		got, err := mentionSyntax(tt.in)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "SLACK_AGENT_MENTION") {
				t.Errorf("mentionSyntax(%q) = %q, %v; want an error naming SLACK_AGENT_MENTION", tt.in, got, err)
			}
			continue
		}
		if got != tt.want || err != nil {
			t.Errorf("mentionSyntax(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// Through a real handoff, in the card that pings.
	for _, m := range []struct{ cfg, want string }{{"S123", "<!subteam^S123> "}, {"U123", "<@U123> "}} {
		e := newEnv(t, socketMode, withConfig(func(c *Config) { c.AgentMention = m.cfg }))
		since := e.mark()
		e.dm("U-grace", "I want to talk to a human")
		if c := e.waitCard(since); !strings.HasPrefix(c.Section(), m.want) {
			t.Errorf("%s: card = %q, want it to start with %q", m.cfg, c.Section(), m.want)
		}
	}
}

// TestTalkButtonOnlyForItsCustomer: "Talk to a person" pressed by someone
// else is refused to them alone; the customer's own press opens a handoff.
func TestTalkButtonOnlyForItsCustomer(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			ada := fakeslack.DMChannel("U-ada")
			since := e.mark()
			e.dm("U-ada", "how long does a refund take?")
			answer := e.waitPost(since, "the answer", to(ada, "Refunds are sent back"))
			talk := answer.Button(t, "firstline_talk_to_person")

			since = e.mark()
			e.press("U-grace", ada, answer.TS, talk)
			eph := e.waitPost(since, "the refusal", func(p post) bool { return p.Method == "chat.postEphemeral" })
			if eph.User != "U-grace" || eph.Channel != ada || eph.Text != "This button belongs to another customer's conversation." {
				t.Errorf("refusal = %+v", eph)
			}
			e.press("U-ada", ada, answer.TS, talk)
			c := e.waitCard(since)
			if !strings.Contains(c.Section(), `pressed "Talk to a person"`) {
				t.Errorf("card reason: %q", c.Section())
			}
			if n := len(e.posts(since, card)); n != 1 {
				t.Errorf("%d cards, want 1 (Grace's press opened one?)", n)
			}
		})
	}
}

// TestRateLimited: a 429 with Retry-After defers the message without
// counting a failed attempt; it is delivered once the time has passed.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode, withManualClock())
	var limited atomic.Int32
	e.fake.SetHook(func(method string, form url.Values) *reply {
		if method == "chat.postMessage" && form.Get("channel") == testkit.AgentChannel && limited.Add(1) == 1 {
			return &reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "7"}}
		}
		return nil
	})
	e.dm("U-ada", "I want to talk to a human")
	ctx := context.Background()
	if _, err := e.h.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.posts(0, card)); n != 0 {
		t.Fatalf("%d cards posted despite the 429", n)
	}
	if n := len(e.posts(0, to(fakeslack.DMChannel("U-ada"), "asked a person"))); n != 1 {
		t.Errorf("the customer's acknowledgement was held back by the agent channel's limit")
	}
	rows, err := e.h.Store.Due(ctx, e.h.Clock.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Kind != bot.KindAnnounce {
		t.Fatalf("pending rows = %+v, want the announcement", rows)
	}
	if r := rows[0]; r.Attempts != 0 || r.LastError != "" || !r.NextAttemptAt.Equal(e.h.Clock.Now().Add(7*time.Second)) {
		t.Errorf("deferred row: attempts %d, last error %q, next %v; want 0, none, Retry-After from now", r.Attempts, r.LastError, r.NextAttemptAt)
	}
	e.h.Clock.Advance(6 * time.Second)
	_, _ = e.h.Disp.Flush(ctx)
	if n := len(e.posts(0, card)); n != 0 {
		t.Fatal("posted before Retry-After passed")
	}
	e.h.Clock.Advance(time.Second)
	_, _ = e.h.Disp.Flush(ctx)
	if n := len(e.posts(0, card)); n != 1 {
		t.Fatalf("%d cards after Retry-After, want 1", n)
	}
}

// TestShaperBurst: twenty handoffs announced at once go out at the
// per-channel rate of the injected clock, while the customers' channels are
// served at once.
func TestShaperBurst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode, withManualClock())
	const n = 20
	for i := range n {
		user := "U-c" + string(rune('a'+i))
		e.dm(user, "I want to talk to a human")
	}
	ctx := context.Background()
	var perStep []int
	for step := 0; len(e.posts(0, card)) < n; step++ {
		if step > 2*n {
			t.Fatalf("after %d seconds only %d of %d cards posted", step, len(e.posts(0, card)), n)
		}
		before := len(e.posts(0, card))
		if _, err := e.h.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		perStep = append(perStep, len(e.posts(0, card))-before)
		if step == 0 {
			// Each customer's greeting and acknowledgement went out at once.
			for i := range n {
				ch := fakeslack.DMChannel("U-c" + string(rune('a'+i)))
				if got := len(e.posts(0, func(p post) bool { return p.Channel == ch })); got != 2 {
					t.Errorf("%s: %d posts in the first second, want 2", ch, got)
				}
			}
		}
		e.h.Clock.Advance(time.Second)
	}
	t.Logf("cards per second: %v", perStep)
	if perStep[0] > channelBurst {
		t.Errorf("%d cards in the first second, want at most the burst %d", perStep[0], channelBurst)
	}
	for i, k := range perStep[1:] {
		if k > 1 {
			t.Errorf("second %d: %d cards, want at most 1 a second", i+1, k)
		}
	}
	if len(perStep) < n-channelBurst {
		t.Errorf("all %d cards within %d seconds: the shaper did not hold them", n, len(perStep))
	}
	rows, err := e.h.Store.Due(ctx, e.h.Clock.Now().Add(time.Hour), 100)
	if err != nil || len(rows) != 0 {
		t.Errorf("rows left: %d, %v", len(rows), err)
	}
	if got := e.fake.Calls("chat.postMessage"); got != 3*n {
		t.Errorf("%d chat.postMessage calls for %d posts: the shaper must hold posts back before Slack refuses them", got, 3*n)
	}
}

// TestSendErrors: Slack's answers classified for the dispatcher.
func TestSendErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	tests := []struct {
		name      string
		rep       *reply
		permanent bool
		retry     time.Duration
	}{
		{"channel gone", &reply{Status: 200, Body: `{"ok":false,"error":"channel_not_found"}`}, true, 0},
		{"not in channel", &reply{Status: 200, Body: `{"ok":false,"error":"not_in_channel"}`}, true, 0},
		{"token revoked", &reply{Status: 200, Body: `{"ok":false,"error":"token_revoked"}`}, true, 0},
		{"bad blocks", &reply{Status: 200, Body: `{"ok":false,"error":"invalid_blocks"}`}, true, 0},
		{"429", &reply{Status: 429, Header: map[string]string{"Retry-After": "30"}}, false, 30 * time.Second},
		{"ratelimited", &reply{Status: 200, Body: `{"ok":false,"error":"ratelimited"}`}, false, time.Second},
		{"5xx", &reply{Status: 503}, false, 0},
		{"internal error", &reply{Status: 200, Body: `{"ok":false,"error":"internal_error"}`}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.SetHook(func(string, url.Values) *reply { return tt.rep })
			_, err := e.a.Send(context.Background(), bot.Outgoing{Channel: "C" + strings.ReplaceAll(tt.name, " ", ""), Kind: bot.KindReply, Text: "hi"})
			if err == nil {
				t.Fatal("no error")
			}
			var se *outbox.SendError
			isSE := errors.As(err, &se)
			switch {
			case tt.permanent && (!isSE || !se.Permanent):
				t.Errorf("%v: not permanent", err)
			case tt.retry > 0 && (!isSE || se.RetryAfter != tt.retry):
				t.Errorf("%v: want a rate limit of %v", err, tt.retry)
			case !tt.permanent && tt.retry == 0 && isSE:
				t.Errorf("%v: want a plain, retryable error", err)
			}
			if !strings.HasPrefix(err.Error(), "slack: post reply: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
		})
	}
	e.fake.SetHook(nil)

	// A network failure is retryable; the card update of a card never
	// posted is not.
	dead, err := New(Config{BotToken: testBotToken, SigningSecret: testSecret, APIURL: "http://127.0.0.1:1/api/",
		Engine: e.h.Engine, Handoffs: e.h.Handoffs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dead.Send(context.Background(), bot.Outgoing{Channel: "C1", Kind: bot.KindReply, Text: "hi"})
	var se *outbox.SendError
	if err == nil || errors.As(err, &se) {
		t.Errorf("network failure: %v, want a plain error", err)
	}
	_, err = e.a.Send(context.Background(), bot.Outgoing{Channel: "C1", Kind: bot.KindUpdate, Text: "x"})
	if !errors.As(err, &se) || !se.Permanent {
		t.Errorf("update without a card: %v, want permanent", err)
	}
}

// TestLongMessages: a long answer is split within Slack's limits, the
// buttons on its last part, its first part's ts returned; a rate limit
// between parts resumes where it stopped.
func TestLongMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	var paras []string
	for i := range 40 {
		paras = append(paras, strings.Repeat("word ", 40)+"end of paragraph "+string(rune('A'+i%26)))
	}
	text := strings.Join(paras, "\n\n")
	m := bot.Outgoing{ID: 4242, Channel: "CLONG", Kind: bot.KindReply, Text: text,
		Buttons: []bot.Button{{Action: bot.ActionTalkToPerson, Label: "Talk to a person", Value: "7"}}}

	// The third part meets a 429: the retry posts parts 3… only.
	var calls atomic.Int32
	e.fake.SetHook(func(method string, _ url.Values) *reply {
		if method == "chat.postMessage" && calls.Add(1) == 3 {
			return &reply{Status: 429, Header: map[string]string{"Retry-After": "1"}}
		}
		return nil
	})
	_, err := e.a.Send(context.Background(), m)
	var se *outbox.SendError
	if !errors.As(err, &se) || se.RetryAfter != time.Second {
		t.Fatalf("first attempt: %v, want a rate limit", err)
	}
	ts, err := e.a.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	posts := e.posts(0, func(p post) bool { return p.Channel == "CLONG" })
	if len(posts) < 3 {
		t.Fatalf("%d parts", len(posts))
	}
	if ts != posts[0].TS {
		t.Errorf("returned ts %s, want the first part's %s", ts, posts[0].TS)
	}
	var joined []string
	for i, p := range posts {
		if n := utf16Len(p.Section()); n > sectionLimit || n == 0 {
			t.Errorf("part %d: %d characters", i, n)
		}
		if (len(p.Buttons()) > 0) != (i == len(posts)-1) {
			t.Errorf("part %d of %d has buttons %v", i+1, len(posts), p.Buttons())
		}
		joined = append(joined, p.Section())
	}
	if got := strings.Join(joined, "\n\n"); got != text {
		t.Errorf("the parts do not add up to the text (or a part was posted twice)")
	}
}

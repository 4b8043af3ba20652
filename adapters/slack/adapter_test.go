package slack

import (
	"context"
	"errors"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestSecretsNeverLogged: tokens and the signing secret appear in no log
// line and no error, whatever goes wrong.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			// Slack failing in ways that get logged: users.info down, a
			// reaction refused, a post rate-limited.
			var once bool
			e.fake.SetHook(func(method string, form url.Values) *reply {
				switch method {
				case "users.info":
					return &reply{Status: http.StatusInternalServerError}
				case "reactions.add":
					return &reply{Status: 200, Body: `{"ok":false,"error":"missing_scope","needed":"reactions:write"}`}
				case "chat.postMessage":
					if !once && form.Get("channel") == fakeslack.DMChannel("U-ada") {
						once = true
						return &reply{Status: 429, Header: map[string]string{"Retry-After": "1"}}
					}
				}
				return nil
			})
			since := e.mark()
			e.dm("U-ada", "status of PAY-1001 "+testBotToken)
			e.waitPost(since, "the answer", to(fakeslack.DMChannel("U-ada"), "PAY-1001"))
			if m == httpMode {
				postSigned(t, e.app.URL+"/slack/events", []byte(`{}`), nil, "wrong", time.Now())
			}
			_, err := e.a.Send(context.Background(), bot.Outgoing{Channel: "", Kind: bot.KindReply, Text: "x"})
			if err == nil {
				t.Fatal("no error for a post without a channel")
			}
			errs := []string{err.Error(), e.a.wrap("test", errors.New("boom "+testAppToken+" "+testSecret+" xoxp-123-abc")).Error()}
			logs := e.logs.String()
			if !strings.Contains(logs, "users.info failed") {
				t.Errorf("the failures were not logged:\n%s", logs)
			}
			for _, s := range append(errs, logs) {
				for _, secret := range []string{testBotToken, testAppToken, testSecret, "xoxp-123", "fAkE"} {
					if strings.Contains(s, secret) {
						t.Errorf("%q leaked into:\n%s", secret, s)
					}
				}
			}
		})
	}
}

// TestAgentChannel: what agents write outside handoff threads, what bots
// write, and edits are nobody's business; transfer @agent hands a handoff
// on; files reach agents as links.
func TestAgentChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	const agents = testkit.AgentChannel
	ada := fakeslack.DMChannel("U-ada")
	since := e.mark()
	e.dm("U-ada", "talk to a human")
	c := e.waitCard(since)
	e.agentSays("U-alex", c.TS, "claim")
	e.waitPost(since, "joined", to(ada, "Alex from our support team has joined"))

	since = e.mark()
	// Top-level chatter, a bot, an edit, the bot itself: all ignored.
	e.deliver(fakeslack.ChannelEvent("U-alex", agents, "claim", e.fake.NewTS(), ""))
	bot := fakeslack.ChannelEvent("U-other", agents, "resolve", e.fake.NewTS(), c.TS)
	bot["bot_id"] = "B0THER"
	e.deliver(bot)
	edit := fakeslack.ChannelEvent("U-alex", agents, "resolve", e.fake.NewTS(), c.TS)
	edit["subtype"] = "message_changed"
	e.deliver(edit)
	self := fakeslack.ChannelEvent(botUser, agents, "resolve", e.fake.NewTS(), c.TS)
	e.deliver(self)
	// A customer's file reaches the thread as a link.
	file := fakeslack.IMEvent("U-ada", "here is the receipt", e.fake.NewTS())
	file["subtype"] = "file_share"
	file["files"] = []any{map[string]any{"id": "F1", "name": "receipt.png", "title": "receipt.png",
		"url_private": "https://files.slack.com/files-pri/T1-F1/receipt.png", "permalink": "https://test.slack.com/files/U-ada/F1/receipt.png"}}
	e.deliver(file)
	p := e.waitPost(since, "the file in the thread", inThread(agents, c.TS, "receipt"))
	if !strings.Contains(p.Section(), "<https://test.slack.com/files/U-ada/F1/receipt.png>") {
		t.Errorf("file link = %q", p.Section())
	}
	// Transfer to a mentioned agent.
	e.agentSays("U-alex", c.TS, "transfer <@U-sam>")
	e.waitPost(since, "the transfer", to(ada, "Sam Agent from our support team has joined"))
	e.waitPost(since, "the card shows the new owner", updateOf(c.TS, "claimed by Sam Agent"))
	for _, p := range e.fake.Posts()[since:] {
		if strings.Contains(p.Section(), "Resolved by") || strings.Contains(p.Section(), "marked this conversation as resolved") {
			t.Errorf("an ignored message acted: %q", p.Section())
		}
	}
}

// TestLinkByEmail: with SLACK_LINK_BY_EMAIL, a Slack user no admin linked
// is linked by their profile email, before their first message is read.
func TestLinkByEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode, withConfig(func(c *Config) { c.LinkByEmail = true }))
	ctx := context.Background()
	if err := e.h.Store.PutCustomer(ctx, bot.Customer{ID: "C-3", Name: "Linus", Email: "linus@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := e.h.Store.PutPayment(ctx, bot.Payment{Reference: "PAY-3001", CustomerID: "C-3", Amount: "5.00", Currency: "EUR",
		Status: bot.PaymentFailed, Merchant: "Kiosk", CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e.fake.AddUser("U-linus", fakeslack.User{Handle: "linus", Display: "Linus", Email: "linus@example.com"})
	since := e.mark()
	e.dm("U-linus", "status of PAY-3001")
	if p := e.waitPost(since, "the answer", to(fakeslack.DMChannel("U-linus"), "PAY-3001")); !strings.Contains(p.Section(), "failed") {
		t.Errorf("answer = %q, want the linked customer's payment", p.Section())
	}
	if strings.Contains(e.logs.String(), "linus@example.com") {
		t.Error("the email was logged")
	}
	// Without an email match: general help only.
	e.fake.AddUser("U-nobody", fakeslack.User{Handle: "nobody", Email: "nobody@example.com"})
	since = e.mark()
	e.dm("U-nobody", "status of PAY-3001")
	e.waitPost(since, "the refusal", to(fakeslack.DMChannel("U-nobody"), "can't see any account linked"))

	// Profiles Slack does not vouch for carry the customer's email and are
	// not linked: a guest, a Slack Connect user of another organization, an
	// unconfirmed address. The audit log says why.
	for _, tc := range []struct {
		user   string
		u      fakeslack.User
		reason string
	}{
		{"U-guest", fakeslack.User{Handle: "guest", Email: "linus@example.com", Guest: true}, "guest"},
		{"U-connect", fakeslack.User{Handle: "connect", Email: "linus@example.com", Team: "T-OTHER"}, "external_workspace"},
		{"U-unconfirmed", fakeslack.User{Handle: "unconfirmed", Email: "linus@example.com", EmailUnconfirmed: true}, "email_unconfirmed"},
	} {
		e.fake.AddUser(tc.user, tc.u)
		since = e.mark()
		e.dm(tc.user, "status of PAY-3001")
		if p := e.waitPost(since, "the refusal", to(fakeslack.DMChannel(tc.user), "can't see any account linked")); strings.Contains(p.Section(), "failed") {
			t.Errorf("%s saw the customer's payment: %q", tc.user, p.Section())
		}
		entries := auditOf(t, e, bot.ActorOf(bot.NewIdentity(bot.Slack, fakeslack.Team, tc.user)), bot.AuditLinkByEmail)
		if len(entries) != 1 || entries[0].Outcome != bot.AuditRefused || entries[0].Reason != tc.reason {
			t.Errorf("%s: audit = %+v; want one refused link_by_email, reason %s", tc.user, entries, tc.reason)
		}
	}
}

// auditOf returns the audit entries an actor made of one action.
func auditOf(t *testing.T, e *env, actor string, action bot.AuditAction) []bot.AuditEntry {
	t.Helper()
	var out []bot.AuditEntry
	err := e.h.Store.WithTx(context.Background(), func(tx bot.Tx) error {
		all, err := tx.AuditEntries(context.Background(), bot.AuditQuery{})
		for _, a := range all {
			if a.Actor == actor && a.Action == action {
				out = append(out, a)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSocketReconnect: when the connection drops, slack-go opens a new one
// and events flow again; Run closes the connection when it ends.
func TestSocketReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	opened, _ := e.fake.Connections()
	e.fake.DropConnections()
	waitUntil(t, "a new connection after the old one dropped", func() bool {
		n, live := e.fake.Connections()
		return n > opened && live == 1
	})
	waitUntil(t, "ready again", e.a.Ready)
	since := e.mark()
	e.dm("U-grace", "status of PAY-2001")
	e.waitPost(since, "the answer", to(fakeslack.DMChannel("U-grace"), "PAY-2001"))
}

// TestStartUp: configuration mistakes are refused by New, naming the
// setting; a revoked token stops Run.
func TestStartUp(t *testing.T) {
	t.Parallel()
	h := testkit.New(t)
	base := Config{BotToken: testBotToken, SigningSecret: testSecret, Engine: h.Engine, Handoffs: h.Handoffs}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no bot token", func(c *Config) { c.BotToken = "" }, "SLACK_BOT_TOKEN"},
		{"HTTP without a secret", func(c *Config) { c.SigningSecret = "" }, "SLACK_SIGNING_SECRET"},
		{"bad mention", func(c *Config) { c.AgentMention = "<!everyone>" }, "SLACK_AGENT_MENTION"},
		{"bad API URL", func(c *Config) { c.APIURL = "ftp://x" }, "SLACK_API_URL"},
		{"no engine", func(c *Config) { c.Engine = nil }, "engine"},
	}
	for _, tt := range tests {
		cfg := base
		tt.change(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
	socket := base
	socket.SigningSecret, socket.AppToken = "", testAppToken
	if _, err := New(socket); err != nil {
		t.Errorf("Socket Mode needs no signing secret: %v", err)
	}

	fake := fakeslack.New(t)
	cfg := base
	cfg.APIURL = fake.APIURL()
	cfg.BotToken = "xoxb-revoked"
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "xoxb-revoked") {
		t.Errorf("Run with a bad token: %v", err)
	}
	if a.Ready() {
		t.Error("ready with a bad token")
	}
}

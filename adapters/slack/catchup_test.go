package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	slackapi "github.com/slack-go/slack"
)

// restart starts another adapter on the same store, engine and fake Slack,
// as the process started again would, and waits until it is ready and its
// start-up catch-up is done. The first adapter keeps running: it is the
// outbox's sender. tweak changes the new adapter before it runs.
func (e *env) restart(tweak ...func(*Adapter)) *Adapter {
	e.t.Helper()
	a, err := New(e.a.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	a.shaper = newShaper(time.Now, channelRate, 50)
	for _, f := range tweak {
		f(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("Run of the restarted adapter: %v", err)
			}
		case <-time.After(10 * time.Second):
			e.t.Error("the restarted adapter's Run did not return after its context ended")
		}
	})
	waitUntil(e.t, "the restarted adapter is ready", a.Ready)
	waitRounds(e.t, a, 1)
	return a
}

// waitRounds waits until a has done n catch-up rounds.
func waitRounds(t *testing.T, a *Adapter, n int64) {
	t.Helper()
	waitUntil(t, "the catch-up", func() bool { return a.catch.rounds.Load() >= n })
}

// writeAndDeliver is a message that reaches the history and the bot.
func (e *env) writeAndDeliver(channel string, m fakeslack.Message, event func(ts string) map[string]any) string {
	e.t.Helper()
	ts := e.fake.Write(channel, m)
	e.deliver(event(ts))
	return ts
}

// TestCatchUpAfterOutage: a customer writes while the bot is away for
// longer than Slack retries (the event is never delivered); the adapter
// started again fetches the message back and it is answered, once; started
// once more, it answers nothing again.
func TestCatchUpAfterOutage(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			waitRounds(t, e.a, 1)
			ada := fakeslack.DMChannel("U-ada")
			since := e.mark()
			e.dm("U-ada", "status of PAY-1001")
			e.waitPost(since, "the answer before the outage", to(ada, "PAY-1001"))

			missed := e.fake.Write(ada, fakeslack.Message{User: "U-ada", Text: "status of PAY-1002"})
			b := e.restart()
			e.waitPost(since, "the answer to the missed message", to(ada, "PAY-1002"))
			if n := b.catch.stored.Load(); n != 1 {
				t.Errorf("the restarted adapter fetched back %d messages, want 1", n)
			}

			c := e.restart()
			if n := c.catch.stored.Load(); n != 0 {
				t.Errorf("started once more, it fetched back %d messages, want 0", n)
			}
			if n := len(e.posts(since, to(ada, "PAY-1002"))); n != 1 {
				t.Errorf("%d answers to the missed message, want 1", n)
			}
			if n := len(e.posts(since, to(ada, "PAY-1001"))); n != 1 {
				t.Errorf("%d answers to the message before the outage, want 1", n)
			}
			waitUntil(t, "the sign of life", func() bool { return e.reactionsOn(missed) > 0 })
			if n := e.reactionsOn(missed); n != 1 {
				t.Errorf("%d reactions on the missed message, want 1 (one per message accepted)", n)
			}
		})
	}
}

// TestCatchUpDedupesLive: a message both delivered live and fetched back
// is answered once, whichever comes first (Slack's last retry can arrive
// after the catch-up read the message).
func TestCatchUpDedupesLive(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			waitRounds(t, e.a, 1)
			ada := fakeslack.DMChannel("U-ada")
			since := e.mark()

			// Live first, then in the catch-up.
			text := "status of PAY-1001"
			live := e.writeAndDeliver(ada, fakeslack.Message{User: "U-ada", Text: text},
				func(ts string) map[string]any { return fakeslack.IMEvent("U-ada", text, ts) })
			e.waitPost(since, "the answer", to(ada, "PAY-1001"))
			if n := e.restart().catch.stored.Load(); n != 0 {
				t.Errorf("a message delivered live was fetched back as new %d times", n)
			}

			// In the catch-up first, then Slack's late retry.
			text = "status of PAY-1002"
			late := e.fake.Write(ada, fakeslack.Message{User: "U-ada", Text: text})
			if n := e.restart().catch.stored.Load(); n != 1 {
				t.Errorf("fetched back %d messages, want 1", n)
			}
			e.waitPost(since, "the answer to the fetched-back message", to(ada, "PAY-1002"))
			e.deliverBody(e.fake.EventCallback(fakeslack.IMEvent("U-ada", text, late)), 3)

			for _, tt := range []struct{ ts, pay string }{{live, "PAY-1001"}, {late, "PAY-1002"}} {
				if n := len(e.posts(since, to(ada, tt.pay))); n != 1 {
					t.Errorf("%d answers about %s, want 1", n, tt.pay)
				}
				waitUntil(t, "the sign of life", func() bool { return e.reactionsOn(tt.ts) > 0 })
				if n := e.reactionsOn(tt.ts); n != 1 {
					t.Errorf("%d reactions on the message about %s, want 1", n, tt.pay)
				}
			}
		})
	}
}

// TestCatchUpThread: a reply in the thread of a channel conversation is
// fetched back with conversations.replies; the channel's top level and
// other threads are not the bot's business.
func TestCatchUpThread(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			waitRounds(t, e.a, 1)
			const general = "CGENERAL"
			since := e.mark()
			text := "<@UBOT> how long does a refund take?"
			root := e.writeAndDeliver(general, fakeslack.Message{User: "U-ada", Text: text},
				func(ts string) map[string]any { return fakeslack.MentionEvent("U-ada", general, text, ts, "") })
			e.waitPost(since, "the answer in the thread", inThread(general, root, "Refunds are sent back"))

			// While the bot is away: chatter, another thread, and the
			// customer's follow-up in the bot's thread.
			e.fake.Write(general, fakeslack.Message{User: "U-grace", Text: "<@UBOT> when are you open?"})
			other := e.fake.Write(general, fakeslack.Message{User: "U-grace", Text: "hello"})
			e.fake.Write(general, fakeslack.Message{User: "U-grace", Text: "when are you open?", Thread: other})
			reply := e.fake.Write(general, fakeslack.Message{User: "U-ada", Text: "when are you open?", Thread: root})

			replies := e.fake.Calls("conversations.replies")
			b := e.restart()
			e.waitPost(since, "the answer to the missed follow-up", inThread(general, root, "Monday to Friday"))
			if n := b.catch.stored.Load(); n != 1 {
				t.Errorf("fetched back %d messages, want the follow-up only", n)
			}
			if e.fake.Calls("conversations.replies") <= replies {
				t.Error("the thread was not read with conversations.replies")
			}
			for _, p := range e.posts(since, func(p post) bool { return p.Channel == general && p.ThreadTS != root }) {
				t.Errorf("posted outside the bot's thread: %+v", p)
			}
			waitUntil(t, "the sign of life", func() bool { return e.reactionsOn(reply) > 0 })
		})
	}
}

// TestCatchUpSkips: what the live path ignores, the catch-up ignores too:
// the bot's own messages, other apps', system messages, and what is not
// newer than the last message stored.
func TestCatchUpSkips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	waitRounds(t, e.a, 1)
	ada := fakeslack.DMChannel("U-ada")
	before := e.fake.Write(ada, fakeslack.Message{User: "U-ada", Text: "written before the last stored message"})
	since := e.mark()
	text := "status of PAY-1001"
	e.writeAndDeliver(ada, fakeslack.Message{User: "U-ada", Text: text},
		func(ts string) map[string]any { return fakeslack.IMEvent("U-ada", text, ts) })
	e.waitPost(since, "the answer", to(ada, "PAY-1001"))

	tests := []struct {
		name   string
		m      fakeslack.Message
		stored bool
	}{
		{"the bot's own", fakeslack.Message{User: botUser, BotID: botID, Text: "an answer"}, false},
		{"another app's", fakeslack.Message{BotID: "BOTHER", Subtype: "bot_message", Text: "deploy done"}, false},
		{"an app acting as a user", fakeslack.Message{User: "U-ada", BotID: "BOTHER", Text: "via a workflow"}, false},
		{"a system message", fakeslack.Message{User: "U-ada", Subtype: "channel_join", Text: "joined"}, false},
		{"a file", fakeslack.Message{User: "U-ada", Subtype: "file_share", Text: "when are you open?"}, true},
		{"words", fakeslack.Message{User: "U-ada", Text: "status of PAY-1002"}, true},
	}
	want := map[string]bool{before: false}
	stored := 0
	for _, tt := range tests {
		want[e.fake.Write(ada, tt.m)] = tt.stored
		if tt.stored {
			stored++
		}
	}
	b := e.restart()
	if n := b.catch.stored.Load(); n != int64(stored) {
		t.Errorf("fetched back %d messages, want %d", n, stored)
	}
	for ts, ok := range want {
		if ok {
			waitUntil(t, "the sign of life on "+ts, func() bool { return e.reactionsOn(ts) > 0 })
		}
	}
	e.waitPost(since, "the answer to the fetched-back words", to(ada, "PAY-1002"))
}

// TestCatchUpPaging: more than a page of missed messages is read page by
// page (has_more, next_cursor), up to the bound, and the bound is logged.
func TestCatchUpPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		missed      int
		page, pages int
		wantNew     int
		bounded     bool
	}{
		// 5 missed and the bot's earlier messages: more than two pages.
		{"followed", 5, 2, 10, 5, false},
		// 7 missed, 3 pages of 2: the 6 newest.
		{"bounded", 7, 2, 3, 6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, httpMode)
			waitRounds(t, e.a, 1)
			ada := fakeslack.DMChannel("U-ada")
			since := e.mark()
			e.dm("U-ada", "status of PAY-1001")
			e.waitPost(since, "the answer", to(ada, "PAY-1001"))
			for range tt.missed {
				e.fake.Write(ada, fakeslack.Message{User: "U-ada", Text: "when are you open?"})
			}
			calls := e.fake.Calls("conversations.history")
			b := e.restart(func(a *Adapter) { a.catch.page, a.catch.pages = tt.page, tt.pages })
			n := e.fake.Calls("conversations.history") - calls
			if n < 3 || n > tt.pages || (tt.bounded && n != tt.pages) {
				t.Errorf("%d history calls, want 3 or more, at most %d (all of them when bounded)", n, tt.pages)
			}
			if n := b.catch.stored.Load(); n != int64(tt.wantNew) {
				t.Errorf("fetched back %d messages, want %d", n, tt.wantNew)
			}
			if got := strings.Contains(e.logs.String(), "more messages since the last stored than a catch-up reads"); got != tt.bounded {
				t.Errorf("bound logged: %v, want %v", got, tt.bounded)
			}
		})
	}
}

// TestCatchUpOnReconnect: in Socket Mode a lost connection is followed, once
// it is back, by a catch-up, which answers what Slack did not deliver.
func TestCatchUpOnReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	waitRounds(t, e.a, 1)
	ada := fakeslack.DMChannel("U-ada")
	since := e.mark()
	e.dm("U-ada", "status of PAY-1001")
	e.waitPost(since, "the answer", to(ada, "PAY-1001"))

	e.fake.Write(ada, fakeslack.Message{User: "U-ada", Text: "status of PAY-1002"})
	rounds := e.a.catch.rounds.Load()
	opened, _ := e.fake.Connections()
	e.fake.DropConnections()
	waitUntil(t, "a new connection", func() bool {
		n, live := e.fake.Connections()
		return n > opened && live == 1
	})
	waitUntil(t, "ready again", e.a.Ready)
	waitRounds(t, e.a, rounds+1)
	e.waitPost(since, "the answer to the missed message", to(ada, "PAY-1002"))
	if n := e.a.catch.stored.Load(); n != 1 {
		t.Errorf("fetched back %d messages, want 1", n)
	}
}

func TestCompareTS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x, y string
		want int
	}{
		{"1700000000.000100", "1700000000.000100", 0},
		{"1700000000.000100", "1700000000.000200", -1},
		{"1700000001.000000", "1700000000.999999", 1},
		{"999999999.999999", "1000000000.000000", -1}, // fewer digits, smaller
		{"1700000000.5", "1700000000.500000", 0},      // padded fraction
		{"1700000000.05", "1700000000.5", -1},
		{"1700000000", "1700000000.000000", 0},
		{"", "1700000000.000000", -1},
		{"01700000000.1", "1700000000.1", 0},
	}
	for _, tt := range tests {
		if got := compareTS(tt.x, tt.y); got != tt.want {
			t.Errorf("compareTS(%q, %q) = %d, want %d", tt.x, tt.y, got, tt.want)
		}
		if got := compareTS(tt.y, tt.x); got != -tt.want {
			t.Errorf("compareTS(%q, %q) = %d, want %d", tt.y, tt.x, got, -tt.want)
		}
	}
}

func TestCursorTS(t *testing.T) {
	t.Parallel()
	at := time.Unix(1700000600, 0)
	tests := []struct {
		name string
		c    bot.Cursor
		want string
	}{
		{"message id", bot.Cursor{LastMessageID: "T1:D-ada:1700000000.000100", LastMessageAt: at}, "1700000000.000100"},
		{"no id: a minute before the last activity", bot.Cursor{LastMessageAt: at}, "1700000540.000000"},
		{"an id of another shape", bot.Cursor{LastMessageID: "m1", LastMessageAt: at}, "1700000540.000000"},
		{"a malformed ts", bot.Cursor{LastMessageID: "T1:D1:17x.1", LastMessageAt: at}, "1700000540.000000"},
		{"nothing", bot.Cursor{}, ""},
	}
	for _, tt := range tests {
		if got := cursorTS(tt.c); got != tt.want {
			t.Errorf("%s: cursorTS = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDueCursors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	key := func(channel, thread string) bot.ConversationKey {
		return bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: channel, Thread: thread}
	}
	tests := []struct {
		name string
		c    bot.Cursor
		due  bool
	}{
		{"a direct message", bot.Cursor{Key: key("D1", ""), LastMessageAt: now.Add(-time.Hour)}, true},
		{"a channel thread", bot.Cursor{Key: key("C1", "1.2"), LastMessageAt: now.Add(-time.Hour)}, true},
		{"idle beyond the horizon", bot.Cursor{Key: key("D2", ""), LastMessageAt: now.Add(-catchUpHorizon - time.Hour)}, false},
		{"the agent channel", bot.Cursor{Key: key("CAGENTS", "1.2"), LastMessageAt: now}, false},
		{"another platform", bot.Cursor{Key: bot.ConversationKey{Platform: bot.Discord, Channel: "42"}, LastMessageAt: now}, false},
		{"no channel", bot.Cursor{Key: key("", ""), LastMessageAt: now}, false},
	}
	for _, tt := range tests {
		got := len(dueCursors([]bot.Cursor{tt.c}, now, "CAGENTS")) == 1
		if got != tt.due {
			t.Errorf("%s: due = %v, want %v", tt.name, got, tt.due)
		}
	}
}

// TestSortByTS: pages come newest first, and a message can be on two pages
// when the history moved while paging; the engine gets each once, oldest
// first.
func TestSortByTS(t *testing.T) {
	t.Parallel()
	msg := func(ts string) slackapi.Message {
		return slackapi.Message{Msg: slackapi.Msg{Timestamp: ts}}
	}
	got := sortByTS([]slackapi.Message{msg("3.000000"), msg("2.000000"), msg("2.000000"), msg("10.000000"), msg("1.000000")})
	var order []string
	for _, m := range got {
		order = append(order, m.Timestamp)
	}
	if want := "1.000000 2.000000 3.000000 10.000000"; strings.Join(order, " ") != want {
		t.Errorf("order = %v, want %s", order, want)
	}
}

package discord

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakediscord"
	"github.com/firstlinehq/firstline/internal/testkit"
)

func TestIdentifyAsksForTheIntents(t *testing.T) {
	t.Parallel()
	e := start(t)
	intents := e.f.Intents()
	if want := int64(1<<9 | 1<<12 | 1<<15); intents != want {
		t.Errorf("identify intents = %d, want %d (guild messages, direct messages, message content)", intents, want)
	}
	e.eventually("a heartbeat", func() bool { return e.f.Heartbeats() > 0 })
}

// A dropped connection is resumed: the events sent meanwhile are replayed
// by Discord, those after RESUMED arrive as usual, and a redelivered event
// is handled once.
func TestGatewayResumeLosesNothing(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")
	m1 := e.f.Say(testDMAda, testAda, "status of PAY-1001")
	e.waitSent(testDMAda, "PAY-1001")

	e.f.Drop(false)
	m2 := e.f.Say(testDMAda, testAda, "status of PAY-1002") // while disconnected
	e.eventually("the session resumed", func() bool {
		_, resumes := e.f.Counts()
		return resumes == 1 && e.a.Ready()
	})
	e.waitSent(testDMAda, "PAY-1002") // replayed by the resume
	m3 := e.f.Say(testDMAda, testAda, "when are you open?")
	e.f.Redeliver(testDMAda, m1)
	e.waitSent(testDMAda, "Monday to")
	e.eventually("three stored messages", func() bool { return len(e.stored(dmKey())) == 3 })
	e.storedOnce(dmKey(), m1, m2, m3)
	if n := e.countSent(testDMAda, "PAY-1001"); n != 1 {
		t.Errorf("PAY-1001 answered %d times, want once", n)
	}
	if identifies, _ := e.f.Counts(); identifies != 1 {
		t.Errorf("identified %d times, want 1 (the session was resumed)", identifies)
	}
	if got := e.f.Requested("GET /api/v9/channels/" + testDMAda + "/messages"); len(got) != 0 {
		t.Errorf("fetched history after a resume: %v", got)
	}
}

// When Discord refuses the resume (Invalid Session), the bot identifies
// anew, and on READY fetches back what was sent while it was away, in the
// customer's DM and in the handoff thread, and handles each message once.
func TestInvalidSessionBackfillsMissedMessages(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.link(testAda, "C-1")
	e.f.Say(testDMAda, testAda, "status of PAY-1001")
	e.waitSent(testDMAda, "PAY-1001")
	last := e.f.Say(testDMAda, testAda, "I want a human")
	card := e.waitCard()
	thread := card.ID
	e.waitCallback(e.f.Click(testAgents, card.ID, "fl:claim:"+handoffID(t, card), testGrace))
	e.waitSent(testDMAda, "has joined")
	before := e.f.Say(thread, testGrace, "Hello Ada")
	e.waitSent(testDMAda, "Hello Ada")

	e.f.Drop(true)
	missedCustomer := e.f.SayOffline(testDMAda, testAda, "are you still there?")
	missedAgent := e.f.SayOffline(thread, testGrace, "Yes, checking the payment now")
	e.f.SayOffline(thread, testBotID, "a bot message is not an agent's")

	e.eventually("a new session", func() bool {
		identifies, _ := e.f.Counts()
		return identifies == 2 && e.a.Ready()
	})
	if post := e.waitSent(thread, "are you still there?"); !strings.Contains(post.Content, "Ada Lovelace") {
		t.Errorf("thread post = %q, want it attributed to Ada Lovelace", post.Content)
	}
	e.waitSent(testDMAda, "(support): Yes, checking the payment now")

	// The fetches started after the newest stored message of each.
	for _, want := range []string{
		"GET /api/v9/channels/" + testDMAda + "/messages?after=" + last + "&limit=100",
		"GET /api/v9/channels/" + thread + "/messages?after=" + before + "&limit=100",
	} {
		if got := e.f.Requested(want); len(got) != 1 {
			t.Errorf("requests %q: %d, want 1", want, len(got))
		}
	}

	// A late delivery of the missed message is a duplicate.
	e.f.Redeliver(testDMAda, missedCustomer)
	e.f.Redeliver(thread, missedAgent)
	e.f.Say(testDMAda, testAda, "one more thing")
	e.waitSent(thread, "one more thing")
	e.f.Say(thread, testGrace, "sure")
	e.waitSent(testDMAda, "(support): sure")
	if n := e.countSent(thread, "are you still there?"); n != 1 {
		t.Errorf("missed customer message posted to the thread %d times, want once", n)
	}
	if n := e.countSent(testDMAda, "checking the payment now"); n != 1 {
		t.Errorf("missed agent message relayed %d times, want once", n)
	}
	e.storedOnce(dmKey(), missedCustomer)
}

func TestRunStopsOnRejectedToken(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	f.SetRejectAll(true)
	h := testkit.New(t, testkit.WithAgents(bot.Discord, "", testAgents), testkit.WithClock(time.Now))
	logs := &syncBuffer{}
	a, err := New(Config{Token: testToken, APIURL: f.APIURL(), AgentChannel: testAgents, AgentRole: testRole, Engine: h.Engine, Handoffs: h.Handoffs,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "DISCORD_BOT_TOKEN was rejected") {
		t.Fatalf("Run = %v, want the token rejected", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(logs.String(), testToken) {
		t.Errorf("the token leaked: %v\n%s", err, logs)
	}
}

func TestRunStopsWithoutMessageContentIntent(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	f.SetAppFlags(0)
	h := testkit.New(t, testkit.WithAgents(bot.Discord, "", testAgents), testkit.WithClock(time.Now))
	a, err := New(Config{Token: testToken, APIURL: f.APIURL(), Engine: h.Engine, Handoffs: h.Handoffs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := a.Run(ctx); err == nil || !strings.Contains(err.Error(), "Message Content") {
		t.Fatalf("Run = %v, want the Message Content intent named", err)
	}
}

// Run keeps trying while Discord is unreachable, logs without the token,
// and returns nil when stopped.
func TestRunRetriesUnreachableAPIAndStops(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	url := f.APIURL()
	f.CloseREST()
	h := testkit.New(t, testkit.WithAgents(bot.Discord, "", testAgents), testkit.WithClock(time.Now))
	logs := &syncBuffer{}
	a, err := New(Config{Token: testToken, APIURL: url, Engine: h.Engine, Handoffs: h.Handoffs,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	eventually(t, "a logged retry", func() bool { return strings.Contains(logs.String(), "cannot reach the REST API") })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after its context ended", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not stop")
	}
	if a.Ready() {
		t.Error("Ready without a session")
	}
	if secret := testToken[strings.LastIndex(testToken, ".")+1:]; strings.Contains(logs.String(), secret) {
		t.Errorf("the token is in the logs:\n%s", logs)
	}
}

// A gateway that accepts the connection and then says nothing does not
// hang the adapter: the handshake times out, and the next attempt works.
func TestSilentGatewayTimesOut(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	f.SetSilent(true)
	logs := &syncBuffer{}
	a, err := New(Config{Token: testToken, APIURL: f.APIURL(), Engine: &stubEngine{}, Handoffs: stubHandoffs{},
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a.dialer.handshake = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	eventually(t, "the handshake to time out", func() bool { return strings.Contains(logs.String(), "cannot connect to the gateway") })
	f.SetSilent(false)
	eventually(t, "the session on the next attempt", a.Ready)
}

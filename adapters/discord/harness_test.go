package discord

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/internal/fakediscord"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// The fake Discord's ids and token, under the names these tests use.
const (
	testBotID   = fakediscord.BotID
	testGuild   = fakediscord.Guild
	testGeneral = fakediscord.General
	testAgents  = fakediscord.Agents
	testRole    = fakediscord.Role
	testAda     = fakediscord.Ada
	testGrace   = fakediscord.Grace
	testLinus   = fakediscord.Linus
	testOtherBt = fakediscord.OtherBot
	testDMAda   = fakediscord.DMAda
	testDMGone  = fakediscord.DMGone
	testToken   = fakediscord.Token
)

// What the fake Discord records, under the names these tests use.
type (
	sent        = fakediscord.Sent
	callback    = fakediscord.Callback
	threadStart = fakediscord.ThreadStart
	failure     = fakediscord.Failure
)

// waitFor bounds every wait for something asynchronous: a turn, a
// delivery, a reconnect.
const waitFor = 15 * time.Second

// env is a running adapter wired to the real engine, handoff flow, outbox
// dispatcher and SQLite store (testkit), against a fake Discord.
type env struct {
	t    *testing.T
	f    *fakediscord.Server
	h    *testkit.Harness
	a    *Adapter
	logs *syncBuffer
	// agents is the agent channel.
	agents string
}

type envOption func(*envOptions)

type envOptions struct {
	sender  func(*Adapter) outbox.Sender
	config  func(*Config)
	engine  func(*bot.Config)
	fake    func(*fakediscord.Server)
	adapter func(*Adapter)
	// agents is the agent channel; testAgents when "".
	agents string
}

// withAgentChannel makes another channel the agent channel (a forum).
func withAgentChannel(id string) envOption {
	return func(o *envOptions) { o.agents = id }
}

// withFake prepares the fake Discord before the adapter connects.
func withFake(f func(*fakediscord.Server)) envOption {
	return func(o *envOptions) { o.fake = f }
}

// withAdapter changes the adapter before it runs (its timings).
func withAdapter(f func(*Adapter)) envOption {
	return func(o *envOptions) { o.adapter = f }
}

// withEngine changes the engine's configuration.
func withEngine(f func(*bot.Config)) envOption {
	return func(o *envOptions) { o.engine = f }
}

// withSender puts a wrapper of the adapter in the dispatcher's senders.
func withSender(wrap func(*Adapter) outbox.Sender) envOption {
	return func(o *envOptions) { o.sender = wrap }
}

// start runs the adapter and the outbox dispatcher until the test ends,
// and waits for the gateway session. At the end it checks what must hold
// for every message the bot sent (see checkInvariants).
func start(t *testing.T, opts ...envOption) *env {
	t.Helper()
	var o envOptions
	for _, opt := range opts {
		opt(&o)
	}
	f := fakediscord.New(t)
	if o.fake != nil {
		o.fake(f)
	}
	logs := &syncBuffer{}
	var a *Adapter
	engine := func(*bot.Config) {}
	if o.engine != nil {
		engine = o.engine
	}
	agents := cmp.Or(o.agents, testAgents)
	h := testkit.New(t, testkit.WithAgents(bot.Discord, "", agents), testkit.WithClock(time.Now), testkit.WithEngine(engine),
		testkit.WithSenders(func(p testkit.Parts) (map[bot.Platform]outbox.Sender, error) {
			cfg := Config{
				Token:        testToken,
				APIURL:       f.APIURL(),
				AgentChannel: agents,
				AgentRole:    testRole,
				Engine:       p.Engine,
				Handoffs:     p.Handoffs,
				Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			if o.config != nil {
				o.config(&cfg)
			}
			var err error
			if a, err = New(cfg); err != nil {
				return nil, err
			}
			a.retryBase = 10 * time.Millisecond
			if o.adapter != nil {
				o.adapter(a)
			}
			if o.sender != nil {
				return map[bot.Platform]outbox.Sender{bot.Discord: o.sender(a)}, nil
			}
			return map[bot.Platform]outbox.Sender{bot.Discord: a}, nil
		}))
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	dispDone := make(chan struct{})
	go func() { runErr <- a.Run(ctx) }()
	go func() {
		defer close(dispDone)
		_ = h.Disp.Run(ctx)
	}()
	e := &env{t: t, f: f, h: h, a: a, logs: logs, agents: agents}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Errorf("Run did not return after its context ended")
		}
		<-dispDone
		dctx, dcancel := context.WithTimeout(context.Background(), waitFor)
		defer dcancel()
		if err := h.Engine.Drain(dctx); err != nil {
			t.Errorf("drain turns: %v", err)
		}
		e.checkInvariants()
	})
	e.eventually("the gateway session", func() bool { return a.Ready() })
	return e
}

// checkInvariants checks every message the bot created or edited: mentions
// are never parsed from the text (only the agent role, only on a handoff
// card, may ping); every create carries a nonce Discord enforces; and the
// token appears in no log line.
func (e *env) checkInvariants() {
	t := e.t
	t.Helper()
	for _, s := range e.f.AllSends() {
		if !s.HasAllowedMentions {
			t.Errorf("%s to %s without allowed_mentions: %q", s.Method, s.Channel, s.Content)
			continue
		}
		if parse, ok := s.AllowedMentions["parse"].([]any); !ok || len(parse) != 0 {
			t.Errorf("%s to %s: allowed_mentions.parse = %v, want []", s.Method, s.Channel, s.AllowedMentions["parse"])
		}
		roles, hasRoles := s.AllowedMentions["roles"].([]any)
		card := s.Method == "POST" && (s.Channel == testAgents || s.ForumStarter) && strings.HasPrefix(s.Content, "<@&"+testRole+"> ")
		switch {
		case card && (len(roles) != 1 || roles[0] != testRole):
			t.Errorf("handoff card: allowed_mentions.roles = %v, want [%s]", roles, testRole)
		case !card && hasRoles:
			t.Errorf("%s to %s may ping roles %v: %q", s.Method, s.Channel, roles, s.Content)
		}
		// Only the customer of a conversation held in a server channel may
		// be pinged, by the mention that starts the bot's message.
		if users, ok := s.AllowedMentions["users"]; ok {
			list, _ := users.([]any)
			if len(list) != 1 || !strings.HasPrefix(s.Content, "<@"+fmt.Sprint(list[0])+"> ") || s.Channel == testAgents {
				t.Errorf("%s to %s may ping users %v: %q", s.Method, s.Channel, users, s.Content)
			}
		}
		// A forum post's first message takes no nonce (forum.go).
		if s.Method == "POST" && !s.ForumStarter && (!strings.HasPrefix(s.Nonce, "fl") || len(s.Nonce) > 25 || !s.EnforceNonce) {
			t.Errorf("POST to %s: nonce %q enforce_nonce %v, want fl… enforced", s.Channel, s.Nonce, s.EnforceNonce)
		}
	}
	secret := testToken[strings.LastIndex(testToken, ".")+1:]
	if logs := e.logs.String(); strings.Contains(logs, secret) || strings.Contains(logs, testToken) {
		t.Errorf("the token appears in the logs:\n%s", logs)
	}
}

// eventually polls cond until it holds, failing the test after waitFor.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	eventually(e.t, what, cond)
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSent waits for the bot to post a message containing text in a
// channel and returns it.
func (e *env) waitSent(channel, text string) sent {
	e.t.Helper()
	var found sent
	e.eventually("a message containing "+strconv.Quote(text)+" in channel "+channel, func() bool {
		for _, s := range e.f.SentTo(channel) {
			if strings.Contains(s.Content, text) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

// countSent counts the bot's messages in a channel containing text.
func (e *env) countSent(channel, text string) int {
	n := 0
	for _, s := range e.f.SentTo(channel) {
		if strings.Contains(s.Content, text) {
			n++
		}
	}
	return n
}

// waitCallback waits for the answer to an interaction.
func (e *env) waitCallback(interaction string) callback {
	e.t.Helper()
	var cb callback
	e.eventually("the answer to interaction "+interaction, func() bool {
		cbs := e.f.CallbacksFor(interaction)
		if len(cbs) > 1 {
			e.t.Errorf("interaction %s answered %d times", interaction, len(cbs))
		}
		if len(cbs) > 0 {
			cb = cbs[0]
			return true
		}
		return false
	})
	return cb
}

// link links a Discord user to a customer.
func (e *env) link(user, customer string) {
	e.t.Helper()
	err := e.h.Store.Link(context.Background(), bot.Link{Identity: bot.NewIdentity(bot.Discord, "", user), CustomerID: customer, CreatedAt: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
}

// stored returns the customer messages stored in the open conversation at
// key, oldest first.
func (e *env) stored(key bot.ConversationKey) []bot.Message {
	e.t.Helper()
	var out []bot.Message
	err := e.h.Store.WithTx(context.Background(), func(tx bot.Tx) error {
		out = nil
		conv, err := tx.ActiveConversation(context.Background(), key)
		if err != nil {
			return err
		}
		msgs, err := tx.RecentMessages(context.Background(), conv.ID, 1000)
		for _, m := range msgs {
			if m.Role == bot.RoleCustomer {
				out = append(out, m)
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatalf("read conversation %+v: %v", key, err)
	}
	return out
}

// storedOnce checks that each message id was stored exactly once.
func (e *env) storedOnce(key bot.ConversationKey, ids ...string) {
	e.t.Helper()
	var keys []string
	for _, m := range e.stored(key) {
		keys = append(keys, m.DedupeKey)
	}
	for _, id := range ids {
		if n := count(keys, "discord:"+id); n != 1 {
			e.t.Errorf("message %s stored %d times, want once (stored: %v)", id, n, keys)
		}
	}
}

func count[T comparable](xs []T, x T) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func dmKey() bot.ConversationKey {
	return bot.ConversationKey{Platform: bot.Discord, Channel: testDMAda}
}

// handoffID reads the handoff id from a card's Claim button.
func handoffID(t testing.TB, card sent) string {
	t.Helper()
	for _, id := range card.CustomIDs() {
		if v, ok := strings.CutPrefix(id, "fl:claim:"); ok {
			return v
		}
	}
	t.Fatalf("card without a Claim button: %+v", card)
	return ""
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (log output).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitCard waits for a handoff card in the agent channel and for the
// thread started from it (the thread has the card's id), and returns the
// card.
func (e *env) waitCard() sent {
	e.t.Helper()
	card := e.waitSent(testAgents, "Handoff #")
	e.eventually("the handoff thread", func() bool {
		for _, s := range e.f.ThreadStarts() {
			if s.Channel == testAgents && s.Message == card.ID {
				return true
			}
		}
		return false
	})
	return card
}

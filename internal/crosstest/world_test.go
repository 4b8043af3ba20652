// Package crosstest checks Firstline across platforms: a customer on one
// platform served by agents in an agent channel on the other
// (FIRSTLINE_AGENT_PLATFORM). Both real adapters run against the fake Slack
// (internal/fakeslack) and the fake Discord (internal/fakediscord), wired
// to one engine, handoff flow, outbox and SQLite store (internal/testkit),
// as `firstline serve` wires them.
package crosstest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/discord"
	"github.com/firstlinehq/firstline/adapters/slack"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/firstlinehq/firstline/internal/fakediscord"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// waitFor bounds every wait for something asynchronous (a turn, a
// delivery): generous, because the CI machine may be loaded; a passing run
// waits far less.
const waitFor = 20 * time.Second

// world is one engine with both platforms: the Slack adapter in Socket
// Mode against a fake Slack, the Discord adapter against a fake Discord,
// and the outbox dispatcher delivering to each message's own platform.
type world struct {
	t       *testing.T
	h       *testkit.Harness
	slack   *fakeslack.Server
	discord *fakediscord.Server
	logs    *syncBuffer
}

// start wires and runs the world with the agent channel on agents: the
// Slack channel testkit.AgentChannel, or the Discord channel
// fakediscord.Agents. Only that platform's adapter gets an agent channel,
// as serve configures them.
func start(t *testing.T, agents bot.Platform) *world {
	t.Helper()
	var opts []testkit.Option
	if agents == bot.Discord {
		opts = append(opts, testkit.WithAgents(bot.Discord, "", fakediscord.Agents))
	}
	w := &world{t: t, slack: fakeslack.New(t), discord: fakediscord.New(t), logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var sl *slack.Adapter
	var dc *discord.Adapter
	adapters := func(p testkit.Parts) (map[bot.Platform]outbox.Sender, error) {
		slackCfg := slack.Config{
			BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: w.slack.APIURL(),
			AgentMention: "here", Engine: p.Engine, Handoffs: p.Handoffs, Logger: log.With("adapter", "slack"),
		}
		discordCfg := discord.Config{
			Token: fakediscord.Token, APIURL: w.discord.APIURL(), AgentRole: fakediscord.Role,
			Engine: p.Engine, Handoffs: p.Handoffs, Logger: log.With("adapter", "discord"),
		}
		if agents == bot.Slack {
			slackCfg.AgentChannel = testkit.AgentChannel
		} else {
			discordCfg.AgentChannel = fakediscord.Agents
		}
		var err error
		if sl, err = slack.New(slackCfg); err != nil {
			return nil, err
		}
		if dc, err = discord.New(discordCfg); err != nil {
			return nil, err
		}
		return map[bot.Platform]outbox.Sender{bot.Slack: sl, bot.Discord: dc}, nil
	}
	h := testkit.New(t, append(opts, testkit.WithClock(time.Now), testkit.WithSenders(adapters))...)
	w.h = h

	ctx, cancel := context.WithCancel(context.Background())
	var inputs, workers sync.WaitGroup
	for name, run := range map[string]func(context.Context) error{"slack": sl.Run, "discord": dc.Run} {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			if err := run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("%s adapter: %v", name, err)
			}
		}()
	}
	workers.Add(1)
	go func() {
		defer workers.Done()
		_ = h.Disp.Run(ctx)
	}()
	t.Cleanup(func() {
		// serve's order: input, then turns, then the outbox.
		cancel()
		inputs.Wait()
		dctx, stop := context.WithTimeout(context.Background(), waitFor)
		defer stop()
		if err := h.Engine.Drain(dctx); err != nil {
			t.Errorf("drain turns: %v", err)
		}
		workers.Wait()
		for _, secret := range []string{fakediscord.TokenSecret, fakeslack.BotToken, fakeslack.AppToken} {
			if strings.Contains(w.logs.String(), secret) {
				t.Errorf("a token appears in the logs")
			}
		}
	})
	w.eventually("both adapters are connected", func() bool { return sl.Ready() && dc.Ready() })
	return w
}

// eventually polls cond until it holds, failing the test after waitFor.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slackPost waits for a Slack post after since that matches and returns it.
func (w *world) slackPost(since int, what string, match func(fakeslack.Post) bool) fakeslack.Post {
	w.t.Helper()
	var found fakeslack.Post
	w.eventually(what+" on Slack", func() bool {
		for _, p := range w.slack.PostsSince(since) {
			if match(p) {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

// slackSaid matches a new message in a Slack channel (in thread, when it is
// set) containing text.
func slackSaid(channel, thread, text string) func(fakeslack.Post) bool {
	return func(p fakeslack.Post) bool {
		return p.Method == "chat.postMessage" && p.Channel == channel && p.ThreadTS == thread && strings.Contains(p.Section(), text)
	}
}

// discordSent waits for the bot to post a message containing text in a
// Discord channel (or thread) and returns it.
func (w *world) discordSent(channel, text string) fakediscord.Sent {
	w.t.Helper()
	var found fakediscord.Sent
	w.eventually("a Discord message containing "+text, func() bool {
		for _, s := range w.discord.SentTo(channel) {
			if strings.Contains(s.Content, text) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

// slackSaysNothing fails the test if any Slack post after since contains
// text.
func (w *world) slackSaysNothing(since int, channel, text string) {
	w.t.Helper()
	for _, p := range w.slack.PostsSince(since) {
		if p.Channel == channel && strings.Contains(p.Section(), text) {
			w.t.Errorf("posted to %s on Slack: %q", channel, p.Section())
		}
	}
}

// discordSaysNothing fails the test if the bot posted text in a Discord
// channel.
func (w *world) discordSaysNothing(channel, text string) {
	w.t.Helper()
	for _, s := range w.discord.SentTo(channel) {
		if strings.Contains(s.Content, text) {
			w.t.Errorf("posted to %s on Discord: %q", channel, s.Content)
		}
	}
}

// record returns the figures' record of the only conversation on p.
func (w *world) record(p bot.Platform) stats.Conversation {
	w.t.Helper()
	recs, err := w.h.Store.ConversationRecords(context.Background(), time.Time{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []stats.Conversation
	for _, r := range recs {
		if r.Platform == string(p) {
			out = append(out, r)
		}
	}
	return testkit.MustOne(w.t, out, "conversation on "+string(p))
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

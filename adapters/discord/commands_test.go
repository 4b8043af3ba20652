package discord

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// testOtherGuild is a second server the bot is in.
const testOtherGuild = "1200000000000000009"

var wantCommands = []string{cmdSupport, cmdQueue, cmdClaim, cmdResolve}

func commandNames(cmds []fakediscord.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Name)
	}
	return out
}

// waitCommands waits for the bot's commands in the test server.
func (e *env) waitCommands() {
	e.t.Helper()
	e.eventually("the slash commands", func() bool {
		return slices.Equal(commandNames(e.f.Commands(testGuild)), wantCommands)
	})
}

// ephemeral checks that an interaction was answered at once with a message
// only its user sees, containing want.
func (e *env) ephemeral(interaction, want string) callback {
	e.t.Helper()
	cb := e.waitCallback(interaction)
	if !strings.Contains(cb.Content, want) || cb.Type != 4 || cb.Flags != 64 {
		e.t.Errorf("interaction answered %+v, want an ephemeral %q", cb, want)
	}
	return cb
}

func mustAtoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Each server READY lists gets the commands in one bulk overwrite, which
// removes a command an earlier version registered; a new session of the
// same process does not register them again.
func TestCommandsRegisteredOncePerGuild(t *testing.T) {
	t.Parallel()
	e := start(t, withFake(func(f *fakediscord.Server) {
		f.AddGuild(testOtherGuild)
		f.SetCommands(testGuild, "ticket")
	}))
	e.eventually("the commands in both servers", func() bool {
		return e.f.CommandOverwrites(testGuild) == 1 && e.f.CommandOverwrites(testOtherGuild) == 1
	})
	for _, g := range []string{testGuild, testOtherGuild} {
		cmds := e.f.Commands(g)
		if got := commandNames(cmds); !slices.Equal(got, wantCommands) {
			t.Errorf("commands in %s = %v, want %v (ticket removed)", g, got, wantCommands)
		}
		want := map[string][]string{cmdSupport: {optQuestion}, cmdQueue: nil, cmdClaim: {optHandoff}, cmdResolve: {optHandoff}}
		for _, c := range cmds {
			if got := c.OptionNames(); !slices.Equal(got, want[c.Name]) {
				t.Errorf("/%s options = %v, want %v", c.Name, got, want[c.Name])
			}
		}
	}

	// Discord will not resume: a new session, and a new READY.
	e.f.Drop(true)
	e.eventually("a new session", func() bool {
		identifies, _ := e.f.Counts()
		return identifies == 2 && e.a.Ready()
	})
	// A command used in the new session is answered; nothing was
	// registered again.
	e.ephemeral(e.f.Use(testAgents, testGrace, cmdQueue, nil), msgQueueEmpty)
	for _, g := range []string{testGuild, testOtherGuild} {
		if n := e.f.CommandOverwrites(g); n != 1 {
			t.Errorf("%d overwrites in %s, want 1", n, g)
		}
	}
}

// A restarted bot overwrites its commands again, and nothing changes: the
// same ids and versions; a command it still defines keeps the id it had.
func TestCommandsReregisteredIdempotently(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	f.SetCommands(testGuild, "ticket", cmdClaim)
	oldClaim := f.Commands(testGuild)[1].ID
	run := func(overwrites int) {
		t.Helper()
		a, err := New(Config{Token: testToken, APIURL: f.APIURL(), Engine: &stubEngine{}, Handoffs: stubHandoffs{}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		eventually(t, "the commands registered", func() bool { return f.CommandOverwrites(testGuild) == overwrites })
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	run(1)
	first := f.Commands(testGuild)
	if got := commandNames(first); !slices.Equal(got, wantCommands) {
		t.Fatalf("commands = %v, want %v", got, wantCommands)
	}
	if first[2].ID != oldClaim {
		t.Errorf("/claim has id %s, want the one it had (%s)", first[2].ID, oldClaim)
	}
	run(2)
	if again := f.Commands(testGuild); !reflect.DeepEqual(again, first) {
		t.Errorf("commands after the restart = %+v, want them unchanged: %+v", again, first)
	}
}

// A bot added without the applications.commands scope cannot register
// commands: it says how to fix it, and works on.
func TestCommandsDeniedLogged(t *testing.T) {
	t.Parallel()
	e := start(t, withFake(func(f *fakediscord.Server) { f.DenyCommands(testGuild) }))
	e.eventually("the warning", func() bool { return strings.Contains(e.logs.String(), "scope applications.commands") })
	e.f.Say(testDMAda, testAda, "when are you open?")
	e.waitSent(testDMAda, "Monday to")
}

// /support opens a private thread with the bot and the customer; the
// question is the conversation's first message, answered there; later
// messages there need no mention. Without a question, the customer's first
// message in the thread starts the conversation.
func TestSupportOpensPrivateThread(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.waitCommands()

	i := e.f.Use(testGeneral, testAda, cmdSupport, map[string]any{optQuestion: "when are you open?"})
	cb := e.ephemeral(i, "private thread")
	threads := e.f.CreatedThreads()
	if len(threads) != 1 {
		t.Fatalf("threads created = %+v, want one", threads)
	}
	th := threads[0]
	if th.Type != 12 || th.Parent != testGeneral || th.Invitable || th.Name != "Support for Ada Lovelace" {
		t.Errorf("thread = %+v, want a private, not invitable thread under the channel", th)
	}
	if !strings.Contains(cb.Content, "<#"+th.ID+">") {
		t.Errorf("answer = %q, want a link to the thread", cb.Content)
	}
	if got := e.f.ThreadMembers(th.ID); !slices.Equal(got, []string{testBotID, testAda}) {
		t.Errorf("thread members = %v, want the bot and Ada", got)
	}
	e.waitSent(th.ID, "Monday to")
	key := bot.ConversationKey{Platform: bot.Discord, Workspace: testGuild, Channel: th.ID}
	if msgs := e.stored(key); len(msgs) != 1 || msgs[0].Text != "when are you open?" || msgs[0].DedupeKey != "discord:"+i {
		t.Errorf("stored = %+v, want the question, once", msgs)
	}
	if n := len(e.f.SentTo(testGeneral)); n != 0 {
		t.Errorf("%d messages in the channel itself, want none", n)
	}
	e.f.Say(th.ID, testAda, "I want to talk to a human")
	e.waitCard()
	e.waitSent(th.ID, "asked a person")

	// Without a question.
	cb = e.ephemeral(e.f.Use(testGeneral, testEve, cmdSupport, nil), "Write your question there")
	threads = e.f.CreatedThreads()
	if len(threads) != 2 || !strings.Contains(cb.Content, "<#"+threads[1].ID+">") {
		t.Fatalf("threads = %+v, answer %q; want a second one, linked", threads, cb.Content)
	}
	e.f.Say(threads[1].ID, testEve, "when are you open?")
	e.waitSent(threads[1].ID, "Monday to")
}

// Where the bot may not create private threads, /support says what to do
// instead.
func TestSupportWithoutPrivateThreads(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.waitCommands()
	e.f.DenyPrivateThreads(testGeneral)
	e.ephemeral(e.f.Use(testGeneral, testAda, cmdSupport, map[string]any{optQuestion: "hello"}), msgSupportFailed)
	if got := e.f.CreatedThreads(); len(got) != 0 {
		t.Errorf("threads = %+v", got)
	}
	// Threads cannot nest: /support in a thread is refused.
	thread := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> when are you open?")
	e.waitSent(thread, "Monday to")
	e.ephemeral(e.f.Use(thread, testAda, cmdSupport, nil), msgSupportHere)
	// A private thread under the agent channel would pass for a handoff's.
	e.ephemeral(e.f.Use(testAgents, testGrace, cmdSupport, nil), msgSupportAgents)
}

// /queue lists the waiting handoffs for an agent, only them, in the agent
// channel and in a handoff's thread; a claimed handoff is no longer listed.
func TestQueueListsWaitingHandoffs(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.waitCommands()
	card := e.handoffOpen()
	id := handoffID(t, card)

	e.ephemeral(e.f.Use(testAgents, testGrace, cmdQueue, nil), "#"+id+" ")
	e.ephemeral(e.f.Use(card.ID, testLinus, cmdQueue, nil), "#"+id+" ")
	e.ephemeral(e.f.Use(testAgents, testEve, cmdQueue, nil), msgNotAgent)
	e.ephemeral(e.f.Use(testGeneral, testGrace, cmdQueue, nil), msgAgentCommand)

	e.ephemeral(e.f.Use(testAgents, testGrace, cmdClaim, map[string]any{optHandoff: mustAtoi(t, id)}), "You claimed this handoff.")
	e.ephemeral(e.f.Use(testAgents, testGrace, cmdQueue, nil), msgQueueEmpty)
}

// /claim and /resolve by someone who is no agent (a colleague who can
// read the agent channel, a customer) are refused, only to them, with the
// buttons' words, and change nothing.
func TestAgentCommandsRefusedForNonAgents(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.waitCommands()
	card := e.handoffOpen()
	id := mustAtoi(t, handoffID(t, card))

	e.ephemeral(e.f.Use(testAgents, testEve, cmdClaim, map[string]any{optHandoff: id}), msgNotAgent)
	e.ephemeral(e.f.Use(card.ID, testEve, cmdClaim, nil), msgNotAgent)
	e.ephemeral(e.f.Use(card.ID, testEve, cmdResolve, nil), msgNotAgent)
	e.ephemeral(e.f.Use(testGeneral, testAda, cmdClaim, map[string]any{optHandoff: id}), msgNotAgent)
	e.ephemeral(e.f.Use(testGeneral, testAda, cmdResolve, map[string]any{optHandoff: id}), msgNotAgent)
	e.noneSent(testDMAda, "has joined", "marked this conversation as resolved")
	e.noneSent(card.ID, "claimed this handoff", "Resolved by")
	for _, m := range e.messages(dmKey()) {
		if m.Author == testEve || m.Role == bot.RoleNote {
			t.Errorf("stored %+v, want nothing of Eve's", m)
		}
	}
	if edits := e.f.Edits(card.ID); len(edits) != 0 {
		t.Errorf("card edited %+v, want it untouched", edits)
	}

	// The handoff is untouched: Grace claims it.
	e.ephemeral(e.f.Use(testAgents, testGrace, cmdClaim, map[string]any{optHandoff: id}), "You claimed this handoff.")
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
}

// An agent claims by number in the agent channel, and resolves in the
// handoff's thread without one; the customer is told as with the buttons.
func TestAgentCommandsClaimAndResolve(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.waitCommands()
	card := e.handoffOpen()
	sid := handoffID(t, card)
	id := mustAtoi(t, sid)

	e.ephemeral(e.f.Use(testAgents, testGrace, cmdClaim, nil), msgNameHandoff)
	e.ephemeral(e.f.Use(testAgents, testGrace, cmdClaim, map[string]any{optHandoff: id}), "You claimed this handoff.")
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	e.eventually("the card updated as claimed", func() bool {
		for _, ed := range e.f.Edits(card.ID) {
			if strings.Contains(ed.Content, "claimed by Grace (support)") && slices.Equal(ed.CustomIDs(), []string{"fl:resolve:" + sid}) {
				return true
			}
		}
		return false
	})
	// Another agent may not resolve Grace's handoff.
	if cb := e.waitCallback(e.f.Use(card.ID, testLinus, cmdResolve, nil)); cb.Flags != 64 || !strings.Contains(cb.Content, "Grace") {
		t.Errorf("Linus's /resolve answered %+v, want an ephemeral note that Grace has it", cb)
	}
	e.noneSent(testDMAda, "marked this conversation as resolved")

	e.ephemeral(e.f.Use(card.ID, testGrace, cmdResolve, nil), "Resolved.")
	e.waitSent(testDMAda, "marked this conversation as resolved")
	e.waitSent(card.ID, "Resolved by Grace (support)")
	e.ephemeral(e.f.Use(testAgents, testGrace, cmdResolve, map[string]any{optHandoff: id}), "already resolved")
}

// slowFlow holds claims until released: a slow store.
type slowFlow struct {
	Handoffs
	release chan struct{}
}

func (s *slowFlow) Claim(ctx context.Context, id int64, agent handoff.Agent) (handoff.Result, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return handoff.Result{}, ctx.Err()
	}
	return s.Handoffs.Claim(ctx, id, agent)
}

// A command whose work outlasts the acknowledgement window is answered
// with a deferred, ephemeral message at once, which the answer replaces.
func TestSlowCommandDeferred(t *testing.T) {
	t.Parallel()
	slow := &slowFlow{release: make(chan struct{})}
	e := start(t,
		withAdapter(func(a *Adapter) { a.ackAfter = 20 * time.Millisecond }),
		withConfig(func(c *Config) { slow.Handoffs = c.Handoffs; c.Handoffs = slow }))
	e.waitCommands()
	card := e.handoffOpen()
	i := e.f.Use(testAgents, testGrace, cmdClaim, map[string]any{optHandoff: mustAtoi(t, handoffID(t, card))})
	if cb := e.waitCallback(i); cb.Type != 5 || cb.Flags != 64 || cb.Content != "" {
		t.Errorf("first answer = %+v, want a deferred ephemeral message (5)", cb)
	}
	if edits := e.f.OriginalEdits(i); len(edits) != 0 {
		t.Errorf("answer edited before the claim finished: %+v", edits)
	}
	close(slow.release)
	e.eventually("the answer", func() bool { return len(e.f.OriginalEdits(i)) == 1 })
	if got, _ := e.f.Original(i); got.Content != "You claimed this handoff." || got.Flags != 64 {
		t.Errorf("answer = %+v, want the claim's feedback, ephemeral", got)
	}
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	if n := len(e.f.CallbacksFor(i)); n != 1 {
		t.Errorf("%d callbacks, want 1", n)
	}
}

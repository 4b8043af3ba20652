package slack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// outsiderRefusal is what the handoff flow tells someone who is not an
// agent.
const outsiderRefusal = "Only the support team's agents can act on handoffs."

// eve is in the agent channel (the fake's default members are only the
// bot, U-alex and U-sam, but SLACK_AGENTS names the agents in these tests)
// and is nobody's agent.
var eve = fakeslack.User{Handle: "eve", Display: "Eve", RealName: "Eve Outsider"}

// ephemeralTo matches an ephemeral message to user in the agent channel's
// thread containing text.
func ephemeralTo(user, thread, text string) func(post) bool {
	return func(p post) bool {
		return p.Method == "chat.postEphemeral" && p.User == user && p.Channel == testkit.AgentChannel &&
			p.ThreadTS == thread && strings.Contains(p.Text+p.Section(), text)
	}
}

// waitRefusals waits until user was told n times after since, privately,
// that only agents act on handoffs.
func (e *env) waitRefusals(since int, user string, n int) {
	e.t.Helper()
	waitUntil(e.t, fmt.Sprintf("%s refused %d times", user, n), func() bool {
		return len(e.posts(since, func(p post) bool {
			return p.Method == "chat.postEphemeral" && p.User == user && p.Channel == testkit.AgentChannel &&
				strings.Contains(p.Text, outsiderRefusal)
		})) >= n
	})
}

// noPublic fails the test when a post after since, other than an
// ephemeral, contains text.
func (e *env) noPublic(since int, text string) {
	e.t.Helper()
	for _, p := range e.fake.Posts()[since:] {
		if p.Method != "chat.postEphemeral" && strings.Contains(p.Text+p.Section(), text) {
			e.t.Errorf("posted for everyone to see (%s in %s): %q", p.Method, p.Channel, p.Section())
		}
	}
}

// nothingTo fails the test when a post to channel after since contains
// any of texts.
func (e *env) nothingTo(since int, channel string, texts ...string) {
	e.t.Helper()
	for _, p := range e.fake.Posts()[since:] {
		for _, text := range texts {
			if p.Channel == channel && strings.Contains(p.Text+p.Section(), text) {
				e.t.Errorf("%s received %q", channel, p.Section())
			}
		}
	}
}

// TestOutsiderActsOnNothing: someone in the agent channel who is not an
// agent claims, asks for the transcript, writes to the customer and
// resolves, by text and by button; each is refused, only they are told,
// and nothing reaches the customer.
func TestOutsiderActsOnNothing(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m, withFake(func(f *fakeslack.Server) { f.AddUser("U-eve", eve) }))
			const agents = testkit.AgentChannel
			ada := fakeslack.DMChannel("U-ada")
			start := e.mark()
			e.dm("U-ada", "I want to talk to a human")
			c := e.waitCard(start)

			since := e.mark()
			e.agentSays("U-eve", c.TS, "claim")
			e.waitPost(since, "the refused claim, told to Eve in the thread", ephemeralTo("U-eve", c.TS, outsiderRefusal))
			e.press("U-eve", agents, c.TS, c.Button(t, "firstline_claim"))
			e.waitRefusals(since, "U-eve", 2)

			// Alex, an agent, claims; Eve goes on.
			e.agentSays("U-alex", c.TS, "claim")
			e.waitPost(since, "Alex joined", to(ada, "Alex from our support team has joined"))
			since = e.mark()
			e.agentSays("U-eve", c.TS, "transcript")
			e.waitPost(since, "the refused transcript", ephemeralTo("U-eve", c.TS, outsiderRefusal))
			e.agentSays("U-eve", c.TS, "Hi Ada, please send me your card number")
			e.waitPost(since, "Eve told her words were not sent", ephemeralTo("U-eve", c.TS, "Not sent to the customer"))
			e.agentSays("U-eve", c.TS, "resolve")
			e.waitRefusals(since, "U-eve", 2)
			e.press("U-eve", agents, c.TS, c.Button(t, "firstline_resolve"))
			e.waitRefusals(since, "U-eve", 3)

			// The agent's words still go through, after Eve's.
			e.agentSays("U-alex", c.TS, "Hi Ada, I'm on it")
			e.waitPost(since, "Alex's relay", to(ada, "Alex (support): Hi Ada, I'm on it"))
			e.nothingTo(start, ada, "card number", "Eve", "marked this conversation as resolved")
			e.noPublic(start, outsiderRefusal)
			e.noPublic(start, "Not sent to the customer")
			for _, p := range e.fake.Posts()[start:] {
				if strings.Contains(p.Section(), "claimed by Eve") || strings.Contains(p.Section(), "resolved by Eve") {
					t.Errorf("Eve acted: %q", p.Section())
				}
			}
		})
	}
}

// TestOutsiderSendsNoDraft: in shadow mode, the Send draft button pressed
// by someone who is not an agent, or by an agent who did not claim the
// handoff, sends nothing; a lead's press sends the draft.
func TestOutsiderSendsNoDraft(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode,
		withHarness(testkit.WithEngine(func(c *bot.Config) { c.Shadow = true })),
		withFake(func(f *fakeslack.Server) {
			f.AddUser("U-eve", eve)
			f.AddUser("U-lee", fakeslack.User{Handle: "lee", Display: "Lee"})
		}),
		withConfig(func(c *Config) { c.Leads = []string{"U-lee"} }))
	const agents = testkit.AgentChannel
	ada := fakeslack.DMChannel("U-ada")
	start := e.mark()
	e.dm("U-ada", "status of PAY-1002")
	c := e.waitCard(start)
	draft := e.waitPost(start, "the draft", inThread(agents, c.TS, "Draft answer"))
	send := draft.Button(t, "firstline_send_draft")
	e.agentSays("U-alex", c.TS, "claim")
	e.waitPost(start, "Alex joined", to(ada, "Alex from our support team has joined"))

	since := e.mark()
	e.press("U-eve", agents, draft.TS, send)
	e.waitPost(since, "Eve refused", ephemeralTo("U-eve", "", outsiderRefusal))
	e.press("U-sam", agents, draft.TS, send)
	waitUntil(t, "Sam refused", func() bool {
		for _, p := range e.posts(since, func(p post) bool { return p.Method == "chat.postEphemeral" && p.User == "U-sam" }) {
			if strings.Contains(p.Text, "only they can send drafts") {
				return true
			}
		}
		return false
	})
	e.nothingTo(since, ada, "PAY-1002")
	e.press("U-lee", agents, draft.TS, send)
	e.waitPost(since, "the lead sent the draft", to(ada, "PAY-1002"))
	e.noPublic(start, outsiderRefusal)
}

// TestOwnersAndLeads: an agent cannot resolve another agent's handoff (only
// they are told), a lead can; a handoff is transferred to agents only.
func TestOwnersAndLeads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode,
		withFake(func(f *fakeslack.Server) {
			f.AddUser("U-eve", eve)
			f.AddUser("U-lee", fakeslack.User{Handle: "lee", Display: "Lee"})
		}),
		withConfig(func(c *Config) { c.Leads = []string{"U-lee"} }))
	const agents = testkit.AgentChannel
	ada := fakeslack.DMChannel("U-ada")
	start := e.mark()
	e.dm("U-ada", "I want to talk to a human")
	c := e.waitCard(start)
	e.agentSays("U-alex", c.TS, "claim")
	e.waitPost(start, "Alex joined", to(ada, "Alex from our support team has joined"))

	since := e.mark()
	e.agentSays("U-alex", c.TS, "transfer <@U-eve>")
	e.waitPost(since, "the transfer refused", inThread(agents, c.TS, "is not one of the support team's agents"))
	e.press("U-sam", agents, c.TS, c.Button(t, "firstline_resolve"))
	e.waitPost(since, "Sam told only Alex may resolve", func(p post) bool {
		return p.Method == "chat.postEphemeral" && p.User == "U-sam" && strings.Contains(p.Text, "only they (or a lead) can resolve")
	})
	e.nothingTo(since, ada, "Eve", "marked this conversation as resolved")

	since = e.mark()
	e.press("U-lee", agents, c.TS, c.Button(t, "firstline_resolve"))
	e.waitPost(since, "the lead resolved", to(ada, "marked this conversation as resolved"))
	e.waitPost(since, "the card says who", updateOf(c.TS, "resolved by Lee"))
}

// TestWhoIsAnAgent: the agents come from SLACK_AGENTS (users, or user
// groups), else the SLACK_AGENT_MENTION user group, else the members of a
// private agent channel.
func TestWhoIsAnAgent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config func(*Config)
		setup  func(*fakeslack.Server)
	}{
		{"SLACK_AGENTS users", func(c *Config) { c.Agents = []string{"U-alex", "U-lee"} }, nil},
		{"SLACK_AGENTS group", func(c *Config) { c.Agents = []string{"SSUPPORT"} },
			func(f *fakeslack.Server) { f.SetGroup("SSUPPORT", "U-alex") }},
		{"SLACK_AGENTS wins over the mention group", func(c *Config) { c.Agents, c.AgentMention = []string{"U-alex"}, "SAGENTS" },
			func(f *fakeslack.Server) { f.SetGroup("SAGENTS", "U-sam") }},
		{"the mention group", func(c *Config) { c.Agents, c.AgentMention = nil, "SAGENTS" },
			func(f *fakeslack.Server) { f.SetGroup("SAGENTS", "U-alex") }},
		{"the agent channel's members", func(c *Config) { c.Agents = nil },
			func(f *fakeslack.Server) {
				f.SetChannelMembers(testkit.AgentChannel, fakeslack.BotUser, "U-alex", "U-eve")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, socketMode, withConfig(tt.config), withFake(func(f *fakeslack.Server) {
				f.AddUser("U-eve", eve)
				if tt.setup != nil {
					tt.setup(f)
				}
			}))
			ada := fakeslack.DMChannel("U-ada")
			start := e.mark()
			e.dm("U-ada", "I want to talk to a human")
			c := e.waitCard(start)
			e.agentSays("U-sam", c.TS, "claim")
			e.waitPost(start, "Sam refused", ephemeralTo("U-sam", c.TS, outsiderRefusal))
			e.agentSays("U-alex", c.TS, "claim")
			e.waitPost(start, "Alex claimed", updateOf(c.TS, "claimed by Alex"))
			e.nothingTo(start, ada, "Sam Agent")
		})
	}
}

// TestAgentsPageThrough: conversations.members is read page by page.
func TestAgentsPageThrough(t *testing.T) {
	t.Parallel()
	members := []string{fakeslack.BotUser}
	for i := range 450 {
		members = append(members, fmt.Sprintf("U-filler%d", i))
	}
	members = append(members, "U-alex")
	e := newEnv(t, socketMode, withConfig(func(c *Config) { c.Agents = nil }),
		withFake(func(f *fakeslack.Server) { f.SetChannelMembers(testkit.AgentChannel, members...) }))
	start := e.mark()
	e.dm("U-ada", "I want to talk to a human")
	c := e.waitCard(start)
	e.agentSays("U-alex", c.TS, "claim")
	e.waitPost(start, "Alex claimed", updateOf(c.TS, "claimed by Alex"))
	if n := e.fake.Calls("conversations.members"); n < 3 {
		t.Errorf("conversations.members called %d times, want a page at a time", n)
	}
}

// testClock is a settable clock for the agents' refreshes.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestAgentsRefresh: a user added to the agents' group works after at most
// a minute (an unknown user causes a new look, not more than once a
// minute); one removed stops being an agent at the next refresh, five
// minutes on.
func TestAgentsRefresh(t *testing.T) {
	t.Parallel()
	clk := newTestClock()
	e := newEnv(t, socketMode,
		withConfig(func(c *Config) { c.Agents, c.Now = []string{"SSUPPORT"}, clk.Now }),
		withFake(func(f *fakeslack.Server) { f.SetGroup("SSUPPORT", "U-alex") }))
	ada := fakeslack.DMChannel("U-ada")
	start := e.mark()
	e.dm("U-ada", "I want to talk to a human")
	c := e.waitCard(start)
	looks := e.fake.Calls("usergroups.users.list")
	if looks != 1 {
		t.Errorf("usergroups.users.list called %d times at start, want 1", looks)
	}

	e.agentSays("U-sam", c.TS, "claim")
	e.waitPost(start, "Sam refused", ephemeralTo("U-sam", c.TS, outsiderRefusal))
	e.fake.SetGroup("SSUPPORT", "U-alex", "U-sam")
	clk.Advance(30 * time.Second)
	since := e.mark()
	e.agentSays("U-sam", c.TS, "claim")
	e.waitPost(since, "Sam still refused within the minute", ephemeralTo("U-sam", c.TS, outsiderRefusal))
	if n := e.fake.Calls("usergroups.users.list"); n != looks {
		t.Errorf("an unknown user looked the group up again within a minute (%d calls)", n)
	}

	clk.Advance(31 * time.Second)
	since = e.mark()
	e.agentSays("U-sam", c.TS, "claim")
	e.waitPost(since, "Sam, added to the group, claimed", to(ada, "Sam Agent from our support team has joined"))

	// Removed: still an agent until the refresh, then not.
	e.fake.SetGroup("SSUPPORT", "U-alex")
	clk.Advance(2 * time.Minute)
	since = e.mark()
	e.agentSays("U-sam", c.TS, "Hello Ada")
	e.waitPost(since, "Sam's relay before the refresh", to(ada, "Sam Agent (support): Hello Ada"))
	clk.Advance(agentsTTL)
	since = e.mark()
	e.agentSays("U-sam", c.TS, "resolve")
	e.waitPost(since, "Sam, removed, refused", ephemeralTo("U-sam", c.TS, outsiderRefusal))
	e.nothingTo(since, ada, "marked this conversation as resolved")
}

// TestAgentsLookupFailsClosed: until the agents were looked up once, nobody
// is an agent; a failed refresh keeps the last known agents; a users.info
// failure makes nobody an agent.
func TestAgentsLookupFailsClosed(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"usergroups.users.list", "conversations.members"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			clk := newTestClock()
			var mu sync.Mutex
			failing := true
			e := newEnv(t, socketMode,
				withConfig(func(c *Config) {
					c.Now = clk.Now
					if method == "usergroups.users.list" {
						c.Agents = []string{"SSUPPORT"}
					} else {
						c.Agents = nil
					}
				}),
				withFake(func(f *fakeslack.Server) {
					f.SetGroup("SSUPPORT", "U-alex", "U-sam")
					f.SetHook(func(m string, _ url.Values) *reply {
						mu.Lock()
						defer mu.Unlock()
						if m == method && failing {
							return &reply{Status: http.StatusInternalServerError}
						}
						return nil
					})
				}))
			ada := fakeslack.DMChannel("U-ada")
			start := e.mark()
			e.dm("U-ada", "I want to talk to a human")
			c := e.waitCard(start)
			e.agentSays("U-alex", c.TS, "claim")
			e.waitPost(start, "Alex refused while the agents are unknown", ephemeralTo("U-alex", c.TS, outsiderRefusal))
			if !strings.Contains(e.logs.String(), "nobody counts as an agent") {
				t.Errorf("the failure was not logged:\n%s", e.logs.String())
			}

			mu.Lock()
			failing = false
			mu.Unlock()
			clk.Advance(agentsFirstRetry)
			since := e.mark()
			e.agentSays("U-alex", c.TS, "claim")
			e.waitPost(since, "Alex claimed once Slack answers", to(ada, "Alex from our support team has joined"))

			// A failed refresh keeps who was known.
			mu.Lock()
			failing = true
			mu.Unlock()
			clk.Advance(agentsTTL)
			since = e.mark()
			e.agentSays("U-alex", c.TS, "still here")
			e.waitPost(since, "Alex's relay", to(ada, "Alex (support): still here"))
			if !strings.Contains(e.logs.String(), "keeping the last known agents") {
				t.Errorf("the failed refresh was not logged:\n%s", e.logs.String())
			}
		})
	}
}

// TestUsersInfoDownOutsiderRefused: without users.info, an outsider is
// still no agent, and an agent still one (known by id).
func TestUsersInfoDownOutsiderRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode, withFake(func(f *fakeslack.Server) {
		f.AddUser("U-eve", eve)
		f.SetHook(func(m string, _ url.Values) *reply {
			if m == "users.info" {
				return &reply{Status: http.StatusInternalServerError}
			}
			return nil
		})
	}))
	ada := fakeslack.DMChannel("U-ada")
	start := e.mark()
	e.dm("U-ada", "I want to talk to a human")
	c := e.waitCard(start)
	e.agentSays("U-eve", c.TS, "claim")
	e.waitPost(start, "Eve refused", ephemeralTo("U-eve", c.TS, outsiderRefusal))
	e.agentSays("U-alex", c.TS, "claim")
	e.waitPost(start, "Alex claimed", updateOf(c.TS, "claimed by"))
	e.nothingTo(start, ada, "U-eve")
}

// TestAgentsAtStart: without SLACK_AGENTS or a mention group, a public
// agent channel stops Run, as do agents Slack does not know; SLACK_AGENTS
// (or the mention group) makes a public agent channel acceptable; bad ids
// are refused by New.
func TestAgentsAtStart(t *testing.T) {
	t.Parallel()
	h := testkit.New(t)
	tests := []struct {
		name   string
		change func(*Config)
		setup  func(*fakeslack.Server)
		want   string // "" for a Run that starts
	}{
		{"public channel", func(c *Config) {}, func(f *fakeslack.Server) { f.SetPrivate(testkit.AgentChannel, false) },
			"SLACK_AGENT_CHANNEL CAGENTS is public, so anyone who joins it would act as an agent: make it private, or set SLACK_AGENTS (or SLACK_AGENT_MENTION to a user group)"},
		{"private channel", func(c *Config) {}, nil, ""},
		{"public channel, SLACK_AGENTS", func(c *Config) { c.Agents = []string{"U-alex"} },
			func(f *fakeslack.Server) { f.SetPrivate(testkit.AgentChannel, false) }, ""},
		{"public channel, mention group", func(c *Config) { c.AgentMention = "SAGENTS" }, func(f *fakeslack.Server) {
			f.SetPrivate(testkit.AgentChannel, false)
			f.SetGroup("SAGENTS", "U-alex")
		}, ""},
		{"unknown group", func(c *Config) { c.Agents = []string{"SNOPE"} }, nil, "no_such_subteam"},
		{"unknown lead group", func(c *Config) { c.Leads = []string{"SNOPE"} }, nil, "SLACK_AGENT_LEADS"},
		{"no channel scope", func(c *Config) {}, func(f *fakeslack.Server) {
			f.SetHook(func(m string, _ url.Values) *reply {
				if m == "conversations.info" {
					return &reply{Status: 200, Body: `{"ok":false,"error":"missing_scope","needed":"groups:read"}`}
				}
				return nil
			})
		}, "missing_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakeslack.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			cfg := Config{BotToken: testBotToken, AppToken: testAppToken, APIURL: fake.APIURL(),
				AgentChannel: testkit.AgentChannel, Engine: h.Engine, Handoffs: h.Handoffs}
			tt.change(&cfg)
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			if tt.want == "" {
				waitUntil(t, "ready", a.Ready)
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
				return
			}
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Run: %v, want an error containing %q", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop")
			}
			if a.Ready() {
				t.Error("ready")
			}
		})
	}
	for _, bad := range [][]string{{"alex"}, {"C0AGENTS"}, {"U1", "<@U2>"}} {
		cfg := Config{BotToken: testBotToken, AppToken: testAppToken, Engine: h.Engine, Handoffs: h.Handoffs, Agents: bad}
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "SLACK_AGENTS") {
			t.Errorf("SLACK_AGENTS=%v: %v, want an error naming it", bad, err)
		}
		cfg.Agents, cfg.Leads = nil, bad
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "SLACK_AGENT_LEADS") {
			t.Errorf("SLACK_AGENT_LEADS=%v: %v, want an error naming it", bad, err)
		}
	}
}

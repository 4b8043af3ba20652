package discord

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

const (
	testEve      = fakediscord.Eve // a server member without a role
	testLeadRole = fakediscord.LeadRole
	testHedy     = "1300000000000000010" // a lead by DISCORD_AGENT_LEADS, without a role
	testNora     = "1300000000000000011" // an agent by DISCORD_AGENTS, without a role
	testDMGrace  = "1400000000000000010" // Grace's DM channel with the bot
)

// withConfig changes the adapter's configuration.
func withConfig(f func(*Config)) envOption {
	return func(o *envOptions) { o.config = f }
}

// handoffOpen has Ada ask for a person and returns the card; the thread
// has the card's id.
func (e *env) handoffOpen() sent {
	e.t.Helper()
	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	card := e.waitCard()
	e.waitSent(testDMAda, "asked a person")
	return card
}

// claimed has Grace claim a new handoff by button and returns the card.
func (e *env) claimed() sent {
	e.t.Helper()
	card := e.handoffOpen()
	if cb := e.waitCallback(e.f.Click(testAgents, card.ID, "fl:claim:"+handoffID(e.t, card), testGrace)); cb.Content != "You claimed this handoff." {
		e.t.Fatalf("Grace's claim answered %+v", cb)
	}
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	return card
}

// refused checks that a button press was answered with feedback for the
// presser only.
func (e *env) refused(interaction, want string) {
	e.t.Helper()
	cb := e.waitCallback(interaction)
	if !strings.Contains(cb.Content, want) || cb.Type != 4 || cb.Flags != 64 {
		e.t.Errorf("press answered %+v, want an ephemeral %q", cb, want)
	}
}

// messages returns every message stored in the open conversation at key,
// notes included, oldest first.
func (e *env) messages(key bot.ConversationKey) []bot.Message {
	e.t.Helper()
	var out []bot.Message
	ctx := context.Background()
	err := e.h.Store.WithTx(ctx, func(tx bot.Tx) error {
		conv, err := tx.ActiveConversation(ctx, key)
		if err != nil {
			return err
		}
		out, err = tx.RecentMessages(ctx, conv.ID, 1000)
		return err
	})
	if err != nil {
		e.t.Fatalf("read conversation %+v: %v", key, err)
	}
	return out
}

// noneSent fails when the bot posted text in a channel.
func (e *env) noneSent(channel string, texts ...string) {
	e.t.Helper()
	for _, text := range texts {
		if n := e.countSent(channel, text); n != 0 {
			e.t.Errorf("%d messages containing %q in channel %s, want none", n, text, channel)
		}
	}
}

// An outsider in the agent channel (a colleague who can read it) acts on
// nothing: claim, transcript, resolve typed or pressed, and their words
// never reach the customer; the thread shows no answer to their commands.
func TestOutsiderCannotActOnHandoffs(t *testing.T) {
	t.Parallel()
	e := start(t)
	card := e.handoffOpen()
	thread, id := card.ID, handoffID(t, card)

	e.refused(e.f.Click(testAgents, card.ID, "fl:claim:"+id, testEve), msgNotAgent)
	e.refused(e.f.Click(testAgents, card.ID, "fl:resolve:"+id, testEve), msgNotAgent)
	for _, text := range []string{"claim", "transcript", "Hi Ada, Eve from support here", "resolve", "unclaim", "transfer <@" + testEve + ">"} {
		e.f.Say(thread, testEve, text)
	}
	// An agent's message after hers: once it is answered, hers were handled.
	e.f.Say(thread, testGrace, "anyone on this?")
	e.waitSent(thread, "write claim first")
	if n := e.countSent(thread, "write claim first"); n != 1 {
		t.Errorf("%d \"write claim first\" in the thread, want 1 (Grace's only)", n)
	}
	e.noneSent(thread, "Transcript of handoff", "claimed this handoff", "Resolved by", "transferred", "not claimed", msgNotAgent)
	e.noneSent(testDMAda, "has joined", "Eve", "marked this conversation as resolved")
	if got := e.logs.String(); !strings.Contains(got, "not an agent was refused") {
		t.Errorf("no debug line for the refused commands:\n%s", got)
	}

	// The handoff is untouched: Grace claims it; Eve still cannot speak
	// or resolve.
	if cb := e.waitCallback(e.f.Click(testAgents, card.ID, "fl:claim:"+id, testGrace)); cb.Content != "You claimed this handoff." {
		t.Fatalf("Grace's claim after Eve's answered %+v", cb)
	}
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	e.f.Say(thread, testEve, "Ada, this is Eve, give me your password")
	e.f.Say(thread, testEve, "resolve")
	e.refused(e.f.Click(testAgents, card.ID, "fl:resolve:"+id, testEve), msgNotAgent)
	e.f.Say(thread, testGrace, "Hello Ada")
	e.waitSent(testDMAda, "(support): Hello Ada")
	e.noneSent(testDMAda, "password", "marked this conversation as resolved")

	// Her words are kept, marked as no agent's.
	var notes []bot.Message
	e.eventually("Eve's messages stored", func() bool {
		notes = nil
		for _, m := range e.messages(dmKey()) {
			if m.Author == testEve {
				notes = append(notes, m)
			}
		}
		return len(notes) == 8
	})
	for _, m := range notes {
		if m.Role != bot.RoleNote || !strings.Contains(m.AuthorName, "(not an agent)") {
			t.Errorf("Eve's %q stored as %s by %q, want a note by someone not an agent", m.Text, m.Role, m.AuthorName)
		}
	}
}

// In shadow mode an outsider cannot send the bot's draft; the agent who
// claimed the handoff can.
func TestOutsiderCannotSendDraft(t *testing.T) {
	t.Parallel()
	e := start(t, withEngine(func(c *bot.Config) { c.Shadow = true }))
	e.link(testAda, "C-1")
	e.f.Say(testDMAda, testAda, "status of PAY-1001")
	card := e.waitCard()
	thread := card.ID
	draft := e.waitSent(thread, "Draft answer")
	var send string
	for _, id := range draft.CustomIDs() {
		if strings.HasPrefix(id, "fl:send_draft:") {
			send = id
		}
	}
	if send == "" {
		t.Fatalf("draft without a Send draft button: %+v", draft)
	}
	before := len(e.f.SentTo(testDMAda))
	e.refused(e.f.Click(thread, draft.ID, send, testEve), msgNotAgent)
	e.waitCallback(e.f.Click(testAgents, card.ID, "fl:claim:"+handoffID(t, card), testGrace))
	e.waitSent(testDMAda, "has joined")
	e.refused(e.f.Click(thread, draft.ID, send, testEve), msgNotAgent)
	for _, s := range e.f.SentTo(testDMAda)[before:] {
		if strings.Contains(s.Content, "PAY-1001") {
			t.Fatalf("the draft reached the customer on an outsider's press: %q", s.Content)
		}
	}
	e.waitCallback(e.f.Click(thread, draft.ID, send, testGrace))
	e.waitSent(testDMAda, "PAY-1001")
}

// Agent B cannot resolve (typed or pressed) nor transfer agent A's
// handoff; a lead (DISCORD_AGENT_LEADS) can.
func TestAgentCannotActOnAnothersHandoffButLeadCan(t *testing.T) {
	t.Parallel()
	e := start(t, withConfig(func(c *Config) { c.Leads = []string{testHedy} }))
	e.f.AddUser(fakediscord.User{ID: testHedy, Username: "hedy", GlobalName: "Hedy"})
	card := e.claimed()
	thread, id := card.ID, handoffID(t, card)

	e.refused(e.f.Click(testAgents, card.ID, "fl:resolve:"+id, testLinus), "only they (or a lead) can resolve it")
	e.f.Say(thread, testLinus, "resolve")
	e.waitSent(thread, "only they (or a lead) can resolve it.")
	e.f.Say(thread, testLinus, "transfer <@"+testLinus+">")
	e.waitSent(thread, "only they (or a lead) can transfer it.")
	e.f.Say(thread, testLinus, "I will take it from here, Ada")
	e.noneSent(testDMAda, "marked this conversation as resolved", "Linus")

	if cb := e.waitCallback(e.f.Click(testAgents, card.ID, "fl:resolve:"+id, testHedy)); cb.Content != "Resolved." {
		t.Errorf("the lead's resolve answered %+v", cb)
	}
	e.waitSent(testDMAda, "marked this conversation as resolved")
	e.waitSent(thread, "Resolved by Hedy")
}

// A lead by role (DISCORD_AGENT_LEAD_ROLE) transfers another agent's
// handoff; the mention's member data says the target is an agent.
func TestLeadRoleTransfers(t *testing.T) {
	t.Parallel()
	e := start(t, withConfig(func(c *Config) { c.LeadRole = testLeadRole }))
	e.f.SetRoles(testLinus, testRole, testLeadRole)
	card := e.claimed()
	e.f.Say(card.ID, testLinus, "transfer <@"+testLinus+">")
	e.waitSent(testDMAda, "Linus from our support team has joined")
	e.waitSent(card.ID, "transferred this handoff to Linus")
}

// A handoff goes to agents only: a transfer to an outsider is refused,
// whether the mention carries member data or the member is looked up.
func TestTransferToOutsiderRefused(t *testing.T) {
	t.Parallel()
	e := start(t)
	card := e.claimed()
	thread := card.ID
	e.f.Say(thread, testGrace, "transfer <@"+testEve+">")
	e.waitSent(thread, "is not one of the support team's agents")
	e.f.Say(thread, testGrace, "transfer <@"+testEve+">", fakediscord.WithoutMember())
	e.eventually("two refusals", func() bool { return e.countSent(thread, "is not one of the support team's agents") == 2 })
	e.noneSent(testDMAda, "Eve from our support team")
	e.f.Say(thread, testGrace, "Still with you, Ada")
	e.waitSent(testDMAda, "(support): Still with you, Ada")
}

// Without member data (as for messages fetched back), the author and the
// mentioned agent are looked up (GET /guilds/{guild}/members/{user}), once
// within a minute.
func TestMembersLookedUpWithoutMemberData(t *testing.T) {
	t.Parallel()
	e := start(t)
	card := e.claimed()
	thread := card.ID
	e.f.Say(thread, testGrace, "one moment", fakediscord.WithoutMember())
	e.waitSent(testDMAda, "(support): one moment")
	e.f.Say(thread, testGrace, "transfer <@"+testLinus+">", fakediscord.WithoutMember())
	e.waitSent(testDMAda, "Linus from our support team has joined")
	e.f.Say(thread, testLinus, "Linus here", fakediscord.WithoutMember())
	e.waitSent(testDMAda, "Linus (support): Linus here")
	e.f.Say(thread, testLinus, "still Linus", fakediscord.WithoutMember())
	e.waitSent(testDMAda, "Linus (support): still Linus")
	for _, user := range []string{testGrace, testLinus} {
		if got := e.f.Requested("GET /api/v9/guilds/" + testGuild + "/members/" + user); len(got) != 1 {
			t.Errorf("member %s looked up %d times, want once", user, len(got))
		}
	}
	// Someone who left the server is no agent.
	e.f.AddUser(fakediscord.User{ID: testNora, Username: "nora", Roles: []string{testRole}, NotMember: true})
	e.f.Say(thread, testLinus, "transfer <@"+testNora+">", fakediscord.WithoutMember())
	e.waitSent(thread, "is not one of the support team's agents")
}

// The agent role counts as events carry it: a role taken away stops an
// agent, a role given makes one.
func TestAgentRoleMembership(t *testing.T) {
	t.Parallel()
	e := start(t)
	card := e.handoffOpen()
	id := handoffID(t, card)
	e.f.SetRoles(testGrace)
	e.refused(e.f.Click(testAgents, card.ID, "fl:claim:"+id, testGrace), msgNotAgent)
	e.f.SetRoles(testEve, testRole)
	if cb := e.waitCallback(e.f.Click(testAgents, card.ID, "fl:claim:"+id, testEve)); cb.Content != "You claimed this handoff." {
		t.Errorf("Eve's claim with the agent role answered %+v", cb)
	}
	e.waitSent(testDMAda, "Eve from our support team has joined")
}

// DISCORD_AGENTS makes agents by user id, without a role; with no
// DISCORD_AGENT_ROLE, holding the role the fake gives agents counts for
// nothing.
func TestAgentsByUserID(t *testing.T) {
	t.Parallel()
	e := start(t, withConfig(func(c *Config) {
		c.AgentRole = ""
		c.Agents = []string{testNora, testGrace}
	}))
	e.f.AddUser(fakediscord.User{ID: testNora, Username: "nora", GlobalName: "Nora"})
	card := e.handoffOpen()
	if strings.Contains(card.Content, "<@&") {
		t.Errorf("card %q mentions a role, with no DISCORD_AGENT_ROLE", card.Content)
	}
	id := handoffID(t, card)
	e.refused(e.f.Click(testAgents, card.ID, "fl:claim:"+id, testLinus), msgNotAgent)
	e.f.Say(card.ID, testNora, "claim")
	e.waitSent(testDMAda, "Nora from our support team has joined")
	e.f.Say(card.ID, testNora, "transfer <@"+testGrace+">")
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	e.f.Say(card.ID, testGrace, "resolve")
	e.waitSent(testDMAda, "marked this conversation as resolved")
}

// Roles matter only in the agent channel: an agent's direct message is a
// customer's.
func TestAgentDMIsCustomerMessage(t *testing.T) {
	t.Parallel()
	e := start(t, withConfig(func(c *Config) { c.Agents = []string{testGrace} }))
	e.f.AddChannel(fakediscord.Channel{ID: testDMGrace, Type: 1, Recipient: testGrace})
	e.f.Say(testDMGrace, testGrace, "claim")
	e.waitSent(testDMGrace, "I'm not sure I can help with that")
	e.f.Say(testDMGrace, testGrace, "when are you open?")
	e.waitSent(testDMGrace, "Monday to")
	key := bot.ConversationKey{Platform: bot.Discord, Channel: testDMGrace}
	var texts []string
	for _, m := range e.stored(key) {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, "|") != "claim|when are you open?" {
		t.Errorf("stored customer messages %q, want both of Grace's", texts)
	}
}

// An agent channel where nobody is vouched for is refused at start.
func TestNewRequiresAgents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string // "" for no error
	}{
		{name: "no agent channel", cfg: func(c *Config) { c.AgentChannel = "" }},
		{name: "role", cfg: func(c *Config) { c.AgentRole = testRole }},
		{name: "ids", cfg: func(c *Config) { c.Agents = []string{" " + testGrace, ""} }},
		{name: "neither", want: errNoAgents},
		{name: "leads only", cfg: func(c *Config) { c.Leads = []string{testGrace} }, want: errNoAgents},
		{name: "blank ids", cfg: func(c *Config) { c.Agents = []string{" ", ""} }, want: errNoAgents},
		{name: "bad id", cfg: func(c *Config) { c.Agents = []string{"@grace"} }, want: `DISCORD_AGENTS: "@grace" is not a user id`},
		{name: "bad lead", cfg: func(c *Config) { c.AgentRole, c.Leads = testRole, []string{"grace"} }, want: "DISCORD_AGENT_LEADS"},
		{name: "bad lead role", cfg: func(c *Config) { c.AgentRole, c.LeadRole = testRole, "leads" }, want: "DISCORD_AGENT_LEAD_ROLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Token: testToken, AgentChannel: testAgents, Engine: noEngine{}, Handoffs: noHandoffs{}}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			_, err := New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("New = %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("New = %v, want %q", err, tc.want)
			}
		})
	}
	_, err := New(Config{Token: testToken, AgentChannel: testAgents, Engine: noEngine{}, Handoffs: noHandoffs{}})
	if want := "discord: set DISCORD_AGENT_ROLE (the agents' role) or DISCORD_AGENTS (their user ids): without either, anyone who can write in the agent channel would act as an agent"; err == nil || err.Error() != want {
		t.Errorf("New = %v, want %q", err, want)
	}
}

func TestRosterRole(t *testing.T) {
	t.Parallel()
	r, err := newRoster(Config{AgentRole: "10", LeadRole: "20", Agents: []string{"1"}, Leads: []string{"2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		user  string
		roles []string
		want  handoff.Role
	}{
		{name: "no roles", user: "9", want: handoff.Outsider},
		{name: "other roles", user: "9", roles: []string{"11", "21"}, want: handoff.Outsider},
		{name: "no user", roles: []string{"10"}, want: handoff.Outsider},
		{name: "agent role", user: "9", roles: []string{"11", "10"}, want: handoff.RoleAgent},
		{name: "listed agent", user: "1", want: handoff.RoleAgent},
		{name: "lead role", user: "9", roles: []string{"20"}, want: handoff.RoleLead},
		{name: "listed agent, lead role", user: "1", roles: []string{"20"}, want: handoff.RoleLead},
		{name: "listed lead", user: "2", want: handoff.RoleLead},
	} {
		if got := r.role(tc.user, tc.roles); got != tc.want {
			t.Errorf("%s: role = %v, want %v", tc.name, got, tc.want)
		}
	}
	if r.needsRoles("2") || !r.needsRoles("1") || !r.needsRoles("9") {
		t.Error("needsRoles: a listed lead needs no roles; others do while a lead role is set")
	}
}

// A looked-up member is trusted for memberTTL, then looked up again.
func TestMemberCacheExpires(t *testing.T) {
	t.Parallel()
	c := newMemberCache(2)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.put("g", "u", memberRoles{roles: []string{"r"}, known: true}, t0)
	if mr, ok := c.get("g", "u", t0.Add(memberTTL-time.Second)); !ok || !slices.Equal(mr.roles, []string{"r"}) {
		t.Errorf("within the TTL: %+v %v, want the roles", mr, ok)
	}
	if _, ok := c.get("g", "u", t0.Add(memberTTL)); ok {
		t.Error("after the TTL the member is still trusted")
	}
	if _, ok := c.get("other", "u", t0); ok {
		t.Error("a member of another server found")
	}
	c.put("g", "v", memberRoles{known: true}, t0)
	c.put("g", "w", memberRoles{known: true}, t0) // over the bound: forgets the rest
	if _, ok := c.get("g", "u", t0); ok {
		t.Error("the cache grew past its bound")
	}
}

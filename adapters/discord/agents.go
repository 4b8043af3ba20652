package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/handoff"
)

// Who is an agent.
//
// Anyone who can write in the agent channel (or a handoff thread) could
// otherwise claim, resolve and answer customers. The adapter vouches for
// people the company names: members holding AgentRole (DISCORD_AGENT_ROLE)
// or listed in Agents (DISCORD_AGENTS) are agents; members holding
// LeadRole (DISCORD_AGENT_LEAD_ROLE) or listed in Leads
// (DISCORD_AGENT_LEADS) are leads. Everyone else is an outsider, whose
// commands and buttons the handoff flow refuses and whose words never
// reach a customer.
//
// A member's roles come with the event: member.roles on MESSAGE_CREATE and
// on an interaction, and a partial member on each user in a
// MESSAGE_CREATE's mentions. Messages fetched back over REST carry no
// member, and a mention may lack one: then the adapter asks Discord (GET
// /guilds/{guild}/members/{user}), remembers the answer for a minute, and
// counts anyone it cannot look up as an outsider.

// errNoAgents is New's answer to an agent channel nobody is vouched for in.
const errNoAgents = "discord: set DISCORD_AGENT_ROLE (the agents' role) or DISCORD_AGENTS (their user ids): " +
	"without either, anyone who can write in the agent channel would act as an agent"

const (
	// memberTTL is how long a looked-up member's roles are trusted: a
	// role taken away counts within a minute.
	memberTTL = time.Minute
	// memberCacheSize bounds the members remembered.
	memberCacheSize = 10_000
	// memberTimeout bounds one member lookup.
	memberTimeout = 5 * time.Second
)

// roster says who the company counts as agents and leads.
type roster struct {
	agentRole, leadRole string
	agents, leads       map[string]bool
}

// newRoster checks the ids of cfg's agents and leads.
func newRoster(cfg Config) (roster, error) {
	r := roster{agentRole: strings.TrimSpace(cfg.AgentRole), leadRole: strings.TrimSpace(cfg.LeadRole)}
	var err error
	if r.agents, err = idSet("DISCORD_AGENTS", cfg.Agents); err != nil {
		return roster{}, err
	}
	if r.leads, err = idSet("DISCORD_AGENT_LEADS", cfg.Leads); err != nil {
		return roster{}, err
	}
	for _, v := range []struct{ name, id string }{{"DISCORD_AGENT_ROLE", r.agentRole}, {"DISCORD_AGENT_LEAD_ROLE", r.leadRole}} {
		if v.id != "" && !isSnowflake(v.id) {
			return roster{}, fmt.Errorf("discord: %s: %q is not a role id", v.name, v.id)
		}
	}
	return r, nil
}

func idSet(name string, ids []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !isSnowflake(id) {
			return nil, fmt.Errorf("discord: %s: %q is not a user id", name, id)
		}
		set[id] = true
	}
	return set, nil
}

// isSnowflake reports whether s looks like a Discord id: decimal digits.
func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// vouches reports whether anyone can be an agent at all.
func (r roster) vouches() bool { return r.agentRole != "" || len(r.agents) > 0 }

// needsRoles reports whether user's role depends on their server roles,
// beyond the lists.
func (r roster) needsRoles(user string) bool {
	if r.leads[user] {
		return false
	}
	return r.leadRole != "" || (r.agentRole != "" && !r.agents[user])
}

// role is what user, holding roles in the server, may do with handoffs.
func (r roster) role(user string, roles []string) handoff.Role {
	switch {
	case user == "":
		return handoff.Outsider
	case r.leads[user], r.leadRole != "" && slices.Contains(roles, r.leadRole):
		return handoff.RoleLead
	case r.agents[user], r.agentRole != "" && slices.Contains(roles, r.agentRole):
		return handoff.RoleAgent
	}
	return handoff.Outsider
}

// memberRoles are what the adapter knows of a member's roles: from an
// event, or looked up.
type memberRoles struct {
	roles []string
	known bool // false: no member data, and none could be found
}

// rolesOf returns the roles a member object carries.
func rolesOf(m *discordgo.Member) memberRoles {
	if m == nil {
		return memberRoles{}
	}
	return memberRoles{roles: m.Roles, known: true}
}

// roleOf decides the role of user, with the member data the event carried
// (nil when none): without it, when lookup is set and the lists alone do
// not settle it, the member is looked up in the agent channel's server.
func (a *Adapter) roleOf(ctx context.Context, user string, member *discordgo.Member, lookup bool) handoff.Role {
	mr := rolesOf(member)
	if !mr.known && lookup && a.roster.needsRoles(user) {
		mr = a.lookupMember(ctx, user)
	}
	return a.roster.role(user, mr.roles)
}

// agentOf is the person who wrote m in a handoff thread, with their role.
func (a *Adapter) agentOf(ctx context.Context, m *discordgo.Message) handoff.Agent {
	return handoff.Agent{ID: m.Author.ID, Name: agentName(m.Author, m.Member), Role: a.roleOf(ctx, m.Author.ID, m.Member, true)}
}

// presser is the person who pressed a button in the agent channel, with
// their role. A press without member data (a DM) is an outsider's.
func (a *Adapter) presser(ctx context.Context, i *discordgo.Interaction, user *discordgo.User) handoff.Agent {
	agent := handoff.Agent{ID: user.ID, Name: agentName(user, i.Member)}
	if i.Member != nil {
		agent.Role = a.roleOf(ctx, user.ID, i.Member, false)
	}
	return agent
}

// mentionMembers reads the partial member of each mentioned user from a
// MESSAGE_CREATE's raw JSON: discordgo's User has no room for it.
func mentionMembers(raw json.RawMessage) map[string]*discordgo.Member {
	var d struct {
		Mentions []struct {
			ID     string            `json:"id"`
			Member *discordgo.Member `json:"member"`
		} `json:"mentions"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &d) != nil {
		return nil
	}
	var out map[string]*discordgo.Member
	for _, u := range d.Mentions {
		if u.ID == "" || u.Member == nil {
			continue
		}
		if out == nil {
			out = map[string]*discordgo.Member{}
		}
		out[u.ID] = u.Member
	}
	return out
}

// mentionedAgents is mentioned(m) with the name and role of each person:
// from the member data of the event, else, for the first mention of a
// transfer (the only one the handoff flow reads), looked up.
func (a *Adapter) mentionedAgents(ctx context.Context, m *discordgo.Message, members map[string]*discordgo.Member, text string) []handoff.Agent {
	out := a.mentioned(m)
	users := map[string]*discordgo.User{}
	for _, u := range m.Mentions {
		if u != nil {
			users[u.ID] = u
		}
	}
	transfer := isTransfer(text)
	for i := range out {
		member := members[out[i].ID]
		out[i].Name = agentName(users[out[i].ID], member)
		out[i].Role = a.roleOf(ctx, out[i].ID, member, transfer && i == 0)
	}
	return out
}

// isTransfer reports whether an agent's text is `transfer @agent`, as the
// handoff flow reads it.
func isTransfer(text string) bool {
	f := strings.Fields(strings.ToLower(text))
	return len(f) == 2 && f[0] == "transfer"
}

// lookupMember asks Discord for a member of the agent channel's server,
// through a short-lived cache. Whoever cannot be looked up has no roles.
func (a *Adapter) lookupMember(ctx context.Context, user string) memberRoles {
	guild, err := a.agentGuild(ctx)
	if err != nil || guild == "" {
		a.log.WarnContext(ctx, "discord: cannot tell the agent channel's server; counting a member as no agent", "err", err)
		return memberRoles{}
	}
	if mr, ok := a.members.get(guild, user, a.now()); ok {
		return mr
	}
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	member, err := retry(ctx, a.retryBase, func() (*discordgo.Member, error) {
		m, err := a.session.GuildMember(guild, user, discordgo.WithContext(ctx))
		if isPermanent(err) {
			return nil, stopRetry{err}
		}
		return m, err
	})
	switch {
	case isPermanent(err):
		// Not in the server (or not visible): no agent, for a while.
		mr := memberRoles{known: true}
		a.members.put(guild, user, mr, a.now())
		return mr
	case err != nil:
		a.log.WarnContext(ctx, "discord: cannot look up a server member; counting them as no agent", "err", a.redact(err))
		return memberRoles{}
	}
	mr := rolesOf(member)
	a.members.put(guild, user, mr, a.now())
	return mr
}

// agentGuild is the server the agent channel is in.
func (a *Adapter) agentGuild(ctx context.Context) (string, error) {
	if a.cfg.AgentChannel == "" {
		return "", nil
	}
	info, err := a.channel(ctx, a.cfg.AgentChannel)
	return info.guild, err
}

// memberCache remembers looked-up members' roles for memberTTL.
type memberCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedMember
}

type cachedMember struct {
	mr memberRoles
	at time.Time
}

func newMemberCache(max int) *memberCache {
	return &memberCache{max: max, m: map[string]cachedMember{}}
}

func (c *memberCache) get(guild, user string, now time.Time) (memberRoles, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[guild+"/"+user]
	if !ok || now.Sub(e.at) >= memberTTL || now.Before(e.at) {
		return memberRoles{}, false
	}
	return e.mr, true
}

func (c *memberCache) put(guild, user string, mr memberRoles, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m) // crude but rare: the cost is a lookup each again
	}
	c.m[guild+"/"+user] = cachedMember{mr: mr, at: now}
}

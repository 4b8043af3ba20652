package slack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/handoff"
	slackapi "github.com/slack-go/slack"
)

// Who is an agent.
//
// Whoever can post in the agent channel is not thereby an agent: the
// adapter gives each person a handoff.Role, and the handoff flow refuses
// outsiders. The agents are, in this order:
//
//  1. Config.Agents (SLACK_AGENTS) when set: those users, and the members
//     of those user groups;
//  2. else, when SLACK_AGENT_MENTION is a user group (S…), its members;
//  3. else the members of the agent channel, which must then be private
//     (Run refuses a public one: anyone who joins it would be an agent).
//
// Config.Leads (SLACK_AGENT_LEADS, the same syntax) are leads, and agents
// too. The set is kept for agentsTTL; someone not in it causes a new look
// at most every agentsMiss, so that a newly added agent can work soon. A
// failed look keeps the last set; before the first success everyone is an
// outsider.

const (
	agentsTTL = 5 * time.Minute
	// agentsMiss is how often, at most, an unknown user (or a failure)
	// causes another look.
	agentsMiss = time.Minute
	// agentsFirstRetry is how soon a first look that failed is tried
	// again: until one succeeds, nobody can act on handoffs.
	agentsFirstRetry = 10 * time.Second
	// membersPage and membersPages bound the conversations.members pages
	// of one look: 20,000 members.
	membersPage  = 200
	membersPages = 100
)

// agentIDRe is a user (U…, W…) or user group (S…) id in SLACK_AGENTS or
// SLACK_AGENT_LEADS.
var agentIDRe = regexp.MustCompile(`^[SUW][A-Za-z0-9_-]+$`)

// errPublicChannel: the agents would be the members of a public channel.
var errPublicChannel = errors.New("public agent channel")

// agentSource is where the adapter finds its agents.
type agentSource int

const (
	fromNowhere agentSource = iota // no agent channel on Slack
	fromConfig                     // SLACK_AGENTS
	fromMention                    // the SLACK_AGENT_MENTION user group
	fromChannel                    // the agent channel's members
)

// parseAgentIDs checks a SLACK_AGENTS-like list and drops blanks.
func parseAgentIDs(name string, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !agentIDRe.MatchString(id) {
			return nil, fmt.Errorf("slack: %s: want user IDs (U…, W…) and user group IDs (S…), got %q", name, id)
		}
		out = append(out, id)
	}
	return out, nil
}

func sourceOf(cfg Config) agentSource {
	switch {
	case cfg.AgentChannel == "":
		return fromNowhere
	case len(cfg.Agents) > 0:
		return fromConfig
	case mentionGroup(cfg.AgentMention) != "":
		return fromMention
	}
	return fromChannel
}

// mentionGroup is the user group SLACK_AGENT_MENTION names, or "".
func mentionGroup(m string) string {
	if idRe.MatchString(m) && m[0] == 'S' {
		return m
	}
	return ""
}

// agentSet is the resolved set of agents and leads.
type agentSet struct {
	agents, leads map[string]bool
}

func (s agentSet) role(id string) handoff.Role {
	switch {
	case s.leads[id]:
		return handoff.RoleLead
	case s.agents[id]:
		return handoff.RoleAgent
	}
	return handoff.Outsider
}

// agentCache keeps the agent set and decides when to look again.
type agentCache struct {
	now  func() time.Time
	load func(ctx context.Context) (agentSet, error)
	// onFail is told of a look that failed, and whether a set is kept.
	onFail func(ctx context.Context, err error, kept bool)

	refresh sync.Mutex // one look at a time
	mu      sync.Mutex
	set     agentSet
	loaded  bool      // set holds a successful look's answer
	at      time.Time // of the last successful look
	tried   time.Time // of the last look, successful or not
	looks   int       // counts the looks, so that waiters see one happened
}

// due reports whether a question about id calls for another look, and
// the count of looks so far.
func (c *agentCache) due(id string) (bool, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	since := now.Sub(c.tried)
	switch {
	case c.looks == 0:
		return true, c.looks
	case !c.loaded:
		return since >= agentsFirstRetry, c.looks
	case now.Sub(c.at) >= agentsTTL:
		return since >= agentsMiss || !c.at.Before(c.tried), c.looks
	case c.set.role(id) == handoff.Outsider:
		return since >= agentsMiss, c.looks
	}
	return false, c.looks
}

// role returns id's role, looking again first when it is time to.
func (c *agentCache) role(ctx context.Context, id string) handoff.Role {
	if due, looks := c.due(id); due {
		c.lookAgain(ctx, looks)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		return handoff.Outsider // fail closed
	}
	return c.set.role(id)
}

// lookAgain loads the set, unless another look finished since the caller
// saw looks (it waited for that one).
func (c *agentCache) lookAgain(ctx context.Context, looks int) error {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	c.mu.Lock()
	if c.looks != looks {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	set, err := c.load(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.looks++
	c.tried = c.now()
	switch {
	case errors.Is(err, errPublicChannel):
		// Not a hiccup: whoever joined the channel would be an agent.
		c.set, c.loaded, c.at = agentSet{}, true, c.tried
	case err != nil:
		if c.onFail != nil {
			c.onFail(ctx, err, c.loaded)
		}
		return err
	default:
		c.set, c.loaded, c.at = set, true, c.tried
		return nil
	}
	if c.onFail != nil {
		c.onFail(ctx, err, false)
	}
	return err
}

// role is the role of a Slack user in the agent channel.
func (a *Adapter) role(ctx context.Context, id string) handoff.Role {
	if a.source == fromNowhere || id == "" {
		return handoff.Outsider
	}
	return a.agents.role(ctx, id)
}

// agent is the handoff agent a Slack user is, named name.
func (a *Adapter) agent(ctx context.Context, id, name string) handoff.Agent {
	return handoff.Agent{ID: id, Name: name, Role: a.role(ctx, id)}
}

// loadAgents finds the agents and leads, as the configuration says.
func (a *Adapter) loadAgents(ctx context.Context) (agentSet, error) {
	leads, err := a.expand(ctx, "SLACK_AGENT_LEADS", a.cfg.Leads)
	if err != nil {
		return agentSet{}, err
	}
	var agents map[string]bool
	switch a.source {
	case fromConfig:
		agents, err = a.expand(ctx, "SLACK_AGENTS", a.cfg.Agents)
	case fromMention:
		agents, err = a.expand(ctx, "SLACK_AGENT_MENTION", []string{a.cfg.AgentMention})
	case fromChannel:
		agents, err = a.channelMembers(ctx)
	default:
		agents = map[string]bool{}
	}
	if err != nil {
		return agentSet{}, err
	}
	maps.Copy(agents, leads)
	delete(agents, "")
	if self, err := a.whoami(ctx); err == nil {
		delete(agents, self.User) // the bot is in the channel, and no agent
	}
	return agentSet{agents: agents, leads: leads}, nil
}

// expand turns user and user group ids into the users they are.
func (a *Adapter) expand(ctx context.Context, setting string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range ids {
		if id[0] != 'S' {
			out[id] = true
			continue
		}
		users, err := a.api.GetUserGroupMembersContext(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", setting, a.wrap("usergroups.users.list "+id, err))
		}
		for _, u := range users {
			out[u] = true
		}
	}
	return out, nil
}

// channelMembers returns the members of the agent channel, after checking
// it is private.
func (a *Adapter) channelMembers(ctx context.Context) (map[string]bool, error) {
	if err := a.checkPrivate(ctx); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	cursor := ""
	for range membersPages {
		users, next, err := a.api.GetUsersInConversationContext(ctx, &slackapi.GetUsersInConversationParameters{
			ChannelID: a.cfg.AgentChannel, Cursor: cursor, Limit: membersPage})
		if err != nil {
			return nil, fmt.Errorf("SLACK_AGENT_CHANNEL: %w", a.wrap("conversations.members "+a.cfg.AgentChannel, err))
		}
		for _, u := range users {
			out[u] = true
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
	a.log.WarnContext(ctx, "slack agent channel has more members than are read; the rest are not agents", "channel", a.cfg.AgentChannel, "read", len(out))
	return out, nil
}

// checkPrivate refuses a public agent channel (conversations.info).
func (a *Adapter) checkPrivate(ctx context.Context) error {
	info, err := a.api.GetConversationInfoContext(ctx, &slackapi.GetConversationInfoInput{ChannelID: a.cfg.AgentChannel})
	if err != nil {
		return fmt.Errorf("SLACK_AGENT_CHANNEL: %w", a.wrap("conversations.info "+a.cfg.AgentChannel, err))
	}
	if !info.IsPrivate {
		return fmt.Errorf("slack: SLACK_AGENT_CHANNEL %s is public, so anyone who joins it would act as an agent: make it private, or set SLACK_AGENTS (or SLACK_AGENT_MENTION to a user group): %w",
			a.cfg.AgentChannel, errPublicChannel)
	}
	return nil
}

// startAgents is Run's first look at the agents. A public agent channel
// without SLACK_AGENTS, and answers from Slack that no retry fixes (a
// scope missing, a group or channel that does not exist), stop Run; a
// hiccup is only logged, and until a later look succeeds nobody acts on
// handoffs.
func (a *Adapter) startAgents(ctx context.Context) error {
	if a.source == fromNowhere {
		return nil
	}
	err := a.agents.lookAgain(ctx, 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errPublicChannel):
		return err
	case permanentAuth(err) || isSlackError(err, "no_such_subteam") || isSlackError(err, "plan_upgrade_required"):
		return fmt.Errorf("slack: look up the agents: %w", err)
	}
	return nil // logged by onFail
}

// agentsFailed logs a look at the agents that failed.
func (a *Adapter) agentsFailed(ctx context.Context, err error, kept bool) {
	switch {
	case errors.Is(err, errPublicChannel):
		a.log.ErrorContext(ctx, "slack agent channel is public: nobody counts as an agent until it is private", "channel", a.cfg.AgentChannel)
	case kept:
		a.log.WarnContext(ctx, "slack agents lookup failed; keeping the last known agents", "err", err)
	default:
		a.log.WarnContext(ctx, "slack agents lookup failed; nobody counts as an agent until it succeeds", "err", err)
	}
}

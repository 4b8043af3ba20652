package discord

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

// Application commands (slash commands).
//
// At every new gateway session the adapter sets its commands in each server
// READY lists that it has not set them in yet, with one bulk overwrite per
// server (PUT /applications/{app}/guilds/{guild}/commands): the same
// commands keep their ids, and commands this version no longer defines are
// removed. Server commands appear at once, where global ones may take an
// hour.
//
//   - /support [question], for customers: opens a private thread with the
//     bot and the caller under the channel; the question, when given, is the
//     customer's first message there, which the bot answers in the thread.
//   - /queue, /claim [handoff], /resolve [handoff], for agents, in the agent
//     channel or a handoff thread. Only agents act (agents.go): anyone else
//     is told, only them, what the buttons tell them. In a handoff thread
//     the handoff is the thread's; in the agent channel it is named.
//
// Every answer is ephemeral (flag 64): only the caller sees it.

// The commands and their options.
const (
	cmdSupport  = "support"
	cmdQueue    = "queue"
	cmdClaim    = "claim"
	cmdResolve  = "resolve"
	optQuestion = "question"
	optHandoff  = "handoff"
)

// Application command types and option types (Discord's
// application-command object).
const (
	commandChatInput = 1
	optionString     = 3
	optionInteger    = 4
)

const (
	// registerTimeout bounds one server's bulk overwrite.
	registerTimeout = 10 * time.Second
	// supportArchiveMinutes is when an idle support thread is hidden.
	supportArchiveMinutes = threadArchiveMinutes
)

// What a person who used a command may read, only they.
const (
	msgNotAgent       = "Only the support team's agents can act on handoffs."
	msgAgentCommand   = "Use this command in the agent channel or in a handoff's thread."
	msgNameHandoff    = "Name the handoff (its number is on its card), or use the command in the handoff's thread."
	msgNotHandoff     = "This thread is not a handoff's."
	msgQueueEmpty     = "No handoff is waiting."
	msgSupportHere    = "Use /support in a channel of the server, not in a thread."
	msgSupportAgents  = "Handoffs reach this channel by themselves: use /support in a channel customers use."
	msgSupportDM      = "You are talking with me here already: write your question."
	msgSupportFailed  = "Sorry, I could not open a private thread here. Mention me in this channel, or write to me in a direct message."
	msgUnknownCommand = "This command is no longer available."
)

// commandDef is an application command object as registered.
type commandDef struct {
	Type        int         `json:"type"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Options     []optionDef `json:"options,omitempty"`
}

// optionDef is an application command option object.
type optionDef struct {
	Type        int    `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	MaxLength   int    `json:"max_length,omitempty"`
	MinValue    *int   `json:"min_value,omitempty"`
}

// commandDefs are the commands the bot registers, in every server.
func commandDefs() []commandDef {
	one := 1
	handoffOpt := func() []optionDef {
		return []optionDef{{Type: optionInteger, Name: optHandoff, MinValue: &one,
			Description: "The handoff's number (on its card); in a handoff's thread, that handoff"}}
	}
	return []commandDef{
		{Type: commandChatInput, Name: cmdSupport, Description: "Ask support in a private thread with the bot",
			Options: []optionDef{{Type: optionString, Name: optQuestion, Description: "What do you need help with?", MaxLength: MaxMessageLen}}},
		{Type: commandChatInput, Name: cmdQueue, Description: "Agents: the handoffs waiting for an agent"},
		{Type: commandChatInput, Name: cmdClaim, Description: "Agents: claim a handoff", Options: handoffOpt()},
		{Type: commandChatInput, Name: cmdResolve, Description: "Agents: resolve a handoff", Options: handoffOpt()},
	}
}

// guildSet remembers the servers whose commands this process set.
type guildSet struct {
	mu sync.Mutex
	m  map[string]bool
}

// claim marks guild as being registered and reports whether it was not
// before; release undoes it after a failure, so the next session tries
// again.
func (g *guildSet) claim(guild string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]bool{}
	}
	if g.m[guild] {
		return false
	}
	g.m[guild] = true
	return true
}

func (g *guildSet) release(guild string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.m, guild)
}

// registerCommands sets the commands in each server of a READY that this
// process has not set them in yet, one server after the other in the
// background.
func (a *Adapter) registerCommands(ctx context.Context, r *discordgo.Ready) {
	app := a.selfID()
	if r.Application != nil && r.Application.ID != "" {
		app = r.Application.ID
	}
	var guilds []string
	for _, g := range r.Guilds {
		if g != nil && g.ID != "" && a.registered.claim(g.ID) {
			guilds = append(guilds, g.ID)
		}
	}
	if app == "" || len(guilds) == 0 {
		return
	}
	a.goBackground(func() {
		for _, guild := range guilds {
			err := a.overwriteCommands(ctx, app, guild)
			switch {
			case err == nil:
				continue
			case isPermanent(err):
				a.log.WarnContext(ctx, "discord: cannot register the slash commands in a server; add the bot again with the URL of `firstline discord invite` (scope applications.commands)",
					"guild", guild, "err", a.redact(err))
			default:
				a.log.WarnContext(ctx, "discord: cannot register the slash commands in a server; trying again at the next session", "guild", guild, "err", a.redact(err))
			}
			a.registered.release(guild)
		}
	})
}

// overwriteCommands replaces the bot's commands in one server.
func (a *Adapter) overwriteCommands(ctx context.Context, app, guild string) error {
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	endpoint := discordgo.EndpointApplicationGuildCommands(app, guild)
	defs := commandDefs()
	_, err := retry(ctx, a.retryBase, func() ([]byte, error) {
		b, err := a.session.RequestWithBucketID(http.MethodPut, endpoint, defs, endpoint, discordgo.WithContext(ctx))
		if d, limited := retryAfter(err); limited {
			sleep(ctx, d)
		} else if isPermanent(err) {
			return nil, stopRetry{err}
		}
		return b, err
	})
	if err != nil {
		return err
	}
	a.log.InfoContext(ctx, "discord: slash commands registered", "guild", guild, "commands", len(defs))
	return nil
}

// handleCommand runs a command and answers the interaction, as
// handleComponent does for buttons: with the answer, when it is ready in
// time; otherwise with a deferred answer at once (the caller sees the bot
// thinking), which the answer then replaces.
func (a *Adapter) handleCommand(ctx context.Context, i *discordgo.Interaction) {
	ctx = context.WithoutCancel(ctx)
	a.answerInTime(ctx, a.command, i,
		func(answer string) { a.respondMessage(ctx, i, answer) },
		func() { a.deferMessage(ctx, i) },
		func(answer string) { a.editOriginal(ctx, i, answer) })
}

// command runs an application command and returns what to tell the caller.
func (a *Adapter) command(ctx context.Context, i *discordgo.Interaction) string {
	data := i.ApplicationCommandData()
	user := i.User
	if i.Member != nil && i.Member.User != nil {
		user = i.Member.User
	}
	if user == nil {
		return msgUnknownCommand
	}
	switch data.Name {
	case cmdSupport:
		question, _ := stringOption(data.Options, optQuestion)
		return a.support(ctx, i, user, question)
	case cmdQueue, cmdClaim, cmdResolve:
		return a.agentCommand(ctx, i, user, data)
	}
	return msgUnknownCommand
}

// agentCommand runs /queue, /claim or /resolve for an agent, and refuses
// anyone else as the buttons do.
func (a *Adapter) agentCommand(ctx context.Context, i *discordgo.Interaction, user *discordgo.User, data discordgo.ApplicationCommandInteractionData) string {
	agent := a.presser(ctx, i, user)
	log := a.log.With("command", data.Name, "interaction", i.ID)
	if agent.Role == handoff.Outsider {
		log.DebugContext(ctx, "discord: an agent command from someone who is not an agent was refused")
		return msgNotAgent
	}
	if !a.inAgentChannel(ctx, i.ChannelID) {
		return msgAgentCommand
	}
	if data.Name == cmdQueue {
		return a.queue(ctx, agent)
	}
	id, named := intOption(data.Options, optHandoff)
	var res handoff.Result
	var err error
	switch {
	case named && data.Name == cmdClaim:
		res, err = a.cfg.Handoffs.Claim(ctx, id, agent)
	case named:
		res, err = a.cfg.Handoffs.Resolve(ctx, id, agent)
	case i.ChannelID == a.cfg.AgentChannel:
		return msgNameHandoff
	default:
		// In a handoff's thread: as if the agent wrote the command there.
		res, err = a.cfg.Handoffs.AgentMessage(ctx, handoff.AgentMessage{
			Platform: bot.Discord,
			Channel:  a.cfg.AgentChannel,
			Thread:   i.ChannelID,
			Agent:    agent,
			Text:     data.Name,
		})
		if err == nil && res.Outcome == handoff.Ignored {
			return msgNotHandoff
		}
	}
	if err != nil {
		log.ErrorContext(ctx, "discord: agent command failed", "err", err)
		return msgAgentFailed
	}
	if res.Outcome == handoff.NotAgent {
		return cmp.Or(res.Feedback, msgNotAgent)
	}
	return cmp.Or(res.Feedback, "Done.")
}

// queue lists the waiting handoffs for an agent.
func (a *Adapter) queue(ctx context.Context, agent handoff.Agent) string {
	res, err := a.cfg.Handoffs.Queue(ctx, agent)
	if err != nil {
		a.log.ErrorContext(ctx, "discord: cannot list the waiting handoffs", "err", err)
		return msgAgentFailed
	}
	return cmp.Or(res.Feedback, msgQueueEmpty)
}

// support opens a private thread for the caller under the channel the
// command was used in, and hands their question, if any, to the engine as
// their first message there.
func (a *Adapter) support(ctx context.Context, i *discordgo.Interaction, user *discordgo.User, question string) string {
	if i.GuildID == "" {
		return msgSupportDM
	}
	info, err := a.channel(ctx, i.ChannelID)
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot look up a channel; assuming it is not a thread", "channel", i.ChannelID, "err", err)
	}
	if info.thread {
		return msgSupportHere
	}
	if i.ChannelID == a.cfg.AgentChannel {
		// A thread here would be taken for a handoff's.
		return msgSupportAgents
	}
	thread, err := a.openPrivateThread(ctx, i.ChannelID, "Support for "+userName(user))
	if err == nil {
		err = a.addThreadMember(ctx, thread, user.ID)
	}
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot open a private thread for /support (does the bot have Create Private Threads here?)",
			"channel", i.ChannelID, "err", a.redact(err))
		return msgSupportFailed
	}
	if question = strings.TrimSpace(question); question != "" {
		key := bot.ConversationKey{Platform: bot.Discord, Workspace: i.GuildID, Channel: thread}
		in := bot.Incoming{
			Key:       key,
			User:      user.ID,
			UserName:  userName(user),
			Text:      question,
			MessageID: i.ID, // an interaction id is a snowflake like a message's
		}
		acc, err := retryStore(ctx, a.retryBase, func() (bot.Accepted, error) { return a.cfg.Engine.Accept(ctx, in) })
		if err != nil {
			a.logUnhandled(ctx, "discord: cannot store a /support question", err, "thread", thread, "interaction", i.ID)
			return fmt.Sprintf("I opened a private thread for you: <#%s>. Please ask your question there.", thread)
		}
		if !acc.Duplicate && acc.Pending {
			a.typing(ctx, thread)
			a.cfg.Engine.Submit(ctx, acc.ConversationID)
		}
		return fmt.Sprintf("I opened a private thread for you: <#%s>. I am answering there.", thread)
	}
	return fmt.Sprintf("I opened a private thread for you: <#%s>. Write your question there.", thread)
}

// openPrivateThread starts a private thread (type 12) under a channel,
// that members cannot invite others to, and returns its id. The bot, its
// creator, is a member.
func (a *Adapter) openPrivateThread(ctx context.Context, channel, name string) (string, error) {
	body := &discordgo.ThreadStart{
		Name:                threadName(name),
		AutoArchiveDuration: supportArchiveMinutes,
		Type:                discordgo.ChannelTypeGuildPrivateThread,
		Invitable:           false,
	}
	ch, err := retry(ctx, a.retryBase, func() (*discordgo.Channel, error) {
		ch, err := a.session.ThreadStartComplex(channel, body, discordgo.WithContext(ctx))
		if d, limited := retryAfter(err); limited {
			sleep(ctx, d)
		} else if isPermanent(err) {
			return nil, stopRetry{err}
		}
		return ch, err
	})
	if err != nil {
		return "", a.wrap(err, "start a private thread in %s", channel)
	}
	a.channels.put(ch.ID, channelInfo{thread: true, private: true, owner: a.selfID(), parent: channel, guild: ch.GuildID})
	return ch.ID, nil
}

// addThreadMember adds a user to a thread the bot is in.
func (a *Adapter) addThreadMember(ctx context.Context, thread, user string) error {
	_, err := retry(ctx, a.retryBase, func() (struct{}, error) {
		err := a.session.ThreadMemberAdd(thread, user, discordgo.WithContext(ctx))
		if d, limited := retryAfter(err); limited {
			sleep(ctx, d)
		} else if isPermanent(err) {
			return struct{}{}, stopRetry{err}
		}
		return struct{}{}, err
	})
	if err != nil {
		return a.wrap(err, "add a member to thread %s", thread)
	}
	return nil
}

// supportThread reports whether a channel is a private thread the bot
// started for /support (outside the agent channel): everything written
// there is for the bot.
func (a *Adapter) supportThread(ctx context.Context, channel string) bool {
	info, err := a.channel(ctx, channel)
	self := a.selfID()
	return err == nil && info.private && self != "" && info.owner == self && info.parent != a.cfg.AgentChannel
}

// stringOption returns a string option's value.
func stringOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) (string, bool) {
	for _, o := range opts {
		if o != nil && o.Name == name && o.Type == discordgo.ApplicationCommandOptionString {
			s, ok := o.Value.(string)
			return s, ok
		}
	}
	return "", false
}

// intOption returns an integer option's value.
func intOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) (int64, bool) {
	for _, o := range opts {
		if o == nil || o.Name != name || o.Type != discordgo.ApplicationCommandOptionInteger {
			continue
		}
		switch v := o.Value.(type) {
		case float64:
			return int64(v), true
		case string: // as autocomplete sends it
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

const (
	// threadArchiveMinutes is when Discord hides an idle thread from the
	// channel list; the next message in it brings it back.
	threadArchiveMinutes = 1440
	// typingTimeout bounds the typing indicator's request: it is a
	// courtesy, not worth holding a channel's lane for.
	typingTimeout = 2 * time.Second
	// maxThreadName is Discord's limit on a thread's name.
	maxThreadName = 100
)

// onEvent handles MESSAGE_CREATE, with its raw JSON at hand: discordgo
// drops the member data of mentioned users, which transfers need.
func (a *Adapter) onEvent(_ *discordgo.Session, e *discordgo.Event) {
	if e == nil || e.Type != "MESSAGE_CREATE" {
		return
	}
	if mc, ok := e.Struct.(*discordgo.MessageCreate); ok {
		a.onMessageCreate(mc, e.RawData)
	}
}

// onMessageCreate hands a message a person wrote to its channel's lane.
func (a *Adapter) onMessageCreate(e *discordgo.MessageCreate, raw json.RawMessage) {
	if e == nil || e.Message == nil || !a.fromPerson(e.Message) {
		return
	}
	m := e.Message
	ctx := a.runContext()
	a.lanes.do(ctx, m.ChannelID, func(ctx context.Context) { a.handleMessage(ctx, m, mentionMembers(raw)) })
}

// fromPerson reports whether a message is one a person wrote: not the bot
// itself, another bot or a webhook, nor a system message (thread created,
// pins, joins).
func (a *Adapter) fromPerson(m *discordgo.Message) bool {
	if m.Author == nil || m.Author.Bot || m.Author.System || m.WebhookID != "" || m.Author.ID == a.selfID() {
		return false
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return false
	}
	return strings.TrimSpace(m.Content) != "" || len(m.Attachments) > 0
}

// handleMessage routes a live message: a direct message is a customer's; in
// a server, a thread under the agent channel is a handoff thread, a channel
// with an open conversation is a customer's, and a mention of the bot
// elsewhere opens a conversation in a new thread, or continues the
// author's conversation in that channel (inchannel.go). Anything else is
// server chatter the bot ignores. members are the event's members of the
// users the message mentions.
func (a *Adapter) handleMessage(ctx context.Context, m *discordgo.Message, members map[string]*discordgo.Member) {
	if m.GuildID == "" {
		a.customerMessage(ctx, m, bot.ConversationKey{Platform: bot.Discord, Channel: m.ChannelID}, true)
		return
	}
	if a.cfg.AgentChannel != "" {
		if m.ChannelID == a.cfg.AgentChannel {
			return // agents talking among themselves; handoffs live in threads
		}
		handoffThread, err := a.isHandoffThread(ctx, m.ChannelID)
		if err != nil {
			// Discord could not say what the channel is; the handoff flow
			// knows its own threads, and ignores the rest.
			a.log.WarnContext(ctx, "discord: cannot look up a channel; asking the handoff flow", "channel", m.ChannelID, "err", err)
			if res, err := a.agentMessage(ctx, m, members, a.cfg.AgentChannel, m.ChannelID); err == nil && res.Outcome != handoff.Ignored {
				return
			}
		} else if handoffThread {
			_, _ = a.agentMessage(ctx, m, members, a.cfg.AgentChannel, m.ChannelID)
			return
		}
	}
	key := bot.ConversationKey{Platform: bot.Discord, Workspace: m.GuildID, Channel: m.ChannelID}
	active, err := retryStore(ctx, a.retryBase, func() (bool, error) { return a.cfg.Engine.Active(ctx, key) })
	if err != nil {
		a.logUnhandled(ctx, "discord: cannot tell whether a channel has a conversation", err, "channel", m.ChannelID, "message", m.ID)
		return
	}
	switch {
	case active:
		a.customerMessage(ctx, m, key, true)
	case a.addressesSelf(m):
		a.startConversation(ctx, m)
	case a.supportThread(ctx, m.ChannelID):
		// A private thread /support opened without a question: its first
		// message starts the conversation.
		a.customerMessage(ctx, m, key, true)
	}
}

// startConversation answers a mention in a server channel in a thread
// started from the mention; a mention inside a thread (threads cannot
// nest) makes that thread the conversation. A customer who already talks
// with the bot in the channel itself (a thread could not be made for an
// earlier mention) goes on there, mentioning the bot or replying to it;
// when no thread can be made, the conversation moves into the channel
// rather than the message being dropped.
func (a *Adapter) startConversation(ctx context.Context, m *discordgo.Message) {
	info, err := a.channel(ctx, m.ChannelID)
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot look up a channel; assuming it is not a thread", "channel", m.ChannelID, "err", err)
	}
	if info.thread {
		if a.mentionsSelf(m) {
			a.customerMessage(ctx, m, bot.ConversationKey{Platform: bot.Discord, Workspace: m.GuildID, Channel: m.ChannelID}, true)
		}
		return
	}
	inChannel := inChannelKey(m.GuildID, m.ChannelID, m.Author.ID)
	active, err := retryStore(ctx, a.retryBase, func() (bool, error) { return a.cfg.Engine.Active(ctx, inChannel) })
	if err != nil {
		a.logUnhandled(ctx, "discord: cannot tell whether a customer has a conversation in a channel", err, "channel", m.ChannelID, "message", m.ID)
		return
	}
	if active {
		a.inChannelMessage(ctx, m, inChannel, true)
		return
	}
	if !a.mentionsSelf(m) {
		return // a reply to an old message of the bot's, not a conversation
	}
	// The mention is stored before its thread is started: the thread's id
	// keys the conversation, and a crash in between must not lose it.
	a.intake(ctx, m)
	defer a.intakeDone(ctx, m)
	thread, err := a.openThread(ctx, m)
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot open a thread for a mention; answering in the channel (does the bot have Create Public Threads here?)",
			"channel", m.ChannelID, "message", m.ID, "err", a.redact(err))
		a.inChannelMessage(ctx, m, inChannel, true)
		return
	}
	a.customerMessage(ctx, m, bot.ConversationKey{Platform: bot.Discord, Workspace: m.GuildID, Channel: thread}, true)
}

// openThread starts a thread from a mention, trying again on a rate limit
// or a failure that may pass (three tries), and returns its id.
func (a *Adapter) openThread(ctx context.Context, m *discordgo.Message) (string, error) {
	name := "Support for " + userName(m.Author)
	id, err := retry(ctx, a.retryBase, func() (string, error) {
		id, err := a.startThread(ctx, m.ChannelID, m.ID, name)
		if d, limited := retryAfter(err); limited {
			sleep(ctx, d) // then retry's own pause
		} else if isPermanent(err) {
			return "", stopRetry{err}
		}
		return id, err
	})
	if err != nil {
		return "", err
	}
	a.channels.put(id, channelInfo{thread: true, parent: m.ChannelID})
	return id, nil
}

// inChannelMessage hands a customer's message in their in-channel
// conversation to the engine, and makes it what the bot's messages there
// reply to.
func (a *Adapter) inChannelMessage(ctx context.Context, m *discordgo.Message, key bot.ConversationKey, live bool) {
	a.replies.put(m.ChannelID, m.Author.ID, m.ID)
	a.customerMessage(ctx, m, key, live)
}

// startThread starts a public thread from a message and returns its id,
// which Discord makes the message's id. A thread that already exists (the
// message was handled before a crash) is fine.
func (a *Adapter) startThread(ctx context.Context, channel, messageID, name string) (string, error) {
	endpoint := discordgo.EndpointChannelMessageThread(channel, messageID)
	body := map[string]any{"name": threadName(name), "auto_archive_duration": threadArchiveMinutes}
	resp, err := a.session.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint, discordgo.WithContext(ctx))
	if err != nil {
		if _, code, ok := apiCode(err); ok && code == codeThreadAlreadyCreated {
			return messageID, nil
		}
		return "", err
	}
	var ch struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(resp, &ch) != nil || ch.ID == "" {
		return messageID, nil
	}
	return ch.ID, nil
}

// threadName makes name a valid thread name: one line, 1–100 characters.
func threadName(name string) string {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		name = "Support"
	}
	if utf8.RuneCountInString(name) > maxThreadName {
		name = name[:runePrefix(name, maxThreadName-1)] + "…"
	}
	return name
}

// customerMessage hands a customer's message to the engine, shows the
// typing indicator when a model turn follows, and starts the turn. Live
// messages get the indicator; fetched-back ones are old news.
func (a *Adapter) customerMessage(ctx context.Context, m *discordgo.Message, key bot.ConversationKey, live bool) {
	in := bot.Incoming{
		Key:         key,
		User:        m.Author.ID,
		UserName:    userName(m.Author),
		Text:        a.text(m),
		MessageID:   m.ID,
		Private:     key.Workspace == "",
		Attachments: attachments(m),
	}
	acc, err := retryStore(ctx, a.retryBase, func() (bot.Accepted, error) { return a.cfg.Engine.Accept(ctx, in) })
	if err != nil {
		a.logUnhandled(ctx, "discord: cannot store a customer message", err, "channel", key.Channel, "message", m.ID)
		return
	}
	if acc.Duplicate || !acc.Pending {
		return
	}
	if live {
		a.typing(ctx, key.Channel)
	}
	a.cfg.Engine.Submit(ctx, acc.ConversationID)
}

// typing shows the typing indicator in a channel (it lasts ten seconds or
// until the bot posts). It is a sign of life, not a message: sent directly,
// and a failure is only logged.
func (a *Adapter) typing(ctx context.Context, channel string) {
	ctx, cancel := context.WithTimeout(ctx, typingTimeout)
	defer cancel()
	if err := a.session.ChannelTyping(channel, discordgo.WithContext(ctx)); err != nil {
		a.log.DebugContext(ctx, "discord: typing indicator failed", "channel", channel, "err", a.redact(err))
	}
}

// agentMessage hands a message in a handoff thread to the handoff flow,
// with the role of its author and of the people it mentions (agents.go).
// members are the event's members of mentioned users; nil for a message
// fetched back, whose author and mentions are looked up as needed.
func (a *Adapter) agentMessage(ctx context.Context, m *discordgo.Message, members map[string]*discordgo.Member, channel, thread string) (handoff.Result, error) {
	text := a.text(m)
	for _, att := range attachments(m) {
		// Files an agent attaches reach the customer as links.
		text = strings.TrimSpace(text + "\n" + att.URL)
	}
	am := handoff.AgentMessage{
		Platform:  bot.Discord,
		Channel:   channel,
		Thread:    thread,
		Agent:     a.agentOf(ctx, m),
		Text:      text,
		MessageID: m.ID,
		Mentions:  a.mentionedAgents(ctx, m, members, text),
	}
	res, err := retryStore(ctx, a.retryBase, func() (handoff.Result, error) { return a.cfg.Handoffs.AgentMessage(ctx, am) })
	// An agent may answer in a new handoff's thread before the outbox has
	// recorded the announcement as sent, when no handoff is known by that
	// thread yet: look again shortly rather than drop the message.
	for _, wait := range handoff.IgnoredRetries() {
		if err != nil || res.Outcome != handoff.Ignored || !sleep(ctx, wait) {
			break
		}
		res, err = a.cfg.Handoffs.AgentMessage(ctx, am)
	}
	switch {
	case err != nil:
		a.logUnhandled(ctx, "discord: cannot handle an agent's message", err, "thread", thread, "message", m.ID)
	case res.Outcome == handoff.NotAgent:
		// Discord has no ephemeral reply to a plain message, and a public
		// one would invite trying again: say nothing.
		a.log.DebugContext(ctx, "discord: an agent command from someone who is not an agent was refused", "thread", thread, "message", m.ID)
	}
	return res, err
}

// logUnhandled reports a message that could not be handled. While the
// adapter stops that is expected: nothing newer from the channel is stored
// after it, so the next start fetches it back.
func (a *Adapter) logUnhandled(ctx context.Context, msg string, err error, args ...any) {
	args = append(args, "err", err)
	if ctx.Err() != nil {
		a.log.InfoContext(context.WithoutCancel(ctx), msg+" while stopping; it is fetched back at the next start", args...)
		return
	}
	a.log.ErrorContext(ctx, msg, args...)
}

// text is a message's content as the engine should read it: the bot's own
// mention removed, and other user mentions (<@123>) written as @username,
// which a model, an agent on another platform, or `transfer @name` can use.
func (a *Adapter) text(m *discordgo.Message) string {
	text := m.Content
	if self := a.selfID(); self != "" {
		text = strings.NewReplacer("<@"+self+">", "", "<@!"+self+">", "").Replace(text)
	}
	for _, u := range m.Mentions {
		if u == nil || u.ID == "" {
			continue
		}
		text = strings.NewReplacer("<@"+u.ID+">", "@"+u.Username, "<@!"+u.ID+">", "@"+u.Username).Replace(text)
	}
	return strings.TrimSpace(text)
}

// mentionsSelf reports whether a message mentions the bot.
func (a *Adapter) mentionsSelf(m *discordgo.Message) bool {
	self := a.selfID()
	if self == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == self {
			return true
		}
	}
	return strings.Contains(m.Content, "<@"+self+">") || strings.Contains(m.Content, "<@!"+self+">")
}

// mentioned returns the users a message mentions, other than the bot, in
// the order they appear in the text (`transfer @agent` uses the first).
func (a *Adapter) mentioned(m *discordgo.Message) []handoff.Agent {
	type pos struct {
		at    int
		agent handoff.Agent
	}
	var found []pos
	for _, u := range m.Mentions {
		if u == nil || u.ID == "" || u.ID == a.selfID() {
			continue
		}
		at := strings.Index(m.Content, "<@"+u.ID+">")
		if i := strings.Index(m.Content, "<@!"+u.ID+">"); at < 0 || (i >= 0 && i < at) {
			at = i
		}
		if at < 0 {
			at = len(m.Content)
		}
		found = append(found, pos{at, handoff.Agent{ID: u.ID, Name: agentName(u, nil)}})
	}
	slices.SortStableFunc(found, func(x, y pos) int { return x.at - y.at })
	out := make([]handoff.Agent, 0, len(found))
	for _, f := range found {
		out = append(out, f.agent)
	}
	return out
}

// userName is a customer's display name: the global name, else the
// username.
func userName(u *discordgo.User) string {
	if u == nil {
		return ""
	}
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// agentName is an agent's name as colleagues see it in the server: the
// server nickname first.
func agentName(u *discordgo.User, member *discordgo.Member) string {
	if member != nil && member.Nick != "" {
		return member.Nick
	}
	return userName(u)
}

func attachments(m *discordgo.Message) []bot.Attachment {
	var out []bot.Attachment
	for _, att := range m.Attachments {
		if att == nil || att.URL == "" {
			continue
		}
		out = append(out, bot.Attachment{Name: att.Filename, URL: att.URL})
	}
	return out
}

// stopRetry marks an error retry must not retry.
type stopRetry struct{ err error }

func (s stopRetry) Error() string { return s.err.Error() }
func (s stopRetry) Unwrap() error { return s.err }

// retry calls fn up to three times, pausing base, then twice that, between
// attempts, until it succeeds, returns a stopRetry, or ctx is done: for
// REST calls, which the outbox or the next event tries again.
func retry[T any](ctx context.Context, base time.Duration, fn func() (T, error)) (T, error) {
	return retryN(ctx, base, 3, fn)
}

// retryStore is retry for storing what a person wrote, which nothing
// fetches back once a newer message of the channel is stored: it keeps
// trying for about 160 times base (32 s by default, long enough for a
// database failover), holding only that channel's lane.
func retryStore[T any](ctx context.Context, base time.Duration, fn func() (T, error)) (T, error) {
	return retryN(ctx, base, storeAttempts, fn)
}

// storeAttempts bounds retryStore: pauses of base, doubling up to 32 times
// base.
const storeAttempts = 10

func retryN[T any](ctx context.Context, base time.Duration, attempts int, fn func() (T, error)) (T, error) {
	var v T
	var err error
	for attempt := 0; ; attempt++ {
		if v, err = fn(); err == nil {
			return v, nil
		}
		if stop := (stopRetry{}); errors.As(err, &stop) {
			return v, stop.err
		}
		if attempt == attempts-1 || ctx.Err() != nil || !sleep(ctx, base<<min(attempt, 5)) {
			return v, err
		}
	}
}

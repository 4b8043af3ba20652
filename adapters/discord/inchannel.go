package discord

import (
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
)

// Conversations held in a server channel itself.
//
// A mention in a server channel normally opens a thread, and the
// conversation lives there. When Discord will not start one (the bot lacks
// Create Public Threads there, or the thread endpoint keeps failing), the
// customer is answered in the channel instead: the conversation's key is
// the channel with Thread "user:" + the customer's user id, which no
// thread id (a snowflake, all digits) can be. The bot's messages there are
// replies to the customer's latest message that mention the customer, so
// that they see them among everyone else's; and only the customer's own
// messages that address the bot (a mention, or a reply to the bot) count,
// never the rest of the channel.

// inChannelPrefix starts the Thread part of an in-channel conversation's
// key.
const inChannelPrefix = "user:"

// inChannelKey is the key of user's conversation in a server channel.
func inChannelKey(guild, channel, user string) bot.ConversationKey {
	return bot.ConversationKey{Platform: bot.Discord, Workspace: guild, Channel: channel, Thread: inChannelPrefix + user}
}

// inChannelCustomer returns the customer of an in-channel conversation,
// from its key's Thread part; ok is false for any other conversation.
func inChannelCustomer(workspace, thread string) (user string, ok bool) {
	user, ok = strings.CutPrefix(thread, inChannelPrefix)
	if !ok || workspace == "" || !isSnowflake(user) {
		return "", false
	}
	return user, true
}

// repliesToSelf reports whether a message is a reply to one of the bot's
// (Discord's Reply with the mention switched off mentions nobody).
func (a *Adapter) repliesToSelf(m *discordgo.Message) bool {
	r := m.ReferencedMessage
	self := a.selfID()
	return self != "" && r != nil && r.Author != nil && r.Author.ID == self
}

// addressesSelf reports whether a message is for the bot: it mentions the
// bot or replies to it.
func (a *Adapter) addressesSelf(m *discordgo.Message) bool {
	return a.mentionsSelf(m) || a.repliesToSelf(m)
}

// replyTargetsSize bounds the customers whose latest message is
// remembered; forgetting one costs only the reply link, not the mention.
const replyTargetsSize = 10_000

// replyTargets remembers, per channel and customer of an in-channel
// conversation, the customer's latest message, which the bot's messages
// reply to. It is memory only: after a restart, until the customer writes
// again, the bot's messages mention the customer without replying.
type replyTargets struct {
	mu sync.Mutex
	m  map[string]string // channel + "/" + user → message id
}

func newReplyTargets() *replyTargets { return &replyTargets{m: map[string]string{}} }

func (r *replyTargets) put(channel, user, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := channel + "/" + user
	if old, ok := r.m[k]; ok && compareSnowflakes(old, id) >= 0 {
		return // a fetched-back older message does not move it back
	}
	if len(r.m) >= replyTargetsSize {
		clear(r.m)
	}
	r.m[k] = id
}

func (r *replyTargets) get(channel, user string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[channel+"/"+user]
}

// forget drops a target Discord refused to reply to.
func (r *replyTargets) forget(channel, user, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := channel + "/" + user; r.m[k] == id {
		delete(r.m, k)
	}
}

// messageReference makes a message a reply (message_reference on create).
// FailIfNotExists false sends it as a plain message when the customer's
// message was deleted meanwhile.
type messageReference struct {
	MessageID       string `json:"message_id"`
	ChannelID       string `json:"channel_id,omitempty"`
	GuildID         string `json:"guild_id,omitempty"`
	FailIfNotExists bool   `json:"fail_if_not_exists"`
}

// inChannelTo returns the customer an outgoing message must mention and
// reply to, when it goes to an in-channel conversation.
func inChannelTo(m bot.Outgoing) (string, bool) {
	if m.Kind != bot.KindReply && m.Kind != bot.KindRelay {
		return "", false
	}
	return inChannelCustomer(m.Workspace, m.Thread)
}

// mentionPrefix is what starts the first part of a message to an
// in-channel conversation's customer.
func mentionPrefix(user string) string { return "<@" + user + "> " }

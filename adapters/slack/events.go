package slack

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// message is a Slack message as the adapter reads it, whether it came as a
// message event or as an app_mention.
type message struct {
	team, channel, channelType string
	user, botID, subtype       string
	text, ts, threadTS         string
	files                      []slackapi.File
	// mention is true for app_mention events; Slack also delivers the same
	// message as a message event, and the engine keeps only one.
	mention bool
	// assistant is true for a message in an assistant thread.
	assistant bool
	// onStored, when set, is called once the engine stored the message as
	// new (the catch-up counts what it fetched back).
	onStored func()
}

// id is the platform message id the engine dedupes on: one message has
// one id however often and in whichever event Slack delivers it.
func (m message) id() string { return m.team + ":" + m.channel + ":" + m.ts }

// inThread reports whether the message is a reply in a thread.
func (m message) inThread() bool { return m.threadTS != "" && m.threadTS != m.ts }

func nop() {}

// handleEvent translates one Events API event and hands it to the engine or
// the handoff flow. It returns once what must precede Slack's
// acknowledgement is done (the message is stored); after, which the caller
// runs once Slack is acknowledged, does the rest (the sign of life, the
// model turn). An error means nothing was stored: do not acknowledge, so
// that Slack delivers the event again.
func (a *Adapter) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) (after func(), err error) {
	if ev.Type != slackevents.CallbackEvent {
		return nop, nil
	}
	var m message
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		if e.SubType == "message_changed" || e.SubType == "message_deleted" {
			return a.customerEdit(ctx, ev.TeamID, e)
		}
		m = message{
			channel: e.Channel, channelType: e.ChannelType, user: e.User, botID: e.BotID,
			subtype: e.SubType, text: e.Text, ts: e.TimeStamp, threadTS: e.ThreadTimeStamp,
		}
		if e.Message != nil {
			m.files = e.Message.Files
			m.botID = cmp.Or(m.botID, e.Message.BotID)
		}
	case *slackevents.AppMentionEvent:
		m = message{
			channel: e.Channel, user: e.User, botID: e.BotID, text: e.Text,
			ts: e.TimeStamp, threadTS: e.ThreadTimeStamp, files: e.Files, mention: true,
		}
	case *slackevents.AssistantThreadStartedEvent:
		return a.assistantStarted(ctx, e.AssistantThread, true)
	case *slackevents.AssistantThreadContextChangedEvent:
		return a.assistantStarted(ctx, e.AssistantThread, false)
	default:
		return nop, nil
	}
	self, err := a.whoami(ctx)
	if err != nil {
		return nil, err
	}
	m.team = cmp.Or(ev.TeamID, self.Team)
	return a.handleMessage(ctx, self, m)
}

// handleMessage routes a message: agent-channel threads to the handoff flow,
// direct messages and the threads the bot takes part in to the engine, and
// everything else nowhere.
func (a *Adapter) handleMessage(ctx context.Context, self identity, m message) (func(), error) {
	switch {
	case m.user == "" || m.user == self.User || m.botID != "" || m.subtype == "bot_message":
		return nop, nil // the bot itself, other bots, system messages
	case m.subtype != "" && m.subtype != "file_share" && m.subtype != "thread_broadcast":
		// Edits, deletions, joins, …; a reply also sent to the channel
		// (thread_broadcast) is still someone's message in the thread.
		return nop, nil
	case m.ts == "" || m.channel == "":
		return nop, nil
	}
	if a.cfg.AgentChannel != "" && m.channel == a.cfg.AgentChannel {
		if m.mention {
			return nop, nil // the message event carries the same message
		}
		return a.agentMessage(ctx, self, m)
	}
	key := bot.ConversationKey{Platform: bot.Slack, Workspace: m.team, Channel: m.channel}
	switch {
	case m.channelType == slackevents.ChannelTypeIM:
		if m.inThread() {
			// In an assistant thread, the thread is the conversation.
			assistant, err := a.inAssistantThread(ctx, key, m)
			if err != nil {
				return nil, err
			}
			if assistant {
				key.Thread, m.assistant = m.threadTS, true
			}
		}
		return a.customerMessage(ctx, self, key, true, m)
	case m.channelType == slackevents.ChannelTypeMPIM:
		return nop, nil // group DMs are not a place for support
	case m.mention || mentions(m.text, self.User):
		// The bot answers in a thread under the mention.
		key.Thread = cmp.Or(m.threadTS, m.ts)
		return a.customerMessage(ctx, self, key, false, m)
	case m.inThread():
		// A reply without a mention counts when the bot is in that thread's
		// conversation; other threads are other people's business.
		key.Thread = m.threadTS
		active, err := a.cfg.Engine.Active(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("slack: look up thread conversation: %w", err)
		}
		if !active {
			return nop, nil
		}
		return a.customerMessage(ctx, self, key, false, m)
	}
	return nop, nil
}

// customerMessage stores a customer message with the engine. Once Slack is
// acknowledged, the message gets a sign of life (a reaction; in an
// assistant thread, the thread's status when a model turn follows) and,
// when it needs one, a model turn.
func (a *Adapter) customerMessage(ctx context.Context, self identity, key bot.ConversationKey, private bool, m message) (func(), error) {
	name := a.lookupAll(ctx, m.user, m.text, self.User)
	if a.cfg.LinkByEmail {
		a.linkByEmail(ctx, m.team, m.user)
	}
	in := bot.Incoming{
		Key:         key,
		User:        m.user,
		UserName:    a.user(ctx, m.user).display(),
		Text:        fromSlack(stripMention(m.text, self.User), name),
		MessageID:   m.id(),
		Private:     private,
		Attachments: attachments(m.files),
	}
	acc, err := a.cfg.Engine.Accept(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("slack: store customer message: %w", err)
	}
	if acc.Duplicate {
		return nop, nil // app_mention and message, a retry, a redelivery
	}
	if m.onStored != nil {
		m.onStored()
	}
	return func() {
		if m.assistant {
			a.assistantTurn(ctx, m, in.Text, acc)
		} else {
			a.react(ctx, m.channel, m.ts)
		}
		if acc.Pending {
			a.cfg.Engine.Submit(ctx, acc.ConversationID)
		}
	}, nil
}

// agentMessage hands a reply in an agent-channel thread to the handoff flow:
// a command, a note, or words for the customer. Top-level messages in the
// agent channel are the agents' own conversation.
func (a *Adapter) agentMessage(ctx context.Context, self identity, m message) (func(), error) {
	if !m.inThread() {
		return nop, nil
	}
	name := a.lookupAll(ctx, m.user, m.text, self.User)
	agent := a.agent(ctx, m.user, a.user(ctx, m.user).display())
	text := fromSlack(stripMention(m.text, self.User), name)
	for _, at := range attachments(m.files) {
		text += "\n📎 " + cmp.Or(at.Name, "attachment") + ": " + at.URL
	}
	am := handoff.AgentMessage{
		Platform:  bot.Slack,
		Channel:   m.channel,
		Thread:    m.threadTS,
		Agent:     agent,
		Text:      text,
		MessageID: m.id(),
		Mentions:  a.mentionedAgents(ctx, m.text, self.User),
	}
	res, err := a.cfg.Handoffs.AgentMessage(ctx, am)
	if err != nil {
		return nil, fmt.Errorf("slack: agent message: %w", err)
	}
	a.log.DebugContext(ctx, "agent message", "outcome", res.Outcome, "thread", m.threadTS)
	if res.Outcome == handoff.Ignored {
		// An agent may answer in a new handoff's thread before the outbox
		// has recorded the card as sent, when no handoff is known by that
		// thread yet: after the acknowledgement, look again shortly.
		return func() { go a.retryIgnored(context.WithoutCancel(ctx), am) }, nil
	}
	if text := refusal(am, res); text != "" {
		return func() { a.ephemeralTo(ctx, m.channel, m.threadTS, m.user, text) }, nil
	}
	return nop, nil
}

// notSent is what someone who is not an agent is told when what they wrote
// in a handoff's thread was not sent to the customer.
const notSent = "Not sent to the customer: only the support team's agents can write to customers."

// refusal is what the author of a thread message is told privately, if
// anything: that an agent's command is not theirs to give, or that their
// words did not reach the customer because they are not an agent. Never
// posted for all to see: the thread is the agents' and the customer's.
func refusal(am handoff.AgentMessage, res handoff.Result) string {
	switch {
	case res.Outcome == handoff.NotAgent:
		return cmp.Or(res.Feedback, "Only the support team's agents can act on handoffs.")
	case am.Agent.Role == handoff.Outsider && res.Outcome == handoff.NotRelayed && !strings.HasPrefix(strings.TrimSpace(am.Text), "//"):
		return notSent
	}
	return ""
}

// attachments turns Slack files into links agents can open.
func attachments(files []slackapi.File) []bot.Attachment {
	var out []bot.Attachment
	for _, f := range files {
		u := cmp.Or(f.Permalink, f.URLPrivate)
		if u == "" {
			continue
		}
		out = append(out, bot.Attachment{Name: cmp.Or(f.Name, f.Title), URL: u})
	}
	return out
}

// react adds the "eyes" reaction to a customer's message: a sign of life
// while the answer is made. It is sent directly, not through the outbox, and
// a failure is only logged.
func (a *Adapter) react(ctx context.Context, channel, ts string) {
	ctx = context.WithoutCancel(ctx)
	a.goBackground(func() {
		ctx, cancel := context.WithTimeout(ctx, directTimeout)
		defer cancel()
		err := a.api.AddReactionContext(ctx, "eyes", slackapi.ItemRef{Channel: channel, Timestamp: ts})
		if err != nil && !isSlackError(err, "already_reacted") {
			a.log.WarnContext(ctx, "slack sign of life (reaction) failed", "channel", channel, "err", a.wrap("reactions.add", err))
		}
	})
}

// retryIgnored hands an agent-channel thread message to the handoff flow
// again a few times, until the thread is known to be a handoff's.
func (a *Adapter) retryIgnored(ctx context.Context, am handoff.AgentMessage) {
	for _, wait := range handoff.IgnoredRetries() {
		t := time.NewTimer(wait)
		<-t.C
		res, err := a.cfg.Handoffs.AgentMessage(ctx, am)
		if err != nil {
			a.log.WarnContext(ctx, "slack: agent message", "thread", am.Thread, "err", err)
			return
		}
		if res.Outcome != handoff.Ignored {
			if text := refusal(am, res); text != "" {
				a.ephemeralTo(ctx, am.Channel, am.Thread, am.Agent.ID, text)
			}
			return
		}
	}
}

// customerEdit hands a customer's edit or deletion of a message to the
// engine, which notes it in the handoff thread when one is open. The engine
// finds the message by its id, so the conversation's key need not be
// worked out again; messages it never stored (the bot's, other people's,
// the agent channel's) are ignored there. Slack also reports link
// previews as message_changed, without "edited": those are not edits.
func (a *Adapter) customerEdit(ctx context.Context, team string, e *slackevents.MessageEvent) (func(), error) {
	if e.Channel == "" || (a.cfg.AgentChannel != "" && e.Channel == a.cfg.AgentChannel) {
		return nop, nil
	}
	if e.Message != nil && e.Message.SubType == "assistant_app_thread" {
		return nop, nil // an assistant thread's root, retitled: no one's words
	}
	self, err := a.whoami(ctx)
	if err != nil {
		return nil, err
	}
	m := message{team: cmp.Or(team, self.Team), channel: e.Channel}
	ed := bot.Edit{Platform: bot.Slack}
	switch {
	case e.SubType == "message_deleted":
		m.ts, ed.Deleted, ed.EditID = e.DeletedTimeStamp, true, e.TimeStamp
	case e.Message != nil && e.Message.Edited != nil && e.Message.Edited.Timestamp != "":
		if e.Message.User == "" || e.Message.User == self.User || e.Message.BotID != "" {
			return nop, nil
		}
		m.ts, ed.EditID = e.Message.Timestamp, e.Message.Edited.Timestamp
		name := a.lookupAll(ctx, e.Message.User, e.Message.Text, self.User)
		ed.Text = fromSlack(stripMention(e.Message.Text, self.User), name)
	default:
		return nop, nil
	}
	if m.ts == "" {
		return nop, nil
	}
	ed.MessageID = m.id()
	if _, err := a.cfg.Engine.Edited(ctx, ed); err != nil {
		return nil, fmt.Errorf("slack: note a customer's edit: %w", err)
	}
	return nop, nil
}

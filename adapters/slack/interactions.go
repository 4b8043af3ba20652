package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	slackapi "github.com/slack-go/slack"
)

// Buttons carry action_id "firstline_" + the bot.Action; when one message
// has several buttons of one action (the 1–5 rating), each gets "#n" after
// it, since Slack wants action ids unique within a block. The value is the
// bot.Button's.
const actionPrefix = "firstline_"

// notYours is said, only to the person who pressed it, when a button on a
// customer's conversation is pressed by someone else.
const notYours = "This button belongs to another customer's conversation."

func actionID(a bot.Action, n int) string {
	id := actionPrefix + string(a)
	if n > 0 {
		id += "#" + strconv.Itoa(n)
	}
	return id
}

// parseActionID reads an action id this adapter wrote.
func parseActionID(id string) (bot.Action, bool) {
	rest, ok := strings.CutPrefix(id, actionPrefix)
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "#")
	return bot.Action(name), name != ""
}

// handleInteraction acts on a button press. Interactions are not retried by
// Slack, so errors here are for the caller to log (and, over HTTP, to show
// the user the press failed).
func (a *Adapter) handleInteraction(ctx context.Context, cb slackapi.InteractionCallback) error {
	if cb.Type != slackapi.InteractionTypeBlockActions {
		return nil
	}
	var errs []error
	for _, act := range cb.ActionCallback.BlockActions {
		action, ok := parseActionID(act.ActionID)
		if !ok {
			continue
		}
		if err := a.press(ctx, cb, action, act.Value); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *Adapter) press(ctx context.Context, cb slackapi.InteractionCallback, action bot.Action, value string) error {
	who := cb.User.ID
	switch action {
	case bot.ActionTalkToPerson:
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			a.log.WarnContext(ctx, "slack button with a bad conversation id", "value", value)
			return nil
		}
		err = a.cfg.Engine.TalkToPerson(ctx, id, who)
		return a.customerButton(ctx, cb, "talk to a person", err)
	case bot.ActionFeedback:
		id, helpful, err := bot.ParseFeedback(value)
		if err != nil {
			a.log.WarnContext(ctx, "slack feedback button with a bad value", "value", value)
			return nil
		}
		err = a.cfg.Engine.Feedback(ctx, who, id, helpful)
		if errors.Is(err, bot.ErrNotAnAnswer) {
			a.log.WarnContext(ctx, "slack feedback on a message that is no answer", "message", id)
			return nil
		}
		return a.customerButton(ctx, cb, "feedback", err)
	case bot.ActionRate:
		handoffID, score, err := handoff.ParseRating(value)
		if err != nil {
			a.log.WarnContext(ctx, "slack rating button with a bad value", "value", value)
			return nil
		}
		err = a.cfg.Engine.Rate(ctx, who, handoffID, score)
		return a.customerButton(ctx, cb, "rate", err)
	case bot.ActionClaim, bot.ActionResolve, bot.ActionSendDraft:
		if a.cfg.AgentChannel == "" || a.channelOf(cb) != a.cfg.AgentChannel {
			// Cards live in the agent channel only.
			a.log.WarnContext(ctx, "slack agent button outside the agent channel ignored", "channel", a.channelOf(cb))
			return nil
		}
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			a.log.WarnContext(ctx, "slack button with a bad handoff id", "value", value)
			return nil
		}
		agent := a.agent(ctx, who, cmp.Or(a.user(ctx, who).Name, cb.User.Name, who))
		var res handoff.Result
		switch action {
		case bot.ActionClaim:
			res, err = a.cfg.Handoffs.Claim(ctx, id, agent)
		case bot.ActionResolve:
			res, err = a.cfg.Handoffs.Resolve(ctx, id, agent)
		default:
			res, err = a.cfg.Handoffs.SendDraft(ctx, id, agent)
		}
		if err != nil {
			return fmt.Errorf("slack: %s handoff %d: %w", action, id, err)
		}
		// The handoff flow explains the outcome in the card's thread; a
		// refusal (someone who is not an agent, or not the owner) and a
		// draft not sent are also told to the presser alone.
		refused := res.Outcome == handoff.NotAgent || res.Outcome == handoff.NotOwner
		if res.Feedback != "" && (refused || action == bot.ActionSendDraft && res.Outcome != handoff.DraftSent) {
			a.ephemeral(ctx, cb, res.Feedback)
		}
		a.log.DebugContext(ctx, "agent button", "action", action, "handoff", id, "outcome", res.Outcome)
		return nil
	case bot.ActionOpenURL:
		return nil // Slack opened the link; there is nothing to do
	default:
		a.log.WarnContext(ctx, "slack button this adapter does not handle", "action", action)
		return nil
	}
}

// customerButton finishes a press on a customer's button: someone else's
// press is refused, in a message only they see.
func (a *Adapter) customerButton(ctx context.Context, cb slackapi.InteractionCallback, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bot.ErrNotYours):
		a.ephemeral(ctx, cb, notYours)
		return nil
	case errors.Is(err, bot.ErrNotFound):
		a.log.WarnContext(ctx, "slack button for something that no longer exists", "action", what)
		return nil
	}
	return fmt.Errorf("slack: %s button: %w", what, err)
}

func (a *Adapter) channelOf(cb slackapi.InteractionCallback) string {
	return cmp.Or(cb.Channel.ID, cb.Container.ChannelID)
}

// ephemeral tells one user something in the channel where they pressed a
// button. It is sent directly, not through the outbox: it answers the press.
func (a *Adapter) ephemeral(ctx context.Context, cb slackapi.InteractionCallback, text string) {
	a.ephemeralTo(ctx, a.channelOf(cb), cb.Container.ThreadTs, cb.User.ID, text)
}

// ephemeralTo tells user, and only them, something in channel (in thread,
// when set). It is sent directly, not through the outbox, and a failure is
// only logged.
func (a *Adapter) ephemeralTo(ctx context.Context, channel, thread, user, text string) {
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(escape(text), false),
		slackapi.MsgOptionParse(false),
		slackapi.MsgOptionLinkNames(false),
	}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), directTimeout)
	defer cancel()
	if _, err := a.api.PostEphemeralContext(ctx, channel, user, opts...); err != nil {
		a.log.WarnContext(ctx, "slack ephemeral message failed", "err", a.wrap("chat.postEphemeral", err))
	}
}

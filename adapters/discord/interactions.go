package discord

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

// Buttons carry "fl:" + action + ":" + value as their custom_id, at most
// 100 characters: the action says what to do, the value on what (a
// conversation or handoff id, or "handoff:score" for a rating).
const (
	customIDPrefix = "fl:"
	maxCustomID    = 100
	// actionTimeout bounds a button's action; it is a store transaction.
	actionTimeout = 10 * time.Second
	// respondTimeout bounds one interaction response request.
	respondTimeout = 5 * time.Second
)

// What a person who pressed a button may read, only they.
const (
	msgNotYours      = "This button is for the customer of this conversation."
	msgAgentsOnly    = "This button works only in the agent channel."
	msgFailed        = "Sorry, that did not work. Please try again."
	msgAgentFailed   = "That did not work. Try again, or write claim or resolve in the handoff's thread."
	msgUnknownButton = "This button is no longer available."
)

func customID(b bot.Button) string {
	return customIDPrefix + string(b.Action) + ":" + b.Value
}

func parseCustomID(id string) (bot.Action, string, bool) {
	rest, ok := strings.CutPrefix(id, customIDPrefix)
	if !ok {
		return "", "", false
	}
	action, value, ok := strings.Cut(rest, ":")
	return bot.Action(action), value, ok && action != ""
}

// onInteractionCreate handles a button press or a slash command
// (commands.go) away from the gateway's reader: the action takes a store
// transaction and the response a REST call.
func (a *Adapter) onInteractionCreate(_ *discordgo.Session, e *discordgo.InteractionCreate) {
	if e.Interaction == nil {
		return
	}
	i := e.Interaction
	ctx := a.runContext()
	switch i.Type {
	case discordgo.InteractionMessageComponent:
		a.goBackground(func() { a.handleComponent(ctx, i) })
	case discordgo.InteractionApplicationCommand:
		a.goBackground(func() { a.handleCommand(ctx, i) })
	}
}

// handleComponent runs a button's action and answers the interaction.
// Discord wants an answer within three seconds: with the action's feedback
// as a message only the presser sees, when the action is done in time;
// otherwise with a deferred update at once, and the feedback follows.
func (a *Adapter) handleComponent(ctx context.Context, i *discordgo.Interaction) {
	ctx = context.WithoutCancel(ctx)
	a.answerInTime(ctx, a.act, i,
		func(feedback string) { a.respond(ctx, i, feedback) },
		func() { a.respond(ctx, i, "") },
		func(feedback string) {
			if feedback != "" {
				a.followUp(ctx, i, feedback)
			}
		})
}

// answerInTime runs work for an interaction and answers it within
// Discord's three seconds: with inTime(result) when work is done by
// ackAfter; otherwise with early() at once, and late(result) when work is
// done. Work being handled is finished even when the adapter is stopping:
// the person is waiting for it.
func (a *Adapter) answerInTime(ctx context.Context, work func(context.Context, *discordgo.Interaction) string,
	i *discordgo.Interaction, inTime func(string), early func(), late func(string)) {
	ctx = context.WithoutCancel(ctx)
	done := make(chan string, 1)
	a.goBackground(func() {
		actx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		done <- work(actx, i)
	})
	timer := time.NewTimer(a.ackAfter)
	defer timer.Stop()
	select {
	case result := <-done:
		inTime(result)
	case <-timer.C:
		early()
		late(<-done)
	}
}

// act runs a button's action and returns what to tell the person who
// pressed it ("" for nothing: the outcome shows in the conversation).
func (a *Adapter) act(ctx context.Context, i *discordgo.Interaction) string {
	data := i.MessageComponentData()
	action, value, ok := parseCustomID(data.CustomID)
	user := i.User
	if i.Member != nil && i.Member.User != nil {
		user = i.Member.User
	}
	if !ok || user == nil {
		return msgUnknownButton
	}
	log := a.log.With("action", string(action), "interaction", i.ID)
	switch action {
	case bot.ActionTalkToPerson:
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return msgUnknownButton
		}
		err = a.cfg.Engine.TalkToPerson(ctx, id, user.ID)
		switch {
		case errors.Is(err, bot.ErrNotYours):
			return msgNotYours
		case err != nil:
			log.ErrorContext(ctx, "discord: talk-to-a-person button failed", "conversation", id, "err", err)
			return msgFailed
		}
		return ""
	case bot.ActionFeedback:
		id, helpful, err := bot.ParseFeedback(value)
		if err != nil {
			return msgUnknownButton
		}
		err = a.cfg.Engine.Feedback(ctx, user.ID, id, helpful)
		switch {
		case errors.Is(err, bot.ErrNotYours):
			return msgNotYours
		case errors.Is(err, bot.ErrNotAnAnswer), errors.Is(err, bot.ErrNotFound):
			return msgUnknownButton
		case err != nil:
			log.ErrorContext(ctx, "discord: feedback button failed", "message", id, "err", err)
			return msgFailed
		}
		return ""
	case bot.ActionRate:
		handoffID, score, err := handoff.ParseRating(value)
		if err != nil {
			return msgUnknownButton
		}
		err = a.cfg.Engine.Rate(ctx, user.ID, handoffID, score)
		switch {
		case errors.Is(err, bot.ErrNotYours):
			return msgNotYours
		case err != nil:
			log.ErrorContext(ctx, "discord: rating button failed", "handoff", handoffID, "err", err)
			return msgFailed
		}
		return ""
	case bot.ActionClaim, bot.ActionResolve, bot.ActionSendDraft:
		if !a.inAgentChannel(ctx, i.ChannelID) {
			return msgAgentsOnly
		}
		handoffID, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return msgUnknownButton
		}
		// An outsider's press is refused by the handoff flow (NotAgent), a
		// press on another agent's handoff too (NotOwner); the feedback is
		// the ephemeral answer.
		agent := a.presser(ctx, i, user)
		var res handoff.Result
		switch action {
		case bot.ActionClaim:
			res, err = a.cfg.Handoffs.Claim(ctx, handoffID, agent)
		case bot.ActionResolve:
			res, err = a.cfg.Handoffs.Resolve(ctx, handoffID, agent)
		default: // the value is the draft's id
			res, err = a.cfg.Handoffs.SendDraft(ctx, handoffID, agent)
		}
		if err != nil {
			log.ErrorContext(ctx, "discord: handoff button failed", "handoff", handoffID, "err", err)
			return msgAgentFailed
		}
		return res.Feedback
	}
	return msgUnknownButton
}

// inAgentChannel reports whether a channel is the agent channel or one of
// its threads: handoff buttons act only there.
func (a *Adapter) inAgentChannel(ctx context.Context, channel string) bool {
	if a.cfg.AgentChannel == "" {
		return false
	}
	if channel == a.cfg.AgentChannel {
		return true
	}
	ok, err := a.isHandoffThread(ctx, channel)
	return err == nil && ok
}

// interactionReply is an interaction callback (POST
// /interactions/{id}/{token}/callback).
type interactionReply struct {
	Type int `json:"type"`
	Data any `json:"data,omitempty"` // *interactionReplyData, or *deferredData
}

// deferredData is a deferred message's data: only its flags.
type deferredData struct {
	Flags int `json:"flags"`
}

type interactionReplyData struct {
	Content         string          `json:"content"`
	Flags           int             `json:"flags"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

// respond answers an interaction: with a message only the presser sees, or
// with nothing visible (a deferred update: the message stays as it is).
func (a *Adapter) respond(ctx context.Context, i *discordgo.Interaction, feedback string) {
	if feedback == "" {
		a.callback(ctx, i, interactionReply{Type: int(discordgo.InteractionResponseDeferredMessageUpdate)})
		return
	}
	a.respondMessage(ctx, i, feedback)
}

// respondMessage answers an interaction with a message only the caller
// sees.
func (a *Adapter) respondMessage(ctx context.Context, i *discordgo.Interaction, text string) {
	a.callback(ctx, i, interactionReply{
		Type: int(discordgo.InteractionResponseChannelMessageWithSource),
		Data: &interactionReplyData{
			Content:         fitOne(text, MaxMessageLen),
			Flags:           int(discordgo.MessageFlagsEphemeral),
			AllowedMentions: noMentions(),
		},
	})
}

// deferMessage acknowledges a slash command with a deferred message only
// the caller sees ("thinking…"); editOriginal then replaces it.
func (a *Adapter) deferMessage(ctx context.Context, i *discordgo.Interaction) {
	a.callback(ctx, i, interactionReply{
		Type: int(discordgo.InteractionResponseDeferredChannelMessageWithSource),
		Data: &deferredData{Flags: int(discordgo.MessageFlagsEphemeral)},
	})
}

// callback sends an interaction's one response (POST
// /interactions/{id}/{token}/callback).
func (a *Adapter) callback(ctx context.Context, i *discordgo.Interaction, reply interactionReply) {
	ctx, cancel := context.WithTimeout(ctx, respondTimeout)
	defer cancel()
	endpoint := discordgo.EndpointInteractionResponse(i.ID, i.Token)
	if _, err := a.session.RequestWithBucketID(http.MethodPost, endpoint, reply, endpoint, discordgo.WithContext(ctx)); err != nil {
		a.log.WarnContext(ctx, "discord: cannot answer an interaction", "interaction", i.ID, "err", a.redact(err))
	}
}

// editOriginal replaces a deferred answer with the text (PATCH
// /webhooks/{app}/{token}/messages/@original); it stays ephemeral.
func (a *Adapter) editOriginal(ctx context.Context, i *discordgo.Interaction, text string) {
	ctx, cancel := context.WithTimeout(ctx, respondTimeout)
	defer cancel()
	endpoint := discordgo.EndpointInteractionResponseActions(i.AppID, i.Token)
	body := struct {
		Content         string          `json:"content"`
		AllowedMentions allowedMentions `json:"allowed_mentions"`
	}{fitOne(text, MaxMessageLen), noMentions()}
	bucket := discordgo.EndpointInteractionResponseActions(i.AppID, "")
	if _, err := a.session.RequestWithBucketID(http.MethodPatch, endpoint, body, bucket, discordgo.WithContext(ctx)); err != nil {
		a.log.WarnContext(ctx, "discord: cannot send a command's answer", "interaction", i.ID, "err", a.redact(err))
	}
}

// followUp sends feedback, only for the presser, after a deferred answer.
func (a *Adapter) followUp(ctx context.Context, i *discordgo.Interaction, feedback string) {
	ctx, cancel := context.WithTimeout(ctx, respondTimeout)
	defer cancel()
	endpoint := discordgo.EndpointWebhookToken(i.AppID, i.Token)
	body := interactionReplyData{
		Content:         fitOne(feedback, MaxMessageLen),
		Flags:           int(discordgo.MessageFlagsEphemeral),
		AllowedMentions: noMentions(),
	}
	if _, err := a.session.RequestWithBucketID(http.MethodPost, endpoint, body, discordgo.EndpointWebhookToken(i.AppID, ""), discordgo.WithContext(ctx)); err != nil {
		a.log.WarnContext(ctx, "discord: cannot send a button's feedback", "interaction", i.ID, "err", a.redact(err))
	}
}

package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
)

// Message components (https://discord.com/developers/docs/components).
const (
	componentActionRow = 1
	componentButton    = 2

	buttonPrimary   = 1
	buttonSecondary = 2
	buttonSuccess   = 3
	buttonLink      = 5 // opens URL; sends no interaction

	maxButtonsPerRow = 5
	// maxButtonURL is Discord's limit on a link button's url.
	maxButtonURL   = 512
	maxRows        = 5
	maxButtonLabel = 80
)

// messageBody is a message create or edit (POST or PATCH
// /channels/{id}/messages). discordgo's MessageSend has no nonce or
// enforce_nonce, so the adapter sends its own JSON through the session.
type messageBody struct {
	Content string `json:"content"`
	// Components is omitted on create when there are none, and always
	// sent on edit, so that an edit can take buttons away.
	Components      *[]component    `json:"components,omitempty"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
	// Nonce with EnforceNonce makes Discord return the message it already
	// created with this nonce (for a few minutes) instead of posting it
	// again: a retry after a crash or a timeout does not post twice.
	Nonce        string `json:"nonce,omitempty"`
	EnforceNonce bool   `json:"enforce_nonce,omitempty"`
	// MessageReference makes the message a reply: to the customer's
	// message, in a conversation held in a server channel (inchannel.go).
	MessageReference *messageReference `json:"message_reference,omitempty"`
}

// allowedMentions is set on every message the bot sends: nothing in the
// text (@everyone, @here, a role or user mention a customer typed) pings
// anyone, except the agent role where the bot means to ping it, and the
// customer of a conversation held in a server channel, whom the bot's
// messages there mention so that they see them.
type allowedMentions struct {
	Parse []string `json:"parse"`
	Roles []string `json:"roles,omitempty"`
	Users []string `json:"users,omitempty"`
}

func noMentions() allowedMentions { return allowedMentions{Parse: []string{}} }

type component struct {
	Type       int         `json:"type"`
	Components []component `json:"components,omitempty"`
	Style      int         `json:"style,omitempty"`
	Label      string      `json:"label,omitempty"`
	CustomID   string      `json:"custom_id,omitempty"`
	URL        string      `json:"url,omitempty"`
}

// Send implements outbox.Sender: it delivers one outgoing message and
// returns the Discord id of its (first) message. A rate limit is returned
// as outbox.RetryAfter, a request Discord will never accept as
// outbox.Permanent.
func (a *Adapter) Send(ctx context.Context, m bot.Outgoing) (string, error) {
	switch m.Kind {
	case bot.KindReply:
		return a.post(ctx, m, m.Channel, m.Text, nil)
	case bot.KindRelay:
		return a.post(ctx, m, m.Channel, relayText(m.Author, m.Text), nil)
	case bot.KindAnnounce:
		return a.announce(ctx, m)
	case bot.KindThread:
		// The handoff's thread is the channel whose id is the
		// announcement's; without a delivered announcement, the post
		// goes to the agent channel itself.
		channel := m.ParentRef
		if channel == "" {
			// A forum takes no message of its own (forum.go).
			var err error
			if channel, err = a.forumChannel(ctx, m.Channel); err != nil {
				return "", err
			}
		}
		text, roles := a.withRoleMention(m)
		return a.post(ctx, m, channel, text, roles)
	case bot.KindUpdate:
		return a.update(ctx, m)
	}
	return "", outbox.Permanent(fmt.Errorf("discord: unknown message kind %q", m.Kind))
}

// relayText presents an agent's words to the customer.
func relayText(author, text string) string {
	if author == "" {
		author = "An agent"
	}
	return escapeMarkdown(author) + " (support): " + text
}

var markdownEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`, `>`, `\>`, `#`, `\#`, `[`, `\[`, `]`, `\]`)

// escapeMarkdown makes a name read as itself, not as formatting.
func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// withRoleMention prepends the agent role's mention when the message asks
// for the agent group and it goes to the agent side (an announcement, a
// reminder in a handoff thread), and returns the roles allowed to ping.
func (a *Adapter) withRoleMention(m bot.Outgoing) (string, []string) {
	if !m.Mention || a.cfg.AgentRole == "" || (m.Kind != bot.KindAnnounce && m.Kind != bot.KindThread) {
		return m.Text, nil
	}
	return "<@&" + a.cfg.AgentRole + "> " + m.Text, []string{a.cfg.AgentRole}
}

// announce posts a handoff card in the agent channel, with Claim and
// Resolve, and starts the handoff's thread from it. The card is one
// message (shortened if it must be), so that updates can edit it whole.
func (a *Adapter) announce(ctx context.Context, m bot.Outgoing) (string, error) {
	channel := m.Channel
	if channel == "" {
		channel = a.cfg.AgentChannel
	}
	if channel == "" {
		return "", outbox.Permanent(errors.New("discord: post handoff card: no agent channel"))
	}
	if channel == a.cfg.AgentChannel {
		forum, err := a.agentForum(ctx)
		if err != nil {
			return "", err
		}
		if forum {
			return a.announceForum(ctx, m)
		}
	}
	text, roles := a.withRoleMention(m)
	body := messageBody{
		Content:         fitOne(toDiscord(text), MaxMessageLen),
		AllowedMentions: allowedMentions{Parse: []string{}, Roles: roles},
		Nonce:           nonce(m.ID, 0),
		EnforceNonce:    m.ID > 0,
	}
	if rows := a.components(ctx, m.Buttons); len(rows) > 0 {
		body.Components = &rows
	}
	var done map[string]string
	if m.MaybeSent && m.ID > 0 {
		var err error
		if done, err = a.created(ctx, m, channel); err != nil {
			return "", err
		}
	}
	id := done[body.Nonce]
	if id != "" {
		a.log.InfoContext(ctx, "discord: an earlier attempt posted this handoff card; not posting it again", "outbox", m.ID)
	} else {
		var err error
		if id, err = a.createMessage(ctx, channel, body); err != nil {
			return "", a.wrap(err, "post handoff card %d", m.HandoffID)
		}
	}
	// On a retry (the thread failed last time), the nonce returns the same
	// card and Discord says the thread exists: both are fine.
	name := "Handoff #" + strconv.FormatInt(m.HandoffID, 10)
	if _, err := a.startThread(ctx, channel, id, name); err != nil {
		return "", a.wrap(classify(err), "start the thread of handoff %d", m.HandoffID)
	}
	if channel == a.cfg.AgentChannel {
		a.rememberHandoffThread(id)
	}
	return id, nil
}

// post sends text to a channel, converted to Discord's markdown and split
// within its length limit; the buttons go on the last part. It returns the
// first part's id.
func (a *Adapter) post(ctx context.Context, m bot.Outgoing, channel, text string, roles []string) (string, error) {
	if channel == "" {
		return "", outbox.Permanent(fmt.Errorf("discord: post %s message: no channel", m.Kind))
	}
	customer, inChannel := inChannelTo(m)
	prefix := ""
	if inChannel {
		prefix = mentionPrefix(customer)
	}
	parts := split(toDiscord(text), MaxMessageLen-len(prefix))
	rows := a.components(ctx, m.Buttons)
	if len(parts) == 0 {
		if len(rows) == 0 {
			return "", outbox.Permanent(fmt.Errorf("discord: post %s message: nothing to send", m.Kind))
		}
		parts = []string{""}
	}
	var done map[string]string
	if m.MaybeSent && m.ID > 0 {
		var err error
		if done, err = a.created(ctx, m, channel); err != nil {
			return "", err
		}
	}
	first := ""
	for i, part := range parts {
		body := messageBody{
			Content:         part,
			AllowedMentions: allowedMentions{Parse: []string{}, Roles: roles},
			Nonce:           nonce(m.ID, i),
			EnforceNonce:    m.ID > 0,
		}
		if i == len(parts)-1 && len(rows) > 0 {
			body.Components = &rows
		}
		if inChannel && i == 0 {
			body.Content = prefix + part
			body.AllowedMentions.Users = []string{customer}
			if ref := a.replies.get(channel, customer); ref != "" {
				body.MessageReference = &messageReference{MessageID: ref, ChannelID: channel, FailIfNotExists: false}
			}
		}
		id := done[body.Nonce]
		if id != "" {
			a.log.InfoContext(ctx, "discord: an earlier attempt posted this message; not posting it again", "outbox", m.ID, "part", i+1)
		} else {
			var err error
			id, err = a.createMessage(ctx, channel, body)
			if _, code, _ := apiCode(err); code == codeCannotReplyNoHistory && body.MessageReference != nil {
				// Replying takes Read Message History; the mention
				// alone still reaches the customer.
				a.log.WarnContext(ctx, "discord: cannot reply to a customer's message (does the bot have Read Message History here?); mentioning them instead",
					"channel", channel, "outbox", m.ID)
				a.replies.forget(channel, customer, body.MessageReference.MessageID)
				body.MessageReference = nil
				id, err = a.createMessage(ctx, channel, body)
			}
			if err != nil {
				return "", a.wrap(err, "post %s message to channel %s (part %d of %d)", m.Kind, channel, i+1, len(parts))
			}
		}
		if i == 0 {
			first = id
		}
	}
	return first, nil
}

// nonce derives a message's nonce from its outbox row, so that every retry
// of the row sends the same one: "fl" + row id, and ".N" for the Nth
// further part of a split message (at most 25 characters).
func nonce(outboxID int64, part int) string {
	if outboxID <= 0 {
		return ""
	}
	n := "fl" + strconv.FormatInt(outboxID, 10)
	if part > 0 {
		n += "." + strconv.Itoa(part)
	}
	return n
}

// update edits a delivered message (a handoff card) in place: new text,
// and buttons replaced (none left takes them away).
func (a *Adapter) update(ctx context.Context, m bot.Outgoing) (string, error) {
	if m.ParentRef == "" {
		return "", outbox.Permanent(fmt.Errorf("discord: update handoff card %d: the card was never delivered", m.HandoffID))
	}
	if m.Channel == "" {
		return "", outbox.Permanent(fmt.Errorf("discord: update handoff card %d: no channel", m.HandoffID))
	}
	if m.Channel == a.cfg.AgentChannel {
		forum, err := a.agentForum(ctx)
		if err != nil {
			return "", err
		}
		if forum {
			return a.updateForum(ctx, m)
		}
	}
	rows := a.components(ctx, m.Buttons)
	body := messageBody{
		Content:         fitOne(toDiscord(m.Text), MaxMessageLen),
		Components:      &rows,
		AllowedMentions: noMentions(),
	}
	endpoint := discordgo.EndpointChannelMessage(m.Channel, m.ParentRef)
	bucket := discordgo.EndpointChannelMessage(m.Channel, "")
	if _, err := a.request(ctx, http.MethodPatch, endpoint, bucket, body); err != nil {
		return "", a.wrap(err, "update handoff card %d", m.HandoffID)
	}
	return m.ParentRef, nil
}

// createMessage posts one message and returns its id.
func (a *Adapter) createMessage(ctx context.Context, channel string, body messageBody) (string, error) {
	endpoint := discordgo.EndpointChannelMessages(channel)
	resp, err := a.request(ctx, http.MethodPost, endpoint, endpoint, body)
	if err != nil {
		return "", err
	}
	var msg struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp, &msg); err != nil || msg.ID == "" {
		return "", fmt.Errorf("read the created message: %w", errors.Join(err, errors.New("no message id")))
	}
	return msg.ID, nil
}

// request makes one REST call through the session, classified for the
// outbox. A bucket discordgo knows to be exhausted is not tried: discordgo
// would sleep until it resets, holding up the dispatcher and every other
// channel; the row is deferred instead.
func (a *Adapter) request(ctx context.Context, method, endpoint, bucket string, body any) ([]byte, error) {
	if d := a.bucketWait(bucket); d > 0 {
		return nil, outbox.RetryAfter(errors.New("rate limited: waiting for the bucket to reset"), d)
	}
	resp, err := a.session.RequestWithBucketID(method, endpoint, body, bucket, discordgo.WithContext(ctx))
	if err != nil {
		return nil, classify(err)
	}
	return resp, nil
}

// bucketWait returns how long discordgo's rate limiter would make a request
// on bucket wait, 0 when it would go at once. A bucket that is busy (a
// request on it in flight) counts as free: its response decides.
func (a *Adapter) bucketWait(bucket string) time.Duration {
	rl := a.session.Ratelimiter
	b := rl.GetBucket(bucket)
	if !b.TryLock() {
		return 0
	}
	defer b.Unlock()
	return rl.GetWaitTime(b, 1)
}

// components lays buttons out in action rows, five to a row.
func (a *Adapter) components(ctx context.Context, buttons []bot.Button) []component {
	rows := []component{}
	for _, b := range buttons {
		id := customID(b)
		if b.Action == bot.ActionOpenURL {
			id = "" // a link button has a URL instead
			if len(b.Value) > maxButtonURL {
				a.log.WarnContext(ctx, "discord: link button URL too long; button left out")
				continue
			}
		}
		if len(id) > maxCustomID {
			a.log.WarnContext(ctx, "discord: button value too long for a custom_id; button left out", "action", string(b.Action))
			continue
		}
		if len(rows) == 0 || len(rows[len(rows)-1].Components) == maxButtonsPerRow {
			if len(rows) == maxRows {
				a.log.WarnContext(ctx, "discord: more buttons than a message holds; the rest left out")
				break
			}
			rows = append(rows, component{Type: componentActionRow})
		}
		label := strings.TrimSpace(b.Label)
		if label == "" {
			label = string(b.Action)
		}
		if utf8.RuneCountInString(label) > maxButtonLabel {
			label = label[:runePrefix(label, maxButtonLabel-1)] + "…"
		}
		row := &rows[len(rows)-1]
		c := component{Type: componentButton, Style: buttonStyle(b.Action), Label: label, CustomID: id}
		if b.Action == bot.ActionOpenURL {
			c.URL = b.Value
		}
		row.Components = append(row.Components, c)
	}
	return rows
}

func buttonStyle(a bot.Action) int {
	switch a {
	case bot.ActionClaim, bot.ActionSendDraft:
		return buttonPrimary
	case bot.ActionResolve:
		return buttonSuccess
	case bot.ActionOpenURL:
		return buttonLink
	}
	return buttonSecondary
}

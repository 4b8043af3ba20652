package discord

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/mask"
)

// A mention in a server channel is answered in a thread started from it,
// whose id keys the conversation; starting the thread is a call to Discord
// that may take seconds of retries. So the mention is stored first, as an
// intake (bot.Intakes), and deleted once the engine has the message. A
// crash in between leaves the intake behind, and the next session replays
// it (replayIntakes): the thread is started again (Discord answers that it
// exists) or the mention answered in the channel, and the engine's
// deduplication drops a message it already had. Discord does not deliver
// the message again, and a fetch back reads only open conversations, so
// nothing else would find it.

const (
	// intakeAge is how old an intake must be to be replayed: a younger one
	// may be in the hands of the replica that received it.
	intakeAge = time.Minute
	// intakeReplays bounds the intakes replayed per session.
	intakeReplays = 200
)

// intakeRecord is what an intake keeps of a mention: what handling it
// needs, with its words masked as the engine masks a stored message.
type intakeRecord struct {
	ID          string                         `json:"id"`
	ChannelID   string                         `json:"channel_id"`
	GuildID     string                         `json:"guild_id"`
	Content     string                         `json:"content"`
	Author      *discordgo.User                `json:"author"`
	Mentions    []*discordgo.User              `json:"mentions,omitempty"`
	Attachments []*discordgo.MessageAttachment `json:"attachments,omitempty"`
	Reference   *discordgo.MessageReference    `json:"message_reference,omitempty"`
}

// intake stores m before the platform work for it. A store that fails is
// logged: the mention is still handled now, as it was before intakes.
func (a *Adapter) intake(ctx context.Context, m *discordgo.Message) {
	content, _ := mask.Text(m.Content)
	rec := intakeRecord{ID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, Content: content,
		Author: m.Author, Mentions: m.Mentions, Attachments: m.Attachments, Reference: m.MessageReference}
	payload, err := json.Marshal(rec)
	if err == nil {
		err = a.cfg.Engine.Intake(ctx, bot.Intake{Platform: bot.Discord, Key: m.ID, Payload: payload})
	}
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot store a mention before starting its thread", "channel", m.ChannelID, "message", m.ID, "err", err)
	}
}

// intakeDone deletes m's intake once the engine has the message (or gave
// up on it: it then logged why).
func (a *Adapter) intakeDone(ctx context.Context, m *discordgo.Message) {
	if err := a.cfg.Engine.IntakeDone(context.WithoutCancel(ctx), bot.Discord, m.ID); err != nil {
		a.log.WarnContext(ctx, "discord: cannot delete a handled mention's intake; it is replayed later, harmlessly", "message", m.ID, "err", err)
	}
}

// replayIntakes handles again the mentions a crash left between their
// intake and the engine, oldest first, on their channel's lane.
func (a *Adapter) replayIntakes(ctx context.Context) {
	its, err := a.cfg.Engine.PendingIntakes(ctx, bot.Discord, intakeAge, intakeReplays)
	if err != nil {
		a.log.ErrorContext(ctx, "discord: cannot list mentions left unhandled by a crash", "err", err)
		return
	}
	for _, it := range its {
		var rec intakeRecord
		if err := json.Unmarshal(it.Payload, &rec); err != nil || rec.ID == "" || rec.Author == nil {
			a.log.ErrorContext(ctx, "discord: an unreadable intake is dropped", "message", it.Key, "err", err)
			a.intakeDone(ctx, &discordgo.Message{ID: it.Key})
			continue
		}
		m := &discordgo.Message{ID: rec.ID, ChannelID: rec.ChannelID, GuildID: rec.GuildID, Content: rec.Content,
			Author: rec.Author, Mentions: rec.Mentions, Attachments: rec.Attachments, MessageReference: rec.Reference}
		a.log.InfoContext(ctx, "discord: answering a mention left unhandled by a crash", "channel", m.ChannelID, "message", m.ID)
		a.lanes.do(ctx, m.ChannelID, func(ctx context.Context) { a.startConversation(ctx, m) })
	}
}

package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
)

// onMessageUpdate hands a customer's edit to the engine, which notes it in
// the handoff thread when one is open. Discord also sends MESSAGE_UPDATE
// when it adds a link's embed; only an update with edited_timestamp is an
// edit. The edit runs in its channel's lane, after the message it edits.
func (a *Adapter) onMessageUpdate(_ *discordgo.Session, e *discordgo.MessageUpdate) {
	m := e.Message
	if m == nil || m.ID == "" || m.EditedTimestamp == nil || m.Author == nil || !a.fromPerson(m) {
		return
	}
	ed := bot.Edit{
		Platform:  bot.Discord,
		MessageID: m.ID,
		EditID:    m.EditedTimestamp.UTC().Format(time.RFC3339Nano),
		Text:      a.text(m),
	}
	ctx := a.runContext()
	a.lanes.do(ctx, m.ChannelID, func(ctx context.Context) { a.edited(ctx, ed, m.ChannelID) })
}

// onMessageDelete hands a deletion to the engine. Discord says only which
// message went; the engine knows whose it was, and ignores the rest.
func (a *Adapter) onMessageDelete(_ *discordgo.Session, e *discordgo.MessageDelete) {
	m := e.Message
	if m == nil || m.ID == "" {
		return
	}
	ed := bot.Edit{Platform: bot.Discord, MessageID: m.ID, Deleted: true}
	ctx := a.runContext()
	a.lanes.do(ctx, m.ChannelID, func(ctx context.Context) { a.edited(ctx, ed, m.ChannelID) })
}

func (a *Adapter) edited(ctx context.Context, ed bot.Edit, channel string) {
	if _, err := retryStore(ctx, a.retryBase, func() (bool, error) { return a.cfg.Engine.Edited(ctx, ed) }); err != nil {
		a.logUnhandled(ctx, "discord: cannot note a customer's edit", err, "channel", channel, "message", ed.MessageID)
	}
}

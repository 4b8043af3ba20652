package discord

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

// Fetching back messages after a new gateway session.
//
// Discord replays missed events when a session is resumed, but not when it
// has to start a new one: after a restart, a long outage, or an Invalid
// Session. Every READY is such a new session, the first one of the process
// included (the bot may have been down), so on every READY the adapter asks
// the engine and the handoff flow where each open conversation and handoff
// thread stands (the id of the newest message stored from it) and fetches
// the messages after that: GET /channels/{id}/messages?after=…, oldest
// first. The engine and the handoff flow drop what they stored before (the
// message id is the dedupe key), so fetching too much is harmless.
//
// The fetches run on the channels' lanes, queued by the READY handler
// before any later event, so a fetched-back message reaches the engine
// before anything newer from the same channel.

const (
	// backfillConcurrency bounds history fetches running at once; the
	// rest wait their turn (Discord allows some 50 requests a second).
	backfillConcurrency = 4
	// backfillPages bounds the pages of 100 messages fetched per channel.
	backfillPages = 10
	// backfillHorizon skips conversations idle for longer: the engine keeps
	// a direct message's conversation open until its next message, and
	// fetching every DM channel ever used on every reconnect does not
	// scale. A conversation idle this long has met the idle timeout.
	backfillHorizon = 7 * 24 * time.Hour
	// maxRateLimitWaits bounds the 429s one fetch waits out.
	maxRateLimitWaits = 5
	// discordEpoch is the first millisecond of 2015, where snowflakes
	// count from.
	discordEpoch = 1420070400000
)

// scheduleBackfill queues the fetching back of every open conversation and
// handoff thread on its lane. It runs in the READY handler, so its queries
// are made before later events are handled.
func (a *Adapter) scheduleBackfill(ctx context.Context) {
	a.replayIntakes(ctx)
	cursors, err := a.cfg.Engine.Cursors(ctx, bot.Discord)
	if err != nil {
		a.log.ErrorContext(ctx, "discord: cannot list open conversations; messages sent while disconnected are not fetched back", "err", err)
	}
	threads, err := a.cfg.Handoffs.Threads(ctx, bot.Discord)
	if err != nil {
		a.log.ErrorContext(ctx, "discord: cannot list open handoffs; agents' messages sent while disconnected are not fetched back", "err", err)
	}
	horizon := time.Now().Add(-backfillHorizon)
	for _, c := range cursors {
		if c.Key.Channel == "" || (!c.LastMessageAt.IsZero() && c.LastMessageAt.Before(horizon)) {
			continue
		}
		a.lanes.do(ctx, c.Key.Channel, func(ctx context.Context) { a.backfillConversation(ctx, c) })
	}
	for _, t := range threads {
		if t.Thread == "" {
			continue
		}
		if t.Channel == a.cfg.AgentChannel {
			a.rememberHandoffThread(t.Thread)
		}
		a.lanes.do(ctx, t.Thread, func(ctx context.Context) { a.backfillThread(ctx, t) })
	}
}

// backfillConversation feeds a conversation's missed messages to the
// engine, oldest first.
func (a *Adapter) backfillConversation(ctx context.Context, c bot.Cursor) {
	after := c.LastMessageID
	if after == "" {
		after = snowflakeAt(c.LastMessageAt.Add(-time.Minute))
	}
	msgs, err := a.history(ctx, c.Key.Channel, after)
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot fetch back a conversation's messages", "channel", c.Key.Channel, "err", err)
	}
	customer, inChannel := inChannelCustomer(c.Key.Workspace, c.Key.Thread)
	n := 0
	for _, m := range msgs {
		switch {
		case !a.fromPerson(m):
		case inChannel:
			// The channel is everyone's: only what the customer wrote to
			// the bot belongs to the conversation.
			if m.Author.ID == customer && a.addressesSelf(m) {
				a.inChannelMessage(ctx, m, c.Key, false)
				n++
			}
		default:
			a.customerMessage(ctx, m, c.Key, false)
			n++
		}
	}
	if n > 0 {
		a.log.InfoContext(ctx, "discord: fetched back customer messages", "channel", c.Key.Channel, "count", n)
	}
}

// backfillThread feeds a handoff thread's missed agent messages to the
// handoff flow, oldest first.
func (a *Adapter) backfillThread(ctx context.Context, t handoff.ThreadCursor) {
	after := t.LastMessageID
	if after == "" {
		after = t.Thread // the thread's messages all come after its start
	}
	msgs, err := a.history(ctx, t.Thread, after)
	if err != nil {
		a.log.WarnContext(ctx, "discord: cannot fetch back a handoff thread's messages", "thread", t.Thread, "err", err)
	}
	n := 0
	for _, m := range msgs {
		if a.fromPerson(m) {
			_, _ = a.agentMessage(ctx, m, nil, t.Channel, t.Thread)
			n++
		}
	}
	if n > 0 {
		a.log.InfoContext(ctx, "discord: fetched back agent messages", "thread", t.Thread, "count", n)
	}
}

// history returns a channel's messages after the message id after, oldest
// first, up to backfillPages pages. A channel that is gone or no longer
// visible has no history to fetch.
func (a *Adapter) history(ctx context.Context, channel, after string) ([]*discordgo.Message, error) {
	select {
	case a.backfill <- struct{}{}:
		defer func() { <-a.backfill }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var out []*discordgo.Message
	waits := 0
	for page := 0; page < backfillPages; {
		msgs, err := a.session.ChannelMessages(channel, 100, "", after, "", discordgo.WithContext(ctx))
		if d, ok := retryAfter(err); ok && waits < maxRateLimitWaits {
			waits++
			if !sleep(ctx, d) {
				return out, ctx.Err()
			}
			continue
		}
		if err != nil {
			if isPermanent(err) {
				return out, nil
			}
			return out, a.wrap(err, "fetch messages of channel %s", channel)
		}
		// Discord returns a page newest first.
		slices.SortFunc(msgs, func(x, y *discordgo.Message) int { return compareSnowflakes(x.ID, y.ID) })
		out = append(out, msgs...)
		if len(msgs) < 100 {
			break
		}
		after = msgs[len(msgs)-1].ID
		page++
	}
	return out, nil
}

// compareSnowflakes orders two ids as the numbers they are.
func compareSnowflakes(x, y string) int {
	if len(x) != len(y) {
		return len(x) - len(y)
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// snowflakeAt returns the smallest snowflake of time t, for fetching
// messages after a time rather than after a message.
func snowflakeAt(t time.Time) string {
	ms := t.UnixMilli() - discordEpoch
	if ms < 0 {
		ms = 0
	}
	return strconv.FormatUint(uint64(ms)<<22, 10)
}

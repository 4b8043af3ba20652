package slack

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/firstlinehq/firstline/bot"
	slackapi "github.com/slack-go/slack"
)

// No doubles after a crash.
//
// Every message the adapter posts for an outbox row carries message
// metadata naming the row: event_type firstline_outbox, event_payload
// {"id": "<outbox id>", "part": <n>} (a long text goes out in parts). When
// the dispatcher hands over a row marked MaybeSent (an earlier attempt's
// outcome was never recorded: the process died mid-send, or the request
// timed out), the adapter first reads the destination's recent history
// (conversations.history, or conversations.replies for a thread) with
// include_all_metadata, and posts only the parts that are not there yet.
//
// Metadata needs no scope of its own: posting it comes with chat:write,
// reading it back with the history scopes the adapter already has
// (im:history, channels:history, groups:history). metadata.message:read is
// only for subscribing to metadata events, which the adapter does not.

// metadataType is the event_type of the metadata on every post.
const metadataType = "firstline_outbox"

const (
	// lookupSkew reaches back before a row was queued: the platform's
	// clock and ours may disagree a little, and nothing posted for the row
	// can be older than the row.
	lookupSkew = 10 * time.Minute
	// lookupPage and lookupPages bound a lookup: 1,000 messages posted in
	// the destination since the row was queued is far more than one
	// crash's window holds.
	lookupPage  = 200
	lookupPages = 5
)

// outboxMetadata names the outbox row (and the part of it) a post is for.
func outboxMetadata(id int64, part int) slackapi.MsgOption {
	return slackapi.MsgOptionMetadata(slackapi.SlackMetadata{
		EventType:    metadataType,
		EventPayload: map[string]any{"id": strconv.FormatInt(id, 10), "part": part},
	})
}

// posted returns the ts of the parts of row m that an earlier attempt
// already posted in channel (under thread, when set), by part: messages
// with the row's metadata and the bot's own bot_id (from auth.test). A lookup
// Slack refuses for good (a scope missing, the channel gone) finds nothing:
// the message is then posted again rather than never.
func (a *Adapter) posted(ctx context.Context, m bot.Outgoing, channel, thread string) (map[int]string, error) {
	ctx, cancel := context.WithTimeout(ctx, directTimeout)
	defer cancel()
	oldest := ""
	if !m.CreatedAt.IsZero() {
		oldest = slackTS(m.CreatedAt.Add(-lookupSkew))
	}
	// Only the bot's own messages count: anyone who can post in the
	// destination (a customer with a user token, another app) can attach
	// the same metadata, and a look-alike must not suppress the reply.
	self, err := a.whoami(ctx)
	if err != nil {
		// Not knowing who the bot is, nothing can be trusted: try later
		// (a rate limit's wait and a revoked token's refusal carry over).
		return nil, a.sendError("look for an earlier attempt's message", err)
	}
	want := strconv.FormatInt(m.ID, 10)
	found := map[int]string{}
	cursor := ""
	for range lookupPages {
		var msgs []slackapi.Message
		var next string
		var err error
		if thread != "" {
			msgs, _, next, err = a.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: thread, Oldest: oldest, Limit: lookupPage, Cursor: cursor, IncludeAllMetadata: true})
		} else {
			var res *slackapi.GetConversationHistoryResponse
			res, err = a.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
				ChannelID: channel, Oldest: oldest, Limit: lookupPage, Cursor: cursor, IncludeAllMetadata: true})
			if res != nil {
				msgs, next = res.Messages, res.ResponseMetaData.NextCursor
			}
		}
		if err != nil {
			err = a.sendError("look for an earlier attempt's message", err)
			if isPermanent(err) {
				a.log.WarnContext(ctx, "slack: cannot look for an earlier attempt's message; posting it again", "outbox", m.ID, "err", err)
				return nil, nil
			}
			return nil, err
		}
		for _, msg := range msgs {
			if part, ok := outboxPart(msg, want, self.Bot); ok {
				found[part] = msg.Timestamp
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return found, nil
}

// outboxPart reports whether msg was posted by the bot whose bot id is
// botID for outbox row id, and which part of it. A message without that
// bot_id (a person's, another app's) never counts, whatever its metadata
// says; nor does anything when botID is unknown.
func outboxPart(msg slackapi.Message, id, botID string) (int, bool) {
	md := msg.Metadata
	if md.EventType != metadataType || botID == "" || msg.BotID != botID {
		return 0, false
	}
	if got, _ := md.EventPayload["id"].(string); got != id {
		return 0, false
	}
	switch p := md.EventPayload["part"].(type) {
	case float64:
		return int(p), true
	case string:
		n, err := strconv.Atoi(p)
		return n, err == nil
	case nil:
		return 0, true
	}
	return 0, false
}

// slackTS is a Slack message ts for time t.
func slackTS(t time.Time) string {
	if t.Unix() < 0 {
		return "0"
	}
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

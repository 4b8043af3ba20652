package slack

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Fetching back what Slack gave up on.
//
// Slack's redelivery is not a promise: the Events API retries a failed
// delivery three times (at once, after a minute, after five minutes) and
// then drops the event; Socket Mode redelivers an unacknowledged envelope
// on the next connection, within the same window. A bot down or
// disconnected for longer never hears of what customers wrote meanwhile.
// So once the adapter is ready, at start and in Socket Mode after every
// reconnect, it asks the engine where each open Slack conversation stands
// (the ts of the newest customer message stored from it, bot.Cursor) and
// reads what came after: conversations.history for a direct message,
// conversations.replies for a thread in a channel, oldest first. Each
// message goes the live path (handleMessage), with the id a live event of
// it has (TEAM:CHANNEL:TS): the bot's own messages, other apps' and system
// messages are skipped as they are live, and a message both delivered and
// fetched back, or fetched by two replicas, is stored once (the engine
// dedupes on the id), so fetching too much is harmless.
//
// The cursors are read when the adapter starts and when it loses its
// connection, not when it is ready again: a message delivered live just
// after a reconnect would otherwise move its conversation's cursor past
// the messages missed before it. Reading early only fetches more.
//
// Unlike Discord's backfill, the fetches do not run on the lanes of the
// live events (the Socket Mode serializer): a fetch queued there would hold
// up the acknowledgement of that channel's live events behind Slack calls.
// Instead rounds run one at a time, so no conversation is fetched by two
// rounds at once, and within a round catchUpConcurrency conversations at a
// time. A fetched-back message may therefore be stored after a newer one
// that arrived live meanwhile; it is answered all the same.
//
// What this does not reach: the first message of a conversation that did
// not exist yet (there is no cursor to follow; the customer writes again),
// and replies inside a direct message's threads (conversations.history
// lists only a channel's top level).

const (
	// catchUpConcurrency bounds the conversations fetched at once; Slack
	// allows conversations.history and conversations.replies some 50
	// calls a minute (Tier 3), and a rate-limited call waits.
	catchUpConcurrency = 4
	// catchUpPage and catchUpPages bound what one conversation's fetch
	// reads: 10 pages of 100 messages. A customer writes a few messages
	// while the bot is away, not a thousand; the bound keeps a flooded
	// channel from costing more than ten calls of the round's budget.
	catchUpPage  = 100
	catchUpPages = 10
	// catchUpHorizon skips conversations idle for longer: the engine keeps
	// a direct message's conversation open until its next message, and
	// reading every DM the bot ever had on every reconnect does not scale.
	// A conversation idle this long has met the idle timeout.
	catchUpHorizon = 7 * 24 * time.Hour
	// catchUpOverlap reaches back before a conversation's last message
	// when its cursor has no message id (the engine stored none from the
	// platform).
	catchUpOverlap = time.Minute
	// maxRateLimitWaits bounds the rate limits one fetch waits out.
	maxRateLimitWaits = 5
)

// catchUp is the adapter's fetching back.
type catchUp struct {
	// mu is held by the round running: one at a time.
	mu sync.Mutex
	// page and pages are catchUpPage and catchUpPages (tests make them
	// small).
	page, pages int
	// rounds counts the rounds done; stored the messages they fetched back
	// that the engine stored as new.
	rounds, stored atomic.Int64
}

func newCatchUp() *catchUp { return &catchUp{page: catchUpPage, pages: catchUpPages} }

// cursorSnapshot is where the open conversations stood at one moment,
// read in the background.
type cursorSnapshot struct {
	done    chan struct{}
	cursors []bot.Cursor
	err     error
}

var errStopping = errors.New("slack: the adapter is stopping")

// snapshotCursors starts reading the open conversations' cursors.
func (a *Adapter) snapshotCursors(ctx context.Context) *cursorSnapshot {
	s := &cursorSnapshot{done: make(chan struct{})}
	started := a.goBackground(func() {
		defer close(s.done)
		s.cursors, s.err = a.cursors(ctx)
	})
	if !started {
		s.err = errStopping
		close(s.done)
	}
	return s
}

func (a *Adapter) cursors(ctx context.Context) ([]bot.Cursor, error) {
	ctx, cancel := context.WithTimeout(ctx, directTimeout)
	defer cancel()
	return a.cfg.Engine.Cursors(ctx, bot.Slack)
}

// connectionChanged follows the Socket Mode connection: when it goes down,
// the cursors are read (unless a snapshot still waits for its round); when
// it is up again, the snapshot's round starts. It returns the snapshot
// still waiting, if any.
func (a *Adapter) connectionChanged(ctx context.Context, self identity, wasReady, ready bool, pending *cursorSnapshot) *cursorSnapshot {
	switch {
	case wasReady && !ready && pending == nil:
		return a.snapshotCursors(ctx)
	case !wasReady && ready && pending != nil:
		a.catchUp(ctx, self, pending)
		return nil
	}
	return pending
}

// catchUp runs a round in the background: it never holds up start-up or
// the events.
func (a *Adapter) catchUp(ctx context.Context, self identity, snap *cursorSnapshot) {
	a.goBackground(func() { a.catchUpRound(ctx, self, snap) })
}

// catchUpRound fetches back the messages of the conversations in snap, up
// to catchUpConcurrency at a time, after the round before it is done.
func (a *Adapter) catchUpRound(ctx context.Context, self identity, snap *cursorSnapshot) {
	a.catch.mu.Lock()
	defer a.catch.mu.Unlock()
	defer a.catch.rounds.Add(1)
	select {
	case <-snap.done:
	case <-ctx.Done():
		return
	}
	cursors, err := snap.cursors, snap.err
	if err != nil && ctx.Err() == nil && !errors.Is(err, errStopping) {
		// Later than it should be read, but better than not at all.
		cursors, err = a.cursors(ctx)
	}
	if err != nil {
		if ctx.Err() == nil {
			a.log.ErrorContext(ctx, "slack: cannot list open conversations; messages Slack did not deliver are not fetched back", "err", err)
		}
		return
	}
	due := dueCursors(cursors, a.cfg.Now(), a.cfg.AgentChannel)
	work := make(chan bot.Cursor)
	var stored atomic.Int64
	var wg sync.WaitGroup
	for range min(catchUpConcurrency, len(due)) {
		wg.Go(func() {
			for c := range work {
				stored.Add(int64(a.catchUpConversation(ctx, self, c)))
			}
		})
	}
feed:
	for _, c := range due {
		select {
		case work <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	a.catch.stored.Add(stored.Load())
	a.log.DebugContext(ctx, "slack: caught up on open conversations", "conversations", len(due), "fetched_back", stored.Load())
}

// dueCursors keeps the cursors worth fetching: Slack conversations outside
// the agent channel (its threads are the handoff flow's), active within
// catchUpHorizon.
func dueCursors(cursors []bot.Cursor, now time.Time, agentChannel string) []bot.Cursor {
	horizon := now.Add(-catchUpHorizon)
	var out []bot.Cursor
	for _, c := range cursors {
		switch {
		case c.Key.Platform != bot.Slack || c.Key.Channel == "":
		case agentChannel != "" && c.Key.Channel == agentChannel:
		case !c.LastMessageAt.IsZero() && c.LastMessageAt.Before(horizon):
		default:
			out = append(out, c)
		}
	}
	return out
}

// catchUpConversation hands a conversation's messages after its cursor to
// the live path, oldest first, and returns how many the engine stored as
// new. It stops at the first one it cannot store: the next round fetches
// it again.
func (a *Adapter) catchUpConversation(ctx context.Context, self identity, c bot.Cursor) int {
	oldest := cursorTS(c)
	if oldest == "" {
		return 0
	}
	msgs, more, err := a.missed(ctx, c, oldest)
	if err != nil && ctx.Err() == nil {
		a.log.WarnContext(ctx, "slack: cannot fetch back a conversation's messages", "channel", c.Key.Channel, "thread", c.Key.Thread, "err", err)
	}
	if more {
		a.log.WarnContext(ctx, "slack: more messages since the last stored than a catch-up reads; some are not fetched back",
			"channel", c.Key.Channel, "thread", c.Key.Thread, "read", len(msgs))
	}
	n := 0
	for _, msg := range msgs {
		if ctx.Err() != nil {
			break
		}
		if compareTS(msg.Timestamp, oldest) <= 0 {
			continue // the cursor's own message, or a thread's parent
		}
		m := message{
			team: cmp.Or(c.Key.Workspace, self.Team), channel: c.Key.Channel,
			user: msg.User, botID: msg.BotID, subtype: msg.SubType, text: msg.Text,
			ts: msg.Timestamp, threadTS: msg.ThreadTimestamp, files: msg.Files,
			onStored: func() { n++ },
		}
		if c.Key.Thread == "" || isDM(c.Key.Channel) {
			// Conversations without a thread are direct messages: in a
			// channel, the bot answers in a thread. A thread in a DM is
			// an assistant thread.
			m.channelType = slackevents.ChannelTypeIM
		}
		if c.Key.Thread != "" {
			m.threadTS = cmp.Or(m.threadTS, c.Key.Thread)
		}
		if !a.feed(ctx, self, m) {
			break
		}
	}
	if n > 0 {
		a.log.InfoContext(ctx, "slack: fetched back customer messages", "channel", c.Key.Channel, "thread", c.Key.Thread, "count", n)
	}
	return n
}

// feed hands one fetched-back message to the live path and runs what comes
// after (the sign of life, the turn), as an acknowledged event does. It
// reports false when the message could not be stored.
func (a *Adapter) feed(ctx context.Context, self identity, m message) bool {
	hctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	after, err := a.handleMessage(hctx, self, m)
	if err != nil {
		if ctx.Err() == nil {
			a.log.WarnContext(ctx, "slack: cannot store a fetched-back message; the next catch-up tries again", "channel", m.channel, "err", err)
		}
		return false
	}
	after()
	return true
}

// cursorTS is the ts after which a conversation's messages are fetched:
// that of its newest stored customer message, whose id is TEAM:CHANNEL:TS
// (message.id), else a little before its last activity; "" when there is
// neither.
func cursorTS(c bot.Cursor) string {
	if i := strings.LastIndexByte(c.LastMessageID, ':'); i >= 0 && validTS(c.LastMessageID[i+1:]) {
		return c.LastMessageID[i+1:]
	}
	if c.LastMessageAt.IsZero() {
		return ""
	}
	return slackTS(c.LastMessageAt.Add(-catchUpOverlap))
}

// validTS reports whether ts has the shape of a Slack message ts
// (seconds.microseconds).
func validTS(ts string) bool {
	sec, frac, ok := strings.Cut(ts, ".")
	return ok && sec != "" && frac != "" && digits(sec) && digits(frac)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// compareTS orders two message ts as the numbers they are. Slack's are
// seconds, a dot and six digits; shorter fractions are read as padded.
func compareTS(x, y string) int {
	xs, xf, _ := strings.Cut(x, ".")
	ys, yf, _ := strings.Cut(y, ".")
	xs, ys = strings.TrimLeft(xs, "0"), strings.TrimLeft(ys, "0")
	if c := cmp.Compare(len(xs), len(ys)); c != 0 {
		return c
	}
	if c := strings.Compare(xs, ys); c != 0 {
		return c
	}
	xf, yf = strings.TrimRight(xf, "0"), strings.TrimRight(yf, "0")
	return strings.Compare(xf, yf)
}

// missed returns the messages of c's conversation after oldest (exclusive),
// oldest first, up to catch.pages pages; more reports that the bound
// stopped it. A rate limit is waited out, up to maxRateLimitWaits times.
func (a *Adapter) missed(ctx context.Context, c bot.Cursor, oldest string) (msgs []slackapi.Message, more bool, err error) {
	method := "conversations.history"
	if c.Key.Thread != "" {
		method = "conversations.replies"
	}
	cursor := ""
	waits := 0
	for page := 0; page < a.catch.pages; {
		got, hasMore, next, err := a.fetchPage(ctx, c.Key, oldest, cursor)
		if err != nil {
			err = a.sendError(method, err)
			var se *outbox.SendError
			if errors.As(err, &se) && se.RetryAfter > 0 && waits < maxRateLimitWaits {
				waits++
				if !sleep(ctx, se.RetryAfter) {
					return sortByTS(msgs), false, ctx.Err()
				}
				continue
			}
			return sortByTS(msgs), false, err
		}
		msgs = append(msgs, got...)
		page++
		if !hasMore || next == "" {
			return sortByTS(msgs), false, nil
		}
		cursor = next
	}
	return sortByTS(msgs), true, nil
}

// fetchPage reads one page: of the channel's history for a conversation
// without a thread, of the thread's replies for one with a thread.
func (a *Adapter) fetchPage(ctx context.Context, key bot.ConversationKey, oldest, cursor string) ([]slackapi.Message, bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, directTimeout)
	defer cancel()
	if key.Thread != "" {
		return a.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
			ChannelID: key.Channel, Timestamp: key.Thread, Oldest: oldest, Limit: a.catch.page, Cursor: cursor})
	}
	res, err := a.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
		ChannelID: key.Channel, Oldest: oldest, Limit: a.catch.page, Cursor: cursor})
	if err != nil {
		return nil, false, "", err
	}
	return res.Messages, res.HasMore, res.ResponseMetaData.NextCursor, nil
}

// sortByTS orders messages oldest first (history pages come newest first)
// and drops repeats (a page boundary that moved while paging).
func sortByTS(msgs []slackapi.Message) []slackapi.Message {
	slices.SortStableFunc(msgs, func(x, y slackapi.Message) int { return compareTS(x.Timestamp, y.Timestamp) })
	return slices.CompactFunc(msgs, func(x, y slackapi.Message) bool { return x.Timestamp == y.Timestamp })
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// isDM reports whether a channel id is a direct message's (D…).
func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }

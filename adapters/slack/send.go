package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	slackapi "github.com/slack-go/slack"
)

// Send implements outbox.Sender: it posts one outgoing message and returns
// its ts. Long texts go out as several messages (the buttons on the last);
// the ts returned is the first's. What was delivered may end an assistant
// thread's status (assistant.go).
func (a *Adapter) Send(ctx context.Context, m bot.Outgoing) (string, error) {
	ts, err := a.send(ctx, m)
	if err == nil {
		a.assistantSent(ctx, m)
	}
	return ts, err
}

func (a *Adapter) send(ctx context.Context, m bot.Outgoing) (string, error) {
	switch m.Kind {
	case bot.KindReply:
		return a.post(ctx, m, "post reply", m.Thread, m.Text)
	case bot.KindRelay:
		return a.post(ctx, m, "post agent relay", m.Thread, relayText(m.Author, m.Text))
	case bot.KindThread:
		// The thread hangs under the announcement; when that died, the
		// post goes to the channel rather than nowhere.
		return a.post(ctx, m, "post in handoff thread", cmp.Or(m.ParentRef, m.Thread), m.Text)
	case bot.KindAnnounce:
		return a.postCard(ctx, m)
	case bot.KindUpdate:
		return a.updateCard(ctx, m)
	}
	return "", outbox.Permanent(fmt.Errorf("slack: unknown message kind %q", m.Kind))
}

// relayText is how an agent's words reach the customer.
func relayText(author, text string) string {
	return cmp.Or(author, "Support") + " (support): " + text
}

// post sends a message that may be long: it is split into parts that each
// fit a section block, posted in order, the buttons on the last. A rate
// limit between parts keeps the parts already posted (see partials), so the
// retry continues where this attempt stopped.
func (a *Adapter) post(ctx context.Context, m bot.Outgoing, what, thread, text string) (string, error) {
	prefix := ""
	if m.Mention {
		prefix = a.mention + " "
	}
	body := toMrkdwn(text)
	parts := split(body, sectionLimit-utf16Len(prefix))
	parts[0] = prefix + parts[0]
	if strings.TrimSpace(body) == "" && len(m.Buttons) == 0 {
		return "", outbox.Permanent(fmt.Errorf("slack: %s: nothing to post", what))
	}
	p := a.parts.get(m.ID)
	if m.MaybeSent && m.ID > 0 {
		done, err := a.posted(ctx, m, m.Channel, thread)
		if err != nil {
			return "", err
		}
		p = resume(p, done)
		if p.next > 0 {
			a.log.InfoContext(ctx, "slack: an earlier attempt posted this message; not posting it again",
				"outbox", m.ID, "parts_found", p.next, "parts", len(parts))
		}
		if p.next >= len(parts) {
			a.parts.drop(m.ID)
			return p.first, nil
		}
	}
	reserve := 0
	if m.Kind == bot.KindThread {
		reserve = cardReserve // the agent channel's chatter leaves room for new cards
	}
	for i := p.next; i < len(parts); i++ {
		if wait := a.shaper.take(m.Channel, reserve); wait > 0 {
			a.parts.keep(m.ID, p)
			return "", outbox.RetryAfter(fmt.Errorf("slack: %s: channel %s is over its rate", what, m.Channel), wait)
		}
		var buttons []bot.Button
		if i == len(parts)-1 {
			buttons = m.Buttons
		}
		opts := append(a.msgOptions(parts[i], buttons), slackapi.MsgOptionDisableLinkUnfurl())
		if m.ID > 0 {
			opts = append(opts, outboxMetadata(m.ID, i))
		}
		if thread != "" {
			opts = append(opts, slackapi.MsgOptionTS(thread))
		}
		_, ts, err := a.api.PostMessageContext(ctx, m.Channel, opts...)
		if err != nil {
			err = a.sendError(what, err)
			if !isPermanent(err) {
				a.parts.keep(m.ID, p)
			} else {
				a.parts.drop(m.ID)
			}
			return "", err
		}
		if i == 0 {
			p.first = ts
		}
		p.next = i + 1
	}
	a.parts.drop(m.ID)
	return p.first, nil
}

// postCard announces a handoff: one message whose ts anchors the handoff's
// thread, with the agent mention and the Claim / Resolve buttons.
func (a *Adapter) postCard(ctx context.Context, m bot.Outgoing) (string, error) {
	if m.MaybeSent && m.ID > 0 {
		done, err := a.posted(ctx, m, m.Channel, "")
		if err != nil {
			return "", err
		}
		if ts := done[0]; ts != "" {
			a.log.InfoContext(ctx, "slack: an earlier attempt posted this handoff card; not posting it again", "outbox", m.ID)
			return ts, nil
		}
	}
	if wait := a.shaper.take(m.Channel, 0); wait > 0 {
		return "", outbox.RetryAfter(fmt.Errorf("slack: post handoff card: channel %s is over its rate", m.Channel), wait)
	}
	opts := append(a.msgOptions(a.cardText(m), m.Buttons), slackapi.MsgOptionDisableLinkUnfurl())
	if m.ID > 0 {
		opts = append(opts, outboxMetadata(m.ID, 0))
	}
	_, ts, err := a.api.PostMessageContext(ctx, m.Channel, opts...)
	if err != nil {
		return "", a.sendError("post handoff card", err)
	}
	return ts, nil
}

// updateCard replaces a card with its new state (who owns the handoff, the
// buttons that still make sense). chat.update is not subject to the
// per-channel posting rate.
func (a *Adapter) updateCard(ctx context.Context, m bot.Outgoing) (string, error) {
	if m.ParentRef == "" {
		return "", outbox.Permanent(errors.New("slack: update handoff card: the card was never posted"))
	}
	_, _, _, err := a.api.UpdateMessageContext(ctx, m.Channel, m.ParentRef, a.msgOptions(a.cardText(m), m.Buttons)...)
	if err != nil {
		return "", a.sendError("update handoff card", err)
	}
	return m.ParentRef, nil
}

// cardText is a card's text: one section, since a card is updated in place
// and cannot be split.
func (a *Adapter) cardText(m bot.Outgoing) string {
	prefix := ""
	if m.Mention {
		prefix = a.mention + " "
	}
	return prefix + truncate(toMrkdwn(m.Text), sectionLimit-utf16Len(prefix))
}

// Slack's limits on buttons: label length, and elements in an actions block.
const (
	maxLabel   = 75
	maxButtons = 25
)

// msgOptions builds a message from mrkdwn text (already escaped) and
// buttons. Slack's own parsing is off (parse=none, link_names=false,
// verbatim text objects): the only mentions and links are those in text.
func (a *Adapter) msgOptions(text string, buttons []bot.Button) []slackapi.MsgOption {
	var blocks []slackapi.Block
	body, sources := splitSources(text)
	if strings.TrimSpace(body) != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(
			slackapi.NewTextBlockObject(slackapi.MarkdownType, body, false, true), nil, nil))
	}
	if len(sources) > 0 {
		elems := make([]slackapi.MixedElement, len(sources))
		for i, src := range sources {
			elems[i] = slackapi.NewTextBlockObject(slackapi.MarkdownType, "📄 "+src, false, true)
		}
		blocks = append(blocks, slackapi.NewContextBlock("", elems...))
	}
	fallback := text
	// The feedback buttons are Slack's own feedback_buttons element, in a
	// context_actions block under the message; the others are buttons.
	var feedback []bot.Button
	buttons = slices.DeleteFunc(slices.Clone(buttons), func(b bot.Button) bool {
		if b.Action == bot.ActionFeedback {
			feedback = append(feedback, b)
			return true
		}
		return false
	})
	if len(buttons) > 0 {
		seen := map[bot.Action]int{}
		for _, b := range buttons {
			seen[b.Action]++
		}
		n := map[bot.Action]int{}
		elems := make([]slackapi.BlockElement, 0, len(buttons))
		for _, b := range buttons[:min(len(buttons), maxButtons)] {
			suffix := 0
			if seen[b.Action] > 1 {
				n[b.Action]++
				suffix = n[b.Action]
			}
			label := slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(b.Label, maxLabel), false, false)
			btn := slackapi.NewButtonBlockElement(actionID(b.Action, suffix), b.Value, label)
			switch b.Action {
			case bot.ActionClaim:
				btn.Style = slackapi.StylePrimary
			case bot.ActionOpenURL:
				// A link button: Slack opens the URL, and still tells the
				// interactions endpoint, which acknowledges and ignores it.
				btn.URL, btn.Value, btn.Style = b.Value, "", slackapi.StylePrimary
			}
			elems = append(elems, btn)
		}
		blocks = append(blocks, slackapi.NewActionBlock("", elems...))
		if fallback == "" {
			labels := make([]string, len(buttons))
			for i, b := range buttons {
				labels[i] = escape(b.Label)
			}
			fallback = strings.Join(labels, " · ")
		}
	}
	if len(feedback) == 2 {
		up, down := feedback[0], feedback[1]
		pos := slackapi.NewFeedbackButton(slackapi.NewTextBlockObject(slackapi.PlainTextType, up.Label, true, false), up.Value).
			WithAccessibilityLabel("This answer helped")
		neg := slackapi.NewFeedbackButton(slackapi.NewTextBlockObject(slackapi.PlainTextType, down.Label, true, false), down.Value).
			WithAccessibilityLabel("This answer did not help")
		blocks = append(blocks, slackapi.NewContextActionsBlock("", slackapi.NewFeedbackButtonsBlockElement(actionID(bot.ActionFeedback, 0), pos, neg)))
	}
	return []slackapi.MsgOption{
		slackapi.MsgOptionText(fallback, false),
		slackapi.MsgOptionBlocks(blocks...),
		slackapi.MsgOptionParse(false),
		slackapi.MsgOptionLinkNames(false),
	}
}

// permanentErrors are Slack errors that retrying the same message cannot
// fix: the channel is gone or closed to the bot, the message is malformed,
// or the token is no good.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "invalid_blocks": true,
	"invalid_blocks_format": true, "msg_too_long": true, "no_text": true, "too_many_attachments": true,
	"cant_update_message": true, "message_not_found": true, "edit_window_closed": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "missing_scope": true, "no_permission": true, "not_allowed_token_type": true,
	"restricted_action": true, "restricted_action_read_only_channel": true,
	"restricted_action_thread_only_channel": true, "restricted_action_non_threadable_channel": true,
	"cannot_reply_to_message": true, "team_access_not_granted": true, "ekm_access_denied": true,
	"invalid_arguments": true, "user_not_in_channel": true, "channel_is_archived": true,
	"as_user_not_supported": true, "duplicate_channel_not_found": true,
}

// sendError classifies a Slack failure for the outbox dispatcher: a rate
// limit waits without counting an attempt, a permanent failure is not
// retried, anything else (network, 5xx) is retried with back-off.
func (a *Adapter) sendError(what string, err error) error {
	wrapped := a.wrap(what, err)
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return outbox.RetryAfter(wrapped, max(rl.RetryAfter, time.Second))
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return outbox.RetryAfter(wrapped, 5*time.Second) // no Retry-After given
		case sc.Code >= 500, sc.Code == http.StatusRequestTimeout:
			return wrapped
		case sc.Code >= 400:
			return outbox.Permanent(wrapped)
		}
		return wrapped
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		switch {
		case se.Err == "ratelimited" || se.Err == "rate_limited":
			return outbox.RetryAfter(wrapped, time.Second)
		case permanentErrors[se.Err]:
			return outbox.Permanent(wrapped)
		}
	}
	return wrapped
}

func isPermanent(err error) bool {
	var se *outbox.SendError
	return errors.As(err, &se) && se.Permanent
}

// isSlackError reports whether err is Slack's API error code.
func isSlackError(err error, code string) bool {
	var se slackapi.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

// partials remembers how far a long message got when a rate limit or an
// error stopped it between parts, by outbox row, so that the retry does not
// post the first parts again. It lives in memory; after a restart, the row
// comes back MaybeSent and the parts already posted are found by their
// metadata (see posted).
type partials struct {
	mu sync.Mutex
	m  map[int64]partial
}

type partial struct {
	next  int    // the first part not yet posted
	first string // the ts of the first part
	at    time.Time
}

// maxPartials bounds what partials keeps; rows that never come back (dead
// after repeated failures) are forgotten once it is reached.
const maxPartials = 1024

// resume moves p past the parts an earlier attempt posted (found, by
// part): parts go out in order, so those found from p.next on are done.
func resume(p partial, found map[int]string) partial {
	for found[p.next] != "" {
		if p.next == 0 {
			p.first = found[0]
		}
		p.next++
	}
	return p
}

func newPartials() *partials { return &partials{m: map[int64]partial{}} }

func (p *partials) get(id int64) partial {
	if id == 0 {
		return partial{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}

func (p *partials) keep(id int64, st partial) {
	if id == 0 || st.next == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= maxPartials {
		cutoff := time.Now().Add(-time.Hour)
		for k, v := range p.m {
			if v.at.Before(cutoff) {
				delete(p.m, k)
			}
		}
	}
	st.at = time.Now()
	p.m[id] = st
}

func (p *partials) drop(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
}

// sourcePrefix starts the line of an answer that cites a help-center
// article ("Source: TITLE URL", as the system prompt asks and the rules
// model writes it).
const sourcePrefix = "Source: "

// splitSources takes the trailing source lines off an answer: Slack shows
// them as a context block under the text. At most three are taken, and
// only at the end, so a customer's words quoted with "Source:" inside a
// message stay where they are.
func splitSources(text string) (body string, sources []string) {
	lines := strings.Split(strings.TrimRight(text, "\n "), "\n")
	for len(lines) > 1 && len(sources) < 3 {
		last := strings.TrimSpace(lines[len(lines)-1])
		if !strings.HasPrefix(last, sourcePrefix) {
			break
		}
		sources = append([]string{strings.TrimPrefix(last, sourcePrefix)}, sources...)
		lines = lines[:len(lines)-1]
	}
	if len(sources) == 0 {
		return text, nil
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n "), sources
}

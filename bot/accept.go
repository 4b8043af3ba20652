package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot/mask"
	"github.com/firstlinehq/firstline/prompts"
)

// This file is the first hop of a customer's message through the engine:
// Accept stores it, and settles in the same transaction what needs no
// model. What needs the model is Process (turn.go).

// Accepted is the outcome of storing an incoming message.
type Accepted struct {
	ConversationID int64
	MessageID      int64
	// Duplicate is true when the platform delivered this message before:
	// nothing was stored and nothing more is to be done.
	Duplicate bool
	// Pending is true when the message awaits a model turn (Process).
	Pending bool
}

// arrival is an incoming message as Accept reads it before storing it.
type arrival struct {
	in Incoming
	at time.Time
	// text is the message masked, trimmed and bounded; masked counts the
	// secrets masked, cut says it was cut.
	text   string
	masked int
	cut    bool
	// attachments are those kept, dropped how many were not.
	attachments []Attachment
	dropped     int
	set         *prompts.Set
	// asksHuman is an explicit request for a person (escalate.go), lang
	// the customer's language as their words show it ("" when unsure).
	asksHuman bool
	lang      string
	// disconnect is a request to unlink the chat from the account.
	disconnect bool
	// over is the rate limits' verdict, charged once the message is known
	// to be new (a platform's redelivery is not another message), and once
	// only, however often the transaction runs.
	over    verdict
	charged bool
	// claimed is the greeting, claimed for the courier.
	claimed []Outgoing
}

// Accept stores an incoming message in one transaction, and in the same
// transaction settles what needs no model: a duplicate is dropped, a message
// to a conversation with an agent goes to the handoff thread, a request for a
// person opens a handoff, a typed rating is recorded. Once Accept returns
// nil, the message is safe: the platform may be acknowledged. When the
// result is Pending, Process runs the model turn.
func (e *Engine) Accept(ctx context.Context, in Incoming) (Accepted, error) {
	a, err := e.arrive(in)
	if err != nil {
		return Accepted{}, err
	}
	var acc Accepted
	var queued bool
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		acc, queued, err = e.accept(ctx, tx, a)
		return err
	})
	if errors.Is(err, errDuplicate) {
		e.metrics.duplicate(in.Key.Platform)
		e.log.DebugContext(ctx, "duplicate message ignored", "platform", in.Key.Platform, "conversation", acc.ConversationID)
		return Accepted{ConversationID: acc.ConversationID, Duplicate: true}, nil
	}
	if err != nil {
		return Accepted{}, fmt.Errorf("bot: accept message: %w", err)
	}
	e.metrics.received(in.Key.Platform)
	if a.masked > 0 {
		e.metrics.maskedSecrets(a.masked)
		e.log.InfoContext(ctx, "masked secrets in a customer message", "conversation", acc.ConversationID, "count", a.masked)
	}
	if len(a.claimed) > 0 {
		// The send outlives the request that brought the message.
		e.cfg.Courier.Deliver(context.WithoutCancel(ctx), a.claimed)
	}
	if queued {
		e.cfg.Notify()
	}
	return acc, nil
}

// arrive checks and reads an incoming message: what it says once secrets
// are masked, whether it asks for a person, and in which language.
func (e *Engine) arrive(in Incoming) (*arrival, error) {
	if err := validIncoming(in); err != nil {
		return nil, err
	}
	a := &arrival{in: in, at: e.now(), set: e.cfg.Prompts()}
	a.text, a.masked, a.cut = cleanText(in.Text)
	a.attachments, a.dropped = capAttachments(in.Attachments, e.cfg.Limits.MaxAttachments)
	var err error
	if a.asksHuman, a.lang, err = e.asksForPerson(a.text); err != nil {
		return nil, err
	}
	if !a.asksHuman {
		if a.disconnect, err = e.asksToDisconnect(a.set, a.text); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// accept is Accept's transaction: it finds or opens the conversation,
// stores the message, and routes it. It reports whether it queued messages.
// On a duplicate it returns errDuplicate, which rolls back the transaction,
// with the conversation's id.
func (e *Engine) accept(ctx context.Context, tx Tx, a *arrival) (Accepted, bool, error) {
	conv, created, err := e.conversation(ctx, tx, a.in, a.at)
	if err != nil {
		return Accepted{}, false, err
	}
	acc := Accepted{ConversationID: conv.ID}
	if a.lang != "" {
		conv.Lang = a.lang
	}
	a.claimed = nil // the transaction may run again
	if created {
		// The greeting comes first, so the model sees the conversation
		// in the order the customer does.
		row, err := e.greet(ctx, tx, conv, a.set)
		if err != nil {
			return acc, false, err
		}
		if a.claimed, err = e.claimForCourier(ctx, tx, row); err != nil {
			return acc, false, err
		}
	}
	plan, err := e.planVerify(ctx, tx, conv, a.text, a.asksHuman, a.at)
	if err != nil {
		return acc, false, err
	}
	msg, err := e.storeMessage(ctx, tx, conv, a, plan)
	if err != nil {
		return acc, false, err // errDuplicate rolls back: a redelivery must not open a conversation or greet
	}
	acc.MessageID = msg.ID
	if !a.asksHuman && !a.charged {
		a.over, a.charged = e.guard.check(a.in, a.at), true
	}
	conv.LastMessageAt = a.at
	told, err := e.inputNotices(ctx, tx, conv, a.cut, a.dropped, a.set)
	if err != nil {
		return acc, false, err
	}
	if plan.kind == verifyCancel {
		if _, err := e.applyVerify(ctx, tx, &conv, plan, a.set, a.at); err != nil {
			return acc, false, err
		}
	}
	pending, routed, err := e.route(ctx, tx, &conv, a, msg, plan)
	if err != nil {
		return acc, false, err
	}
	acc.Pending = pending
	if !pending {
		if _, err := tx.MarkProcessed(ctx, msg.ID); err != nil {
			return acc, false, fmt.Errorf("mark processed: %w", err)
		}
	} else if err := e.leaseWithMessage(ctx, tx, conv.ID, a.at); err != nil {
		return acc, false, err
	}
	return acc, (created && len(a.claimed) == 0) || told || routed, tx.UpdateConversation(ctx, conv)
}

// storeMessage stores the customer's message, deduplicated on the
// platform's message id: errDuplicate when it was stored before.
func (e *Engine) storeMessage(ctx context.Context, tx Tx, conv Conversation, a *arrival, plan verifyPlan) (Message, error) {
	msg := Message{
		ConversationID: conv.ID,
		Role:           RoleCustomer,
		Author:         a.in.User,
		AuthorName:     a.in.UserName,
		Text:           plan.stored(a.text),
		DedupeKey:      string(a.in.Key.Platform) + ":" + a.in.MessageID,
		CreatedAt:      a.at,
	}
	inserted, err := tx.AddMessage(ctx, &msg)
	if err != nil {
		return Message{}, fmt.Errorf("store message: %w", err)
	}
	if !inserted {
		return Message{}, errDuplicate
	}
	return msg, nil
}

// route settles a stored message: to the handoff thread while a person is
// involved, as a rating, as a request for a person, as a request to
// disconnect the account, as a step of identity verification, as over the rate limit (stored, not answered), or for a
// model turn. It reports whether the message awaits a turn (pending) and
// whether it queued messages.
func (e *Engine) route(ctx context.Context, tx Tx, conv *Conversation, a *arrival, msg Message, plan verifyPlan) (pending, queued bool, err error) {
	// Only the conversation's customer rates their handoff: in a channel
	// thread others may write too, and their digit is an ordinary message
	// that leaves the question open.
	pendingRating := conv.RatingHandoffID
	if a.in.User == conv.User {
		conv.RatingHandoffID = 0
	} else {
		pendingRating = 0
	}
	switch {
	case conv.State == StateWaiting || conv.State == StateAgent:
		if err := e.cfg.Escalator.CustomerMessage(ctx, tx, conv, msg, a.attachments); err != nil {
			return false, false, fmt.Errorf("relay to handoff: %w", err)
		}
		// In shadow mode the bot still drafts an answer for the agents,
		// within the customer's rate limit like any model turn.
		return e.cfg.Shadow && !a.over.limited, true, nil
	case pendingRating != 0 && isRating(a.text):
		n, _ := strconv.Atoi(strings.TrimSpace(a.text))
		return false, true, e.rate(ctx, tx, conv, pendingRating, n, a.set)
	case a.asksHuman:
		e.metrics.humanRequest(a.in.Key.Platform)
		req := HandoffRequest{Trigger: TriggerPhrase, Reason: "The customer asked for a person."}
		if err := e.cfg.Escalator.Open(ctx, tx, conv, req); err != nil {
			return false, false, fmt.Errorf("open handoff: %w", err)
		}
		return false, true, nil
	case a.disconnect && a.in.User == conv.User:
		return false, true, e.disconnect(ctx, tx, conv, a.set)
	case plan.handles():
		pending, err := e.applyVerify(ctx, tx, conv, plan, a.set, a.at)
		return pending, !pending, err
	case a.over.limited:
		e.log.InfoContext(ctx, "message over the rate limit: stored, not answered", "conversation", conv.ID, "platform", a.in.Key.Platform)
		if !a.over.tell {
			return false, false, nil
		}
		return false, true, e.notice(ctx, tx, *conv, "rate_limited", nil, a.set)
	default:
		return true, false, nil
	}
}

// conversation returns the open conversation at in.Key, closing one that has
// been idle too long (unless a person is involved) and creating a new one.
func (e *Engine) conversation(ctx context.Context, tx Tx, in Incoming, now time.Time) (Conversation, bool, error) {
	conv, err := tx.ActiveConversation(ctx, in.Key)
	switch {
	case err == nil:
		idle := now.Sub(conv.LastMessageAt) > e.cfg.IdleTimeout
		if !idle || conv.State != StateBot {
			if err := e.linkCustomer(ctx, tx, &conv); err != nil {
				return Conversation{}, false, err
			}
			return conv, false, nil
		}
		conv.ClosedAt = now
		if err := tx.UpdateConversation(ctx, conv); err != nil {
			return Conversation{}, false, fmt.Errorf("close idle conversation: %w", err)
		}
	case !errors.Is(err, ErrNotFound):
		return Conversation{}, false, fmt.Errorf("find conversation: %w", err)
	}
	conv = Conversation{
		Key:           in.Key,
		State:         StateBot,
		Private:       in.Private,
		User:          in.User,
		UserName:      in.UserName,
		OpenedAt:      now,
		LastMessageAt: now,
	}
	if err := e.linkCustomer(ctx, tx, &conv); err != nil {
		return Conversation{}, false, err
	}
	if err := tx.CreateConversation(ctx, &conv); err != nil {
		return Conversation{}, false, fmt.Errorf("create conversation: %w", err)
	}
	e.metrics.conversationOpened(in.Key.Platform)
	return conv, true, nil
}

// linkCustomer refreshes the customer linked to the conversation's user: an
// admin may link or unlink an identity while a conversation is open.
func (e *Engine) linkCustomer(ctx context.Context, tx Tx, conv *Conversation) error {
	id, err := tx.CustomerFor(ctx, conv.Identity())
	switch {
	case err == nil:
		conv.CustomerID = id
	case errors.Is(err, ErrNotFound):
		conv.CustomerID = ""
	default:
		return fmt.Errorf("look up linked customer: %w", err)
	}
	return nil
}

// greet queues the greeting of a new conversation.
func (e *Engine) greet(ctx context.Context, tx Tx, conv Conversation, set *prompts.Set) (Outgoing, error) {
	greeting, err := set.Message("greeting", conv.Lang, nil)
	if err != nil {
		return Outgoing{}, err
	}
	return e.queueReply(ctx, tx, conv, greeting, set, false, false)
}

// inputNotices tells the customer, after their message is stored, what of
// it was not taken: text over MaxTextLen, attachments over the limit.
func (e *Engine) inputNotices(ctx context.Context, tx Tx, conv Conversation, cut bool, dropped int, set *prompts.Set) (bool, error) {
	told := false
	if cut {
		if err := e.notice(ctx, tx, conv, "message_truncated", map[string]any{"KB": MaxTextLen >> 10}, set); err != nil {
			return false, err
		}
		told = true
	}
	if dropped > 0 {
		max := e.cfg.Limits.MaxAttachments
		if max <= 0 {
			max = DefaultMaxAttachments
		}
		if err := e.notice(ctx, tx, conv, "attachments_dropped", map[string]any{"Dropped": dropped, "Max": max}, set); err != nil {
			return false, err
		}
		told = true
	}
	return told, nil
}

// notice sends canned message name to conv's customer and stores it as a
// system message: the customer reads it, but it is about the product, not
// part of the dialogue, so the model never sees it (a notice after the
// customer's message would read to the model as if it had answered).
func (e *Engine) notice(ctx context.Context, tx Tx, conv Conversation, name string, data map[string]any, set *prompts.Set) error {
	text, err := set.Message(name, conv.Lang, data)
	if err != nil {
		return err
	}
	now := e.now()
	msg := Message{ConversationID: conv.ID, Role: RoleSystem, Text: text, PromptVersion: set.Version, Processed: true, CreatedAt: now}
	if _, err := tx.AddMessage(ctx, &msg); err != nil {
		return fmt.Errorf("store notice: %w", err)
	}
	out := ToCustomer(conv, KindReply, "", text, nil)
	out.CreatedAt = now
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("queue notice: %w", err)
	}
	return nil
}

// rate records a typed or pressed rating and thanks the customer.
func (e *Engine) rate(ctx context.Context, tx Tx, conv *Conversation, handoffID int64, n int, set *prompts.Set) error {
	if err := tx.RateHandoff(ctx, handoffID, n); err != nil {
		return fmt.Errorf("rate handoff: %w", err)
	}
	e.metrics.rating(n)
	text, err := set.Message("rating_thanks", conv.Lang, map[string]any{"Rating": n})
	if err != nil {
		return err
	}
	return e.reply(ctx, tx, *conv, text, set, false)
}

// errDuplicate rolls back the transaction of a redelivered message.
var errDuplicate = errors.New("duplicate message")

func validIncoming(in Incoming) error {
	switch {
	case !in.Key.Platform.Valid():
		return fmt.Errorf("bot: incoming message: unknown platform %q", in.Key.Platform)
	case in.Key.Channel == "":
		return errors.New("bot: incoming message: no channel")
	case in.User == "":
		return errors.New("bot: incoming message: no user")
	case in.MessageID == "":
		return errors.New("bot: incoming message: no message id")
	case !utf8.ValidString(in.Text):
		return errors.New("bot: incoming message: text is not UTF-8")
	}
	return nil
}

func isRating(text string) bool {
	t := strings.TrimSpace(text)
	return len(t) == 1 && t[0] >= '1' && t[0] <= '5'
}

// MaxTextLen bounds the stored length of a customer message, in bytes. Longer
// messages are cut at a rune boundary: no platform sends more, and nothing
// downstream (model, agents) benefits from megabytes of text.
const MaxTextLen = 16 << 10

// Bounds on what one incoming message may carry. Platforms send less than
// this; anything more is hostile or broken, and is cut early, before it
// costs masking, storage or model tokens.
const (
	// maxRawText is how much of a message's text is read at all: masking
	// runs on it, so it must exceed MaxTextLen by enough that a card
	// number straddling the final cut is masked before it is cut.
	maxRawText = 4 * MaxTextLen
	// maxAttachmentName and maxAttachmentURL bound one attachment's fields.
	maxAttachmentName = 200
	maxAttachmentURL  = 2048
)

// cleanText masks secrets in a customer's text, trims it and cuts it to
// MaxTextLen. It reports how many secrets were masked and whether the text
// was cut, so the customer can be told.
func cleanText(raw string) (text string, masked int, cut bool) {
	if len(raw) > maxRawText {
		raw, cut = truncate(raw, maxRawText), true
	}
	text, masked = mask.Text(raw)
	text = strings.TrimSpace(text)
	if len(text) > MaxTextLen {
		text, cut = truncate(text, MaxTextLen), true
	}
	return text, masked, cut
}

// capAttachments keeps the first max attachments with a web link, each with
// bounded fields, and reports how many were dropped. Agents receive
// attachments as links, so a link that is not http(s) is of no use to them
// and may be a trick (javascript:, data:).
func capAttachments(as []Attachment, max int) ([]Attachment, int) {
	if max <= 0 {
		max = DefaultMaxAttachments
	}
	out := make([]Attachment, 0, min(len(as), max))
	dropped := 0
	for _, a := range as {
		u, err := url.Parse(a.URL)
		if len(out) == max || len(a.URL) > maxAttachmentURL || err != nil ||
			(u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			dropped++
			continue
		}
		a.Name = truncate(strings.TrimSpace(a.Name), maxAttachmentName)
		out = append(out, a)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, dropped
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

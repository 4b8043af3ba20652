// Package handoff runs escalation to human agents: it opens a handoff
// (stored before it is announced), announces it in the agent channel, lets
// exactly one agent claim it, relays messages both ways, and resolves it with
// a rating request. It builds on bot's types and implements bot.Escalator;
// like bot, it talks to platforms only through the outbox.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// Config wires a Service.
type Config struct {
	Store   bot.Store
	Prompts func() *prompts.Set
	// AgentPlatform, AgentWorkspace and AgentChannel say where handoffs are
	// announced and agents work.
	AgentPlatform  bot.Platform
	AgentWorkspace string
	AgentChannel   string
	Now            func() time.Time
	Logger         *slog.Logger
	Metrics        *Metrics
	// Notify wakes the outbox dispatcher after a commit that queued messages.
	Notify func()
	// SummaryMessages is how many recent messages the card shows.
	SummaryMessages int
	// Timers (see Tick): agents are re-mentioned every RepingEvery while
	// handoffs wait (default 5m); after Repings re-pings the customer is
	// told the team is busy; a claim whose customer has waited AgentTimeout
	// for a silent agent returns to the queue (default 30m). TickEvery is
	// how often Run ticks (default 15s).
	RepingEvery  time.Duration
	Repings      int
	AgentTimeout time.Duration
	TickEvery    time.Duration
	// BurstGap is the least time between two posts of a customer's words
	// in a handoff's thread (default 3s): what they write in between is
	// grouped into the next post. A first message after a quiet spell goes
	// at once. Negative: no gap (a terminal, where nothing would deliver a
	// held post before the next line is typed).
	BurstGap time.Duration
}

// Service is the handoff flow. It is safe for concurrent use.
type Service struct {
	cfg Config
	now func() time.Time
	log *slog.Logger
	met *Metrics
}

var _ bot.Escalator = (*Service)(nil)

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("handoff: needs a store")
	case cfg.Prompts == nil:
		return nil, errors.New("handoff: needs prompts")
	case !cfg.AgentPlatform.Valid():
		return nil, fmt.Errorf("handoff: unknown agent platform %q", cfg.AgentPlatform)
	case cfg.AgentChannel == "":
		return nil, errors.New("handoff: needs an agent channel")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if cfg.SummaryMessages <= 0 {
		cfg.SummaryMessages = 6
	}
	if cfg.BurstGap == 0 {
		cfg.BurstGap = 3 * time.Second
	}
	cfg.timerDefaults()
	return &Service{cfg: cfg, now: cfg.Now, log: cfg.Logger, met: cfg.Metrics}, nil
}

// Stream is the outbox stream of a handoff's agent-channel messages: the
// announcement first, then its thread, in order.
func Stream(handoffID int64) string {
	return "handoff:" + strconv.FormatInt(handoffID, 10)
}

// WordsStream is the outbox stream of a customer's words in a handoff's
// thread. It is apart from Stream so that a post held back to group a
// burst never holds back the agents' notes and status lines.
func WordsStream(handoffID int64) string {
	return Stream(handoffID) + ":words"
}

// Open implements bot.Escalator: it stores the handoff, queues the
// announcement for the agents and the acknowledgement for the customer, and
// moves the conversation to waiting, all in the caller's transaction.
func (s *Service) Open(ctx context.Context, tx bot.Tx, conv *bot.Conversation, req bot.HandoffRequest) error {
	if _, err := tx.OpenHandoff(ctx, conv.ID); err == nil {
		return nil // already with a person
	} else if !errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("handoff: find open handoff: %w", err)
	}
	now := s.now()
	set := s.cfg.Prompts()
	// One person, one open handoff: asking again from another conversation
	// (a new channel thread, say) joins the handoff they have, instead of
	// a new card that pings the agents again. Not in shadow mode, where
	// every conversation is with a person and needs a thread of its own
	// for its drafts and its agent's replies.
	if req.Trigger != bot.TriggerShadow {
		switch other, err := tx.OpenHandoffOf(ctx, conv.Identity()); {
		case err == nil:
			return s.askedAgain(ctx, tx, conv, other, set, now)
		case !errors.Is(err, bot.ErrNotFound):
			return fmt.Errorf("handoff: find the customer's open handoff: %w", err)
		}
	}
	h := bot.Handoff{
		ConversationID: conv.ID,
		State:          bot.HandoffWaiting,
		Trigger:        req.Trigger,
		Reason:         req.Reason,
		AgentPlatform:  s.cfg.AgentPlatform,
		AgentChannel:   s.cfg.AgentChannel,
		CreatedAt:      now,
	}
	if err := tx.CreateHandoff(ctx, &h); err != nil {
		return fmt.Errorf("handoff: store: %w", err)
	}
	card, err := s.card(ctx, tx, h, *conv, set)
	if err != nil {
		return err
	}
	announce := bot.Outgoing{
		Platform:       s.cfg.AgentPlatform,
		Workspace:      s.cfg.AgentWorkspace,
		Channel:        s.cfg.AgentChannel,
		Stream:         Stream(h.ID),
		Kind:           bot.KindAnnounce,
		Text:           card,
		Mention:        true,
		Buttons:        agentButtons(h.ID),
		ConversationID: conv.ID,
		HandoffID:      h.ID,
		CreatedAt:      now,
	}
	if err := tx.Enqueue(ctx, &announce); err != nil {
		return fmt.Errorf("handoff: queue announcement: %w", err)
	}
	if err := tx.SetAnnounce(ctx, h.ID, announce.ID); err != nil {
		return fmt.Errorf("handoff: record announcement: %w", err)
	}
	pos, err := tx.QueuePosition(ctx, h.ID)
	if err != nil {
		return fmt.Errorf("handoff: queue position: %w", err)
	}
	ack, err := set.Message("handoff_ack", conv.Lang, map[string]any{"Position": pos})
	if err != nil {
		return err
	}
	if err := bot.Reply(ctx, tx, *conv, ack, set.Version, now, nil); err != nil {
		return err
	}
	if err := s.opened(ctx, tx, conv, h.ID, pos, set, now); err != nil {
		return err
	}
	if err := bot.LabelHandoff(ctx, tx, conv.ID, req.Trigger); err != nil {
		return err
	}
	conv.State = bot.StateWaiting
	s.met.opened(req.Trigger)
	s.log.InfoContext(ctx, "handoff opened", "handoff", h.ID, "conversation", conv.ID, "trigger", req.Trigger)
	return nil
}

// askedAgain tells the agents of h that its customer asked for a person
// again, in conv, and tells the customer where they stand.
func (s *Service) askedAgain(ctx context.Context, tx bot.Tx, conv *bot.Conversation, h bot.Handoff, set *prompts.Set, now time.Time) error {
	where := "a direct message"
	if !conv.Private {
		where = "another thread (" + string(conv.Key.Platform) + " channel " + inertName(conv.Key.Channel) + ")"
	}
	// What they wrote there reaches the agents, quoted: the request may
	// say what it is about.
	note := "**" + inertName(conv.UserName) + "** asked for a person again, from " + where +
		". They are still waiting here; their other messages there do not reach this thread."
	recent, err := tx.RecentMessages(ctx, conv.ID, 1)
	if err != nil {
		return fmt.Errorf("handoff: load the request: %w", err)
	}
	if len(recent) == 1 && recent[0].Role == bot.RoleCustomer {
		note += "\n" + quotedLines(recent[0].Text)
	}
	if err := s.toThread(ctx, tx, h, note); err != nil {
		return err
	}
	pos, err := tx.QueuePosition(ctx, h.ID)
	if err != nil {
		return fmt.Errorf("handoff: queue position: %w", err)
	}
	text, err := set.Message("handoff_elsewhere", conv.Lang, map[string]any{"Position": pos})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "a customer with an open handoff asked again: no new handoff", "handoff", h.ID, "conversation", conv.ID)
	return bot.Reply(ctx, tx, *conv, text, set.Version, now, nil)
}

// card renders the announcement agents see.
func (s *Service) card(ctx context.Context, tx bot.Tx, h bot.Handoff, conv bot.Conversation, set *prompts.Set) (string, error) {
	recent, err := tx.RecentMessages(ctx, conv.ID, s.cfg.SummaryMessages)
	if err != nil {
		return "", fmt.Errorf("handoff: load recent messages: %w", err)
	}
	msgs := make([]map[string]any, 0, len(recent))
	seenCustomer := false
	for _, m := range recent {
		seenCustomer = seenCustomer || m.Role == bot.RoleCustomer
		if m.Role == bot.RoleBot && !seenCustomer {
			continue // the greeting tells agents nothing
		}
		if m.Role == bot.RoleCustomer || m.Role == bot.RoleBot || m.Role == bot.RoleAgent {
			text := oneLine(m.Text, 200)
			if m.Role == bot.RoleCustomer {
				text = inert(text)
			}
			msgs = append(msgs, map[string]any{"Role": string(m.Role), "Text": text})
		}
	}
	return set.Summary(map[string]any{
		"ID":       h.ID,
		"Customer": conv.CustomerID,
		"User":     inertName(conv.UserName),
		"Platform": string(conv.Key.Platform),
		"Reason":   h.Reason,
		"Messages": msgs,
	})
}

func agentButtons(handoffID int64) []bot.Button {
	v := strconv.FormatInt(handoffID, 10)
	return []bot.Button{
		{Action: bot.ActionClaim, Label: "Claim", Value: v},
		{Action: bot.ActionResolve, Label: "Resolve", Value: v},
	}
}

// CustomerMessage implements bot.Escalator: a customer message of a
// conversation with an open handoff goes to the handoff's agent thread.
func (s *Service) CustomerMessage(ctx context.Context, tx bot.Tx, conv *bot.Conversation, msg bot.Message, attachments []bot.Attachment) error {
	h, err := tx.OpenHandoff(ctx, conv.ID)
	if err != nil {
		return fmt.Errorf("handoff: find open handoff of conversation %d: %w", conv.ID, err)
	}
	words := quotedLines(msg.Text)
	for _, a := range attachments {
		words += "\n" + attachmentLine(a)
	}
	// A burst joins the post still waiting to go out: a customer who
	// floods the thread makes at most one post every BurstGap, not one per
	// message, and every word of theirs is in it.
	stream := WordsStream(h.ID)
	tail, mutable, err := tx.StreamTail(ctx, h.ID, stream)
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if mutable {
		if b, parsed := parseBurst(tail.Text); parsed && len(tail.Text)+len(words) <= maxBurstPost {
			b.n++
			b.body += "\n" + words
			replaced, err := tx.ReplacePending(ctx, tail.ID, b.render())
			if err != nil {
				return fmt.Errorf("handoff: %w", err)
			}
			if replaced {
				return nil
			}
		}
	}
	b := burst{name: inertName(conv.UserName), n: 1, body: words}
	out := s.outgoing(h, b.render(), chatterAuthor)
	out.Stream = stream
	out.NextAttemptAt = s.nextBurst(tail, mutable, out.CreatedAt)
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("handoff: queue customer words: %w", err)
	}
	return nil
}

// nextBurst is when a new post of customer words may go: BurstGap after
// the stream's last post went or will go, or now.
func (s *Service) nextBurst(tail bot.Outgoing, mutable bool, now time.Time) time.Time {
	var last time.Time
	switch {
	case s.cfg.BurstGap < 0 || tail.ID == 0 || tail.Status == bot.OutDead:
		return now
	case tail.Status == bot.OutSent:
		last = tail.SentAt
	case mutable:
		last = tail.NextAttemptAt
	default: // being sent now
		last = now
	}
	return later(now, last.Add(s.cfg.BurstGap))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func attachmentLine(a bot.Attachment) string {
	name := a.Name
	if name == "" {
		name = "attachment"
	}
	return "📎 " + inertName(oneLine(name, 100)) + ": " + a.URL
}

// toThread queues a post in a handoff's agent thread.
func (s *Service) toThread(ctx context.Context, tx bot.Tx, h bot.Handoff, text string) error {
	out := s.outgoing(h, text, "")
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("handoff: queue thread post: %w", err)
	}
	return nil
}

// outgoing is a post in a handoff's thread, on its stream.
func (s *Service) outgoing(h bot.Handoff, text, author string) bot.Outgoing {
	return bot.Outgoing{
		Author:         author,
		Platform:       h.AgentPlatform,
		Workspace:      s.cfg.AgentWorkspace,
		Channel:        h.AgentChannel,
		ParentID:       h.AnnounceID,
		Stream:         Stream(h.ID),
		Kind:           bot.KindThread,
		Text:           text,
		ConversationID: h.ConversationID,
		HandoffID:      h.ID,
		CreatedAt:      s.now(),
	}
}

// oneLine flattens text for a card line and bounds its length.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// updateCard queues an edit of the handoff's announcement so the card shows
// where the handoff stands (waiting, claimed by whom, resolved) and only the
// buttons that still make sense.
func (s *Service) updateCard(ctx context.Context, tx bot.Tx, handoffID int64, resolvedBy ...string) error {
	h, err := tx.Handoff(ctx, handoffID)
	if err != nil {
		return err
	}
	if h.AnnounceID == 0 {
		return nil
	}
	conv, err := tx.Conversation(ctx, h.ConversationID)
	if err != nil {
		return err
	}
	card, err := s.card(ctx, tx, h, conv, s.cfg.Prompts())
	if err != nil {
		return err
	}
	var status string
	var buttons []bot.Button
	switch h.State {
	case bot.HandoffWaiting:
		status, buttons = "waiting for an agent"+s.waited(h), agentButtons(h.ID)
	case bot.HandoffClaimed:
		status, buttons = "claimed by "+nameOr(h.AgentName), agentButtons(h.ID)[1:]
	default:
		status = "resolved"
		if len(resolvedBy) > 0 {
			status = resolvedBy[0]
		}
	}
	out := bot.Outgoing{
		Platform:       h.AgentPlatform,
		Workspace:      s.cfg.AgentWorkspace,
		Channel:        h.AgentChannel,
		ParentID:       h.AnnounceID,
		Stream:         Stream(h.ID),
		Kind:           bot.KindUpdate,
		Text:           card + "\n**Status:** " + status,
		Buttons:        buttons,
		ConversationID: h.ConversationID,
		HandoffID:      h.ID,
		CreatedAt:      s.now(),
	}
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("handoff: queue card update: %w", err)
	}
	return nil
}

// ThreadCursor is where an open handoff's agent thread stands: the platform
// id of the newest agent message stored from it, for fetching back what was
// missed after a reconnect.
type ThreadCursor struct {
	Channel string
	// Thread is the platform id of the announcement the thread hangs under.
	Thread        string
	LastMessageID string
}

// Threads returns a cursor for each open handoff announced on a platform.
func (s *Service) Threads(ctx context.Context, p bot.Platform) ([]ThreadCursor, error) {
	var out []ThreadCursor
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		out = nil
		open, err := tx.OpenHandoffs(ctx, p)
		if err != nil {
			return err
		}
		for _, ht := range open {
			key, err := tx.LastDedupeKey(ctx, ht.Handoff.ConversationID, bot.RoleAgent, bot.RoleNote)
			if err != nil {
				return err
			}
			out = append(out, ThreadCursor{
				Channel:       ht.Handoff.AgentChannel,
				Thread:        ht.Ref,
				LastMessageID: strings.TrimPrefix(key, string(p)+":"),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("handoff: open threads on %s: %w", p, err)
	}
	return out, nil
}

package handoff

import (
	"context"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// This file keeps waiting customers informed: their place in the queue
// when a handoff opens and when it improves, that the team is away (at
// once outside business hours) or busy (after the re-pings), and what
// happens when their handoff goes back to the queue. What each customer
// was last told is stored with the handoff (bot.Notice), and every notice
// is recorded by a conditional update before it is queued, so that of
// several replicas only one sends it.

// PositionEvery is how often at most a waiting customer is told that their
// place in the queue improved: often enough to show progress, seldom
// enough not to chatter when a team clears a queue quickly.
const PositionEvery = 3 * time.Minute

// Default timer settings (Config).
const (
	DefaultRepingEvery  = 5 * time.Minute
	DefaultRepings      = 3
	DefaultAgentTimeout = 30 * time.Minute
	DefaultTickEvery    = 15 * time.Second
)

// timerDefaults fills in the timer settings left zero. Repings may be 0:
// then a customer is told the team is busy once their handoff has waited
// one re-ping interval.
func (c *Config) timerDefaults() {
	if c.RepingEvery <= 0 {
		c.RepingEvery = DefaultRepingEvery
	}
	c.Repings = max(c.Repings, 0)
	if c.AgentTimeout <= 0 {
		c.AgentTimeout = DefaultAgentTimeout
	}
	if c.TickEvery <= 0 {
		c.TickEvery = DefaultTickEvery
	}
}

// opened runs in Open, after the acknowledgement that told the customer
// their place: it records that, and outside business hours tells them at
// once when the team is back. It also clears the conversation's
// escalation offers: a person is coming.
func (s *Service) opened(ctx context.Context, tx bot.Tx, conv *bot.Conversation, handoffID int64, pos int, set *prompts.Set, now time.Time) error {
	conv.Misses = 0
	notice := bot.Notice{Position: pos, PositionAt: now}
	if !set.Hours().Open(now) {
		told, err := s.tellClosed(ctx, tx, *conv, set, now)
		if err != nil {
			return err
		}
		if told {
			notice.Availability, notice.AvailabilityAt = bot.AvailabilityClosed, now
		}
	}
	if _, err := tx.SetNotice(ctx, handoffID, notice); err != nil {
		return fmt.Errorf("handoff: record what the customer was told: %w", err)
	}
	return nil
}

// tellClosed tells a customer that the team is away and when it is back,
// and that what they write is kept. It returns false, telling nothing, when
// the hours name no opening within a year.
func (s *Service) tellClosed(ctx context.Context, tx bot.Tx, conv bot.Conversation, set *prompts.Set, now time.Time) (bool, error) {
	hours := set.Hours()
	next, ok := hours.NextOpen(now)
	if !ok {
		s.log.WarnContext(ctx, "business hours name no opening within a year; the customer is not told when the team is back", "conversation", conv.ID)
		return false, nil
	}
	text, err := set.Message("out_of_hours", conv.Lang, untilVars(next, now, hours.Location(), conv.Lang))
	if err != nil {
		return false, err
	}
	if err := bot.Reply(ctx, tx, conv, text, set.Version, now, nil); err != nil {
		return false, err
	}
	s.met.notice("closed")
	return true, nil
}

// toldThisClosure reports whether the customer was told the team is away
// during the closure that now is in: since they were told, the team has
// not been there.
func toldThisClosure(n bot.Notice, hours prompts.Hours, now time.Time) bool {
	if n.Availability != bot.AvailabilityClosed {
		return false
	}
	back, ok := hours.NextOpen(n.AvailabilityAt)
	return !ok || back.After(now)
}

// waitingOpen is when a waiting customer's wait during business hours
// began: when the handoff opened, or, if they were told the team was away,
// when it came back. "Everyone is busy" is said only after that many
// re-pings' worth of waiting while the team is there.
func waitingOpen(q bot.QueuedHandoff, hours prompts.Hours) time.Time {
	since := q.Handoff.CreatedAt
	if q.Notice.Availability == bot.AvailabilityClosed {
		if back, ok := hours.NextOpen(q.Notice.AvailabilityAt); ok && back.After(since) {
			since = back
		}
	}
	return since
}

// notify tells the customer of one waiting handoff what changed about
// their wait, if anything: that the team is away (once per closure), that
// it is busy (once, after the re-pings), or a better place in the queue
// (at most every PositionEvery). It reports whether it queued a message.
func (s *Service) notify(ctx context.Context, tx bot.Tx, q bot.QueuedHandoff, set *prompts.Set, now time.Time) (bool, error) {
	hours := set.Hours()
	n := q.Notice
	next := n
	var kind string
	switch {
	case !hours.Open(now):
		if toldThisClosure(n, hours, now) {
			return false, nil
		}
		kind = "closed"
		next.Availability, next.AvailabilityAt = bot.AvailabilityClosed, now
	case n.Availability != bot.AvailabilityDelayed && q.Repings >= s.cfg.Repings &&
		now.Sub(waitingOpen(q, hours)) >= time.Duration(max(s.cfg.Repings, 1))*s.cfg.RepingEvery:
		kind = "delayed"
		next.Availability, next.AvailabilityAt = bot.AvailabilityDelayed, now
		next.Position, next.PositionAt = q.Position, now
	case q.Position > 0 && (n.Position == 0 || q.Position < n.Position) && now.Sub(n.PositionAt) >= PositionEvery:
		kind = "position"
		next.Position, next.PositionAt = q.Position, now
	default:
		return false, nil
	}
	// Recorded first: a replica that lost the race sends nothing.
	won, err := tx.SetNotice(ctx, q.Handoff.ID, next)
	if err != nil || !won {
		return false, err
	}
	conv, err := tx.Conversation(ctx, q.Handoff.ConversationID)
	if err != nil {
		return false, err
	}
	var text string
	switch kind {
	case "closed":
		return s.tellClosed(ctx, tx, conv, set, now)
	case "delayed":
		closes := ""
		if end, ok := hours.NextClose(now); ok {
			closes = clockIn(end, hours.Location())
		}
		text, err = set.Message("handoff_delayed", conv.Lang, map[string]any{"Position": q.Position, "Closes": closes})
	case "position":
		text, err = set.Message("queue_position", conv.Lang, map[string]any{"Position": q.Position})
	}
	if err != nil {
		return false, err
	}
	if err := bot.Reply(ctx, tx, conv, text, set.Version, now, nil); err != nil {
		return false, err
	}
	s.met.notice(kind)
	s.log.InfoContext(ctx, "waiting customer told", "handoff", q.Handoff.ID, "notice", kind, "position", q.Position)
	return true, nil
}

// backInQueue tells the customer of a handoff that just went back to the
// queue (unclaimed, or its agent went silent) that it did and their place,
// and, outside business hours, when the team is back; it posts note in the
// thread and updates the card. The caller changed the handoff's state.
func (s *Service) backInQueue(ctx context.Context, tx bot.Tx, h bot.Handoff, note string) error {
	now := s.now()
	set := s.cfg.Prompts()
	conv, err := tx.Conversation(ctx, h.ConversationID)
	if err != nil {
		return err
	}
	pos, err := tx.QueuePosition(ctx, h.ID)
	if err != nil {
		return fmt.Errorf("queue position: %w", err)
	}
	text, err := set.Message("agent_left", conv.Lang, map[string]any{"Position": pos})
	if err != nil {
		return err
	}
	if err := bot.Reply(ctx, tx, conv, text, set.Version, now, nil); err != nil {
		return err
	}
	conv.State = bot.StateWaiting
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return err
	}
	if q, ok, err := s.queued(ctx, tx, h); err != nil {
		return err
	} else if ok {
		next := q.Notice
		next.Position, next.PositionAt = pos, now
		hours := set.Hours()
		closed := !hours.Open(now) && !toldThisClosure(q.Notice, hours, now)
		if closed {
			next.Availability, next.AvailabilityAt = bot.AvailabilityClosed, now
		}
		won, err := tx.SetNotice(ctx, h.ID, next)
		if err != nil {
			return fmt.Errorf("record what the customer was told: %w", err)
		}
		if won && closed {
			if _, err := s.tellClosed(ctx, tx, conv, set, now); err != nil {
				return err
			}
		}
	}
	if err := s.toThread(ctx, tx, h, note); err != nil {
		return err
	}
	return s.updateCard(ctx, tx, h.ID)
}

// queued returns the queue state of a waiting handoff.
func (s *Service) queued(ctx context.Context, tx bot.Tx, h bot.Handoff) (bot.QueuedHandoff, bool, error) {
	qs, err := tx.WaitingHandoffs(ctx, h.AgentPlatform, h.AgentChannel)
	if err != nil {
		return bot.QueuedHandoff{}, false, err
	}
	for _, q := range qs {
		if q.Handoff.ID == h.ID {
			return q, true, nil
		}
	}
	return bot.QueuedHandoff{}, false, nil
}

// waited says how long a waiting handoff has waited, for its card.
func (s *Service) waited(h bot.Handoff) string {
	d := s.now().Sub(h.CreatedAt)
	if h.CreatedAt.IsZero() || d < time.Minute {
		return ""
	}
	return " for " + age(d)
}

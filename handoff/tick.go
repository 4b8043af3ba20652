package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

// The handoff timers: a tick returns the claims of silent agents to the
// queue, posts the re-ping digest when one is due, and tells waiting
// customers what changed about their wait. `firstline serve` ticks on every
// replica; each step decides by conditional updates in the store (see
// bot.HandoffQueue), so that replicas ticking at once act once.

// maxDigestLines bounds the handoffs a digest lists one by one.
const maxDigestLines = 20

// DigestStream is the outbox stream of the re-ping digests of an agent
// channel, apart from the handoffs' own streams.
func DigestStream(channel string) string { return bot.DigestStreamPrefix + channel }

// Run ticks every TickEvery (and once at once) until ctx ends. Failures are
// logged; the next tick tries again.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.TickEvery)
	defer t.Stop()
	for {
		if err := s.Tick(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "handoff timers failed; retrying at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick runs the handoff timers once, as of now: claims whose agent has
// been silent for AgentTimeout go back to the queue; during business hours,
// a digest re-mentions the agents when a handoff has waited RepingEvery
// unmentioned; and waiting customers are told what changed (the team away
// or busy, a better place in the queue).
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	set := s.cfg.Prompts()
	errs := []error{s.returnSilentClaims(ctx, now)}
	if set.Hours().Open(now) {
		// Nobody is there to claim at night: the first digest after
		// opening lists everything that waited.
		errs = append(errs, s.digest(ctx, set, now))
	}
	errs = append(errs, s.tellWaiting(ctx, set, now))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("handoff: tick: %w", err)
	}
	return nil
}

// digest posts one message in the agent channel that re-mentions the
// agents and lists every waiting handoff with its age, and updates the
// cards in place, when the store says one is due.
func (s *Service) digest(ctx context.Context, set *prompts.Set, now time.Time) error {
	var listed []bot.QueuedHandoff
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		listed = nil
		qs, err := tx.Reping(ctx, s.cfg.AgentPlatform, s.cfg.AgentChannel, now, s.cfg.RepingEvery)
		if err != nil || len(qs) == 0 {
			return err
		}
		text, err := s.digestText(ctx, tx, qs, now)
		if err != nil {
			return err
		}
		out := bot.Outgoing{
			Platform:  s.cfg.AgentPlatform,
			Workspace: s.cfg.AgentWorkspace,
			Channel:   s.cfg.AgentChannel,
			Stream:    DigestStream(s.cfg.AgentChannel),
			// A post in the agent channel itself: a thread post without a
			// parent goes to the channel on every platform.
			Kind:      bot.KindThread,
			Text:      text,
			Mention:   true,
			CreatedAt: now,
		}
		if err := tx.Enqueue(ctx, &out); err != nil {
			return fmt.Errorf("queue digest: %w", err)
		}
		for _, q := range qs {
			if err := s.updateCard(ctx, tx, q.Handoff.ID); err != nil {
				return fmt.Errorf("update card of handoff %d: %w", q.Handoff.ID, err)
			}
		}
		listed = qs
		return nil
	})
	if err != nil {
		return fmt.Errorf("re-ping digest: %w", err)
	}
	if len(listed) > 0 {
		s.met.digest()
		s.log.InfoContext(ctx, "re-ping digest posted", "waiting", len(listed), "oldest", listed[0].Handoff.ID)
		s.cfg.Notify()
	}
	return nil
}

// digestText lists waiting handoffs, oldest first, for agents.
func (s *Service) digestText(ctx context.Context, tx bot.Tx, qs []bot.QueuedHandoff, now time.Time) (string, error) {
	var b strings.Builder
	if len(qs) == 1 {
		b.WriteString("**1 handoff is waiting for an agent:**")
	} else {
		fmt.Fprintf(&b, "**%d handoffs are waiting for an agent** (oldest first):", len(qs))
	}
	for i, q := range qs {
		if i == maxDigestLines {
			fmt.Fprintf(&b, "\n• … and %d more", len(qs)-i)
			break
		}
		h := q.Handoff
		conv, err := tx.Conversation(ctx, h.ConversationID)
		if err != nil {
			return "", fmt.Errorf("conversation of handoff %d: %w", h.ID, err)
		}
		// Erasure finds the line by its start (bot.ScrubDigest).
		fmt.Fprintf(&b, "\n%s%s on %s, waiting %s", bot.DigestLine(h.ID), inertName(conv.UserName), conv.Key.Platform, age(now.Sub(h.CreatedAt)))
		if q.Repings > 1 {
			fmt.Fprintf(&b, " (re-pinged %d times)", q.Repings)
		}
		if h.Reason != "" {
			b.WriteString(": " + oneLine(h.Reason, 120))
		}
	}
	b.WriteString("\nPress Claim on a card, or write claim in its thread.")
	return b.String(), nil
}

// tellWaiting tells each waiting customer what changed about their wait.
func (s *Service) tellWaiting(ctx context.Context, set *prompts.Set, now time.Time) error {
	told := 0
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		told = 0
		qs, err := tx.WaitingHandoffs(ctx, s.cfg.AgentPlatform, s.cfg.AgentChannel)
		if err != nil {
			return err
		}
		for _, q := range qs {
			ok, err := s.notify(ctx, tx, q, set, now)
			if err != nil {
				return fmt.Errorf("handoff %d: %w", q.Handoff.ID, err)
			}
			if ok {
				told++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tell waiting customers: %w", err)
	}
	if told > 0 {
		s.cfg.Notify()
	}
	return nil
}

// returnSilentClaims returns to the queue the claimed handoffs whose
// customer has waited AgentTimeout for an agent who says nothing: since
// the claim (or the agent's last note) when the agent has not written to
// the customer yet, else since the customer's first message after the
// agent's last. An agent waiting for the customer's answer keeps the
// handoff however long that takes.
func (s *Service) returnSilentClaims(ctx context.Context, now time.Time) error {
	returned := 0
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		returned = 0
		cs, err := tx.ClaimedHandoffs(ctx, s.cfg.AgentPlatform, s.cfg.AgentChannel)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if !s.silent(c, now) {
				continue
			}
			won, err := tx.ReturnToQueue(ctx, c)
			if err != nil {
				return err
			}
			if !won {
				continue // the agent wrote meanwhile, or another replica returned it
			}
			note := fmt.Sprintf("The customer waited %s for %s, who has not written here since, so this handoff went back to the queue. Write claim to take it.",
				age(now.Sub(waitingSince(c))), nameOr(c.Handoff.AgentName))
			if err := s.backInQueue(ctx, tx, c.Handoff, note); err != nil {
				return fmt.Errorf("handoff %d: %w", c.Handoff.ID, err)
			}
			s.log.InfoContext(ctx, "silent claim returned to the queue", "handoff", c.Handoff.ID, "waited", now.Sub(waitingSince(c)).Round(time.Second))
			returned++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("return silent claims: %w", err)
	}
	if returned > 0 {
		s.met.returned(returned)
		s.cfg.Notify()
	}
	return nil
}

// silent reports whether a claim's customer has waited AgentTimeout for
// its agent.
func (s *Service) silent(c bot.ClaimedHandoff, now time.Time) bool {
	since := waitingSince(c)
	return !since.IsZero() && now.Sub(since) >= s.cfg.AgentTimeout
}

// waitingSince is when a claim's customer started waiting for its agent;
// zero when they are not waiting (the agent spoke last).
func waitingSince(c bot.ClaimedHandoff) time.Time {
	if c.AgentRepliedAt.IsZero() {
		return c.AgentSeenAt
	}
	return c.CustomerWaitingSince
}

// Queue lists the waiting handoffs of the agent channel for an agent,
// oldest first, worded as the re-ping digest words them (an agent's /queue
// on Discord). It only reads: nobody is re-pinged. Only agents may read
// it; anyone else gets the outsider's refusal. An empty queue is an empty
// Feedback.
func (s *Service) Queue(ctx context.Context, agent Agent) (Result, error) {
	if !agent.isAgent() {
		return notAgent, nil
	}
	var text string
	err := s.cfg.Store.View(ctx, func(tx bot.Tx) error {
		text = ""
		qs, err := tx.WaitingHandoffs(ctx, s.cfg.AgentPlatform, s.cfg.AgentChannel)
		if err != nil || len(qs) == 0 {
			return err
		}
		text, err = s.digestText(ctx, tx, qs, s.now())
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("handoff: list the queue: %w", err)
	}
	return Result{Feedback: text}, nil
}

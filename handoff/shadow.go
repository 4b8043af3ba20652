package handoff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/firstlinehq/firstline/bot"
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of the "Send draft" button (shadow mode).
const (
	DraftSent    Outcome = "draft_sent"
	DraftStale   Outcome = "draft_stale"   // sent already, or the handoff is over
	DraftRefused Outcome = "draft_refused" // another agent claimed the handoff
)

// Draft implements bot.Escalator for shadow mode: the bot's drafted answer
// is stored (shown to agents only) and posted in the handoff thread with a
// "Send draft" button.
func (s *Service) Draft(ctx context.Context, tx bot.Tx, conv *bot.Conversation, text, promptVersion, note string) error {
	h, err := tx.OpenHandoff(ctx, conv.ID)
	if err != nil {
		return fmt.Errorf("handoff: find open handoff of conversation %d: %w", conv.ID, err)
	}
	post := ""
	var buttons []bot.Button
	if text != "" {
		nonce := make([]byte, 8)
		_, _ = rand.Read(nonce) // never fails (crypto/rand)
		draft := bot.Message{
			ConversationID: conv.ID,
			Role:           bot.RoleDraft,
			// The key says which handoff the draft was made for, so that a
			// draft of an earlier handoff is never sent in a later one.
			DedupeKey:     draftKeyPrefix(h.ID) + hex.EncodeToString(nonce),
			Text:          text,
			PromptVersion: promptVersion,
			Processed:     true,
			CreatedAt:     s.now(),
		}
		if _, err := tx.AddMessage(ctx, &draft); err != nil {
			return fmt.Errorf("handoff: store draft: %w", err)
		}
		post = "🤖 Draft answer (not sent):\n" + text
		buttons = []bot.Button{{Action: bot.ActionSendDraft, Label: "Send draft", Value: strconv.FormatInt(draft.ID, 10)}}
	}
	if note != "" {
		if post != "" {
			post += "\n"
		}
		post += "🤖 " + note
	}
	out := bot.Outgoing{
		Platform:       h.AgentPlatform,
		Workspace:      s.cfg.AgentWorkspace,
		Channel:        h.AgentChannel,
		ParentID:       h.AnnounceID,
		Stream:         Stream(h.ID),
		Kind:           bot.KindThread,
		Text:           post,
		Buttons:        buttons,
		ConversationID: h.ConversationID,
		HandoffID:      h.ID,
		CreatedAt:      s.now(),
	}
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("handoff: queue draft: %w", err)
	}
	return nil
}

// SendDraft is the "Send draft" button: the draft goes to the customer as
// the bot's answer, once, when the agent who claimed the open handoff (or a
// lead) presses it and the draft was made for that handoff. The share of drafts sent unchanged
// (firstline_shadow_drafts_sent_total over firstline_shadow_drafts_total)
// says how ready the bot, or a new prompt, is for live traffic.
func (s *Service) SendDraft(ctx context.Context, draftID int64, agent Agent) (Result, error) {
	if !agent.isAgent() {
		return notAgent, nil
	}
	var res Result
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		res = Result{}
		draft, err := tx.Message(ctx, draftID)
		if errors.Is(err, bot.ErrNotFound) || err == nil && draft.Role != bot.RoleDraft {
			res = Result{Outcome: DraftStale, Feedback: "This draft no longer exists."}
			return nil
		}
		if err != nil {
			return err
		}
		h, err := tx.OpenHandoff(ctx, draft.ConversationID)
		if errors.Is(err, bot.ErrNotFound) {
			res = Result{Outcome: DraftStale, Feedback: "This handoff is over; the draft was not sent."}
			return nil
		}
		if err != nil {
			return err
		}
		if !strings.HasPrefix(draft.DedupeKey, draftKeyPrefix(h.ID)) {
			res = Result{Outcome: DraftStale, Feedback: "This draft belongs to an earlier handoff; it was not sent."}
			return nil
		}
		switch {
		case h.State != bot.HandoffClaimed && agent.Role != RoleLead:
			res = Result{Outcome: DraftRefused, Feedback: "Claim this handoff first: only the agent who claimed it sends its drafts."}
			return nil
		case !agent.owns(h):
			res = Result{Outcome: DraftRefused, Feedback: fmt.Sprintf("%s has claimed this handoff; only they can send drafts.", nameOr(h.AgentName))}
			return nil
		}
		conv, err := tx.Conversation(ctx, draft.ConversationID)
		if err != nil {
			return err
		}
		sent := bot.Message{
			ConversationID: conv.ID,
			Role:           bot.RoleBot,
			Author:         agent.ID,
			AuthorName:     agent.Name,
			Text:           draft.Text,
			DedupeKey:      "draft-sent:" + strconv.FormatInt(draft.ID, 10),
			PromptVersion:  draft.PromptVersion,
			Processed:      true,
			CreatedAt:      s.now(),
		}
		inserted, err := tx.AddMessage(ctx, &sent)
		if err != nil {
			return fmt.Errorf("store sent draft: %w", err)
		}
		if !inserted {
			res = Result{Outcome: DraftStale, Feedback: "This draft was sent already."}
			return nil
		}
		out := bot.ToCustomer(conv, bot.KindReply, "", draft.Text, nil)
		out.HandoffID = h.ID
		out.CreatedAt = s.now()
		if err := tx.Enqueue(ctx, &out); err != nil {
			return fmt.Errorf("queue sent draft: %w", err)
		}
		if err := s.toThread(ctx, tx, h, agent.display()+" sent the draft to the customer."); err != nil {
			return err
		}
		res = Result{Outcome: DraftSent, Feedback: "Draft sent."}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("handoff: send draft %d: %w", draftID, err)
	}
	if res.Outcome == DraftSent {
		s.met.draftSent()
	}
	s.afterAction(res)
	return res, nil
}

// draftMetrics counts drafts sent; the engine counts drafts made.
type draftMetrics struct {
	sent prometheus.Counter
}

func newDraftMetrics(reg prometheus.Registerer) draftMetrics {
	m := draftMetrics{sent: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "firstline", Name: "shadow_drafts_sent_total",
		Help: "Drafts agents sent to customers unchanged with the Send draft button (shadow mode).",
	})}
	reg.MustRegister(m.sent)
	return m
}

func (m *Metrics) draftSent() {
	if m != nil && m.drafts.sent != nil {
		m.drafts.sent.Inc()
	}
}

// draftKeyPrefix starts the dedupe key of every draft made for a handoff.
func draftKeyPrefix(handoffID int64) string {
	return "draft:" + strconv.FormatInt(handoffID, 10) + ":"
}

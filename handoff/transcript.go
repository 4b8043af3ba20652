package handoff

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// TranscriptPosted is the outcome of the transcript command: the whole
// conversation was posted in the handoff's thread.
const TranscriptPosted Outcome = "transcript"

const (
	// maxTranscriptMessages bounds a transcript; a longer conversation
	// shows its newest messages and says how many it left out.
	maxTranscriptMessages = 500
	// transcriptPostLen bounds one thread post of a transcript, well under
	// what platforms take (adapters split longer posts, but a transcript
	// reads better cut between messages).
	transcriptPostLen = 3000
)

// transcript posts the whole conversation of a handoff in its thread, for
// any agent who asks (the card shows only the last few messages): who the
// customer is (the linked customer id, or that there is none) and every
// message of the customer, the bot and agents, with times in the team's
// time zone (hours.yaml). Internal notes are in the thread already and are
// left out.
func (s *Service) transcript(ctx context.Context, tx bot.Tx, h bot.Handoff, agent Agent) (Result, error) {
	conv, err := tx.Conversation(ctx, h.ConversationID)
	if err != nil {
		return Result{}, err
	}
	msgs, err := tx.RecentMessages(ctx, conv.ID, maxTranscriptMessages+1)
	if err != nil {
		return Result{}, fmt.Errorf("load conversation: %w", err)
	}
	cut := 0
	if len(msgs) > maxTranscriptMessages {
		cut = len(msgs) - maxTranscriptMessages
		msgs = msgs[cut:]
	}
	loc := s.cfg.Prompts().Hours().Location()
	posts := transcriptPosts(s.transcriptHeader(h, conv, agent, loc, cut), msgs, loc)
	for _, p := range posts {
		if err := s.toThread(ctx, tx, h, p); err != nil {
			return Result{}, err
		}
	}
	s.log.InfoContext(ctx, "transcript posted", "handoff", h.ID, "messages", len(msgs), "posts", len(posts))
	return Result{Outcome: TranscriptPosted, Feedback: "Transcript posted in the thread."}, nil
}

func (s *Service) transcriptHeader(h bot.Handoff, conv bot.Conversation, agent Agent, loc *time.Location, cut int) string {
	who := inertName(conv.UserName)
	var b strings.Builder
	fmt.Fprintf(&b, "**Transcript of handoff #%d**, for %s: %s on %s", h.ID, agent.display(), oneLine(who, 60), conv.Key.Platform)
	// The customer's id, not their name: the company's directory may be an
	// API, which is not called inside a transaction, and agents look the
	// customer up in their own systems by id.
	if conv.CustomerID == "" {
		b.WriteString(", not linked to an account")
	} else {
		fmt.Fprintf(&b, ", customer %s", oneLine(conv.CustomerID, bot.MaxCustomerID))
	}
	fmt.Fprintf(&b, ". Conversation opened %s.", conv.OpenedAt.In(loc).Format("2006-01-02 15:04 MST"))
	if cut > 0 {
		fmt.Fprintf(&b, " Its %d oldest messages are not shown.", cut)
	}
	return b.String()
}

// transcriptPosts lays messages out as lines under header, cut into posts
// of at most transcriptPostLen bytes between messages (a single longer
// message gets a post of its own, which the adapter splits).
func transcriptPosts(header string, msgs []bot.Message, loc *time.Location) []string {
	var posts []string
	cur := header
	day := ""
	for _, m := range msgs {
		var who string
		switch m.Role {
		case bot.RoleCustomer, bot.RoleEdit:
			who = "customer"
		case bot.RoleBot:
			who = "bot"
		case bot.RoleAgent:
			who = "agent"
		default:
			continue // notes and commands: already in the thread
		}
		if m.AuthorName != "" {
			who += " " + inertName(m.AuthorName)
		}
		t := m.CreatedAt.In(loc)
		line := ""
		if d := t.Format("2006-01-02"); d != day {
			day = d
			line = "\n*" + t.Format("Monday 2006-01-02") + "*"
		}
		text := strings.ReplaceAll(strings.TrimSpace(m.Text), "\n", "\n      ")
		if who != "bot" {
			// A customer's (or agent's) words, quoted line by line: none of
			// them can pass for a line of the transcript itself.
			text = strings.ReplaceAll(inert(strings.TrimSpace(m.Text)), "\n", "\n> ")
		}
		line += fmt.Sprintf("\n`%s` **%s:** %s", t.Format("15:04"), who, text)
		if len(cur)+len(line) > transcriptPostLen && cur != "" {
			posts = append(posts, cur)
			cur = strings.TrimPrefix(line, "\n")
			continue
		}
		cur += line
	}
	if len(msgs) == 0 {
		cur += "\n(no messages)"
	}
	return append(posts, cur)
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Feedback buttons: a 👍 and a 👎 under each answer of the model
// (Config.Feedback), pressed by the conversation's customer only, once per
// answer. The votes count per answer, per prompt version and per topic in
// the figures (package stats); a 👎 offers a person.

// FeedbackButtons are the buttons voting on bot message id.
func FeedbackButtons(messageID int64) []Button {
	return []Button{
		{Action: ActionFeedback, Label: "👍", Value: FeedbackValue(messageID, true)},
		{Action: ActionFeedback, Label: "👎", Value: FeedbackValue(messageID, false)},
	}
}

// FeedbackValue is the value of a feedback button: "<message id>:up" or
// "<message id>:down".
func FeedbackValue(messageID int64, helpful bool) string {
	return strconv.FormatInt(messageID, 10) + ":" + voteLabel(helpful)
}

// ParseFeedback reads a feedback button's value, which comes back from the
// platform and may have been tampered with.
func ParseFeedback(v string) (messageID int64, helpful bool, err error) {
	id, vote, ok := strings.Cut(v, ":")
	n, perr := strconv.ParseInt(id, 10, 64)
	switch {
	case !ok || perr != nil || n <= 0:
		return 0, false, fmt.Errorf("bot: bad feedback value %q", truncate(v, 40))
	case vote == "up":
		return n, true, nil
	case vote == "down":
		return n, false, nil
	}
	return 0, false, fmt.Errorf("bot: bad feedback vote %q", truncate(vote, 10))
}

func voteLabel(helpful bool) string {
	if helpful {
		return "up"
	}
	return "down"
}

// ErrNotAnAnswer is returned for a vote on a message that is no answer of
// the bot.
var ErrNotAnAnswer = errors.New("the message is not an answer of the bot")

// Feedback records a customer's vote on an answer of the bot. Only the
// conversation's customer can vote (ErrNotYours), once per answer: the
// first vote stands and pressing again changes nothing. A 👎 in a
// conversation the bot still answers offers a person.
func (e *Engine) Feedback(ctx context.Context, user string, messageID int64, helpful bool) error {
	set := e.cfg.Prompts()
	counted, queued := false, false
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		counted, queued = false, false
		m, err := tx.Message(ctx, messageID)
		if err != nil {
			return err
		}
		if m.Role != RoleBot {
			return ErrNotAnAnswer
		}
		conv, err := tx.Conversation(ctx, m.ConversationID)
		if err != nil {
			return err
		}
		if conv.User != user {
			return ErrNotYours
		}
		if counted, err = tx.AddFeedback(ctx, Feedback{MessageID: m.ID, ConversationID: conv.ID, Helpful: helpful, At: e.now()}); err != nil || !counted {
			return err
		}
		if helpful || conv.State != StateBot || !conv.ClosedAt.IsZero() {
			return nil
		}
		text, err := set.Message("feedback_down", conv.Lang, nil)
		if err != nil {
			return err
		}
		queued = true
		return e.reply(ctx, tx, conv, text, set, true)
	})
	if err != nil {
		return fmt.Errorf("bot: feedback on message %d: %w", messageID, err)
	}
	if counted {
		e.metrics.vote(helpful)
		e.log.InfoContext(ctx, "answer voted on", "message", messageID, "vote", voteLabel(helpful))
	}
	if queued {
		e.cfg.Notify()
	}
	return nil
}

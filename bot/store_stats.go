package bot

import (
	"context"
	"time"
)

// ConversationStats is what the support figures (`firstline stats`, the
// KPI page) need recorded on a conversation as it goes: what it was about
// and what its model turns cost.
type ConversationStats interface {
	// SetTopic labels a conversation with topic unless its label ranks as
	// high already (TopicRank): "" < "handoff" < "other" < any other
	// topic, so a specific label is never replaced, and the first
	// specific label stays. It reports whether the label changed; an
	// unknown conversation changes nothing.
	SetTopic(ctx context.Context, conversationID int64, topic string) (bool, error)
	// AddUsage adds one turn's model tokens to the conversation's totals.
	AddUsage(ctx context.Context, conversationID int64, promptTokens, completionTokens int) error
}

// Feedbacks stores the customers' votes on the bot's answers (the feedback
// buttons under them).
type Feedbacks interface {
	// AddFeedback records a vote on a bot message. It reports false, and
	// changes nothing, when the message has a vote already: the first
	// stands.
	AddFeedback(ctx context.Context, f Feedback) (bool, error)
}

// Feedback is a customer's vote on one bot answer.
type Feedback struct {
	MessageID      int64
	ConversationID int64
	Helpful        bool
	At             time.Time
}

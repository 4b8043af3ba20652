package bot

import "context"

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

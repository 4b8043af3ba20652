package bot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/firstlinehq/firstline/prompts"
)

// ConversationStream is the outbox stream of messages to a conversation's
// customer: they are delivered in the order they were queued.
func ConversationStream(conversationID int64) string {
	return "conv:" + strconv.FormatInt(conversationID, 10)
}

// ToCustomer builds an outgoing message to a conversation's customer.
func ToCustomer(conv Conversation, kind OutKind, author, text string, buttons []Button) Outgoing {
	return Outgoing{
		Platform:       conv.Key.Platform,
		Workspace:      conv.Key.Workspace,
		Channel:        conv.Key.Channel,
		Thread:         conv.Key.Thread,
		Stream:         ConversationStream(conv.ID),
		Kind:           kind,
		Author:         author,
		Text:           text,
		Buttons:        buttons,
		ConversationID: conv.ID,
	}
}

// Reply stores a bot message in a conversation and queues it for the
// customer, in the caller's transaction. The engine and the handoff flow both
// speak to customers through it, so every bot message records the prompt
// version it was made with.
func Reply(ctx context.Context, tx Tx, conv Conversation, text, promptVersion string, at time.Time, buttons []Button) error {
	_, err := queueReply(ctx, tx, conv, text, promptVersion, at, buttons, false)
	return err
}

// queueReply is Reply, returning the queued row. With feedback, the
// feedback buttons, which name the stored message, follow buttons.
func queueReply(ctx context.Context, tx Tx, conv Conversation, text, promptVersion string, at time.Time, buttons []Button, feedback bool) (Outgoing, error) {
	msg := Message{
		ConversationID: conv.ID,
		Role:           RoleBot,
		Text:           text,
		PromptVersion:  promptVersion,
		Processed:      true,
		CreatedAt:      at,
	}
	if _, err := tx.AddMessage(ctx, &msg); err != nil {
		return Outgoing{}, fmt.Errorf("store bot message: %w", err)
	}
	if feedback {
		buttons = append(slices.Clip(buttons), FeedbackButtons(msg.ID)...)
	}
	out := ToCustomer(conv, KindReply, "", text, buttons)
	out.CreatedAt = at
	if err := tx.Enqueue(ctx, &out); err != nil {
		return Outgoing{}, fmt.Errorf("queue bot message: %w", err)
	}
	return out, nil
}

// reply stores a bot message and queues it for the customer. With
// talkButton, the message offers the "Talk to a person" button.
func (e *Engine) reply(ctx context.Context, tx Tx, conv Conversation, text string, set *prompts.Set, talkButton bool) error {
	_, err := e.queueReply(ctx, tx, conv, text, set, talkButton, false)
	return err
}

// answer is reply for an answer of the model: it offers the "Talk to a
// person" button and, with Config.Feedback, the feedback buttons.
func (e *Engine) answer(ctx context.Context, tx Tx, conv Conversation, text string, set *prompts.Set) (Outgoing, error) {
	return e.queueReply(ctx, tx, conv, text, set, true, e.cfg.Feedback)
}

// queueReply is reply, returning the queued row.
func (e *Engine) queueReply(ctx context.Context, tx Tx, conv Conversation, text string, set *prompts.Set, talkButton, feedback bool) (Outgoing, error) {
	var buttons []Button
	if talkButton {
		label, err := set.Message("talk_to_person", conv.Lang, nil)
		if err != nil {
			return Outgoing{}, err
		}
		buttons = []Button{{Action: ActionTalkToPerson, Label: label, Value: strconv.FormatInt(conv.ID, 10)}}
	}
	return queueReply(ctx, tx, conv, text, set.Version, e.now(), buttons, feedback)
}

// Courier delivers rows that the transaction queueing them also claimed
// (Outbox.ClaimQueued): a turn's reply goes to the platform as soon as it
// is committed, with no commit of its own before the send. The outbox
// dispatcher is one. A row the courier never sends (the process died) is
// claimed again by a dispatcher once its lease ends, as any claimed row
// whose sender stopped mid-send.
type Courier interface {
	// Lease is how long a claimed row is the courier's alone.
	Lease() time.Duration
	// Deliver sends claimed rows in the background; it does not block.
	Deliver(ctx context.Context, rows []Outgoing)
}

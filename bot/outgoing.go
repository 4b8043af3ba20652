package bot

import (
	"context"
	"fmt"
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
	msg := Message{
		ConversationID: conv.ID,
		Role:           RoleBot,
		Text:           text,
		PromptVersion:  promptVersion,
		Processed:      true,
		CreatedAt:      at,
	}
	if _, err := tx.AddMessage(ctx, &msg); err != nil {
		return fmt.Errorf("store bot message: %w", err)
	}
	out := ToCustomer(conv, KindReply, "", text, buttons)
	out.CreatedAt = at
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("queue bot message: %w", err)
	}
	return nil
}

// reply stores a bot message and queues it for the customer. With
// talkButton, the message offers the "Talk to a person" button.
func (e *Engine) reply(ctx context.Context, tx Tx, conv Conversation, text string, set *prompts.Set, talkButton bool) error {
	var buttons []Button
	if talkButton {
		label, err := set.Message("talk_to_person", conv.Lang, nil)
		if err != nil {
			return err
		}
		buttons = []Button{{Action: ActionTalkToPerson, Label: label, Value: strconv.FormatInt(conv.ID, 10)}}
	}
	return Reply(ctx, tx, conv, text, set.Version, e.now(), buttons)
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Edit is a customer's change to a message the bot already received: new
// text, or the message deleted. Platforms report both after the fact.
type Edit struct {
	Platform Platform
	// MessageID is the platform's id of the message that changed, as the
	// adapter gave it in Incoming.MessageID.
	MessageID string
	// EditID tells one edit of a message from another (the platform's
	// edit timestamp), so that a redelivered edit is noted once. Unused for
	// a deletion.
	EditID string
	// Text is the new text; unused for a deletion.
	Text    string
	Deleted bool
}

// Edited notes a customer's edit or deletion in the handoff thread while a
// handoff is open for the conversation: agents otherwise work from words
// the customer has since changed. The edit is stored as a message of its
// own, RoleEdit (the original stays as it was received), so that the
// transcript, export and retention cover it, and a redelivery is dropped.
//
// Edits outside a handoff change nothing: the bot answered the message as
// it was, and answering again would surprise more than help. Edits of
// messages Firstline never stored, or not the customer's, are ignored.
// It reports whether the edit was noted.
func (e *Engine) Edited(ctx context.Context, ed Edit) (bool, error) {
	switch {
	case !ed.Platform.Valid():
		return false, fmt.Errorf("bot: edit: unknown platform %q", ed.Platform)
	case ed.MessageID == "":
		return false, errors.New("bot: edit: no message id")
	case !ed.Deleted && !utf8.ValidString(ed.Text):
		return false, errors.New("bot: edit: text is not UTF-8")
	}
	text, masked, _ := cleanText(ed.Text)
	now := e.now()
	original := string(ed.Platform) + ":" + ed.MessageID
	key := original + ":deleted"
	if !ed.Deleted {
		key = original + ":edit:" + ed.EditID
	}
	noted := false
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		noted, err = e.noteEdit(ctx, tx, ed, original, key, text, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("bot: note an edit: %w", err)
	}
	if masked > 0 {
		e.metrics.maskedSecrets(masked)
	}
	if noted {
		e.log.InfoContext(ctx, "customer edit noted in the handoff thread", "platform", ed.Platform, "deleted", ed.Deleted)
		e.cfg.Notify()
	}
	return noted, nil
}

// noteEdit stores an edit of the customer message stored as original and
// relays it to the open handoff of its conversation, if there is one. It
// reports whether it did.
func (e *Engine) noteEdit(ctx context.Context, tx Tx, ed Edit, original, key, text string, now time.Time) (bool, error) {
	orig, err := tx.MessageByDedupeKey(ctx, original)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if orig.Role != RoleCustomer {
		return false, nil
	}
	conv, err := tx.Conversation(ctx, orig.ConversationID)
	if err != nil {
		return false, err
	}
	if !conv.ClosedAt.IsZero() || (conv.State != StateWaiting && conv.State != StateAgent) {
		return false, nil
	}
	when := orig.CreatedAt.UTC().Format("15:04 UTC")
	note := "✏️ (edited their message of " + when + ") " + text
	if ed.Deleted {
		note = "🗑️ (deleted their message of " + when + ")"
	}
	msg := Message{
		ConversationID: conv.ID,
		Role:           RoleEdit,
		Author:         orig.Author,
		AuthorName:     orig.AuthorName,
		Text:           note,
		DedupeKey:      key,
		Processed:      true,
		CreatedAt:      now,
	}
	inserted, err := tx.AddMessage(ctx, &msg)
	if err != nil || !inserted {
		return false, err // !inserted: a redelivery, noted already
	}
	if err := e.cfg.Escalator.CustomerMessage(ctx, tx, &conv, msg, nil); err != nil {
		return false, fmt.Errorf("relay to handoff: %w", err)
	}
	return true, tx.UpdateConversation(ctx, conv)
}

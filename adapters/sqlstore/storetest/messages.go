package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// mustMessage stores m and returns it with its ID.
func mustMessage(t *testing.T, s Store, m bot.Message) bot.Message {
	t.Helper()
	added := mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.AddMessage(t.Context(), &m) })
	if !added || m.ID == 0 {
		t.Fatalf("AddMessage(%q) = %v with ID %d, want true and an ID", m.Text, added, m.ID)
	}
	return m
}

// messageIDs returns the IDs of ms, in order.
func messageIDs(ms []bot.Message) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func testMessageDedupe(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	other := mustConversation(t, s, key(2))

	first := mustMessage(t, s, bot.Message{
		ConversationID: c.ID,
		Role:           bot.RoleCustomer,
		Author:         "U1",
		AuthorName:     "Ada",
		Text:           "where is my refund?",
		DedupeKey:      "slack:T1:D1:1700000000.000100",
		CreatedAt:      at(0),
	})
	got := mustTx(t, s, func(tx bot.Tx) (bot.Message, error) { return tx.Message(ctx, first.ID) })
	wantDiff(t, "Message", first, got)

	// The same platform message delivered again, even as another event
	// type and so possibly to another conversation, is stored once.
	for _, convID := range []int64{c.ID, other.ID} {
		dup := bot.Message{ConversationID: convID, Role: bot.RoleCustomer, Author: "U1", Text: "where is my refund?",
			DedupeKey: first.DedupeKey, CreatedAt: at(time.Second)}
		added := mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.AddMessage(ctx, &dup) })
		if added {
			t.Errorf("AddMessage with a duplicate DedupeKey into conversation %d = true, want false", convID)
		}
	}

	// Messages without a key (the bot's own) never collide.
	for range 2 {
		mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "Let me check.",
			PromptVersion: "sha256:abc", CreatedAt: at(2 * time.Second)})
	}

	ms := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, c.ID, 10) })
	if len(ms) != 3 {
		t.Errorf("RecentMessages: %d messages, want 3 (one customer message, two bot messages)", len(ms))
	}
	ms = mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, other.ID, 10) })
	if len(ms) != 0 {
		t.Errorf("RecentMessages of the other conversation: %d messages, want 0", len(ms))
	}

	err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.Message(ctx, first.ID+1000); return err })
	wantNotFound(t, "Message(unknown)", err)
}

func testMessagesRecent(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	other := mustConversation(t, s, key(2))

	var all []int64
	for i := range 5 {
		m := mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Author: "U1",
			Text: "message", CreatedAt: at(time.Duration(i) * time.Minute)})
		all = append(all, m.ID)
		mustMessage(t, s, bot.Message{ConversationID: other.ID, Role: bot.RoleCustomer, Text: "elsewhere",
			CreatedAt: at(time.Duration(i) * time.Minute)})
	}

	tests := []struct {
		name  string
		limit int
		want  []int64
	}{
		{"newest three, oldest first", 3, all[2:]},
		{"one", 1, all[4:]},
		{"limit above count", 10, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, c.ID, tt.limit) })
			wantDiff(t, "RecentMessages IDs", tt.want, messageIDs(ms))
		})
	}

	// Order is the order messages were stored, not their CreatedAt: a reply
	// is stored after the message it answers even if the clock that stamped
	// it was behind.
	late := mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "stamped early",
		CreatedAt: at(-time.Minute)})
	ms := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, c.ID, 2) })
	wantDiff(t, "RecentMessages IDs with an early-stamped message", []int64{all[4], late.ID}, messageIDs(ms))
}

// Customer messages not yet processed are what recovery answers
// (StrandedConversations, by their conversation, oldest first); MarkProcessed
// takes a message out of that.
func testMessagesProcessed(t *testing.T, s Store) {
	ctx := t.Context()
	c1 := mustConversation(t, s, key(1))
	c2 := mustConversation(t, s, key(2))

	a := mustMessage(t, s, bot.Message{ConversationID: c1.ID, Role: bot.RoleCustomer, Text: "a", CreatedAt: at(0)})
	mustMessage(t, s, bot.Message{ConversationID: c1.ID, Role: bot.RoleBot, Text: "bot", CreatedAt: at(time.Second)})
	mustMessage(t, s, bot.Message{ConversationID: c1.ID, Role: bot.RoleAgent, Text: "agent", CreatedAt: at(2 * time.Second)})
	mustMessage(t, s, bot.Message{ConversationID: c1.ID, Role: bot.RoleCustomer, Text: "done", Processed: true,
		CreatedAt: at(3 * time.Second)})
	mustMessage(t, s, bot.Message{ConversationID: c2.ID, Role: bot.RoleCustomer, Text: "b", CreatedAt: at(4 * time.Second)})
	c := mustMessage(t, s, bot.Message{ConversationID: c1.ID, Role: bot.RoleCustomer, Text: "c", CreatedAt: at(5 * time.Second)})

	unanswered := func(limit int) []int64 {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) ([]int64, error) {
			return tx.StrandedConversations(ctx, at(time.Hour), at(time.Hour), limit)
		})
	}
	wantDiff(t, "conversations with unprocessed messages", []int64{c1.ID, c2.ID}, unanswered(10))
	wantDiff(t, "with limit 1", []int64{c1.ID}, unanswered(1))

	markProcessed := func(id int64) bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.MarkProcessed(ctx, id) })
	}
	if !markProcessed(a.ID) {
		t.Error("MarkProcessed of an unprocessed message = false, want true")
	}
	// c1 still waits with c, now after c2's b.
	wantDiff(t, "after MarkProcessed", []int64{c2.ID, c1.ID}, unanswered(10))
	got := mustTx(t, s, func(tx bot.Tx) (bot.Message, error) { return tx.Message(ctx, a.ID) })
	if !got.Processed {
		t.Error("Message after MarkProcessed: Processed = false")
	}

	// Marking twice is harmless, and says that the message was processed
	// already: a turn on another replica answered it.
	if markProcessed(a.ID) {
		t.Error("MarkProcessed of a processed message = true, want false")
	}

	err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.MarkProcessed(ctx, c.ID+1000); return err })
	wantNotFound(t, "MarkProcessed(unknown)", err)
}

// A message is found again by its platform's id (edits and deletions name
// the message they change that way); an unknown key is ErrNotFound.
func testMessageByDedupeKey(t *testing.T, s Store) {
	c := mustConversation(t, s, key(1))
	m := mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Author: "U1",
		Text: "status of PAY-1001", DedupeKey: "slack:T1:D1:1.5", CreatedAt: at(0)})
	got := mustTx(t, s, func(tx bot.Tx) (bot.Message, error) { return tx.MessageByDedupeKey(t.Context(), "slack:T1:D1:1.5") })
	if got.ID != m.ID || got.Text != m.Text || got.ConversationID != c.ID {
		t.Errorf("MessageByDedupeKey = %+v; want %+v", got, m)
	}
	err := s.WithTx(t.Context(), func(tx bot.Tx) error {
		_, err := tx.MessageByDedupeKey(t.Context(), "slack:T1:D1:9.9")
		return err
	})
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown key: %v; want ErrNotFound", err)
	}
}

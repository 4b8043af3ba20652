package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

func testConversationCreateGetUpdate(t *testing.T, s Store) {
	ctx := t.Context()
	// A Discord DM: no workspace and no thread, the parts of the key most
	// likely to be mishandled.
	dm := bot.ConversationKey{Platform: bot.Discord, Channel: "DM-1"}
	c := bot.Conversation{
		Key:        dm,
		State:      bot.StateBot,
		Private:    true,
		User:       "U1",
		UserName:   "Ada",
		CustomerID: "C-1001",
		Lang:       "en",
		OpenedAt:   at(0),
	}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
	if c.ID == 0 {
		t.Fatal("CreateConversation did not set ID")
	}

	got := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	wantDiff(t, "Conversation", c, got)
	got = mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.ActiveConversation(ctx, dm) })
	wantDiff(t, "ActiveConversation", c, got)

	// Keys differing in one part are other conversations.
	for _, k := range []bot.ConversationKey{
		{Platform: bot.Slack, Channel: "DM-1"},
		{Platform: bot.Discord, Workspace: "G1", Channel: "DM-1"},
		{Platform: bot.Discord, Channel: "DM-2"},
		{Platform: bot.Discord, Channel: "DM-1", Thread: "T"},
	} {
		err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.ActiveConversation(ctx, k); return err })
		wantNotFound(t, fmt.Sprintf("ActiveConversation(%+v)", k), err)
	}
	err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.Conversation(ctx, c.ID+1000); return err })
	wantNotFound(t, "Conversation(unknown)", err)

	// UpdateConversation saves the fields that change over a conversation's life.
	h := mustHandoff(t, s, c.ID, at(time.Minute))
	c.State = bot.StateWaiting
	c.Lang = "de"
	c.RatingHandoffID = h.ID
	c.Misses = 2
	c.CustomerID = "C-2002"
	c.LastMessageAt = at(2 * time.Minute)
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, c) })
	got = mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	wantDiff(t, "Conversation after update", c, got)

	// Back to the zero values: "" and 0 must read back as such.
	c.State = bot.StateBot
	c.Lang = ""
	c.RatingHandoffID = 0
	c.Misses = 0
	c.CustomerID = ""
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, c) })
	got = mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	wantDiff(t, "Conversation after clearing", c, got)

	// Closing it ends ActiveConversation.
	c.ClosedAt = at(time.Hour)
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, c) })
	err = txErr(t, s, func(tx bot.Tx) error { _, err := tx.ActiveConversation(ctx, dm); return err })
	wantNotFound(t, "ActiveConversation after close", err)
	got = mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, c.ID) })
	wantDiff(t, "closed Conversation", c, got)

	missing := c
	missing.ID += 1000
	err = txErr(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, missing) })
	wantNotFound(t, "UpdateConversation(unknown)", err)
}

func testConversationOneOpenPerKey(t *testing.T, s Store) {
	ctx := t.Context()
	k := key(1)
	first := mustConversation(t, s, k)

	second := bot.Conversation{Key: k, State: bot.StateBot, User: "U2", OpenedAt: at(time.Minute)}
	if err := txErr(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &second) }); err == nil {
		t.Fatal("CreateConversation: a second open conversation at one key was accepted")
	}

	// A closed conversation at the key does not count.
	closed := bot.Conversation{Key: k, State: bot.StateBot, User: "U0", OpenedAt: at(-time.Hour), ClosedAt: at(-time.Minute)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &closed) })

	first.ClosedAt = at(2 * time.Minute)
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, first) })
	second.ID = 0
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &second) })

	got := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.ActiveConversation(ctx, k) })
	if got.ID != second.ID {
		t.Errorf("ActiveConversation = conversation %d, want the new one %d", got.ID, second.ID)
	}

	// Reopening the first would make two open conversations at the key.
	first.ClosedAt = time.Time{}
	if err := txErr(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, first) }); err == nil {
		t.Error("UpdateConversation: reopening a second conversation at one key was accepted")
	}
}

// testConversationConcurrentGetOrCreate runs the engine's pattern, look up
// the open conversation or create it, from many goroutines at once: the
// store serializes the transactions, so exactly one conversation is created
// and no transaction fails.
func testConversationConcurrentGetOrCreate(t *testing.T, s Store) {
	ctx := t.Context()
	const n = 20
	k := key(7)
	ids := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.WithTx(ctx, func(tx bot.Tx) error {
				c, err := tx.ActiveConversation(ctx, k)
				if errors.Is(err, bot.ErrNotFound) {
					c = bot.Conversation{Key: k, State: bot.StateBot, User: "U1", OpenedAt: at(0)}
					err = tx.CreateConversation(ctx, &c)
				}
				ids[i] = c.ID
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("WithTx: %v", err)
		}
	}
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("goroutine %d saw conversation %d, goroutine 0 saw %d", i, id, ids[0])
		}
	}
}

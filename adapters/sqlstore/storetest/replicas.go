package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/bot"
)

// testReadsAreStable: a conversation or handoff read in a transaction stays
// as read until the transaction ends, whatever other transactions (on other
// replicas) try meanwhile. The engine and the handoff flow decide on what
// they read (is this agent the one who claimed it? is the conversation
// waiting?) and then write; the store must serialize conflicting writers for
// that to be sound (SQLite runs one transaction at a time, PostgreSQL locks
// the rows read).
func testReadsAreStable(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))
	ann := mustEnqueue(t, s, announcement(c.ID, h.ID))
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, h.ID, ann.ID) })
	if err := s.MarkSent(ctx, ann.ID, "1700000001.000200", at(time.Minute)); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}

	misses := 0
	changeConversation := func(tx bot.Tx) error {
		misses++
		changed := c
		changed.Misses = misses
		return tx.UpdateConversation(ctx, changed)
	}
	tests := []struct {
		name   string
		read   func(tx bot.Tx) (any, error)
		change func(tx bot.Tx) error
	}{
		{
			"Conversation",
			func(tx bot.Tx) (any, error) { return tx.Conversation(ctx, c.ID) },
			changeConversation,
		},
		{
			"ActiveConversation",
			func(tx bot.Tx) (any, error) { return tx.ActiveConversation(ctx, c.Key) },
			changeConversation,
		},
		{
			"Handoff",
			func(tx bot.Tx) (any, error) { return tx.Handoff(ctx, h.ID) },
			func(tx bot.Tx) error {
				_, err := tx.ClaimHandoff(ctx, h.ID, "UB", "Agent UB", at(time.Hour))
				return err
			},
		},
		{
			"HandoffByThread",
			func(tx bot.Tx) (any, error) {
				return tx.HandoffByThread(ctx, bot.Slack, "C-AGENTS", "1700000001.000200")
			},
			func(tx bot.Tx) error {
				_, err := tx.UnclaimHandoff(ctx, h.ID)
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var once sync.Once
			read := make(chan struct{})
			reader := make(chan error, 1)
			go func() {
				reader <- s.WithTx(ctx, func(tx bot.Tx) error {
					first, err := tt.read(tx)
					if err != nil {
						return err
					}
					once.Do(func() { close(read) })
					// Give the writer time to try. It must wait for this
					// transaction; a store that lets it through fails
					// below, whatever the timing.
					time.Sleep(50 * time.Millisecond)
					second, err := tt.read(tx)
					if err != nil {
						return err
					}
					if diff := cmp.Diff(first, second); diff != "" {
						return fmt.Errorf("read twice in one transaction, it changed (-first +second):\n%s", diff)
					}
					return nil
				})
			}()
			select {
			case <-read:
			case err := <-reader:
				t.Fatalf("reader: %v", err)
			}
			writeErr := s.WithTx(ctx, tt.change)
			if err := <-reader; err != nil {
				t.Errorf("reader: %v", err)
			}
			if writeErr != nil {
				t.Errorf("writer: %v", writeErr)
			}
		})
	}
}

// testOutboxClaimRows: Claim returns the rows as Due does, every field
// (ParentRef, buttons, the next attempt before the lease), oldest first.
func testOutboxClaimRows(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	h := mustHandoff(t, s, c.ID, at(0))
	parent := mustEnqueue(t, s, announcement(c.ID, h.ID))
	child := announcement(c.ID, h.ID)
	child.Kind, child.Stream, child.ParentID = bot.KindThread, "thread:1", parent.ID
	child.Buttons = []bot.Button{{Action: bot.ActionClaim, Label: "Claim", Value: "1"}}
	child = mustEnqueue(t, s, child)
	for i := range 3 {
		mustEnqueue(t, s, reply(fmt.Sprint("conv:", i), at(time.Duration(i)*time.Second)))
	}
	if err := s.MarkSent(ctx, parent.ID, "1700000001.000200", at(time.Minute)); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	now := at(time.Hour)
	due, err := s.Due(ctx, now, 10)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	if len(due) != 4 || due[0].ID != child.ID || due[0].ParentRef != "1700000001.000200" {
		t.Fatalf("Due = %+v; want the child (with its parent's ref) and three replies", due)
	}
	claimed, err := s.Claim(ctx, now, 10, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	wantDiff(t, "Claim rows", due, claimed)
	if rows, err := s.Due(ctx, now, 10); err != nil || len(rows) != 0 {
		t.Errorf("Due during the lease = %d rows, %v; want none", len(rows), err)
	}
}

package sqlstore_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
)

// TestExclusive: one process answers on a file at a time, and the next one
// takes back at once what a stopped one left leased: its turns and its
// claimed outbox rows (still marked maybe sent).
func TestSQLiteExclusive(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "firstline.db")
	first, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := first.Exclusive(ctx); err != nil || r != (sqlstore.Recovered{}) {
		t.Fatalf("first Exclusive = %+v, %v; want nothing recovered", r, err)
	}

	// The first process starts a turn and claims a reply, then stops
	// without finishing either, as a crash leaves them.
	now := time.Now()
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D1"},
		State: bot.StateBot, Private: true, User: "U1", OpenedAt: now}
	doTx(t, first, func(tx bot.Tx) error {
		if err := tx.CreateConversation(ctx, &c); err != nil {
			return err
		}
		m := bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Author: "U1", Text: "status of PAY-1001",
			DedupeKey: "slack:1.1", CreatedAt: now.Add(-time.Second)}
		if _, err := tx.AddMessage(ctx, &m); err != nil {
			return err
		}
		if took, err := tx.LeaseTurn(ctx, c.ID, "first", now, now.Add(time.Hour)); err != nil || !took {
			t.Fatalf("LeaseTurn = %v, %v", took, err)
		}
		return tx.Enqueue(ctx, &bot.Outgoing{Platform: bot.Slack, Workspace: "T1", Channel: "D1",
			Stream: "conv:1", Kind: bot.KindReply, Text: "hello", CreatedAt: now})
	})
	if rows, err := first.Claim(ctx, now, 10, time.Hour); err != nil || len(rows) != 1 {
		t.Fatalf("Claim = %d rows, %v", len(rows), err)
	}

	second, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := second.Exclusive(ctx); !errors.Is(err, sqlstore.ErrInUse) {
		t.Fatalf("Exclusive while the first runs: %v; want ErrInUse", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := second.Exclusive(ctx)
	if err != nil {
		t.Fatalf("Exclusive after the first stopped: %v", err)
	}
	if want := (sqlstore.Recovered{TurnLeases: 1, Claims: 1}); r != want {
		t.Errorf("recovered %+v; want %+v", r, want)
	}
	later := time.Now().Add(time.Millisecond)
	doTx(t, second, func(tx bot.Tx) error {
		ids, err := tx.StrandedConversations(ctx, later, later, 10)
		if err != nil || len(ids) != 1 || ids[0] != c.ID {
			t.Errorf("stranded = %v, %v; want [%d] at once", ids, err, c.ID)
		}
		return nil
	})
	rows, err := second.Claim(ctx, later, 10, time.Minute)
	if err != nil || len(rows) != 1 || !rows[0].MaybeSent {
		t.Errorf("Claim after recovery = %+v, %v; want the row back at once, maybe sent", rows, err)
	}
}

func doTx(t *testing.T, s *sqlstore.Store, fn func(bot.Tx) error) {
	t.Helper()
	if err := s.WithTx(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

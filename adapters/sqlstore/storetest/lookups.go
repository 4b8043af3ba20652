package storetest

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

func testOpenConversations(t *testing.T, s Store) {
	a := mustConversation(t, s, key(1))
	b := mustConversation(t, s, key(2))
	discord := mustConversation(t, s, bot.ConversationKey{Platform: bot.Discord, Channel: "42"})
	b.ClosedAt = at(time.Hour)
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(t.Context(), b) })

	got := mustTx(t, s, func(tx bot.Tx) ([]bot.Conversation, error) { return tx.OpenConversations(t.Context(), bot.Slack) })
	if len(got) != 1 || got[0].ID != a.ID {
		t.Errorf("open Slack conversations = %+v; want only %d", got, a.ID)
	}
	got = mustTx(t, s, func(tx bot.Tx) ([]bot.Conversation, error) { return tx.OpenConversations(t.Context(), bot.Discord) })
	if len(got) != 1 || got[0].ID != discord.ID {
		t.Errorf("open Discord conversations = %+v; want only %d", got, discord.ID)
	}
}

func testLastDedupeKey(t *testing.T, s Store) {
	c := mustConversation(t, s, key(1))
	last := func(roles ...bot.Role) string {
		return mustTx(t, s, func(tx bot.Tx) (string, error) { return tx.LastDedupeKey(t.Context(), c.ID, roles...) })
	}
	if k := last(bot.RoleCustomer); k != "" {
		t.Errorf("empty conversation: %q", k)
	}
	mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Text: "a", DedupeKey: "slack:1", CreatedAt: at(0)})
	mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleAgent, Text: "b", DedupeKey: "slack:2", CreatedAt: at(1)})
	mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "c", CreatedAt: at(2)})
	mustMessage(t, s, bot.Message{ConversationID: c.ID, Role: bot.RoleNote, Text: "d", DedupeKey: "slack:3", CreatedAt: at(3)})
	for _, tc := range []struct {
		roles []bot.Role
		want  string
	}{
		{[]bot.Role{bot.RoleCustomer}, "slack:1"},
		{[]bot.Role{bot.RoleAgent, bot.RoleNote}, "slack:3"},
		{[]bot.Role{bot.RoleAgent}, "slack:2"},
		{[]bot.Role{bot.RoleBot}, ""},
		{nil, ""},
	} {
		if got := last(tc.roles...); got != tc.want {
			t.Errorf("LastDedupeKey(%v) = %q; want %q", tc.roles, got, tc.want)
		}
	}
}

func testOpenHandoffs(t *testing.T, s Store) {
	c1 := mustConversation(t, s, key(1))
	c2 := mustConversation(t, s, key(2))
	c3 := mustConversation(t, s, key(3))
	h1 := mustHandoff(t, s, c1.ID, at(0))
	h2 := mustHandoff(t, s, c2.ID, at(1))
	h3 := mustHandoff(t, s, c3.ID, at(2))
	for i, h := range []bot.Handoff{h1, h2, h3} {
		ann := mustEnqueue(t, s, announcement(h.ConversationID, h.ID))
		mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(t.Context(), h.ID, ann.ID) })
		if i < 2 { // h3's announcement is not delivered yet
			if err := s.MarkSent(t.Context(), ann.ID, "ts-"+string(rune('a'+i)), at(3)); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustDo(t, s, func(tx bot.Tx) error {
		_, err := tx.ResolveHandoff(t.Context(), h2.ID, at(4))
		return err
	})
	got := mustTx(t, s, func(tx bot.Tx) ([]bot.HandoffThread, error) { return tx.OpenHandoffs(t.Context(), bot.Slack) })
	if len(got) != 1 || got[0].Handoff.ID != h1.ID || got[0].Ref != "ts-a" {
		t.Errorf("open handoffs = %+v; want only %d at ts-a", got, h1.ID)
	}
	if got := mustTx(t, s, func(tx bot.Tx) ([]bot.HandoffThread, error) { return tx.OpenHandoffs(t.Context(), bot.Discord) }); len(got) != 0 {
		t.Errorf("open Discord handoffs = %+v; want none", got)
	}
}

func testCustomerByEmail(t *testing.T, s Store) {
	for _, c := range []bot.Customer{
		{ID: "C-1", Email: "Ada@Example.com"},
		{ID: "C-2", Email: "shared@example.com"},
		{ID: "C-3", Email: "SHARED@example.com"},
		{ID: "C-4"},
	} {
		if err := s.PutCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(email string) []string {
		t.Helper()
		cs, err := s.CustomersByEmail(t.Context(), email)
		if err != nil {
			t.Fatalf("CustomersByEmail(%q): %v", email, err)
		}
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		email string
		want  []string
	}{
		{"ada@example.COM", []string{"C-1"}},
		{"  ada@example.com ", []string{"C-1"}},
		{"nobody@example.com", []string{}},
		{"shared@example.com", []string{"C-2", "C-3"}},
		{"", []string{}},
	} {
		wantDiff(t, "CustomersByEmail("+tc.email+")", tc.want, ids(tc.email))
	}
}

func testLinkIdentity(t *testing.T, s Store) {
	mustCustomer(t, s, "C-1")
	mustCustomer(t, s, "C-2")
	id := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}
	mustDo(t, s, func(tx bot.Tx) error {
		return tx.LinkIdentity(t.Context(), bot.Link{Identity: id, CustomerID: "C-1", CreatedAt: at(0)})
	})
	mustDo(t, s, func(tx bot.Tx) error {
		return tx.LinkIdentity(t.Context(), bot.Link{Identity: id, CustomerID: "C-2", CreatedAt: at(1)})
	})
	got := mustTx(t, s, func(tx bot.Tx) (string, error) { return tx.CustomerFor(t.Context(), id) })
	if got != "C-2" {
		t.Errorf("linked to %q; want C-2", got)
	}
	// The directory vouched for the customer; the table need not hold it.
	mustDo(t, s, func(tx bot.Tx) error {
		return tx.LinkIdentity(t.Context(), bot.Link{Identity: id, CustomerID: "C-API-404"})
	})
	if got := mustTx(t, s, func(tx bot.Tx) (string, error) { return tx.CustomerFor(t.Context(), id) }); got != "C-API-404" {
		t.Errorf("linked to %q; want C-API-404", got)
	}
	err := txErr(t, s, func(tx bot.Tx) error {
		return tx.LinkIdentity(t.Context(), bot.Link{Identity: id})
	})
	if err == nil {
		t.Error("a link without a customer id was stored")
	}
}

func testOutboxDefer(t *testing.T, s Store) {
	m := mustEnqueue(t, s, reply("conv:1", at(0)))
	if err := s.Defer(t.Context(), m.ID, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ids := due(t, s, at(30*time.Second), 10); len(ids) != 0 {
		t.Errorf("deferred row due early: %v", ids)
	}
	rows, err := s.Due(t.Context(), at(time.Minute), 10)
	if err != nil || len(rows) != 1 || rows[0].Attempts != 0 {
		t.Errorf("after the deferral: %+v, %v; want the row with 0 attempts", rows, err)
	}
	wantNotFound(t, "defer an unknown row", s.Defer(t.Context(), 9999, at(0)))
}

// mustTxErr runs fn in a transaction and returns its value and error.
func mustTxErr[T any](t *testing.T, s Store, fn func(tx bot.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := s.WithTx(t.Context(), func(tx bot.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// Several dispatchers (replicas) claiming at once never get the same row,
// and a claimed row comes back when its lease ends (its sender died).
func testOutboxClaim(t *testing.T, s Store) {
	for i := range 20 {
		mustEnqueue(t, s, reply("conv:"+string(rune('a'+i)), at(0)))
	}
	const claimers = 4
	got := make([][]bot.Outgoing, claimers)
	errs := make([]error, claimers)
	done := make(chan int)
	for i := range claimers {
		go func() {
			got[i], errs[i] = s.Claim(t.Context(), at(time.Second), 10, time.Minute)
			done <- i
		}()
	}
	for range claimers {
		<-done
	}
	seen := map[int64]bool{}
	total := 0
	for i := range claimers {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		for _, m := range got[i] {
			if seen[m.ID] {
				t.Errorf("row %d claimed twice", m.ID)
			}
			seen[m.ID] = true
			total++
		}
	}
	if total != 20 {
		t.Errorf("%d rows claimed in all; want 20", total)
	}
	if rows, err := s.Claim(t.Context(), at(30*time.Second), 100, time.Minute); err != nil || len(rows) != 0 {
		t.Errorf("claimed rows claimable again within the lease: %d, %v", len(rows), err)
	}
	if rows, err := s.Claim(t.Context(), at(2*time.Minute), 100, time.Minute); err != nil || len(rows) != 20 {
		t.Errorf("after the lease: %d rows, %v; want all 20 back", len(rows), err)
	}
}

// A row claimed again while its send's outcome was never recorded (the
// sender died) is marked MaybeSent; any recorded outcome clears it.
func testOutboxMaybeSent(t *testing.T, s Store) {
	m := mustEnqueue(t, s, reply("conv:1", at(0)))
	claim := func(now time.Time) []bot.Outgoing {
		rows, err := s.Claim(t.Context(), now, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if rows := claim(at(time.Second)); len(rows) != 1 || rows[0].MaybeSent {
		t.Fatalf("first claim = %+v; want the row, not maybe sent", rows)
	}
	// The dispatcher died: the lease runs out and the row is claimed again.
	rows := claim(at(2 * time.Minute))
	if len(rows) != 1 || !rows[0].MaybeSent {
		t.Fatalf("claim after a lost lease = %+v; want MaybeSent", rows)
	}
	if err := s.Defer(t.Context(), m.ID, at(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rows := claim(at(4 * time.Minute)); len(rows) != 1 || rows[0].MaybeSent {
		t.Errorf("after a recorded outcome = %+v; want not maybe sent", rows)
	}
}

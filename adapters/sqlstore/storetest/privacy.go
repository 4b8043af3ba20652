package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// The contract of bot.Privacy: the audit log, export and erasure,
// retention, identity verifications and the daily token budget.

func testAuditAppendAndQuery(t *testing.T, s Store) {
	ctx := t.Context()
	entries := []bot.AuditEntry{
		{At: at(0), Actor: "slack:T1:U1", ActorCustomer: "C-1", CustomerID: "C-1", Action: bot.AuditPaymentList,
			Record: "PAY-1,PAY-2", Outcome: bot.AuditAllowed, ConversationID: 7},
		{At: at(time.Hour), Actor: "slack:T1:U1", ActorCustomer: "C-1", CustomerID: "C-2", Action: bot.AuditPaymentLookup,
			Record: "PAY-9", Outcome: bot.AuditRefused, Reason: "not_yours", ConversationID: 7},
		{At: at(2 * time.Hour), Actor: "admin:root", CustomerID: "C-3", Action: bot.AuditLink,
			Record: "slack:T1:U3", Outcome: bot.AuditAllowed},
		{At: at(3 * time.Hour), Actor: "discord:42", Action: bot.AuditPaymentLookup, Record: "PAY-404",
			Outcome: bot.AuditRefused, Reason: "not_linked"},
	}
	for i := range entries {
		mustDo(t, s, func(tx bot.Tx) error { return tx.AppendAudit(ctx, &entries[i]) })
		if entries[i].ID == 0 {
			t.Fatal("AppendAudit did not set ID")
		}
	}
	query := func(q bot.AuditQuery) []bot.AuditEntry {
		return mustTx(t, s, func(tx bot.Tx) ([]bot.AuditEntry, error) { return tx.AuditEntries(ctx, q) })
	}
	tests := []struct {
		name string
		q    bot.AuditQuery
		want []bot.AuditEntry
	}{
		{"all", bot.AuditQuery{}, entries},
		{"since", bot.AuditQuery{Since: at(time.Hour)}, entries[1:]},
		{"about or by a customer", bot.AuditQuery{CustomerID: "C-2"}, entries[1:2]},
		{"by a customer's identity", bot.AuditQuery{CustomerID: "C-1"}, entries[:2]},
		{"the newest, oldest first", bot.AuditQuery{Limit: 2}, entries[2:]},
		{"nothing", bot.AuditQuery{Since: at(4 * time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := query(tt.q)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			wantDiff(t, "AuditEntries", tt.want, got)
		})
	}

	// A zero time is stored as the store's now.
	e := bot.AuditEntry{Actor: "system:retention", Action: bot.AuditRetention, Outcome: bot.AuditAllowed}
	mustDo(t, s, func(tx bot.Tx) error { return tx.AppendAudit(ctx, &e) })
	if e.At.IsZero() {
		t.Error("AppendAudit left At zero")
	}
}

// customerFixture is one customer's data spread over every table, and
// another customer's beside it that erasure must leave alone.
type customerFixture struct {
	convs    []bot.Conversation // the customer's conversations, by id
	other    bot.Conversation   // the other customer's conversation
	handoffs []bot.Handoff
	slack    bot.Identity
	discord  bot.Identity
}

func mustCustomerFixture(t *testing.T, s Store) customerFixture {
	t.Helper()
	ctx := t.Context()
	mustCustomer(t, s, "C-1")
	mustCustomer(t, s, "C-2")
	f := customerFixture{
		slack:   bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"},
		discord: bot.Identity{Platform: bot.Discord, User: "D1"},
	}
	for _, l := range []bot.Link{
		{Identity: f.slack, CustomerID: "C-1", CreatedAt: at(0)},
		{Identity: f.discord, CustomerID: "C-1", CreatedAt: at(0)},
		{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U2"}, CustomerID: "C-2", CreatedAt: at(0)},
	} {
		if err := s.Link(ctx, l); err != nil {
			t.Fatalf("Link: %v", err)
		}
	}
	for _, p := range []bot.Payment{
		{Reference: "PAY-1", CustomerID: "C-1", Amount: "1.00", Currency: "EUR", Status: bot.PaymentSettled, CreatedAt: at(0), UpdatedAt: at(0)},
		{Reference: "PAY-2", CustomerID: "C-2", Amount: "2.00", Currency: "EUR", Status: bot.PaymentSettled, CreatedAt: at(0), UpdatedAt: at(0)},
	} {
		if err := s.PutPayment(ctx, p); err != nil {
			t.Fatalf("PutPayment: %v", err)
		}
	}
	conv := func(k bot.ConversationKey, user, customer string) bot.Conversation {
		c := bot.Conversation{Key: k, State: bot.StateBot, Private: true, User: user, UserName: "someone",
			CustomerID: customer, OpenedAt: at(0), LastMessageAt: at(time.Minute)}
		mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
		for i, role := range []bot.Role{bot.RoleCustomer, bot.RoleBot} {
			m := bot.Message{ConversationID: c.ID, Role: role, Text: fmt.Sprintf("message %d of %d", i, c.ID), CreatedAt: at(time.Minute)}
			mustDo(t, s, func(tx bot.Tx) error { _, err := tx.AddMessage(ctx, &m); return err })
		}
		mustEnqueue(t, s, bot.Outgoing{Platform: k.Platform, Workspace: k.Workspace, Channel: k.Channel,
			Stream: bot.ConversationStream(c.ID), Kind: bot.KindReply, Text: "hello", ConversationID: c.ID, CreatedAt: at(0)})
		return c
	}
	// Linked when it was looked up; by the Slack identity before it was
	// linked; by the Discord identity in a server (whose conversations
	// carry the guild, while Discord identities do not).
	f.convs = []bot.Conversation{
		conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D-U1", Thread: "1"}, "U1", "C-1"),
		conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D-U1", Thread: "2"}, "U1", ""),
		conv(bot.ConversationKey{Platform: bot.Discord, Workspace: "G1", Channel: "TH1"}, "D1", ""),
	}
	f.other = conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D-U2"}, "U2", "C-2")
	// The same user id in another Slack workspace is someone else.
	conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T9", Channel: "D-U1"}, "U1", "")

	h := mustHandoff(t, s, f.convs[0].ID, at(time.Minute))
	ann := mustEnqueue(t, s, announcement(f.convs[0].ID, h.ID))
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, h.ID, ann.ID) })
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h.ID, at(time.Hour)) })
	mustDo(t, s, func(tx bot.Tx) error { return tx.RateHandoff(ctx, h.ID, 4) })
	f.handoffs = []bot.Handoff{handoff(t, s, h.ID)}
	mustHandoff(t, s, f.other.ID, at(time.Minute))

	mustDo(t, s, func(tx bot.Tx) error {
		return tx.PutVerification(ctx, bot.Verification{Identity: f.slack, ConversationID: f.convs[1].ID,
			Step: bot.VerifyCode, CustomerID: "C-1", CodeHash: "salt:hash", ExpiresAt: at(time.Hour), UpdatedAt: at(0)})
	})
	mustDo(t, s, func(tx bot.Tx) error {
		return tx.PutVerification(ctx, bot.Verification{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U2"},
			Step: bot.VerifyEmail, UpdatedAt: at(0)})
	})
	for _, e := range []bot.AuditEntry{
		{At: at(0), Actor: "slack:T1:U1", ActorCustomer: "C-1", CustomerID: "C-1", Action: bot.AuditPaymentList, Outcome: bot.AuditAllowed},
		{At: at(0), Actor: "slack:T1:U2", ActorCustomer: "C-2", CustomerID: "C-2", Action: bot.AuditPaymentList, Outcome: bot.AuditAllowed},
	} {
		mustDo(t, s, func(tx bot.Tx) error { return tx.AppendAudit(ctx, &e) })
	}
	return f
}

func customerData(t *testing.T, s Store, id string) (bot.CustomerData, error) {
	t.Helper()
	var d bot.CustomerData
	err := txErr(t, s, func(tx bot.Tx) error {
		var err error
		d, err = tx.CustomerData(t.Context(), id)
		return err
	})
	return d, err
}

func testCustomerData(t *testing.T, s Store) {
	f := mustCustomerFixture(t, s)
	d, err := customerData(t, s, "C-1")
	if err != nil {
		t.Fatalf("CustomerData: %v", err)
	}
	if d.Customer.ID != "C-1" || d.Customer.Email != "C-1@example.com" {
		t.Errorf("Customer = %+v, want C-1 with its email", d.Customer)
	}
	if len(d.Identities) != 2 || d.Identities[0].Identity != f.discord || d.Identities[1].Identity != f.slack {
		t.Errorf("Identities = %+v, want the Discord and the Slack identity", d.Identities)
	}
	var ids []int64
	for _, c := range d.Conversations {
		ids = append(ids, c.Conversation.ID)
		if len(c.Messages) != 2 {
			t.Errorf("conversation %d: %d messages, want 2", c.Conversation.ID, len(c.Messages))
		}
	}
	wantDiff(t, "conversation ids", []int64{f.convs[0].ID, f.convs[1].ID, f.convs[2].ID}, ids)
	if len(d.Conversations) > 0 {
		wantDiff(t, "handoffs", f.handoffs, d.Conversations[0].Handoffs)
	}
	if len(d.Payments) != 1 || d.Payments[0].Reference != "PAY-1" {
		t.Errorf("Payments = %+v, want PAY-1", d.Payments)
	}
	if len(d.Verifications) != 1 || d.Verifications[0].Identity != f.slack || d.Verifications[0].CodeHash != "salt:hash" {
		t.Errorf("Verifications = %+v, want the Slack identity's", d.Verifications)
	}
	if len(d.Audit) != 1 || d.Audit[0].CustomerID != "C-1" {
		t.Errorf("Audit = %+v, want the one entry about C-1", d.Audit)
	}

	_, err = customerData(t, s, "C-404")
	wantNotFound(t, "CustomerData(unknown)", err)
}

func testEraseCustomer(t *testing.T, s Store) {
	ctx := t.Context()
	f := mustCustomerFixture(t, s)
	before, err := customerData(t, s, "C-2")
	if err != nil {
		t.Fatalf("CustomerData(C-2): %v", err)
	}

	erased := mustTx(t, s, func(tx bot.Tx) (bot.Erased, error) { return tx.EraseCustomer(ctx, "C-1") })
	want := bot.Erased{Customer: true, Identities: 2, Conversations: 3, Messages: 6, Handoffs: 1, Payments: 1, Verifications: 1}
	wantDiff(t, "Erased", want, erased)

	// What is left about C-1 is the audit log, which erasure keeps.
	d, err := customerData(t, s, "C-1")
	if err != nil {
		t.Fatalf("CustomerData after erasure: %v", err)
	}
	if len(d.Identities)+len(d.Conversations)+len(d.Payments)+len(d.Verifications) != 0 || d.Customer.Email != "" {
		t.Errorf("CustomerData after erasure = %+v, want only the audit log", d)
	}
	if len(d.Audit) != 1 {
		t.Errorf("audit entries after erasure = %d, want the 1 kept", len(d.Audit))
	}
	for _, c := range f.convs {
		err := txErr(t, s, func(tx bot.Tx) error { _, err := tx.Conversation(ctx, c.ID); return err })
		wantNotFound(t, fmt.Sprintf("Conversation(%d) after erasure", c.ID), err)
	}
	_, err = mustCustomerFor(t, s, f.slack)
	wantNotFound(t, "CustomerFor(erased identity)", err)
	// The erased conversations' outbox rows went with them.
	for _, r := range mustDue(t, s, at(time.Hour)) {
		for _, c := range f.convs {
			if r.ConversationID == c.ID {
				t.Errorf("outbox row %d of erased conversation %d is still due", r.ID, c.ID)
			}
		}
	}

	after, err := customerData(t, s, "C-2")
	if err != nil {
		t.Fatalf("CustomerData(C-2) after erasing C-1: %v", err)
	}
	wantDiff(t, "the other customer's data", before, after)

	again := mustTx(t, s, func(tx bot.Tx) (bot.Erased, error) { return tx.EraseCustomer(ctx, "C-1") })
	if !again.Zero() {
		t.Errorf("erasing again = %+v, want nothing", again)
	}
}

func mustCustomerFor(t *testing.T, s Store, id bot.Identity) (string, error) {
	t.Helper()
	var c string
	err := txErr(t, s, func(tx bot.Tx) error {
		var err error
		c, err = tx.CustomerFor(t.Context(), id)
		return err
	})
	return c, err
}

func testUnlinkIdentity(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1")
	id := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}
	if err := s.Link(ctx, bot.Link{Identity: id, CustomerID: "C-1", CreatedAt: at(0)}); err != nil {
		t.Fatalf("Link: %v", err)
	}
	got := mustTx(t, s, func(tx bot.Tx) (string, error) { return tx.UnlinkIdentity(ctx, id) })
	if got != "C-1" {
		t.Errorf("UnlinkIdentity = %q, want C-1", got)
	}
	_, err := mustCustomerFor(t, s, id)
	wantNotFound(t, "CustomerFor after UnlinkIdentity", err)
	err = txErr(t, s, func(tx bot.Tx) error { _, err := tx.UnlinkIdentity(ctx, id); return err })
	wantNotFound(t, "UnlinkIdentity again", err)
}

func testRetentionMessages(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	var old []bot.Message
	for i := range 5 {
		m := bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Author: "U1", AuthorName: "Ada",
			Text: "my card ends in 4242", DedupeKey: fmt.Sprintf("slack:m%d", i), Processed: true,
			CreatedAt: at(time.Duration(i) * time.Minute)}
		mustDo(t, s, func(tx bot.Tx) error { _, err := tx.AddMessage(ctx, &m); return err })
		old = append(old, m)
	}
	fresh := bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "fresh", CreatedAt: at(time.Hour)}
	mustDo(t, s, func(tx bot.Tx) error { _, err := tx.AddMessage(ctx, &fresh); return err })

	cutoff := at(30 * time.Minute)
	scrub := func(limit int) int {
		return mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.ScrubMessages(ctx, cutoff, limit) })
	}
	// Batches: what one run leaves, the next takes; then nothing is left.
	for _, want := range []int{2, 2, 1, 0} {
		if got := scrub(2); got != want {
			t.Fatalf("ScrubMessages = %d, want %d", got, want)
		}
	}
	// The words are gone; each message's role, author id, time and dedupe
	// key stay, so counts and response times still add up (and a late
	// redelivery is still recognized).
	want := make([]bot.Message, 0, len(old)+1)
	for _, m := range old {
		m.Text, m.AuthorName = "", ""
		want = append(want, m)
	}
	want = append(want, fresh)
	got := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, c.ID, 10) })
	wantDiff(t, "messages after scrubbing", want, got)
	inserted := mustTx(t, s, func(tx bot.Tx) (bool, error) {
		m := bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, DedupeKey: "slack:m0", Text: "again", CreatedAt: at(2 * time.Hour)}
		return tx.AddMessage(ctx, &m)
	})
	if inserted {
		t.Error("a redelivered message was stored again after its words were scrubbed")
	}
}

func testRetentionOutbox(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	c2 := mustConversation(t, s, key(2))
	sent := func(m bot.Outgoing, ref string) bot.Outgoing {
		m = mustEnqueue(t, s, m)
		if err := s.MarkSent(ctx, m.ID, ref, m.CreatedAt); err != nil {
			t.Fatalf("MarkSent: %v", err)
		}
		return m
	}
	// A resolved handoff's announcement, an open one's, and old replies.
	resolved := mustHandoff(t, s, c.ID, at(0))
	annResolved := sent(announcement(c.ID, resolved.ID), "ts-resolved")
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, resolved.ID, annResolved.ID) })
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, resolved.ID, at(time.Minute)) })
	open := mustHandoff(t, s, c2.ID, at(0))
	annOpen := sent(announcement(c2.ID, open.ID), "ts-open")
	mustDo(t, s, func(tx bot.Tx) error { return tx.SetAnnounce(ctx, open.ID, annOpen.ID) })
	sent(reply(bot.ConversationStream(c.ID), at(0)), "ts-reply")
	// A pending old row stays (it was never delivered), and a sent parent
	// of a pending row stays until the row is delivered.
	pending := mustEnqueue(t, s, reply("stuck", at(0)))
	parent := sent(reply("threads", at(0)), "ts-parent")
	child := reply("threads-child", at(2*time.Hour))
	child.ParentID = parent.ID
	child = mustEnqueue(t, s, child)
	sent(reply(bot.ConversationStream(c.ID), at(2*time.Hour)), "ts-fresh") // newer than the cutoff

	n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeOutbox(ctx, at(time.Hour), 100) })
	if n != 2 {
		t.Errorf("PurgeOutbox = %d, want 2 (the resolved announcement and the old reply)", n)
	}
	err := txErr(t, s, func(tx bot.Tx) error {
		_, err := tx.HandoffByThread(ctx, bot.Slack, "C-AGENTS", "ts-resolved")
		return err
	})
	wantNotFound(t, "HandoffByThread(purged announcement)", err)
	got := mustTx(t, s, func(tx bot.Tx) (bot.Handoff, error) {
		return tx.HandoffByThread(ctx, bot.Slack, "C-AGENTS", "ts-open")
	})
	if got.ID != open.ID {
		t.Errorf("HandoffByThread(open handoff) = %d, want %d: its announcement must stay", got.ID, open.ID)
	}
	dueRows := map[int64]bot.Outgoing{}
	for _, r := range mustDue(t, s, at(3*time.Hour)) {
		dueRows[r.ID] = r
	}
	if _, ok := dueRows[pending.ID]; !ok {
		t.Errorf("pending row %d purged", pending.ID)
	}
	if r, ok := dueRows[child.ID]; !ok || r.ParentRef != "ts-parent" {
		t.Errorf("child row = %+v, want it due under its parent ts-parent", r)
	}
	if again := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeOutbox(ctx, at(time.Hour), 100) }); again != 0 {
		t.Errorf("PurgeOutbox again = %d, want 0", again)
	}
}

func mustDue(t *testing.T, s Store, now time.Time) []bot.Outgoing {
	t.Helper()
	rows, err := s.Due(t.Context(), now, 100)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	return rows
}

func testRetentionScrub(t *testing.T, s Store) {
	ctx := t.Context()
	old := mustConversation(t, s, key(1))
	old.LastMessageAt = at(time.Minute)
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, old) })
	fresh := mustConversation(t, s, key(2))
	fresh.LastMessageAt = at(3 * time.Hour)
	mustDo(t, s, func(tx bot.Tx) error { return tx.UpdateConversation(ctx, fresh) })
	done := mustHandoff(t, s, old.ID, at(0))
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, done.ID, at(time.Minute)) })
	mustDo(t, s, func(tx bot.Tx) error { return tx.RateHandoff(ctx, done.ID, 5) })
	waiting := mustHandoff(t, s, old.ID, at(0))

	n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.ScrubConversations(ctx, at(time.Hour)) })
	if n != 2 {
		t.Errorf("ScrubConversations = %d, want 2 (a name and a reason)", n)
	}
	got := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, old.ID) })
	if got.UserName != "" || got.User != "U1" || !got.OpenedAt.Equal(old.OpenedAt) {
		t.Errorf("old conversation = %+v, want its name cleared and the rest kept", got)
	}
	if got := mustTx(t, s, func(tx bot.Tx) (bot.Conversation, error) { return tx.Conversation(ctx, fresh.ID) }); got.UserName == "" {
		t.Error("a fresh conversation lost its name")
	}
	h := handoff(t, s, done.ID)
	if h.Reason != "" || h.Rating != 5 || h.Trigger != bot.TriggerPhrase || h.ResolvedAt.IsZero() {
		t.Errorf("resolved handoff = %+v, want its reason cleared and rating, trigger and times kept", h)
	}
	if h := handoff(t, s, waiting.ID); h.Reason == "" {
		t.Error("an open handoff lost its reason")
	}
	if again := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.ScrubConversations(ctx, at(time.Hour)) }); again != 0 {
		t.Errorf("ScrubConversations again = %d, want 0", again)
	}
}

func testVerifications(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1")
	id := bot.Identity{Platform: bot.Discord, User: "D1"}
	get := func(id bot.Identity) (bot.Verification, error) {
		var v bot.Verification
		err := txErr(t, s, func(tx bot.Tx) error {
			var err error
			v, err = tx.Verification(ctx, id)
			return err
		})
		return v, err
	}
	_, err := get(id)
	wantNotFound(t, "Verification(none)", err)

	v := bot.Verification{Identity: id, ConversationID: 3, Step: bot.VerifyEmail, UpdatedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerification(ctx, v) })
	got, err := get(id)
	if err != nil {
		t.Fatalf("Verification: %v", err)
	}
	wantDiff(t, "Verification", v, got)

	v = bot.Verification{Identity: id, ConversationID: 4, Step: bot.VerifyCode, CustomerID: "C-1", CodeHash: "s:h",
		ExpiresAt: at(10 * time.Minute), Attempts: 2, Sends: 1, SendsSince: at(time.Minute),
		LockedUntil: at(time.Hour), UpdatedAt: at(time.Minute)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerification(ctx, v) })
	got, _ = get(id)
	wantDiff(t, "Verification replaced", v, got)

	// The retention job leaves a running lockout alone.
	if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(30*time.Minute)) }); n != 0 {
		t.Errorf("PurgeVerifications during a lockout = %d, want 0", n)
	}
	if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(2*time.Hour)) }); n != 1 {
		t.Errorf("PurgeVerifications after the lockout = %d, want 1", n)
	}
	_, err = get(id)
	wantNotFound(t, "Verification after purge", err)

	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerification(ctx, v) })
	mustDo(t, s, func(tx bot.Tx) error { return tx.DeleteVerification(ctx, id) })
	_, err = get(id)
	wantNotFound(t, "Verification after delete", err)
	mustDo(t, s, func(tx bot.Tx) error { return tx.DeleteVerification(ctx, id) }) // not an error
}

// testVerifyBudgets: a budget reads back as stored, is purged once idle
// and unlocked, and goes with its customer at erasure; a verification keeps
// its target.
func testVerifyBudgets(t *testing.T, s Store) {
	ctx := t.Context()
	get := func(target string) bot.VerifyBudget {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bot.VerifyBudget, error) { return tx.VerifyBudget(ctx, target) })
	}
	wantDiff(t, "VerifyBudget(none)", bot.VerifyBudget{Target: "email:aa"}, get("email:aa"))
	if err := txErr(t, s, func(tx bot.Tx) error { return tx.PutVerifyBudget(ctx, bot.VerifyBudget{}) }); err == nil {
		t.Error("PutVerifyBudget without a target: no error")
	}

	b := bot.VerifyBudget{Target: "email:aa", CustomerID: "C-1", Sends: 5, SendsSince: at(0), Failures: 3,
		FailuresSince: at(time.Minute), LockedUntil: at(time.Hour), UpdatedAt: at(time.Minute)}
	other := bot.VerifyBudget{Target: "email:bb", Sends: 1, SendsSince: at(0), UpdatedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error {
		if err := tx.PutVerifyBudget(ctx, b); err != nil {
			return err
		}
		return tx.PutVerifyBudget(ctx, other)
	})
	wantDiff(t, "VerifyBudget", b, get("email:aa"))
	b.Sends, b.LockedUntil = 1, time.Time{}
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerifyBudget(ctx, b) })
	wantDiff(t, "VerifyBudget replaced", b, get("email:aa"))

	id := bot.NewIdentity(bot.Slack, "T1", "U-budget")
	v := bot.Verification{Identity: id, Step: bot.VerifySend, Email: "ada@example.com", Target: "email:aa", UpdatedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerification(ctx, v) })
	got := mustTx(t, s, func(tx bot.Tx) (bot.Verification, error) { return tx.Verification(ctx, id) })
	wantDiff(t, "Verification with a target", v, got)
	mustDo(t, s, func(tx bot.Tx) error { return tx.DeleteVerification(ctx, id) })

	// Erasing C-1 erases its budget, not the other.
	erased := mustTx(t, s, func(tx bot.Tx) (bot.Erased, error) { return tx.EraseCustomer(ctx, "C-1") })
	if erased.Verifications != 1 {
		t.Errorf("EraseCustomer erased %d verifications and budgets, want the 1 budget", erased.Verifications)
	}
	wantDiff(t, "VerifyBudget after erasure", bot.VerifyBudget{Target: "email:aa"}, get("email:aa"))
	wantDiff(t, "the other budget after erasure", other, get("email:bb"))

	// The retention job leaves a running lockout alone.
	other.LockedUntil = at(3 * time.Hour)
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerifyBudget(ctx, other) })
	if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(2*time.Hour)) }); n != 0 {
		t.Errorf("PurgeVerifications during a lockout = %d, want 0", n)
	}
	if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(4*time.Hour)) }); n != 1 {
		t.Errorf("PurgeVerifications after the lockout = %d, want 1", n)
	}
	wantDiff(t, "VerifyBudget after purge", bot.VerifyBudget{Target: "email:bb"}, get("email:bb"))
}

func testTokenBudget(t *testing.T, s Store) {
	ctx := t.Context()
	const day = "2025-06-02"
	used := func(day string) int64 {
		return mustTx(t, s, func(tx bot.Tx) (int64, error) { return tx.TokensUsed(ctx, day) })
	}
	if n := used(day); n != 0 {
		t.Errorf("TokensUsed(new day) = %d, want 0", n)
	}
	// Concurrent adds (replicas, parallel turns) lose nothing.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.WithTx(ctx, func(tx bot.Tx) error { _, err := tx.AddTokens(ctx, day, 100); return err }); err != nil {
				t.Errorf("AddTokens: %v", err)
			}
		})
	}
	wg.Wait()
	if n := used(day); n != 800 {
		t.Errorf("TokensUsed = %d, want 800", n)
	}
	if total := mustTx(t, s, func(tx bot.Tx) (int64, error) { return tx.AddTokens(ctx, day, 50) }); total != 850 {
		t.Errorf("AddTokens total = %d, want 850", total)
	}
	if n := used("2025-06-03"); n != 0 {
		t.Errorf("TokensUsed(next day) = %d, want 0", n)
	}

	alerted := func(day string) bool {
		return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.MarkBudgetAlerted(ctx, day, at(0)) })
	}
	if !alerted(day) {
		t.Error("MarkBudgetAlerted first time = false, want true")
	}
	if alerted(day) {
		t.Error("MarkBudgetAlerted second time = true, want false: one alert a day")
	}
	if n := used(day); n != 850 {
		t.Errorf("TokensUsed after the alert = %d, want 850", n)
	}
	// A day with no tokens yet can be marked too (a cap of one call).
	if !alerted("2025-06-04") {
		t.Error("MarkBudgetAlerted on a day without tokens = false, want true")
	}
}

// testEraseByAuthor: a customer's words in another customer's channel
// thread are exported and erased with the customer, quotes of them in that
// conversation's outbox rows are scrubbed, and so are the lines of the
// agents' re-ping digests about the customer's handoffs, while the other
// customer's words and lines stay.
func testEraseByAuthor(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1")
	mustCustomer(t, s, "C-2")
	for _, l := range []bot.Link{
		{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}, CustomerID: "C-1", CreatedAt: at(0)},
		{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U2"}, CustomerID: "C-2", CreatedAt: at(0)},
	} {
		if err := s.Link(ctx, l); err != nil {
			t.Fatalf("Link: %v", err)
		}
	}
	conv := func(k bot.ConversationKey, user, customer string, private bool) bot.Conversation {
		c := bot.Conversation{Key: k, State: bot.StateWaiting, Private: private, User: user, UserName: "name of " + user,
			CustomerID: customer, OpenedAt: at(0), LastMessageAt: at(time.Minute)}
		mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
		return c
	}
	say := func(c bot.Conversation, role bot.Role, author, text string) {
		m := bot.Message{ConversationID: c.ID, Role: role, Author: author, AuthorName: "name of " + author, Text: text, CreatedAt: at(time.Minute)}
		mustDo(t, s, func(tx bot.Tx) error { _, err := tx.AddMessage(ctx, &m); return err })
	}
	own := conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D-U1"}, "U1", "C-1", true)
	say(own, bot.RoleCustomer, "U1", "my own words")
	// Grace's thread in a channel, where Ada chimes in.
	shared := conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "C-GENERAL", Thread: "100.1"}, "U2", "C-2", false)
	say(shared, bot.RoleCustomer, "U2", "my card is blocked, can someone help")
	say(shared, bot.RoleCustomer, "U1", "mine too, card ending 4242 since Monday")
	say(shared, bot.RoleCustomer, "U1", "ok")
	say(shared, bot.RoleBot, "", "A person will be with you shortly.")
	// The same user id in another workspace is someone else.
	elsewhere := conv(bot.ConversationKey{Platform: bot.Slack, Workspace: "T9", Channel: "C-X", Thread: "1"}, "U7", "", false)
	say(elsewhere, bot.RoleCustomer, "U1", "a stranger who shares an id")

	hOwn := mustHandoff(t, s, own.ID, at(time.Minute))
	hShared := mustHandoff(t, s, shared.ID, at(time.Minute))
	post := mustEnqueue(t, s, bot.Outgoing{Platform: bot.Slack, Workspace: "T-AGENTS", Channel: "C-AGENTS",
		Stream: "words", Kind: bot.KindThread, ConversationID: shared.ID, HandoffID: hShared.ID, CreatedAt: at(0),
		Text: "**Grace** wrote 3 messages:\n> my card is blocked, can someone help\n> mine too, card ending 4242 since Monday\n> ok"})
	digest := mustEnqueue(t, s, bot.Outgoing{Platform: bot.Slack, Workspace: "T-AGENTS", Channel: "C-AGENTS",
		Stream: bot.DigestStreamPrefix + "C-AGENTS", Kind: bot.KindThread, CreatedAt: at(0),
		Text: fmt.Sprintf("**2 handoffs are waiting for an agent** (oldest first):\n%sAda Lovelace on slack, waiting 6 min: asked for a person\n%sGrace on slack, waiting 5 min\nPress Claim on a card, or write claim in its thread.",
			bot.DigestLine(hOwn.ID), bot.DigestLine(hShared.ID))})

	d, err := customerData(t, s, "C-1")
	if err != nil {
		t.Fatalf("CustomerData: %v", err)
	}
	var got []string
	for _, m := range d.Elsewhere {
		got = append(got, fmt.Sprintf("%d:%s", m.ConversationID, m.Text))
	}
	wantDiff(t, "messages elsewhere", []string{fmt.Sprintf("%d:mine too, card ending 4242 since Monday", shared.ID),
		fmt.Sprintf("%d:ok", shared.ID)}, got)

	erased := mustTx(t, s, func(tx bot.Tx) (bot.Erased, error) { return tx.EraseCustomer(ctx, "C-1") })
	if erased.Elsewhere != 2 || erased.Scrubbed != 2 || erased.Conversations != 1 {
		t.Errorf("Erased = %+v, want 1 conversation, 2 messages elsewhere, 2 outbox rows scrubbed", erased)
	}
	msgs := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, shared.ID, 10) })
	got = nil
	for _, m := range msgs {
		got = append(got, m.Author+":"+m.Text)
	}
	wantDiff(t, "the shared thread after erasure", []string{"U2:my card is blocked, can someone help", ":A person will be with you shortly."}, got)
	left := mustTx(t, s, func(tx bot.Tx) ([]bot.Message, error) { return tx.RecentMessages(ctx, elsewhere.ID, 10) })
	if len(left) != 1 {
		t.Errorf("a stranger's message with the same user id in another workspace was erased: %v", left)
	}
	texts := map[int64]string{}
	for _, r := range mustDue(t, s, at(time.Hour)) {
		texts[r.ID] = r.Text
	}
	wantDiff(t, "the thread post after erasure",
		"**Grace** wrote 3 messages:\n> my card is blocked, can someone help\n> [erased]\n> [erased]", texts[post.ID])
	wantDiff(t, "the digest after erasure",
		fmt.Sprintf("**2 handoffs are waiting for an agent** (oldest first):\n%s[erased]\n%sGrace on slack, waiting 5 min\nPress Claim on a card, or write claim in its thread.",
			bot.DigestLine(hOwn.ID), bot.DigestLine(hShared.ID)), texts[digest.ID])

	if d, err := customerData(t, s, "C-1"); err == nil && len(d.Elsewhere) != 0 {
		t.Errorf("CustomerData after erasure still has %d messages elsewhere", len(d.Elsewhere))
	}
}

// testFeedback: the first vote on a message stands, and votes go with
// their conversation at erasure.
func testFeedback(t *testing.T, s Store) {
	ctx := t.Context()
	mustCustomer(t, s, "C-1")
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D-U1"}, State: bot.StateBot,
		Private: true, User: "U1", CustomerID: "C-1", OpenedAt: at(0), LastMessageAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
	m := bot.Message{ConversationID: c.ID, Role: bot.RoleBot, Text: "an answer", PromptVersion: "v1", CreatedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { _, err := tx.AddMessage(ctx, &m); return err })
	add := func(helpful bool) bool {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bool, error) {
			return tx.AddFeedback(ctx, bot.Feedback{MessageID: m.ID, ConversationID: c.ID, Helpful: helpful, At: at(time.Minute)})
		})
	}
	if !add(false) {
		t.Error("first vote not counted")
	}
	if add(true) {
		t.Error("second vote counted")
	}
	recs, err := s.ConversationRecords(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || len(recs[0].Votes) != 1 || recs[0].Votes[0].Helpful || recs[0].Votes[0].PromptVersion != "v1" {
		t.Errorf("records = %+v, want one 👎 on v1", recs)
	}
	mustTx(t, s, func(tx bot.Tx) (bot.Erased, error) { return tx.EraseCustomer(ctx, "C-1") })
	if recs, err = s.ConversationRecords(ctx, time.Time{}); err != nil || len(recs) != 0 {
		t.Errorf("records after erasure = %+v, %v", recs, err)
	}
}

// testIntakes: an intake is stored once, listed when old enough, oldest
// first and per platform, deleted, and purged by the retention job.
func testIntakes(t *testing.T, s Store) {
	ctx := t.Context()
	put := func(p bot.Platform, key string, age time.Duration) {
		t.Helper()
		mustDo(t, s, func(tx bot.Tx) error {
			return tx.PutIntake(ctx, bot.Intake{Platform: p, Key: key, Payload: []byte(`{"id":"` + key + `"}`), CreatedAt: at(-age)})
		})
	}
	pending := func(p bot.Platform, before time.Time) []string {
		t.Helper()
		its := mustTx(t, s, func(tx bot.Tx) ([]bot.Intake, error) { return tx.PendingIntakes(ctx, p, before, 10) })
		var keys []string
		for _, it := range its {
			keys = append(keys, it.Key+":"+string(it.Payload))
		}
		return keys
	}
	put(bot.Discord, "m2", time.Minute)
	put(bot.Discord, "m1", 2*time.Minute)
	put(bot.Discord, "m1", 0) // again: changes nothing
	put(bot.Slack, "s1", 2*time.Minute)
	if err := txErr(t, s, func(tx bot.Tx) error { return tx.PutIntake(ctx, bot.Intake{Platform: bot.Discord}) }); err == nil {
		t.Error("PutIntake without a key: no error")
	}
	wantDiff(t, "pending", []string{`m1:{"id":"m1"}`, `m2:{"id":"m2"}`}, pending(bot.Discord, at(0)))
	wantDiff(t, "pending before a minute ago", []string{`m1:{"id":"m1"}`}, pending(bot.Discord, at(-90*time.Second)))
	mustDo(t, s, func(tx bot.Tx) error { return tx.DeleteIntake(ctx, bot.Discord, "m1") })
	mustDo(t, s, func(tx bot.Tx) error { return tx.DeleteIntake(ctx, bot.Discord, "none") })
	wantDiff(t, "pending after delete", []string{`m2:{"id":"m2"}`}, pending(bot.Discord, at(0)))
	if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(0)) }); n != 2 {
		t.Errorf("PurgeVerifications purged %d, want the 2 intakes left", n)
	}
	if got := pending(bot.Slack, at(time.Hour)); len(got) != 0 {
		t.Errorf("intakes after purge: %v", got)
	}
}

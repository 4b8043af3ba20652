package storetest

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/stats"
)

// setTopic labels a conversation and returns whether the label changed.
func setTopic(t *testing.T, s Store, id int64, topic string) bool {
	t.Helper()
	return mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.SetTopic(t.Context(), id, topic) })
}

func testStatsTopic(t *testing.T, s Store) {
	c := mustConversation(t, s, key(1))
	// Each step is applied to the label the previous ones left.
	for _, step := range []struct {
		topic string
		want  bool
	}{
		{"", false},                          // nothing ranks below none
		{bot.TopicHandoff, true},             // "" → handoff
		{bot.TopicHandoff, false},            // the same label again
		{bot.TopicOther, true},               // handoff → other
		{bot.TopicHandoff, false},            // never down
		{bot.TopicPayments, true},            // other → specific
		{bot.FAQTopic("refund-time"), false}, // the first specific label stays
		{bot.TopicOther, false},
	} {
		if got := setTopic(t, s, c.ID, step.topic); got != step.want {
			t.Errorf("SetTopic(%q) = %v, want %v", step.topic, got, step.want)
		}
	}
	if setTopic(t, s, c.ID+1000, bot.TopicPayments) {
		t.Error("SetTopic of an unknown conversation changed something")
	}
	recs := records(t, s, time.Time{})
	if len(recs) != 1 || recs[0].Topic != bot.TopicPayments {
		t.Errorf("records = %+v, want the one conversation labelled payments", recs)
	}

	// An FAQ label set first stays too.
	c2 := mustConversation(t, s, key(2))
	for _, topic := range []string{bot.FAQTopic("refund-time"), bot.TopicPayments} {
		setTopic(t, s, c2.ID, topic)
	}
	if recs := records(t, s, time.Time{}); len(recs) != 2 || recs[1].Topic != bot.FAQTopic("refund-time") {
		t.Errorf("records = %+v, want the second labelled faq:refund-time", recs)
	}
}

func testStatsUsage(t *testing.T, s Store) {
	ctx := t.Context()
	c := mustConversation(t, s, key(1))
	mustDo(t, s, func(tx bot.Tx) error { return tx.AddUsage(ctx, c.ID, 100, 20) })
	mustDo(t, s, func(tx bot.Tx) error { return tx.AddUsage(ctx, c.ID, 50, 5) })
	mustDo(t, s, func(tx bot.Tx) error { return tx.AddUsage(ctx, c.ID, 0, 0) })
	recs := records(t, s, time.Time{})
	if len(recs) != 1 || recs[0].PromptTokens != 150 || recs[0].CompletionTokens != 25 {
		t.Errorf("records = %+v, want 150 prompt and 25 completion tokens", recs)
	}
	wantNotFound(t, "AddUsage of an unknown conversation", txErr(t, s, func(tx bot.Tx) error {
		return tx.AddUsage(ctx, c.ID+1000, 1, 1)
	}))
	if err := txErr(t, s, func(tx bot.Tx) error { return tx.AddUsage(ctx, c.ID, -1, 0) }); err == nil {
		t.Error("AddUsage with negative tokens succeeded")
	}
}

// records reads the conversation records opened at or after since.
func records(t *testing.T, s Store, since time.Time) []stats.Conversation {
	t.Helper()
	recs, err := s.ConversationRecords(t.Context(), since)
	if err != nil {
		t.Fatalf("ConversationRecords: %v", err)
	}
	return recs
}

// The records carry what the figures are computed from: who the customer
// is (linked or not, Discord without a workspace), the first customer
// message and the first answer after it (not the greeting before it, not
// a note or a draft), the handoffs with their times and ratings, the topic
// and the tokens. Conversations opened before since are left out.
func testStatsRecords(t *testing.T, s Store) {
	ctx := t.Context()
	create := func(c bot.Conversation) bot.Conversation {
		t.Helper()
		c.State, c.Private = bot.StateBot, true
		mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c) })
		return c
	}
	// Before the period: not returned.
	old := create(bot.Conversation{Key: key(1), User: "U1", CustomerID: "C-1", OpenedAt: at(-time.Hour), LastMessageAt: at(-time.Hour)})
	addMessage(t, s, old.ID, bot.RoleCustomer, "", at(-time.Hour))

	// A linked Slack customer: greeted, then asks; a note and the bot's
	// answer follow; handed off, claimed, resolved and rated 4.
	c1 := create(bot.Conversation{Key: key(2), User: "U1", CustomerID: "C-1",
		OpenedAt: at(0), LastMessageAt: at(20 * time.Minute), ClosedAt: at(2 * time.Hour)})
	addMessage(t, s, c1.ID, bot.RoleBot, "", at(0)) // the greeting, stored first
	addMessage(t, s, c1.ID, bot.RoleCustomer, "", at(time.Second))
	addMessage(t, s, c1.ID, bot.RoleNote, "", at(2*time.Second))
	addMessage(t, s, c1.ID, bot.RoleBot, "", at(3*time.Second))
	addMessage(t, s, c1.ID, bot.RoleCustomer, "", at(4*time.Second))
	h1 := mustHandoff(t, s, c1.ID, at(time.Minute))
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ClaimHandoff(ctx, h1.ID, "UA", "Alex", at(3*time.Minute)) })
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, h1.ID, at(20*time.Minute)) })
	mustDo(t, s, func(tx bot.Tx) error { return tx.RateHandoff(ctx, h1.ID, 4) })
	// A second handoff of the same conversation, still waiting.
	mustHandoff(t, s, c1.ID, at(30*time.Minute))
	setTopic(t, s, c1.ID, bot.TopicPayments)
	mustDo(t, s, func(tx bot.Tx) error { return tx.AddUsage(ctx, c1.ID, 300, 40) })

	// An unlinked Discord user: the identity is the customer. An agent
	// answers first.
	c2 := create(bot.Conversation{Key: bot.ConversationKey{Platform: bot.Discord, Channel: "DM9"}, User: "D-9",
		OpenedAt: at(time.Hour), LastMessageAt: at(time.Hour)})
	addMessage(t, s, c2.ID, bot.RoleCustomer, "", at(time.Hour))
	addMessage(t, s, c2.ID, bot.RoleAgent, "", at(time.Hour+90*time.Second))
	addMessage(t, s, c2.ID, bot.RoleBot, "", at(time.Hour+100*time.Second))

	// An unlinked Slack user with no answer yet, and a conversation with no
	// message at all.
	c3 := create(bot.Conversation{Key: key(3), User: "U7", OpenedAt: at(2 * time.Hour), LastMessageAt: at(2 * time.Hour)})
	addMessage(t, s, c3.ID, bot.RoleCustomer, "", at(2*time.Hour))
	c4 := create(bot.Conversation{Key: key(4), User: "U8", OpenedAt: at(3 * time.Hour), LastMessageAt: at(3 * time.Hour)})

	want := []stats.Conversation{
		{ID: c1.ID, Customer: "C-1", Platform: "slack", Topic: bot.TopicPayments,
			OpenedAt: at(0), LastMessageAt: at(20 * time.Minute), ClosedAt: at(2 * time.Hour),
			FirstCustomerAt: at(time.Second), FirstResponseAt: at(3 * time.Second),
			Handoffs: []stats.Handoff{
				{CreatedAt: at(time.Minute), ClaimedAt: at(3 * time.Minute), ResolvedAt: at(20 * time.Minute), Rating: 4},
				{CreatedAt: at(30 * time.Minute)},
			},
			PromptTokens: 300, CompletionTokens: 40},
		{ID: c2.ID, Customer: "discord:D-9", Platform: "discord",
			OpenedAt: at(time.Hour), LastMessageAt: at(time.Hour),
			FirstCustomerAt: at(time.Hour), FirstResponseAt: at(time.Hour + 90*time.Second)},
		{ID: c3.ID, Customer: "slack:T1:U7", Platform: "slack",
			OpenedAt: at(2 * time.Hour), LastMessageAt: at(2 * time.Hour), FirstCustomerAt: at(2 * time.Hour)},
		{ID: c4.ID, Customer: "slack:T1:U8", Platform: "slack", OpenedAt: at(3 * time.Hour), LastMessageAt: at(3 * time.Hour)},
	}
	wantDiff(t, "records since the period", want, records(t, s, at(0)))
	if got := records(t, s, time.Time{}); len(got) != 5 || got[0].ID != old.ID {
		t.Errorf("records since the zero time: %d, want all 5, oldest first", len(got))
	}
	if got := records(t, s, at(4*time.Hour)); len(got) != 0 {
		t.Errorf("records after the last: %+v", got)
	}
}

// The open queue lists waiting and claimed handoffs, oldest first, with
// their customer's platform and linked id; resolved ones are gone.
func testStatsQueue(t *testing.T, s Store) {
	ctx := t.Context()
	c1 := mustConversation(t, s, key(1)) // Slack, not linked
	c2 := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Discord, Channel: "DM2"}, State: bot.StateBot,
		User: "D-2", CustomerID: "C-2", OpenedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.CreateConversation(ctx, &c2) })
	c3 := mustConversation(t, s, key(3))

	waiting := mustHandoff(t, s, c1.ID, at(2*time.Minute))
	claimed := mustHandoff(t, s, c2.ID, at(time.Minute))
	mustTx(t, s, func(tx bot.Tx) (bool, error) {
		return tx.ClaimHandoff(ctx, claimed.ID, "UA", "Alex", at(5*time.Minute))
	})
	resolved := mustHandoff(t, s, c3.ID, at(0))
	mustTx(t, s, func(tx bot.Tx) (bool, error) { return tx.ResolveHandoff(ctx, resolved.ID, at(3*time.Minute)) })

	got, err := s.OpenQueue(ctx)
	if err != nil {
		t.Fatalf("OpenQueue: %v", err)
	}
	wantDiff(t, "open queue", []stats.Queued{
		{HandoffID: claimed.ID, Platform: "discord", Customer: "C-2", Reason: "asked for a person", Claimed: true,
			Agent: "Alex", CreatedAt: at(time.Minute), ClaimedAt: at(5 * time.Minute)},
		{HandoffID: waiting.ID, Platform: "slack", Reason: "asked for a person", CreatedAt: at(2 * time.Minute)},
	}, got)
}

func testStatsOutboxPending(t *testing.T, s Store) {
	ctx := t.Context()
	count := func() int {
		t.Helper()
		n, err := s.OutboxPending(ctx)
		if err != nil {
			t.Fatalf("OutboxPending: %v", err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("OutboxPending on an empty store = %d", n)
	}
	a := mustEnqueue(t, s, reply("conv:1", at(0)))
	b := mustEnqueue(t, s, reply("conv:2", at(0)))
	mustEnqueue(t, s, reply("conv:3", at(0)))
	if n := count(); n != 3 {
		t.Errorf("OutboxPending = %d, want 3", n)
	}
	if err := s.MarkSent(ctx, a.ID, "ts-1", at(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDead(ctx, b.ID, "gone"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("OutboxPending after one sent and one dead = %d, want 1", n)
	}
}

package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// seedMsg is a message stored at an offset from its conversation's opening.
type seedMsg struct {
	role bot.Role
	at   time.Duration
}

// seedHandoff is a handoff at offsets from its conversation's opening (zero
// offsets for claimed and resolved: not yet).
type seedHandoff struct {
	created, claimed, resolved time.Duration
	rating                     int
}

// seedConv is one conversation of a hand-computed data set.
type seedConv struct {
	name     string // for failure messages
	key      bot.ConversationKey
	user     string
	customer string // the linked customer, "" for none
	opened   time.Duration
	lastMsg  time.Duration // after opened
	closed   time.Duration // after opened; zero: still open
	topic    string
	msgs     []seedMsg
	handoffs []seedHandoff
	tokens   [2]int
}

// mustSeedConversations stores the data set with times relative to now.
func mustSeedConversations(t *testing.T, st app.Store, now time.Time, convs []seedConv) {
	t.Helper()
	ctx := context.Background()
	for _, sc := range convs {
		opened := now.Add(sc.opened)
		c := bot.Conversation{Key: sc.key, State: bot.StateBot, Private: true, User: sc.user, CustomerID: sc.customer,
			OpenedAt: opened, LastMessageAt: opened.Add(sc.lastMsg)}
		if sc.closed != 0 {
			c.ClosedAt = opened.Add(sc.closed)
		}
		err := st.WithTx(ctx, func(tx bot.Tx) error {
			if err := tx.CreateConversation(ctx, &c); err != nil {
				return err
			}
			for _, m := range sc.msgs {
				if _, err := tx.AddMessage(ctx, &bot.Message{ConversationID: c.ID, Role: m.role, Text: "…", Processed: true, CreatedAt: opened.Add(m.at)}); err != nil {
					return err
				}
			}
			for _, sh := range sc.handoffs {
				h := bot.Handoff{ConversationID: c.ID, State: bot.HandoffWaiting, Trigger: bot.TriggerPhrase, Reason: "asked",
					AgentPlatform: bot.Slack, AgentChannel: "CAGENTS", CreatedAt: opened.Add(sh.created)}
				if err := tx.CreateHandoff(ctx, &h); err != nil {
					return err
				}
				if sh.claimed != 0 {
					if _, err := tx.ClaimHandoff(ctx, h.ID, "UA", "Alex", opened.Add(sh.claimed)); err != nil {
						return err
					}
				}
				if sh.resolved != 0 {
					if _, err := tx.ResolveHandoff(ctx, h.ID, opened.Add(sh.resolved)); err != nil {
						return err
					}
				}
				if sh.rating != 0 {
					if err := tx.RateHandoff(ctx, h.ID, sh.rating); err != nil {
						return err
					}
				}
			}
			if _, err := tx.SetTopic(ctx, c.ID, sc.topic); err != nil {
				return err
			}
			return tx.AddUsage(ctx, c.ID, sc.tokens[0], sc.tokens[1])
		})
		if err != nil {
			t.Fatalf("seed %s: %v", sc.name, err)
		}
	}
}

// handComputed is a week of conversations whose figures are worked out by
// hand below; times are relative to now and at least an hour from the
// period's ends, so that the command's own clock, a moment later, sees the
// same period.
func handComputed() []seedConv {
	const day = 24 * time.Hour
	slackDM := func(user string) bot.ConversationKey {
		return bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D-" + user}
	}
	discordDM := bot.ConversationKey{Platform: bot.Discord, Channel: "DM-9"}
	answered := func(after time.Duration) []seedMsg {
		return []seedMsg{{bot.RoleBot, 0}, {bot.RoleCustomer, 0}, {bot.RoleBot, after}} // greeting, question, answer
	}
	return []seedConv{
		{name: "A: before the period, the first of B's repeat", key: slackDM("U1"), user: "U1", customer: "C-1",
			opened: -9 * day, lastMsg: time.Minute, closed: time.Hour, topic: "payments", msgs: answered(time.Second), tokens: [2]int{999, 99}},
		{name: "B: automated, repeats A (3 days)", key: slackDM("U1"), user: "U1", customer: "C-1",
			opened: -6 * day, lastMsg: time.Minute, closed: time.Hour, topic: "payments", msgs: answered(2 * time.Second), tokens: [2]int{100, 20}},
		{name: "C: FAQ, handed off, claimed in 2m, resolved in 12m, rated 5", key: slackDM("U1"), user: "U1", customer: "C-1",
			opened: -5 * day, lastMsg: 13 * time.Minute, closed: day, topic: "faq:refund-time", msgs: answered(4 * time.Second),
			handoffs: []seedHandoff{{created: time.Minute, claimed: 3 * time.Minute, resolved: 13 * time.Minute, rating: 5}}},
		{name: "D: payments, claimed in 10m, resolved in 40m, rated 3", key: slackDM("U2"), user: "U2", customer: "C-2",
			opened: -4 * day, lastMsg: 42 * time.Minute, closed: day, topic: "payments", msgs: answered(6 * time.Second),
			handoffs: []seedHandoff{{created: 2 * time.Minute, claimed: 12 * time.Minute, resolved: 42 * time.Minute, rating: 3}},
			tokens:   [2]int{50, 10}},
		{name: "E: still open (idle 23h55m < 24h), waiting, repeats D (3 days)", key: slackDM("U2"), user: "U2", customer: "C-2",
			opened: -day, lastMsg: 5 * time.Minute, topic: "payments", msgs: answered(8 * time.Second),
			handoffs: []seedHandoff{{created: time.Minute}}, tokens: [2]int{7, 7}},
		{name: "F: unlinked Discord user, resolved while waiting in 30m", key: discordDM, user: "D-9",
			opened: -3 * day, lastMsg: 30 * time.Minute, closed: day, topic: "handoff", msgs: answered(time.Second),
			handoffs: []seedHandoff{{created: time.Second, resolved: 30*time.Minute + time.Second}}},
		{name: "G: the same Discord user, repeats F (1 day), claimed in 60s, resolved in 5m, rated 4", key: discordDM, user: "D-9",
			opened: -2 * day, lastMsg: 5 * time.Minute, closed: day, topic: "handoff", msgs: answered(3 * time.Second),
			handoffs: []seedHandoff{{created: time.Second, claimed: 61 * time.Second, resolved: 5*time.Minute + time.Second, rating: 4}}},
		{name: "H: unlinked Slack user, automated, closed by idleness", key: slackDM("U9"), user: "U9",
			opened: -2 * day, lastMsg: time.Minute, topic: "other", msgs: answered(10 * time.Second), tokens: [2]int{30, 0}},
	}
}

func ptr[T any](v T) *T { return &v }

// `firstline stats` against the hand-computed data set, on SQLite and (with
// FIRSTLINE_TEST_PG) on PostgreSQL.
func TestStatsCommandByHand(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "stats.db") }},
		{"postgres", func(t *testing.T) string { return testkit.PostgresSchema(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db(t)
			st, err := openStore(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			mustSeedConversations(t, st, time.Now(), handComputed())
			st.Close()

			code, out, errOut := runCmd(t, db, "", "stats", "--since", "7d", "--json")
			if code != 0 {
				t.Fatalf("stats --json: exit %d: %s", code, errOut)
			}
			var got stats.SummaryJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stats --json is not JSON: %v\n%s", err, out)
			}
			want := stats.SummaryJSON{
				Period:         "7d",
				Conversations:  7,            // B C D E F G H (A is before the period)
				Closed:         6,            // all but E
				Automated:      2,            // B H
				AutomationRate: ptr(2.0 / 6), // of the closed
				HandoffRate:    ptr(5.0 / 7), // C D E F G
				Handoffs:       5,
				// first responses 1s(F) 2s(B) 3s(G) 4s(C) 6s(D) 8s(E) 10s(H):
				// nearest rank p50 is the 4th, p90 the 7th
				FirstResponseP50: ptr(4.0), FirstResponseP90: ptr(10.0),
				TimeToClaimP50:              ptr(120.0), // 60s(G) 2m(C) 10m(D)
				ResolutionP50:               ptr(720.0), // 5m(G) 12m(C) 30m(F) 40m(D)
				CSATAverage:                 ptr(4.0),   // (5+3+4)/3
				CSATCount:                   3,
				Repeats:                     3, // B of A, E of D, G of F
				RepeatRate:                  ptr(3.0 / 7),
				PromptTokens:                180,       // closed only: B 100, D 50, H 30
				CompletionTokens:            30,        // B 20, D 10
				TokensPerClosedConversation: ptr(35.0), // 210 / 6
				Topics: []stats.TopicJSON{
					{Topic: "payments", Conversations: 3, HandedOff: 2, Repeats: 2}, // B D E
					{Topic: "handoff", Conversations: 2, HandedOff: 2, Repeats: 1},  // F G
					{Topic: "faq:refund-time", Conversations: 1, HandedOff: 1},      // C
					{Topic: "other", Conversations: 1},                              // H
				},
				PromptVersions: []stats.VersionJSON{}, // no votes in the data set
			}
			ignore := cmpIgnoreStatsTimes()
			if diff := cmp.Diff(want, got, ignore); diff != "" {
				t.Errorf("stats --json (-want +got):\n%s", diff)
			}
			if len(got.Days) != 7 && len(got.Days) != 8 {
				t.Errorf("%d days in the series, want the 7 (or 8, across midnight) days of the period", len(got.Days))
			}
			if d := got.Until.Sub(got.Since); d != 7*24*time.Hour {
				t.Errorf("period %s to %s, want 7 days", got.Since, got.Until)
			}

			code, out, errOut = runCmd(t, db, "", "stats")
			if code != 0 {
				t.Fatalf("stats: exit %d: %s", code, errOut)
			}
			for _, want := range []string{"conversations", "33.3%", "71.4%", "42.9%", "4.0s", "10.0s", "2m00s", "12m00s",
				"4.00 / 5", "from 3 ratings", "5 handoffs in all", "3 conversations repeating", "35", "faq:refund-time"} {
				if !strings.Contains(out, want) {
					t.Errorf("stats output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// cmpIgnoreStatsTimes leaves out what depends on the moment the command
// ran: the period's ends and the daily series (checked apart).
func cmpIgnoreStatsTimes() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		switch p.String() {
		case "Since", "Until", "Days":
			return true
		}
		return false
	}, cmp.Ignore())
}

func TestStatsCommandErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "stats.db")
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, tc := range []struct {
		name string
		db   string
		args []string
		code int
		want string
	}{
		{"no such database", filepath.Join(t.TempDir(), "typo.db"), nil, 1, "FIRSTLINE_DB: no database at"},
		{"zero period", db, []string{"--since", "0"}, 2, "--since: the period must be longer than zero"},
		{"bad period", db, []string{"--since", "a week"}, 2, "--since: want a duration"},
		{"argument", db, []string{"extra"}, 2, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tc.db, "", append([]string{"stats"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", code, errOut, tc.code, tc.want)
			}
		})
	}
	// An empty database: no figures, no division by zero.
	code, out, errOut := runCmd(t, db, "", "stats", "--json")
	if code != 0 {
		t.Fatalf("stats on an empty database: exit %d: %s", code, errOut)
	}
	var got stats.SummaryJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Conversations != 0 || got.AutomationRate != nil || got.FirstResponseP50 != nil || got.CSATAverage != nil || len(got.Days) == 0 {
		t.Errorf("empty report = %+v, want zero conversations and null rates", got)
	}
}

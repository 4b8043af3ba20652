package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// BenchmarkRecords measures ConversationRecords over n conversations, as
// the KPI page and `firstline stats` read them: each conversation has a
// greeting, a question and an answer, and every third a handoff that was
// claimed, resolved and rated. open returns an empty store.
func BenchmarkRecords(b *testing.B, open func(b *testing.B) Store, n int) {
	s := open(b)
	ctx := context.Background()
	start := at(-30 * 24 * time.Hour)
	const perTx = 500
	for first := 0; first < n; first += perTx {
		err := s.WithTx(ctx, func(tx bot.Tx) error {
			for i := first; i < min(first+perTx, n); i++ {
				opened := start.Add(time.Duration(i) * (30 * 24 * time.Hour / time.Duration(n)))
				c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: fmt.Sprintf("D%d", i)},
					State: bot.StateBot, User: fmt.Sprintf("U%d", i%(n/3+1)), OpenedAt: opened, LastMessageAt: opened.Add(time.Minute),
					ClosedAt: opened.Add(time.Hour)}
				if err := tx.CreateConversation(ctx, &c); err != nil {
					return err
				}
				for j, role := range []bot.Role{bot.RoleBot, bot.RoleCustomer, bot.RoleBot} {
					m := bot.Message{ConversationID: c.ID, Role: role, Text: "…", Processed: true, CreatedAt: opened.Add(time.Duration(j) * time.Second)}
					if _, err := tx.AddMessage(ctx, &m); err != nil {
						return err
					}
				}
				if _, err := tx.SetTopic(ctx, c.ID, []string{bot.TopicPayments, bot.TopicOther, bot.FAQTopic("refund-time")}[i%3]); err != nil {
					return err
				}
				if i%3 != 0 {
					continue
				}
				h := bot.Handoff{ConversationID: c.ID, State: bot.HandoffWaiting, Trigger: bot.TriggerPhrase,
					AgentPlatform: bot.Slack, AgentChannel: "C-AGENTS", CreatedAt: opened.Add(time.Minute)}
				if err := tx.CreateHandoff(ctx, &h); err != nil {
					return err
				}
				if _, err := tx.ClaimHandoff(ctx, h.ID, "UA", "Alex", opened.Add(2*time.Minute)); err != nil {
					return err
				}
				if _, err := tx.ResolveHandoff(ctx, h.ID, opened.Add(20*time.Minute)); err != nil {
					return err
				}
				if err := tx.RateHandoff(ctx, h.ID, 1+i%5); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	b.ResetTimer()
	for range b.N {
		recs, err := s.ConversationRecords(ctx, start)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != n {
			b.Fatalf("%d records, want %d", len(recs), n)
		}
	}
}

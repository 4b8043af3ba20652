package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Helpers shared by the privacy commands (forget, export, audit) and link.

// adminActor names the person running a command in the audit log:
// "admin:" and --by, else the login name, else "cli".
func adminActor(sys stdio, by string) string {
	name := cmp.Or(strings.TrimSpace(by), sys.getenv("USER"), sys.getenv("USERNAME"), "cli")
	return "admin:" + cleanField(name, 64)
}

// cleanField keeps a free-text field (a name, an id) to one bounded line.
func cleanField(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// erasedSummary says what an erasure deleted, for people and the audit log.
func erasedSummary(e bot.Erased) string {
	record := "no customer record"
	if e.Customer {
		record = "the customer record"
	}
	return fmt.Sprintf("%s, %s, %s (%s, %s), %s, %s", record,
		plural(e.Identities, "identity link", "identity links"),
		plural(e.Conversations, "conversation", "conversations"),
		plural(e.Messages, "message", "messages"),
		plural(e.Handoffs, "handoff with its rating", "handoffs with their ratings"),
		plural(e.Payments, "payment", "payments"),
		plural(e.Verifications, "verification", "verifications"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// linkAudited links an identity and records the change in the audit log,
// in one transaction.
func linkAudited(ctx context.Context, st bot.Store, l bot.Link, actor string) error {
	return st.WithTx(ctx, func(tx bot.Tx) error {
		if err := tx.LinkIdentity(ctx, l); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: l.CreatedAt, Actor: actor, CustomerID: l.CustomerID,
			Action: bot.AuditLink, Record: bot.ActorOf(l.Identity), Outcome: bot.AuditAllowed})
	})
}

// unlinkAudited removes an identity's link and records the change in the
// audit log, in one transaction; bot.ErrNotFound when there was no link.
func unlinkAudited(ctx context.Context, st bot.Store, id bot.Identity, actor string) error {
	return st.WithTx(ctx, func(tx bot.Tx) error {
		customer, err := tx.UnlinkIdentity(ctx, id)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: time.Now(), Actor: actor, CustomerID: customer,
			Action: bot.AuditUnlink, Record: bot.ActorOf(id), Outcome: bot.AuditAllowed})
	})
}

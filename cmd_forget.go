package main

import (
	"context"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// cmdForget erases everything stored about a customer, for an erasure
// request, and records the erasure in the audit log, in one transaction.
func cmdForget(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("forget", "forget --customer ID [--by NAME] [--db FILE]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	customer := fs.String("customer", "", "the customer ID to erase")
	by := fs.String("by", "", "who asks, for the audit log (default: $USER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *customer == "" {
		return fmt.Errorf("%w: --customer is required", errUsage)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()

	var erased bot.Erased
	var kept int
	err = st.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		if erased, err = tx.EraseCustomer(ctx, *customer); err != nil {
			return err
		}
		entry := bot.AuditEntry{At: time.Now(), Actor: adminActor(sys, *by), CustomerID: *customer,
			Action: bot.AuditErase, Record: erasedSummary(erased), Outcome: bot.AuditAllowed}
		if err := tx.AppendAudit(ctx, &entry); err != nil {
			return err
		}
		entries, err := tx.AuditEntries(ctx, bot.AuditQuery{CustomerID: *customer})
		kept = len(entries)
		return err
	})
	if err != nil {
		return fmt.Errorf("erase customer %s: %w", *customer, err)
	}
	if erased.Zero() {
		fmt.Fprintf(sys.out, "nothing was stored about customer %s; the request is recorded in the audit log\n", *customer)
		return nil
	}
	fmt.Fprintf(sys.out, "erased customer %s: %s\n", *customer, erasedSummary(erased))
	fmt.Fprintf(sys.out, "the audit log keeps %d entries about them (identifiers only, no text); see docs/privacy.md\n", kept)
	if erased.Handoffs > 0 {
		fmt.Fprintln(sys.out, "handoff threads in the agent channel on Slack or Discord are out of reach: delete them there")
	}
	return nil
}

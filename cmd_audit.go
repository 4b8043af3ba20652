package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// cmdAudit prints the audit log: every access to account data by a tool,
// every change of an identity link, every export and erasure.
func cmdAudit(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("audit", "audit [--since 7d] [--customer ID] [--limit N] [--json] [--db FILE]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	since := fs.String("since", "7d", "how far back: 7d, 24h, 30m; 0 for everything")
	customer := fs.String("customer", "", "only entries about this customer or made by an identity linked to them")
	limit := fs.Int("limit", 1000, "at most the N newest entries; 0 for all")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	period, err := parseDuration(*since)
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit must not be negative", errUsage)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()

	q := bot.AuditQuery{CustomerID: *customer, Limit: *limit}
	if period > 0 {
		q.Since = time.Now().Add(-period)
	}
	var entries []bot.AuditEntry
	err = st.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		entries, err = tx.AuditEntries(ctx, q)
		return err
	})
	if err != nil {
		return fmt.Errorf("read the audit log: %w", err)
	}
	if *asJSON {
		out := make([]exportAudit, 0, len(entries))
		for _, e := range entries {
			out = append(out, auditJSON(e))
		}
		enc := json.NewEncoder(sys.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(sys.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tACTOR\tCUSTOMER\tACTION\tRECORD\tOUTCOME\tREASON\tCONVERSATION")
	for _, e := range entries {
		conv := "-"
		if e.ConversationID != 0 {
			conv = fmt.Sprint(e.ConversationID)
		}
		customer := dash(e.CustomerID)
		if e.ActorCustomer != "" && e.ActorCustomer != e.CustomerID {
			customer += " (asked by " + e.ActorCustomer + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.DateTime), e.Actor, customer,
			e.Action, dash(cleanField(e.Record, 80)), e.Outcome, dash(e.Reason), conv)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *limit > 0 && len(entries) == *limit {
		fmt.Fprintf(sys.err, "showing the newest %d entries; use --limit 0 or a shorter --since for more\n", *limit)
	}
	return nil
}

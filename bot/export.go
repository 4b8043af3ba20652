package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// cmdExport writes everything stored about a customer as JSON, for an
// access request, and records the export in the audit log.
func cmdExport(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("export", "export --customer ID [--out FILE] [--by NAME] [--db FILE]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	customer := fs.String("customer", "", "the customer ID to export")
	out := fs.String("out", "", "write to FILE (created with mode 0600) instead of standard output")
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

	now := time.Now()
	var data bot.CustomerData
	err = st.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		if data, err = tx.CustomerData(ctx, *customer); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: now, Actor: adminActor(sys, *by), CustomerID: *customer,
			Action: bot.AuditExport, Record: exportSummary(data), Outcome: bot.AuditAllowed})
	})
	if errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("nothing is stored about customer %s", *customer)
	}
	if err != nil {
		return fmt.Errorf("export customer %s: %w", *customer, err)
	}
	doc := newExport(data, now)
	if *out == "" {
		return writeExport(sys.out, doc)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := writeExport(f, doc); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(sys.err, "exported customer %s to %s: %s\n", *customer, *out, exportSummary(data))
	return nil
}

func writeExport(w io.Writer, doc export) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func exportSummary(d bot.CustomerData) string {
	msgs := 0
	for _, c := range d.Conversations {
		msgs += len(c.Messages)
	}
	return fmt.Sprintf("%s, %s (%s), %s, %s",
		plural(len(d.Identities), "identity link", "identity links"),
		plural(len(d.Conversations), "conversation", "conversations"),
		plural(msgs, "message", "messages"),
		plural(len(d.Payments), "payment", "payments"),
		plural(len(d.Audit), "audit entry", "audit entries"))
}

// ExportFormat names the layout of `firstline export` (docs/privacy.md).
const ExportFormat = "firstline-export/1"

// export is the JSON document `firstline export` writes. Its field names
// are part of the documented format: rename nothing.
type export struct {
	Format        string               `json:"format"`
	ExportedAt    string               `json:"exported_at"`
	Customer      exportCustomer       `json:"customer"`
	Identities    []exportIdentity     `json:"identities"`
	Conversations []exportConversation `json:"conversations"`
	Payments      []exportPayment      `json:"payments"`
	Verifications []exportVerification `json:"verifications"`
	Audit         []exportAudit        `json:"audit"`
}

type exportCustomer struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type exportIdentity struct {
	Platform  string `json:"platform"`
	Workspace string `json:"workspace,omitempty"`
	User      string `json:"user"`
	LinkedAt  string `json:"linked_at,omitempty"`
}

type exportConversation struct {
	ID            int64           `json:"id"`
	Platform      string          `json:"platform"`
	Workspace     string          `json:"workspace,omitempty"`
	Channel       string          `json:"channel"`
	Thread        string          `json:"thread,omitempty"`
	Private       bool            `json:"private"`
	User          string          `json:"user"`
	UserName      string          `json:"user_name,omitempty"`
	State         string          `json:"state"`
	Lang          string          `json:"lang,omitempty"`
	OpenedAt      string          `json:"opened_at,omitempty"`
	LastMessageAt string          `json:"last_message_at,omitempty"`
	ClosedAt      string          `json:"closed_at,omitempty"`
	Messages      []exportMessage `json:"messages"`
	Handoffs      []exportHandoff `json:"handoffs"`
}

type exportMessage struct {
	Role       string `json:"role"`
	Author     string `json:"author,omitempty"`
	AuthorName string `json:"author_name,omitempty"`
	Text       string `json:"text"`
	At         string `json:"at"`
}

type exportHandoff struct {
	State      string `json:"state"`
	Trigger    string `json:"trigger"`
	Reason     string `json:"reason,omitempty"`
	AgentName  string `json:"agent_name,omitempty"`
	Rating     int    `json:"rating,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
	ClaimedAt  string `json:"claimed_at,omitempty"`
	ResolvedAt string `json:"resolved_at,omitempty"`
}

type exportPayment struct {
	Reference string `json:"reference"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Merchant  string `json:"merchant,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

// exportVerification leaves out the code's hash: it is no data about the
// customer, only a way to check a code.
type exportVerification struct {
	Platform    string `json:"platform"`
	Workspace   string `json:"workspace,omitempty"`
	User        string `json:"user"`
	Step        string `json:"step,omitempty"`
	Attempts    int    `json:"attempts,omitempty"`
	LockedUntil string `json:"locked_until,omitempty"`
	UpdatedAt   string `json:"updated_at,omitempty"`
}

type exportAudit struct {
	At             string `json:"at"`
	Actor          string `json:"actor"`
	ActorCustomer  string `json:"actor_customer,omitempty"`
	CustomerID     string `json:"customer_id,omitempty"`
	Action         string `json:"action"`
	Record         string `json:"record,omitempty"`
	Outcome        string `json:"outcome"`
	Reason         string `json:"reason,omitempty"`
	ConversationID int64  `json:"conversation_id,omitempty"`
}

func newExport(d bot.CustomerData, now time.Time) export {
	doc := export{
		Format:        ExportFormat,
		ExportedAt:    stamp(now),
		Customer:      exportCustomer{ID: d.Customer.ID, Name: d.Customer.Name, Email: d.Customer.Email},
		Identities:    []exportIdentity{},
		Conversations: []exportConversation{},
		Payments:      []exportPayment{},
		Verifications: []exportVerification{},
		Audit:         []exportAudit{},
	}
	for _, l := range d.Identities {
		doc.Identities = append(doc.Identities, exportIdentity{Platform: string(l.Identity.Platform),
			Workspace: l.Identity.Workspace, User: l.Identity.User, LinkedAt: stamp(l.CreatedAt)})
	}
	for _, cd := range d.Conversations {
		c := cd.Conversation
		ec := exportConversation{ID: c.ID, Platform: string(c.Key.Platform), Workspace: c.Key.Workspace,
			Channel: c.Key.Channel, Thread: c.Key.Thread, Private: c.Private, User: c.User, UserName: c.UserName,
			State: string(c.State), Lang: c.Lang, OpenedAt: stamp(c.OpenedAt), LastMessageAt: stamp(c.LastMessageAt),
			ClosedAt: stamp(c.ClosedAt), Messages: []exportMessage{}, Handoffs: []exportHandoff{}}
		// Everything, agents' internal notes included: they are data about
		// the customer too.
		for _, m := range cd.Messages {
			ec.Messages = append(ec.Messages, exportMessage{Role: string(m.Role), Author: m.Author,
				AuthorName: m.AuthorName, Text: m.Text, At: stamp(m.CreatedAt)})
		}
		for _, h := range cd.Handoffs {
			ec.Handoffs = append(ec.Handoffs, exportHandoff{State: string(h.State), Trigger: string(h.Trigger),
				Reason: h.Reason, AgentName: h.AgentName, Rating: h.Rating, CreatedAt: stamp(h.CreatedAt),
				ClaimedAt: stamp(h.ClaimedAt), ResolvedAt: stamp(h.ResolvedAt)})
		}
		doc.Conversations = append(doc.Conversations, ec)
	}
	for _, p := range d.Payments {
		doc.Payments = append(doc.Payments, exportPayment{Reference: p.Reference, Amount: p.Amount,
			Currency: p.Currency, Status: string(p.Status), Merchant: p.Merchant,
			CreatedAt: stamp(p.CreatedAt), UpdatedAt: stamp(p.UpdatedAt)})
	}
	for _, v := range d.Verifications {
		doc.Verifications = append(doc.Verifications, exportVerification{Platform: string(v.Identity.Platform),
			Workspace: v.Identity.Workspace, User: v.Identity.User, Step: string(v.Step), Attempts: v.Attempts,
			LockedUntil: stamp(v.LockedUntil), UpdatedAt: stamp(v.UpdatedAt)})
	}
	for _, e := range d.Audit {
		doc.Audit = append(doc.Audit, auditJSON(e))
	}
	return doc
}

func auditJSON(e bot.AuditEntry) exportAudit {
	return exportAudit{At: stamp(e.At), Actor: e.Actor, ActorCustomer: e.ActorCustomer, CustomerID: e.CustomerID,
		Action: string(e.Action), Record: e.Record, Outcome: string(e.Outcome), Reason: e.Reason,
		ConversationID: e.ConversationID}
}

// stamp formats a time for JSON: RFC 3339 in UTC, "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

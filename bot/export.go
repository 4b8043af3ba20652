package bot

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Write writes the export as indented JSON.
func (doc Export) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Summary says how much an export holds, for people and the audit log.
func (d CustomerData) Summary() string {
	msgs := 0
	for _, c := range d.Conversations {
		msgs += len(c.Messages)
	}
	msgsText := plural(msgs, "message", "messages")
	if len(d.Elsewhere) > 0 {
		msgsText += ", " + plural(len(d.Elsewhere), "message", "messages") + " in other conversations"
	}
	return fmt.Sprintf("%s, %s (%s), %s, %s",
		plural(len(d.Identities), "identity link", "identity links"),
		plural(len(d.Conversations), "conversation", "conversations"),
		msgsText,
		plural(len(d.Payments), "payment", "payments"),
		plural(len(d.Audit), "audit entry", "audit entries"))
}

// ExportFormat names the layout of `firstline export` (docs/privacy.md).
const ExportFormat = "firstline-export/1"

// Export is the JSON document `firstline export` writes. Its field names
// are part of the documented format: rename nothing.
type Export struct {
	Format        string               `json:"format"`
	ExportedAt    string               `json:"exported_at"`
	Customer      ExportCustomer       `json:"customer"`
	Identities    []ExportIdentity     `json:"identities"`
	Conversations []ExportConversation `json:"conversations"`
	// MessagesElsewhere are the customer's messages in other customers'
	// conversations, with the conversation they are in.
	MessagesElsewhere []ExportMessage      `json:"messages_elsewhere"`
	Payments          []ExportPayment      `json:"payments"`
	Verifications     []ExportVerification `json:"verifications"`
	Audit             []ExportAudit        `json:"audit"`
}

type ExportCustomer struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type ExportIdentity struct {
	Platform  string `json:"platform"`
	Workspace string `json:"workspace,omitempty"`
	User      string `json:"user"`
	LinkedAt  string `json:"linked_at,omitempty"`
}

type ExportConversation struct {
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
	Messages      []ExportMessage `json:"messages"`
	Handoffs      []ExportHandoff `json:"handoffs"`
}

type ExportMessage struct {
	// ConversationID is set for a message elsewhere only.
	ConversationID int64  `json:"conversation_id,omitempty"`
	Role           string `json:"role"`
	Author         string `json:"author,omitempty"`
	AuthorName     string `json:"author_name,omitempty"`
	Text           string `json:"text"`
	At             string `json:"at"`
}

type ExportHandoff struct {
	State      string `json:"state"`
	Trigger    string `json:"trigger"`
	Reason     string `json:"reason,omitempty"`
	AgentName  string `json:"agent_name,omitempty"`
	Rating     int    `json:"rating,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
	ClaimedAt  string `json:"claimed_at,omitempty"`
	ResolvedAt string `json:"resolved_at,omitempty"`
}

type ExportPayment struct {
	Reference string `json:"reference"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Merchant  string `json:"merchant,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

// ExportVerification leaves out the code's hash: it is no data about the
// customer, only a way to check a code.
type ExportVerification struct {
	Platform    string `json:"platform"`
	Workspace   string `json:"workspace,omitempty"`
	User        string `json:"user"`
	Step        string `json:"step,omitempty"`
	Attempts    int    `json:"attempts,omitempty"`
	LockedUntil string `json:"locked_until,omitempty"`
	UpdatedAt   string `json:"updated_at,omitempty"`
}

type ExportAudit struct {
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

// NewExport lays out what is stored about a customer in the export format.
func NewExport(d CustomerData, now time.Time) Export {
	doc := Export{
		Format:            ExportFormat,
		ExportedAt:        exportTime(now),
		Customer:          ExportCustomer{ID: d.Customer.ID, Name: d.Customer.Name, Email: d.Customer.Email},
		Identities:        []ExportIdentity{},
		Conversations:     []ExportConversation{},
		MessagesElsewhere: []ExportMessage{},
		Payments:          []ExportPayment{},
		Verifications:     []ExportVerification{},
		Audit:             []ExportAudit{},
	}
	for _, l := range d.Identities {
		doc.Identities = append(doc.Identities, ExportIdentity{Platform: string(l.Identity.Platform),
			Workspace: l.Identity.Workspace, User: l.Identity.User, LinkedAt: exportTime(l.CreatedAt)})
	}
	for _, cd := range d.Conversations {
		c := cd.Conversation
		ec := ExportConversation{ID: c.ID, Platform: string(c.Key.Platform), Workspace: c.Key.Workspace,
			Channel: c.Key.Channel, Thread: c.Key.Thread, Private: c.Private, User: c.User, UserName: c.UserName,
			State: string(c.State), Lang: c.Lang, OpenedAt: exportTime(c.OpenedAt), LastMessageAt: exportTime(c.LastMessageAt),
			ClosedAt: exportTime(c.ClosedAt), Messages: []ExportMessage{}, Handoffs: []ExportHandoff{}}
		// Everything, agents' internal notes included: they are data about
		// the customer too.
		for _, m := range cd.Messages {
			ec.Messages = append(ec.Messages, ExportMessage{Role: string(m.Role), Author: m.Author,
				AuthorName: m.AuthorName, Text: m.Text, At: exportTime(m.CreatedAt)})
		}
		for _, h := range cd.Handoffs {
			ec.Handoffs = append(ec.Handoffs, ExportHandoff{State: string(h.State), Trigger: string(h.Trigger),
				Reason: h.Reason, AgentName: h.AgentName, Rating: h.Rating, CreatedAt: exportTime(h.CreatedAt),
				ClaimedAt: exportTime(h.ClaimedAt), ResolvedAt: exportTime(h.ResolvedAt)})
		}
		doc.Conversations = append(doc.Conversations, ec)
	}
	for _, m := range d.Elsewhere {
		doc.MessagesElsewhere = append(doc.MessagesElsewhere, ExportMessage{ConversationID: m.ConversationID,
			Role: string(m.Role), Author: m.Author, AuthorName: m.AuthorName, Text: m.Text, At: exportTime(m.CreatedAt)})
	}
	for _, p := range d.Payments {
		doc.Payments = append(doc.Payments, ExportPayment{Reference: p.Reference, Amount: p.Amount,
			Currency: p.Currency, Status: string(p.Status), Merchant: p.Merchant,
			CreatedAt: exportTime(p.CreatedAt), UpdatedAt: exportTime(p.UpdatedAt)})
	}
	for _, v := range d.Verifications {
		doc.Verifications = append(doc.Verifications, ExportVerification{Platform: string(v.Identity.Platform),
			Workspace: v.Identity.Workspace, User: v.Identity.User, Step: string(v.Step), Attempts: v.Attempts,
			LockedUntil: exportTime(v.LockedUntil), UpdatedAt: exportTime(v.UpdatedAt)})
	}
	for _, e := range d.Audit {
		doc.Audit = append(doc.Audit, ExportAuditEntry(e))
	}
	return doc
}

// ExportAuditEntry is an audit entry as the export (and `firstline audit
// --json`) writes it.
func ExportAuditEntry(e AuditEntry) ExportAudit {
	return ExportAudit{At: exportTime(e.At), Actor: e.Actor, ActorCustomer: e.ActorCustomer, CustomerID: e.CustomerID,
		Action: string(e.Action), Record: e.Record, Outcome: string(e.Outcome), Reason: e.Reason,
		ConversationID: e.ConversationID}
}

// exportTime formats a time for JSON: RFC 3339 in UTC, "" for the zero time.
func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// plural is n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// String says what an erasure deleted, for people and the audit log.
func (e Erased) String() string {
	record := "no customer record"
	if e.Customer {
		record = "the customer record"
	}
	s := fmt.Sprintf("%s, %s, %s (%s, %s), %s, %s", record,
		plural(e.Identities, "identity link", "identity links"),
		plural(e.Conversations, "conversation", "conversations"),
		plural(e.Messages, "message", "messages"),
		plural(e.Handoffs, "handoff with its rating", "handoffs with their ratings"),
		plural(e.Payments, "payment", "payments"),
		plural(e.Verifications, "verification", "verifications"))
	if e.Elsewhere > 0 || e.Scrubbed > 0 {
		s += fmt.Sprintf(", %s in other conversations, %s scrubbed",
			plural(e.Elsewhere, "message", "messages"), plural(e.Scrubbed, "outgoing message", "outgoing messages"))
	}
	return s
}

package bot

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by stores and payment sources when a record does
// not exist. Callers compare with errors.Is.
var ErrNotFound = errors.New("not found")

// Store is the persistence the engine and the handoff flow need. Every state
// change and the outgoing messages it causes are written in one transaction.
type Store interface {
	// WithTx runs fn in a transaction: committed when fn returns nil, rolled
	// back otherwise. Implementations serialize conflicting writers (SQLite:
	// BEGIN IMMEDIATE; PostgreSQL: row locks), so fn may read then write.
	WithTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is what can be done inside a transaction, grouped by use.
type Tx interface {
	Conversations
	Messages
	Handoffs
	Outbox
	Identities
	Privacy
	HandoffQueue
	ConversationStats
	TurnLeases
}

// Conversations stores conversations.
type Conversations interface {
	// ActiveConversation returns the open (not closed) conversation at key,
	// or ErrNotFound.
	ActiveConversation(ctx context.Context, key ConversationKey) (Conversation, error)
	Conversation(ctx context.Context, id int64) (Conversation, error)
	// CreateConversation stores c and sets c.ID.
	CreateConversation(ctx context.Context, c *Conversation) error
	// UpdateConversation saves State, Lang, RatingHandoffID, Misses,
	// CustomerID, LastMessageAt and ClosedAt.
	UpdateConversation(ctx context.Context, c Conversation) error
	// OpenConversations returns the open conversations on a platform,
	// oldest first (an adapter backfills them after a reconnect).
	OpenConversations(ctx context.Context, p Platform) ([]Conversation, error)
}

// Messages stores conversation messages.
type Messages interface {
	// AddMessage stores m and sets m.ID. When m.DedupeKey is set and a
	// message with that key exists, it stores nothing and returns false.
	AddMessage(ctx context.Context, m *Message) (bool, error)
	Message(ctx context.Context, id int64) (Message, error)
	// MessageByDedupeKey returns the message stored with that dedupe key, or
	// ErrNotFound.
	MessageByDedupeKey(ctx context.Context, key string) (Message, error)
	// RecentMessages returns up to limit newest messages of a conversation,
	// oldest first.
	RecentMessages(ctx context.Context, conversationID int64, limit int) ([]Message, error)
	// MarkProcessed marks a customer message as dealt with, and reports
	// whether this call changed it: false when it was processed already
	// (by a turn on another replica).
	MarkProcessed(ctx context.Context, messageID int64) (bool, error)
	// LastDedupeKey returns the dedupe key of the newest message of a
	// conversation with one of roles that came from a platform, or "" when
	// there is none.
	LastDedupeKey(ctx context.Context, conversationID int64, roles ...Role) (string, error)
}

// Handoffs stores handoffs.
type Handoffs interface {
	// CreateHandoff stores h and sets h.ID.
	CreateHandoff(ctx context.Context, h *Handoff) error
	Handoff(ctx context.Context, id int64) (Handoff, error)
	// OpenHandoff returns the waiting or claimed handoff of a conversation,
	// or ErrNotFound.
	OpenHandoff(ctx context.Context, conversationID int64) (Handoff, error)
	// HandoffByThread finds the handoff whose announcement was delivered as
	// platform message ref in channel; ErrNotFound otherwise.
	HandoffByThread(ctx context.Context, p Platform, channel, ref string) (Handoff, error)
	// SetAnnounce records the outbox row of a handoff's announcement.
	SetAnnounce(ctx context.Context, handoffID, outboxID int64) error
	// ClaimHandoff moves a waiting handoff to claimed by agent. It returns
	// false, changing nothing, when the handoff is not waiting: of
	// concurrent claims exactly one returns true.
	ClaimHandoff(ctx context.Context, id int64, agentID, agentName string, at time.Time) (bool, error)
	// UnclaimHandoff returns a claimed handoff to waiting; false if it was
	// not claimed.
	UnclaimHandoff(ctx context.Context, id int64) (bool, error)
	// ResolveHandoff moves a waiting or claimed handoff to resolved; false
	// if it was already resolved.
	ResolveHandoff(ctx context.Context, id int64, at time.Time) (bool, error)
	// RateHandoff stores a 1–5 rating.
	RateHandoff(ctx context.Context, id int64, rating int) error
	// QueuePosition is the 1-based place of a waiting handoff among all
	// waiting handoffs, oldest first; 0 when it is not waiting.
	QueuePosition(ctx context.Context, id int64) (int, error)
	// OpenHandoffs returns the waiting and claimed handoffs announced on a
	// platform whose announcement was delivered, with the platform id of
	// the announcement (the handoff's thread), oldest first.
	OpenHandoffs(ctx context.Context, agentPlatform Platform) ([]HandoffThread, error)
}

// HandoffThread is an open handoff and the platform id of its announcement.
type HandoffThread struct {
	Handoff Handoff
	Ref     string
}

// Outbox enqueues outgoing messages.
type Outbox interface {
	// Enqueue stores m as pending and sets m.ID.
	Enqueue(ctx context.Context, m *Outgoing) error
}

// Identities links chat identities to customers.
type Identities interface {
	// CustomerFor returns the customer id linked to an identity, or
	// ErrNotFound.
	CustomerFor(ctx context.Context, id Identity) (string, error)
	Customer(ctx context.Context, id string) (Customer, error)
	// CustomerByEmail returns the id of the customer with this email,
	// compared case-insensitively, or ErrNotFound.
	CustomerByEmail(ctx context.Context, email string) (string, error)
	// LinkIdentity links an identity to an existing customer (ErrNotFound
	// when there is no such customer), replacing an earlier link.
	LinkIdentity(ctx context.Context, l Link) error
}

// Admin is what the admin commands, the demo seeding and the tests do with
// a store outside the engine's transactions.
type Admin interface {
	IdentityLinks
	CustomerTable
}

// IdentityLinks are the links from chat identities to customers, as admins
// see them (`firstline link`).
type IdentityLinks interface {
	// Link links an identity to a customer, replacing any link it had; the
	// customer must exist, else an error wrapping ErrNotFound.
	Link(ctx context.Context, l Link) error
	// Unlink removes an identity's link; ErrNotFound if there is none.
	Unlink(ctx context.Context, id Identity) error
	// Links lists all links ordered by platform, workspace and user.
	Links(ctx context.Context) ([]Link, error)
}

// CustomerTable is the store's own table of customers and their payments,
// which the demo and the tests fill.
type CustomerTable interface {
	// PutCustomer stores a customer, replacing one with the same ID.
	PutCustomer(ctx context.Context, c Customer) error
	// PutPayment stores a payment, replacing one with the same Reference;
	// the customer must exist, else an error wrapping ErrNotFound.
	PutPayment(ctx context.Context, p Payment) error
	// CustomerCount returns how many customers are stored.
	CustomerCount(ctx context.Context) (int, error)
}

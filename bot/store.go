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
	// View runs fn in a read-only transaction that takes no locks and
	// never waits for writers: what a turn reads before its model call,
	// when nothing needs writing, costs no commit. Writes in fn fail.
	View(ctx context.Context, fn func(Tx) error) error
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
	Feedbacks
	TurnLeases
	Intakes
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
	// OpenHandoffOf returns the oldest waiting or claimed handoff of any
	// conversation of a chat identity, or ErrNotFound.
	OpenHandoffOf(ctx context.Context, id Identity) (Handoff, error)
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
	// Enqueue stores m as pending and sets m.ID. The row is due at
	// m.NextAttemptAt when that is after m.CreatedAt, else at once.
	Enqueue(ctx context.Context, m *Outgoing) error
	// StreamTail returns the newest row of a handoff's stream, whatever
	// its status (ID 0 when there is none), locked for the transaction, and
	// whether it may still change: it is pending and no dispatcher is
	// sending it. A new post may be merged into a row that may change,
	// keeping the stream's order; the tail's times space out the next one.
	StreamTail(ctx context.Context, handoffID int64, stream string) (tail Outgoing, mutable bool, err error)
	// ReplacePending sets the text of a row that is still pending and not
	// being sent, and reports whether it was.
	ReplacePending(ctx context.Context, id int64, text string) (bool, error)
	// ClaimQueued claims a row this transaction queued for delivery by the
	// caller, as a dispatcher's claim would (in flight until until), and
	// returns it, when it is due at now and first in its stream: no older
	// row of the stream is pending, and its parent, if any, is sent or dead.
	// Otherwise it changes nothing and reports false: the dispatcher sends
	// the row in its turn.
	ClaimQueued(ctx context.Context, id int64, now, until time.Time) (Outgoing, bool, error)
}

// Identities links chat identities to customers. Who the customers are is
// the Directory's business: a link names a customer id the directory knew
// when the link was made.
type Identities interface {
	// CustomerFor returns the customer id linked to an identity, or
	// ErrNotFound.
	CustomerFor(ctx context.Context, id Identity) (string, error)
	// LinkIdentity links an identity to a customer, replacing an earlier
	// link. The caller has checked the customer in the directory.
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
	// Link links an identity to a customer, replacing any link it had.
	// The caller has checked the customer in the directory.
	Link(ctx context.Context, l Link) error
	// Unlink removes an identity's link; ErrNotFound if there is none.
	Unlink(ctx context.Context, id Identity) error
	// Links lists all links ordered by platform, workspace and user.
	Links(ctx context.Context) ([]Link, error)
}

// CustomerTable is the store's own table of customers and their payments:
// the directory and payment source when the company's API is not
// configured, filled by `firstline customers import` (and, for chat and
// eval, the demo data).
type CustomerTable interface {
	Directory
	// PutCustomer stores a customer, replacing one with the same ID.
	PutCustomer(ctx context.Context, c Customer) error
	// PutPayment stores a payment, replacing one with the same Reference;
	// the customer must exist, else an error wrapping ErrNotFound.
	PutPayment(ctx context.Context, p Payment) error
	// CustomerCount returns how many customers are stored.
	CustomerCount(ctx context.Context) (int, error)
	// ImportCustomers adds or updates customers in one transaction: every
	// row of the result is written, or none is. Rows whose email is on
	// another customer (stored and not changed by this import, or earlier
	// in cs) come back in Conflicts; with skipConflicts the other rows are
	// written, without it nothing is when there are conflicts.
	ImportCustomers(ctx context.Context, cs []Customer, skipConflicts bool) (ImportResult, error)
	// ListCustomers returns up to limit customers whose id sorts after
	// after (byte by byte), in that order: a page of the table.
	ListCustomers(ctx context.Context, after string, limit int) ([]Customer, error)
	// RemoveCustomer deletes a customer and its payments. A customer that
	// identities are linked to is refused with an error wrapping ErrLinked,
	// unless unlink is set: then the links go in the same transaction, as
	// does the audit entry, when one is given. ErrNotFound when there is no
	// such customer.
	RemoveCustomer(ctx context.Context, id string, unlink bool, audit *AuditEntry) (Removed, error)
}

// ErrLinked is wrapped by RemoveCustomer's error for a customer that chat
// identities are still linked to.
var ErrLinked = errors.New("identities are linked to the customer")

// ImportResult is what ImportCustomers did, or, when it wrote nothing for
// conflicts, what it would have done without them.
type ImportResult struct {
	Added, Updated, Unchanged int
	// Conflicts are the rows not written because their email belongs to
	// another customer, by index in the slice given.
	Conflicts []ImportConflict
}

// ImportConflict is a row whose email another customer has.
type ImportConflict struct {
	Index int    // in the slice given to ImportCustomers
	Other string // the id of the customer that has the email
}

// Removed is what RemoveCustomer deleted.
type Removed struct {
	Payments, Links int
}

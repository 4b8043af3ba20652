package bot

import (
	"context"
	"time"
)

// Privacy is what erasure, export, retention, the audit log, identity
// verification and the daily token budget need of a store transaction.
type Privacy interface {
	Audits
	CustomerRecords
	Retention
	Verifications
	VerifyBudgets
	TokenBudget
	Unlinks
	ConnectStates
}

// ConnectStates stores the single-use tokens of "Connect your account"
// links, by the SHA-256 of the token (connect.go).
type ConnectStates interface {
	// PutConnectState stores a new state.
	PutConnectState(ctx context.Context, s ConnectState) error
	// RedeemConnectState marks the state with this hash used at at, and
	// returns it as it was before: with UsedAt set when it had been used
	// already (then nothing changes). ErrNotFound when there is none. Of
	// concurrent redemptions, one sees it unused.
	RedeemConnectState(ctx context.Context, hash string, at time.Time) (ConnectState, error)
}

// ConnectState is a "Connect your account" link's state: bound to the chat
// identity it was offered to and the conversation to answer in.
type ConnectState struct {
	Hash           string // hex SHA-256 of the token; the token is not stored
	Identity       Identity
	ConversationID int64
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time // zero until redeemed
}

// Unlinks removes identity links inside a transaction, so that an admin's
// unlink and its audit entry commit together.
type Unlinks interface {
	// UnlinkIdentity removes an identity's link and returns the customer
	// it was linked to; ErrNotFound when it had none.
	UnlinkIdentity(ctx context.Context, id Identity) (string, error)
}

// Audits is the append-only audit log. There is no way to change or delete
// an entry: the stores refuse UPDATE and DELETE on the table itself.
type Audits interface {
	// AppendAudit stores e and sets e.ID. A zero At is stored as now.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditEntries returns the entries q selects, oldest first.
	AuditEntries(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// CustomerRecords finds and erases everything stored about one customer,
// for access requests (export) and erasure requests (forget).
type CustomerRecords interface {
	// CustomerData returns everything stored about a customer: the customer
	// record, linked identities, conversations (with their messages and
	// handoffs), the messages the customer wrote in other conversations,
	// payments in the built-in table, the identity verification in
	// progress, and the audit entries about them. A customer of whom
	// nothing is stored is ErrNotFound.
	CustomerData(ctx context.Context, customerID string) (CustomerData, error)
	// EraseCustomer deletes what CustomerData returns, except the audit
	// entries, and says how much went. The conversations go with their
	// messages, handoffs (and so ratings) and outbox rows; the lines of
	// re-ping digests about their handoffs (ScrubDigest) and the quotes of
	// the messages elsewhere in outbox rows (ScrubQuotes) are scrubbed.
	EraseCustomer(ctx context.Context, customerID string) (Erased, error)
}

// Retention deletes old texts in batches, so that one run never holds the
// database for long. Every method is idempotent and safe to run on several
// replicas at once.
type Retention interface {
	// ScrubMessages deletes the words of up to limit messages stored before
	// cutoff (their text and author's display name) and returns how many
	// it changed. The rows stay with their role and time, so that counts
	// and response times over any period still add up.
	ScrubMessages(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// PurgeOutbox deletes up to limit delivered or dead outbox rows queued
	// before cutoff (they hold the texts that were sent), keeping the
	// announcement of a handoff that is still open, whose delivered
	// message agents reply under. It returns how many went.
	PurgeOutbox(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// ScrubConversations clears the free text kept beside the counts of
	// conversations and handoffs older than cutoff: the customer's display
	// name, and handoff reasons (which may quote the customer). Their
	// timestamps, states, triggers and ratings stay for statistics. It
	// returns how many rows changed.
	ScrubConversations(ctx context.Context, cutoff time.Time) (int, error)
	// PurgeVerifications deletes identity verifications last changed
	// before cutoff whose lockout has ended, verification budgets alike,
	// connect states that expired before cutoff, and intakes left over
	// from before cutoff (Intakes; they live for seconds).
	PurgeVerifications(ctx context.Context, cutoff time.Time) (int, error)
}

// Verifications stores identity verifications in progress, one per chat
// identity, so that a lockout outlives the conversation it happened in.
type Verifications interface {
	// Verification returns the verification of an identity, or ErrNotFound.
	Verification(ctx context.Context, id Identity) (Verification, error)
	// PutVerification stores v, replacing the identity's earlier one.
	PutVerification(ctx context.Context, v Verification) error
	// DeleteVerification removes an identity's verification; removing one
	// that does not exist is not an error.
	DeleteVerification(ctx context.Context, id Identity) error
}

// VerifyBudgets stores the limits of identity verification per target
// (the email codes are asked for), shared by every chat identity and
// replica.
type VerifyBudgets interface {
	// VerifyBudget returns the budget of target, read for update, or a
	// budget with only Target set when there is none yet.
	VerifyBudget(ctx context.Context, target string) (VerifyBudget, error)
	// PutVerifyBudget stores b, replacing target's earlier one.
	PutVerifyBudget(ctx context.Context, b VerifyBudget) error
}

// VerifyBudget counts the codes sent to one target and the wrong codes
// typed for it, across chat identities, and locks the target out.
type VerifyBudget struct {
	// Target is "email:" and the hex SHA-256 of the normalized address.
	Target string
	// CustomerID is the customer a code went to, once one did: erasing the
	// customer erases the budget.
	CustomerID    string
	Sends         int
	SendsSince    time.Time
	Failures      int
	FailuresSince time.Time
	LockedUntil   time.Time
	UpdatedAt     time.Time
}

// TokenBudget counts the model tokens used per UTC day, shared by every
// replica, for FIRSTLINE_DAILY_TOKEN_CAP.
type TokenBudget interface {
	// TokensUsed returns the tokens counted for day (YYYY-MM-DD).
	TokensUsed(ctx context.Context, day string) (int64, error)
	// AddTokens adds n tokens to day and returns the day's new total.
	AddTokens(ctx context.Context, day string, n int64) (int64, error)
	// MarkBudgetAlerted records that agents were told the day's budget is
	// used up. It returns true only for the first call of a day, so that
	// exactly one alert is sent whatever the number of replicas.
	MarkBudgetAlerted(ctx context.Context, day string, at time.Time) (bool, error)
}

// AuditAction is what an audit entry records.
type AuditAction string

// Audited actions.
const (
	AuditPaymentLookup  AuditAction = "payment_lookup"  // payment_status for one reference
	AuditPaymentList    AuditAction = "payment_list"    // payment_status for the recent payments
	AuditToolCall       AuditAction = "tool_call"       // a data tool of tools.yaml: Record is "name:ids"
	AuditLink           AuditAction = "link"            // `firstline link`
	AuditUnlink         AuditAction = "unlink"          // `firstline link --unlink`
	AuditLinkByEmail    AuditAction = "link_by_email"   // SLACK_LINK_BY_EMAIL
	AuditVerifySent     AuditAction = "verify_sent"     // a verification code was asked for
	AuditVerifyFailed   AuditAction = "verify_failed"   // a wrong or expired code
	AuditVerifyLocked   AuditAction = "verify_locked"   // too many attempts: locked out
	AuditVerifyLinked   AuditAction = "verify_linked"   // a right code linked the identity
	AuditConnectOffer   AuditAction = "connect_offer"   // a "Connect your account" link was offered
	AuditConnect        AuditAction = "connect"         // the company's back end redeemed a connect state
	AuditDisconnect     AuditAction = "disconnect"      // the customer unlinked their chat from the chat
	AuditCustomerRemove AuditAction = "customer_remove" // `firstline customers remove`
	AuditExport         AuditAction = "export"          // `firstline export`
	AuditErase          AuditAction = "erase"           // `firstline forget`
	AuditRetention      AuditAction = "retention"       // the retention job deleted old texts
)

// AuditOutcome says whether an audited request was carried out.
type AuditOutcome string

// Audit outcomes.
const (
	AuditAllowed AuditOutcome = "allowed"
	AuditRefused AuditOutcome = "refused"
)

// AuditEntry is one line of the audit log. It holds identifiers and codes
// only: never message text, emails, codes or card numbers.
type AuditEntry struct {
	ID int64
	At time.Time
	// Actor is who asked: a chat identity ("slack:T1:U1", see ActorOf),
	// "admin:NAME" for the command line, or "system:retention".
	Actor string
	// ActorCustomer is the customer the actor's identity was linked to
	// when it asked; "" when it was not linked (or not a chat identity).
	ActorCustomer string
	// CustomerID is whose data the entry is about: the owner of the
	// record asked for, the customer linked or erased; "" when unknown
	// (a reference that does not exist).
	CustomerID string
	Action     AuditAction
	// Record names the record: a payment reference, the references a list
	// returned, an identity, or counts of what was erased.
	Record  string
	Outcome AuditOutcome
	// Reason is a short code saying why: not_linked, private_only,
	// not_yours, not_found, invalid_arguments, source_error, wrong_code, ….
	Reason         string
	ConversationID int64
}

// ActorOf names a chat identity as an audit actor: platform, workspace
// (when there is one) and user, separated by colons.
func ActorOf(id Identity) string {
	if id.Workspace == "" {
		return string(id.Platform) + ":" + id.User
	}
	return string(id.Platform) + ":" + id.Workspace + ":" + id.User
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	// Since selects entries at or after it; zero selects all.
	Since time.Time
	// CustomerID, when set, selects entries about the customer or made by
	// an identity linked to them.
	CustomerID string
	// Limit bounds how many entries are returned: the newest Limit of
	// those selected (still oldest first). Zero means no bound.
	Limit int
}

// CustomerData is everything stored about one customer.
type CustomerData struct {
	// Customer is the customer record; only ID is set when the record is
	// gone but conversations still name the customer.
	Customer      Customer
	Identities    []Link
	Conversations []ConversationData
	// Elsewhere are the messages the customer wrote in other customers'
	// conversations (a shared channel thread).
	Elsewhere     []Message
	Payments      []Payment
	Verifications []Verification
	Audit         []AuditEntry
}

// ConversationData is one conversation with what it holds.
type ConversationData struct {
	Conversation Conversation
	Messages     []Message
	Handoffs     []Handoff
}

// Erased counts what EraseCustomer deleted.
type Erased struct {
	Customer      bool // the customer record itself
	Identities    int
	Conversations int
	Messages      int
	Handoffs      int
	Payments      int
	Verifications int
	// Elsewhere counts the customer's messages deleted from other
	// customers' conversations.
	Elsewhere int
	// Scrubbed counts outbox rows of no erased conversation rewritten
	// without the customer: re-ping digests, and posts in other handoffs'
	// threads that quoted the customer.
	Scrubbed int
}

// Zero reports whether nothing was erased.
func (e Erased) Zero() bool { return e == Erased{} }

// VerifyStep is where an identity verification stands.
type VerifyStep string

// Verification steps.
const (
	// VerifyNone: nothing in progress (a lockout may still be running).
	VerifyNone VerifyStep = ""
	// VerifyEmail: the bot asked for the email on the customer's account.
	VerifyEmail VerifyStep = "email"
	// VerifySend: an email was given; the next turn sends the code.
	VerifySend VerifyStep = "send"
	// VerifyCode: a code was sent (or pretended to be, when no customer
	// has the email); the bot waits for it.
	VerifyCode VerifyStep = "code"
)

// Verification is one chat identity's proof of who they are in progress.
// The code itself is never stored: only a salted hash of it.
type Verification struct {
	Identity Identity
	// ConversationID is the conversation the verification runs in; a new
	// conversation does not continue it (the lockout still applies).
	ConversationID int64
	Step           VerifyStep
	// CustomerID is the customer whose email was given; "" when no single
	// customer has it (the flow goes on the same way, so that nobody can
	// learn which addresses are customers').
	CustomerID string
	// Email is the address the customer gave, held at the send step only:
	// the directory is asked for it when the code is sent, outside any
	// transaction, and the field is cleared then.
	Email string
	// CodeHash is the salted hash of the code sent ("" before one is).
	CodeHash  string
	ExpiresAt time.Time
	// Attempts counts wrong codes for the current code.
	Attempts int
	// Target is the VerifyBudget the flow counts against, from the email
	// given ("" before one is).
	Target string
	// Sends counts codes sent since SendsSince, to bound how many one
	// identity can have sent in an hour.
	Sends       int
	SendsSince  time.Time
	LockedUntil time.Time
	UpdatedAt   time.Time
}

// Package bot is Firstline's domain: the conversation engine, the model loop,
// the tools and their authorization, and the small interfaces those consume
// (a store, a model, a payment source, an escalator). It imports no adapter,
// SQL driver or platform SDK; bot/app wires concrete implementations in.
package bot

import (
	"time"
)

// Platform names a chat platform a message comes from or goes to.
type Platform string

// The platforms Firstline speaks. Console is the terminal used by `firstline chat`.
const (
	Slack   Platform = "slack"
	Discord Platform = "discord"
	Console Platform = "console"
)

// Valid reports whether p is a platform Firstline knows.
func (p Platform) Valid() bool {
	switch p {
	case Slack, Discord, Console:
		return true
	}
	return false
}

// ConversationKey identifies where a conversation takes place: a direct
// message channel is one conversation, and each thread in a shared channel is
// one. Workspace is the Slack team or Discord guild ("" for Discord DMs).
type ConversationKey struct {
	Platform  Platform
	Workspace string
	Channel   string
	Thread    string
}

// Identity is a chat user on one platform and workspace. Identities are linked
// to customers by an admin (`firstline link`) or, on Slack, by profile email.
type Identity struct {
	Platform  Platform
	Workspace string
	User      string
}

// Attachment is a file a customer sent; agents receive it as a link.
type Attachment struct {
	Name string
	URL  string
}

// Incoming is one customer message as an adapter hands it to the engine.
type Incoming struct {
	Key ConversationKey
	// User is the platform's user id of the sender; UserName a display name.
	User     string
	UserName string
	Text     string
	// MessageID is the platform's id of the message, unique per platform. It
	// is the dedupe key: platforms deliver some messages more than once.
	MessageID string
	// Private is true in a direct message, the only place account data may
	// be shown.
	Private     bool
	Attachments []Attachment
}

// State is where a conversation stands in the handoff flow.
type State string

// Conversation states. While waiting or agent, the bot does not answer.
const (
	StateBot     State = "bot"
	StateWaiting State = "waiting" // a handoff is open and unclaimed
	StateAgent   State = "agent"   // an agent claimed the handoff
)

// Conversation is one customer conversation at one ConversationKey. It closes
// after the idle timeout; the next message at the same key opens a new one.
type Conversation struct {
	ID       int64
	Key      ConversationKey
	State    State
	Private  bool
	User     string // platform user who opened the conversation
	UserName string
	// CustomerID is the customer linked to User when the conversation was
	// looked up; "" when the identity is not linked.
	CustomerID string
	// Lang is the customer's language as last detected ("" unknown).
	Lang string
	// RatingHandoffID is the resolved handoff whose 1–5 rating the customer
	// was asked for and has not given yet; 0 when none is pending.
	RatingHandoffID int64
	// Misses counts consecutive bot turns that could not help.
	Misses        int
	OpenedAt      time.Time
	LastMessageAt time.Time
	ClosedAt      time.Time // zero while open
}

// Identity returns the identity of the conversation's customer.
func (c Conversation) Identity() Identity {
	return NewIdentity(c.Key.Platform, c.Key.Workspace, c.User)
}

// NewIdentity returns the identity of user in workspace. Discord user ids are
// global, the same in every server and in direct messages, so Discord
// identities carry no workspace.
func NewIdentity(p Platform, workspace, user string) Identity {
	if p == Discord {
		workspace = ""
	}
	return Identity{Platform: p, Workspace: workspace, User: user}
}

// Role says who wrote a stored message.
type Role string

// Message roles. Notes are agents' internal remarks and never reach customers.
const (
	RoleCustomer Role = "customer"
	RoleBot      Role = "bot"
	RoleAgent    Role = "agent"
	RoleNote     Role = "note"
	RoleSystem   Role = "system"
	// RoleEdit is the customer's edit or deletion of an earlier message,
	// noted for the agents (see Engine.Edited). It is not a message the
	// platform has: its dedupe key is not a platform message id, and it
	// neither starts a turn nor moves a backfill cursor.
	RoleEdit Role = "edit"
	// RoleDraft is the bot's drafted answer in shadow mode, shown to agents
	// only; it reaches the customer when an agent sends it.
	RoleDraft Role = "draft"
)

// Message is one stored message of a conversation.
type Message struct {
	ID             int64
	ConversationID int64
	Role           Role
	// Author is the platform user id of a customer or agent; AuthorName its
	// display name.
	Author     string
	AuthorName string
	Text       string
	// DedupeKey is "<platform>:<platform message id>" for messages that came
	// from a platform; empty for messages the bot wrote.
	DedupeKey string
	// PromptVersion is the hash of the prompt files a bot message was made with.
	PromptVersion string
	Processed     bool
	CreatedAt     time.Time
}

// Action is what a button does when pressed.
type Action string

// Button actions. The value carried with a button names its target (a
// conversation or handoff id, or a rating).
const (
	ActionTalkToPerson Action = "talk_to_person"
	ActionClaim        Action = "claim"
	ActionResolve      Action = "resolve"
	ActionRate         Action = "rate"
	ActionSendDraft    Action = "send_draft"
	// ActionFeedback is a vote on the answer it sits under: Value is
	// FeedbackValue's "<message id>:up" or "<message id>:down".
	ActionFeedback Action = "feedback"
	// ActionOpenURL is a link button: Value is the URL it opens, and
	// pressing it asks nothing of the bot.
	ActionOpenURL Action = "open_url"
)

// Button is an interactive button attached to an outgoing message.
type Button struct {
	Action Action
	Label  string
	Value  string
}

// OutKind tells an adapter how to present an outgoing message.
type OutKind string

// Outgoing message kinds.
const (
	KindReply    OutKind = "reply"    // the bot to a customer
	KindRelay    OutKind = "relay"    // an agent to a customer, via the bot
	KindAnnounce OutKind = "announce" // a new handoff in the agent channel
	KindThread   OutKind = "thread"   // a post in a handoff's agent thread
	// KindUpdate replaces the delivered message ParentID refers to (a
	// handoff card) with Text and Buttons; ParentRef is its platform id.
	KindUpdate OutKind = "update"
)

// OutStatus is the delivery state of an outbox row.
type OutStatus string

// Outbox delivery states.
const (
	OutPending OutStatus = "pending"
	OutSent    OutStatus = "sent"
	OutDead    OutStatus = "dead" // gave up after repeated failures
)

// Outgoing is one message the product sends. It is stored in the outbox in
// the same transaction as the state change that caused it, and delivered by
// the dispatcher to the adapter of its Platform.
type Outgoing struct {
	ID        int64
	Platform  Platform
	Workspace string
	Channel   string
	Thread    string
	// ParentID, when set, is the outbox row whose delivered message this one
	// is threaded under (a handoff thread under its announcement). The
	// dispatcher fills ParentRef with that message's platform id.
	ParentID  int64
	ParentRef string
	// Stream orders delivery: rows of one stream are delivered in id order,
	// and a stuck row holds back only its own stream.
	Stream  string
	Kind    OutKind
	Author  string // display name of the agent, for relays
	Text    string
	Buttons []Button
	// Mention asks the adapter to mention the configured agent group.
	Mention        bool
	ConversationID int64
	HandoffID      int64

	Status   OutStatus
	Attempts int
	// MaybeSent is true when an earlier claim of this row started a send
	// whose outcome was never recorded (the process died mid-send): the
	// platform may already have the message. Adapters that can look, do,
	// before sending again.
	MaybeSent     bool
	NextAttemptAt time.Time
	LastError     string
	PlatformMsgID string
	CreatedAt     time.Time
	SentAt        time.Time
}

// Customer is a company's customer, as linked from chat identities.
type Customer struct {
	ID    string
	Name  string
	Email string
}

// PaymentStatus is the state of a payment.
type PaymentStatus string

// Payment states.
const (
	PaymentSettled  PaymentStatus = "settled"
	PaymentPending  PaymentStatus = "pending"
	PaymentFailed   PaymentStatus = "failed"
	PaymentRefunded PaymentStatus = "refunded"
)

// Valid reports whether s is a known payment state.
func (s PaymentStatus) Valid() bool {
	switch s {
	case PaymentSettled, PaymentPending, PaymentFailed, PaymentRefunded:
		return true
	}
	return false
}

// Payment is one payment record as the payment source returns it.
type Payment struct {
	Reference  string
	CustomerID string
	Amount     string // decimal string, as the company's API sends it
	Currency   string
	Status     PaymentStatus
	Merchant   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// HandoffState is where a handoff stands.
type HandoffState string

// Handoff states.
const (
	HandoffWaiting  HandoffState = "waiting"
	HandoffClaimed  HandoffState = "claimed"
	HandoffResolved HandoffState = "resolved"
)

// Trigger says what opened a handoff.
type Trigger string

// Handoff triggers.
const (
	TriggerPhrase  Trigger = "phrase"  // the customer asked for a person
	TriggerButton  Trigger = "button"  // the "Talk to a person" button
	TriggerModel   Trigger = "model"   // the model's handoff_to_human tool
	TriggerFailure Trigger = "failure" // the model or a tool failed
	TriggerMisses  Trigger = "misses"  // the bot could not help, twice
	TriggerShadow  Trigger = "shadow"  // shadow mode: every message
)

// HandoffRequest asks for a conversation to be handed to a person.
type HandoffRequest struct {
	Trigger Trigger
	// Reason is shown to agents; it must make sense to a person.
	Reason string
}

// Handoff is one escalation of a conversation to a human agent.
type Handoff struct {
	ID             int64
	ConversationID int64
	State          HandoffState
	Trigger        Trigger
	Reason         string
	// AgentPlatform and AgentChannel say where the handoff was announced;
	// AnnounceID is the outbox row of the announcement, whose delivered
	// message anchors the handoff's agent thread.
	AgentPlatform Platform
	AgentChannel  string
	AnnounceID    int64
	AgentID       string // the claiming agent's platform user id
	AgentName     string
	Rating        int // 1–5, 0 when not rated
	CreatedAt     time.Time
	ClaimedAt     time.Time
	ResolvedAt    time.Time
}

// Link is an identity linked to a customer.
type Link struct {
	Identity   Identity
	CustomerID string
	CreatedAt  time.Time
}

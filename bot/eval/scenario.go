// Package eval runs conversation scenarios against the real engine, so that
// an admin who edits a prompt file, or switches models, learns whether the
// bot still behaves before customers see it.
//
// A scenario (written in YAML, see LoadFiles and evals/README.md) is a
// chat identity and a list of turns: customer messages, button presses and
// agent actions in the handoff thread, each with expectations (handed off
// or not, which tool was called with which arguments, what the reply says,
// its language, and that no other customer's data reached this one). Run
// plays each scenario on a fresh temporary SQLite database seeded with the
// demo data, wired like the product: the engine, the handoff flow and the
// outbox dispatcher, with a recording sender in place of a platform and the
// configured model wrapped to record its answers and token usage.
package eval

import (
	"regexp"
	"time"
)

// Place is where a scenario's conversation takes place.
type Place string

// Places. A direct message is the only place account data may be shown; a
// channel thread is a conversation others can read.
const (
	PlaceDM      Place = "dm"
	PlaceChannel Place = "channel"
)

// CustomerNone is the scenario customer of a chat user linked to no account.
const CustomerNone = "none"

// Scenario is one scripted conversation and what is expected of it.
type Scenario struct {
	Name string
	// File and Line say where the scenario is defined, for reports.
	File string
	Line int
	// Customer is the customer the chat identity is linked to, or
	// CustomerNone for an identity linked to no account.
	Customer string
	Place    Place
	// NoForeignData checks every message delivered to the customer, in
	// every turn, for another customer's data (see Expect.NoForeignData).
	// It is on unless the scenario turns it off.
	NoForeignData bool
	// Seed is data added to the demo data for this scenario only.
	Seed  Seed
	Turns []Turn
}

// Seed is extra data for one scenario: customers the demo lacks (one with
// no payments, say) and their payments.
type Seed struct {
	Customers []SeedCustomer
	Payments  []SeedPayment
}

// SeedCustomer is a customer added for a scenario.
type SeedCustomer struct {
	ID, Name, Email string
}

// SeedPayment is a payment added for a scenario. Age is how long before the
// scenario starts it was made.
type SeedPayment struct {
	Reference, Customer, Amount, Currency, Status, Merchant string
	Age                                                     time.Duration
}

// TurnKind says who acts in a turn.
type TurnKind string

// Turn kinds.
const (
	TurnSay   TurnKind = "say"   // the customer writes
	TurnPress TurnKind = "press" // the customer presses a button
	TurnAgent TurnKind = "agent" // an agent acts in the handoff thread
)

// Turn is one step of a scenario.
type Turn struct {
	Line int // where the turn is defined
	Kind TurnKind
	// Text is what the customer writes (TurnSay) or what the agent writes in
	// the handoff thread (TurnAgent: "claim", "resolve", "// a note", ...).
	Text string
	// Button is the button a TurnPress presses; Rating its value for a
	// rating button.
	Button Button
	Rating int
	Expect Expect
}

// Button is a button a customer can press.
type Button string

// Buttons a scenario can press.
const (
	ButtonTalkToPerson Button = "talk_to_person"
	ButtonRate         Button = "rate"
)

// Expect is what a turn must show. Unset fields are not checked.
type Expect struct {
	// Handoff, when set, says whether a handoff was opened (announced to the
	// agents) in this turn.
	Handoff *bool
	// State is the conversation's state after the turn: bot, waiting, agent.
	State string
	// Tool is a tool the model called in this turn; ToolArgs, when not nil,
	// must be a subset of the arguments of at least one such call.
	Tool     string
	ToolArgs map[string]any
	// NoTool forbids tool calls in this turn: all of them when NoToolAll,
	// else those named.
	NoToolAll bool
	NoTool    []string
	// Contains and NotContains are matched against the reply,
	// case-insensitively; Matches are regular expressions it must match.
	Contains    []string
	NotContains []string
	Matches     []*regexp.Regexp
	// NoReply says the customer received nothing in this turn.
	NoReply bool
	// Cites are URLs, or parts of URLs, that links in the reply must
	// include, case-insensitively: one link for each ("lost-stolen-card").
	Cites []string
	// SaysUnknown, when set, says whether the reply says the bot does not
	// know: no link to a source, and the model said it cannot help (the
	// cannot-help marker), a person was offered, or a handoff was opened.
	SaysUnknown *bool
	// Lang is the language the reply must be in, as package lang detects it.
	Lang string
	// NoForeignData says no message delivered to the customer in this turn
	// holds another customer's payment reference, merchant, amount, id,
	// name or email, unless the customer wrote it first.
	NoForeignData bool
	// SameReplyAs is the number of an earlier turn whose reply this one
	// must read like, payment references aside: "not found" and "not
	// yours" must read the same.
	SameReplyAs int
	// Relay is the text an agent's message must reach the customer with;
	// NoRelay says nothing was relayed. Agent turns only.
	Relay   *string
	NoRelay bool
	// Outcome is what the agent action did (claimed, relayed, noted,
	// resolved, ...: handoff.Outcome). Agent turns only.
	Outcome string
	// ThreadContains is matched, case-insensitively, against what was
	// posted in the agent channel in this turn.
	ThreadContains []string
}

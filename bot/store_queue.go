package bot

import (
	"context"
	"time"
)

// HandoffQueue is what the handoff timers need of a store transaction: the
// re-ping digest, what each waiting customer was last told, and when the
// agents of claimed handoffs last wrote. Every change is a conditional
// update, so that replicas ticking at the same moment act once: one posts
// the digest, one tells the customer, one returns a handoff to the queue.
type HandoffQueue interface {
	// Reping records a re-ping digest of the waiting handoffs announced in
	// an agent channel, if one is due: when at least one of them has gone
	// unmentioned for every (since its announcement, or since the last
	// digest that listed it). It adds one to the Repings of those that were
	// due, marks every waiting handoff of the channel as mentioned at now,
	// and returns them all, oldest first, for the digest to list. It
	// returns nil when no digest is due, including when another
	// transaction recorded one meanwhile: of replicas ticking at once,
	// one gets the handoffs and the others nil.
	Reping(ctx context.Context, agentPlatform Platform, agentChannel string, now time.Time, every time.Duration) ([]QueuedHandoff, error)
	// WaitingHandoffs returns the waiting handoffs announced in an agent
	// channel, oldest first, with their place in the queue and what their
	// customer was last told.
	WaitingHandoffs(ctx context.Context, agentPlatform Platform, agentChannel string) ([]QueuedHandoff, error)
	// SetNotice records what the customer of a waiting handoff was told
	// about the queue, as next, if the handoff is still waiting and its
	// notice is still the one read (next.Seq is the Seq read). It returns
	// false, changing nothing, otherwise: another replica told them
	// meanwhile, or an agent claimed it.
	SetNotice(ctx context.Context, handoffID int64, next Notice) (bool, error)
	// ClaimedHandoffs returns the claimed handoffs announced in an agent
	// channel, oldest first, with when their agent and their customer last
	// wrote.
	ClaimedHandoffs(ctx context.Context, agentPlatform Platform, agentChannel string) ([]ClaimedHandoff, error)
	// ReturnToQueue moves a claimed handoff back to waiting, clearing its
	// agent, if it is still claimed as c says (same agent, same claim) and
	// its agent has not written since c.AgentSeenAt. It returns false,
	// changing nothing, otherwise.
	ReturnToQueue(ctx context.Context, c ClaimedHandoff) (bool, error)
}

// QueuedHandoff is a waiting handoff with its queue state.
type QueuedHandoff struct {
	Handoff Handoff
	// Position is its 1-based place among all waiting handoffs, oldest
	// first (as QueuePosition).
	Position int
	// Repings counts the digests that re-mentioned it after it had waited
	// a full interval unmentioned.
	Repings int
	// RepingedAt is when a digest last listed it; zero when none has.
	RepingedAt time.Time
	Notice     Notice
}

// Availability is what a waiting customer was told about when a person
// will be there.
type Availability string

// What a waiting customer may have been told.
const (
	AvailabilityNone    Availability = ""
	AvailabilityDelayed Availability = "delayed" // the team is busy; a person comes when one is free
	AvailabilityClosed  Availability = "closed"  // the team is away until a given time
)

// Notice is what the customer of a waiting handoff was last told about the
// queue. Seq versions it: SetNotice changes a notice only from the version
// read.
type Notice struct {
	Seq int64
	// Position is the queue place they were last told (0: none yet), and
	// PositionAt when.
	Position   int
	PositionAt time.Time
	// Availability is what they were last told about when a person will
	// be there, and AvailabilityAt when.
	Availability   Availability
	AvailabilityAt time.Time
}

// ClaimedHandoff is a claimed handoff with the times that tell whether its
// agent is still there.
type ClaimedHandoff struct {
	Handoff Handoff
	// AgentSeenAt is the later of the claim and the claiming agent's last
	// message in the thread (to the customer, a note, or a command).
	AgentSeenAt time.Time
	// AgentRepliedAt is when the claiming agent last wrote to the
	// customer since the claim; zero when they have not.
	AgentRepliedAt time.Time
	// CustomerWaitingSince is the customer's first message after
	// AgentSeenAt: since then they wait for an answer. Zero when they have
	// not written since.
	CustomerWaitingSince time.Time
}

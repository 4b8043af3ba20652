package bot

import (
	"context"
	"time"
)

// TurnLeases is what running model turns on several replicas needs of a
// store transaction.
//
// A turn's model call runs outside any transaction (it takes seconds), so
// the in-process lock that orders one replica's turns of a conversation
// cannot stop another replica from answering the same messages: a start-up
// recovery, or a message of the same conversation that reached another
// replica, would run a second turn on them. A turn lease does: a replica
// takes a conversation's lease in the transaction that loads the turn,
// renews it while the model works, and gives it back in the transaction
// that stores the answer, which drops the turn when the lease was lost. A
// replica that dies leaves its lease to expire; then the others find the
// conversation stranded and answer it (Engine.RunRecovery).
//
// Times are the replicas' clocks: they must agree to well within a lease
// (NTP does).
type TurnLeases interface {
	// LeaseTurn takes the turn lease of a conversation for owner, until
	// until, and reports whether it did. It does when no lease is held,
	// when the one held expired at now, or when owner holds it already.
	// Otherwise it changes nothing but to note that a turn is wanted,
	// which the holder's ReleaseTurn reports: messages arrived meanwhile.
	LeaseTurn(ctx context.Context, conversationID int64, owner string, now, until time.Time) (bool, error)
	// RenewTurn moves the end of owner's lease of a conversation to until
	// and reports whether owner still holds it. It never takes a lease
	// that owner does not hold: false means another owner took it over
	// (it expired), or it was released.
	RenewTurn(ctx context.Context, conversationID int64, owner string, until time.Time) (bool, error)
	// ReleaseTurn ends owner's lease of a conversation. held reports
	// whether owner still held it (expired or not); wanted, whether
	// another owner asked for a turn of the conversation meanwhile.
	ReleaseTurn(ctx context.Context, conversationID int64, owner string) (held, wanted bool, err error)
	// TurnHolder returns who holds the turn lease of a conversation and
	// until when; "" when nobody does. It only reads, and may run in a View.
	TurnHolder(ctx context.Context, conversationID int64) (owner string, until time.Time, err error)
	// StrandedConversations returns the conversations that have customer
	// messages stored at or before before and not processed, and no lease
	// that is still running at now: nobody is answering them. The conversation
	// of the oldest such message comes first; at most limit.
	StrandedConversations(ctx context.Context, now, before time.Time, limit int) ([]int64, error)
}

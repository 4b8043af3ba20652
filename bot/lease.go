package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Turn leases: one replica at a time answers a conversation (see
// TurnLeases, which the store implements).
//
// Accept takes the conversation's lease with a message that awaits a turn
// (leaseWithMessage), or Process does in the transaction that loads the
// turn, and only when it has messages to answer; a replica that finds the
// lease held leaves the messages to the holder, whose ReleaseTurn then says
// that a turn was wanted, and the holder runs one more. While the model
// works, the lease is renewed every third of TurnLease. The transaction
// that stores the answer gives the lease back and marks the messages
// processed; when the lease was lost meanwhile (this replica stalled past
// it, and another took the conversation over), the answer is dropped,
// since the other replica answers the same messages. A replica that dies
// leaves its lease to run out; RunRecovery on the others then answers.

// DefaultTurnLease is how long a turn lease lasts unless it is renewed: how
// long the conversations of a replica that died mid-turn wait before
// another replica answers them.
const DefaultTurnLease = 10 * time.Second

// errAnsweredElsewhere rolls back a turn whose messages were marked
// processed by a transaction that took no lease.
var errAnsweredElsewhere = errors.New("the turn's messages were answered by a replica that takes no turn leases")

// newReplicaID names an engine in turn leases: the host, the process id and
// a random part, so that no two engines share a name, even in one process.
func newReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "firstline"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
}

// leaseTurn takes the turn lease of a conversation in the transaction that
// loads its turn. It reports false when there is nothing to answer, or
// when another replica is answering the conversation.
func (e *Engine) leaseTurn(ctx context.Context, tx Tx, conversationID int64, history []Message) (bool, error) {
	if len(unprocessed(history)) == 0 {
		return false, nil
	}
	now := e.now()
	ok, err := tx.LeaseTurn(ctx, conversationID, e.cfg.Replica, now, now.Add(e.cfg.TurnLease))
	if err != nil {
		return false, fmt.Errorf("lease turn: %w", err)
	}
	if !ok {
		e.log.DebugContext(ctx, "turn left to the replica answering the conversation", "conversation", conversationID)
	}
	return ok, nil
}

// leaseWithMessage takes the turn lease of a conversation in the
// transaction that stores a message for a turn: the turn that follows
// (Submit, on this replica) then needs no commit of its own before its
// model call (loadTurn). When another replica holds the lease, this notes
// that a turn is wanted, as leaseTurn does. A replica that dies before
// the turn leaves the lease to run out; then recovery answers. A turn
// that is not going to run (shutdown) gives it back (dropLease).
//
// That lease lasts a third of TurnLease, the grace RecoverStranded gives a
// message for its own replica to start the turn: a replica that dies
// between the message and its turn delays recovery no more than before.
func (e *Engine) leaseWithMessage(ctx context.Context, tx Tx, conversationID int64, now time.Time) error {
	if _, err := tx.LeaseTurn(ctx, conversationID, e.cfg.Replica, now, now.Add(e.recoveryEvery())); err != nil {
		return fmt.Errorf("lease turn: %w", err)
	}
	return nil
}

// dropLease gives back the lease Accept took for a turn that is not going
// to run (the engine is shutting down), so that the next start's Recover
// answers the message at once rather than once the lease ran out. It waits
// for a turn of the conversation that is running: that turn's lease is
// not this one to drop.
func (e *Engine) dropLease(ctx context.Context, conversationID int64) {
	unlock := e.locks.Lock(conversationID)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
	defer cancel()
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		_, _, err := tx.ReleaseTurn(ctx, conversationID, e.cfg.Replica)
		return err
	})
	if err != nil {
		e.log.WarnContext(ctx, "could not release a turn lease; it runs out by itself", "conversation", conversationID, "err", err)
	}
}

// turnLease is the lease of a turn in progress.
type turnLease struct {
	e    *Engine
	conv int64
	stop chan struct{}
	done chan struct{}

	// settling is set once the turn is being stored: renewals that find
	// the lease gone then are no news.
	settling atomic.Bool
	// wanted is set by settle, in the transaction that stores the turn
	// (which may run more than once): another replica asked for a turn.
	wanted bool
	// released is set once that transaction committed.
	released bool
}

// holdLease renews a conversation's turn lease, taken by leaseTurn, until
// end is called.
// until is when the lease runs out if not renewed: the first renewal
// comes at the latest halfway there.
func (e *Engine) holdLease(ctx context.Context, conversationID int64, until time.Time) *turnLease {
	l := &turnLease{e: e, conv: conversationID, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew(context.WithoutCancel(ctx), until.Sub(e.now())/2)
	return l
}

func (l *turnLease) renew(ctx context.Context, first time.Duration) {
	defer close(l.done)
	every := l.e.cfg.TurnLease / 3
	t := time.NewTimer(max(min(first, every), time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			t.Reset(every)
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		var held bool
		err := l.e.cfg.Store.WithTx(rctx, func(tx Tx) error {
			var err error
			held, err = tx.RenewTurn(rctx, l.conv, l.e.cfg.Replica, l.e.now().Add(l.e.cfg.TurnLease))
			return err
		})
		cancel()
		switch {
		case l.settling.Load():
			return
		case err != nil:
			l.e.log.WarnContext(ctx, "could not renew a turn lease; another replica may take the conversation over",
				"conversation", l.conv, "err", err)
		case !held:
			l.e.log.WarnContext(ctx, "turn lease lost to another replica; this turn's answer will be dropped",
				"conversation", l.conv)
			return
		}
	}
}

// settle runs in the transaction that stores the turn: it gives the lease
// back and marks the turn's messages processed. It reports false when the
// turn must be dropped because the lease was lost: another replica took
// the conversation over and answers these messages.
func (l *turnLease) settle(ctx context.Context, tx Tx, pending []Message) (bool, error) {
	l.settling.Store(true)
	l.wanted = false
	held, wanted, err := tx.ReleaseTurn(ctx, l.conv, l.e.cfg.Replica)
	if err != nil {
		return false, fmt.Errorf("release turn lease: %w", err)
	}
	l.wanted = wanted
	if !held {
		l.e.log.InfoContext(ctx, "turn dropped: another replica took the conversation over", "conversation", l.conv)
		return false, nil
	}
	for _, m := range pending {
		changed, err := tx.MarkProcessed(ctx, m.ID)
		if err != nil {
			return false, fmt.Errorf("mark processed: %w", err)
		}
		if !changed {
			// While the lease was held, only a replica that takes none
			// (an older version, in a rolling deploy) can have answered:
			// the turn is rolled back, and recovery answers what is left.
			return false, errAnsweredElsewhere
		}
	}
	return true, nil
}

// committed is called once the transaction that settled the lease
// committed. When another replica wanted a turn of the conversation
// meanwhile (its messages arrived during this turn), one more runs.
//
// It reports whether that turn is wanted; the caller submits it once it
// let go of the conversation's lock, which Submit may take (dropLease).
func (l *turnLease) committed() bool {
	l.released = true
	return l.wanted
}

// end stops the renewals. A lease the turn did not give back (it failed,
// or was stopped) is released now, so that the conversation need not wait
// for it to run out.
func (l *turnLease) end(ctx context.Context) {
	close(l.stop)
	<-l.done
	if l.released {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
	defer cancel()
	err := l.e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		_, _, err := tx.ReleaseTurn(ctx, l.conv, l.e.cfg.Replica)
		return err
	})
	if err != nil {
		l.e.log.WarnContext(ctx, "could not release a turn lease; it runs out by itself", "conversation", l.conv, "err", err)
	}
}

// leaseReleaseTimeout bounds giving back the lease of a turn that failed.
const leaseReleaseTimeout = 5 * time.Second

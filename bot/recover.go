package bot

import (
	"context"
	"fmt"
	"time"
)

// recoveryBatch bounds the conversations one recovery pass starts turns
// for; the next pass takes the rest.
const recoveryBatch = 100

// Recover processes customer messages that were stored but not processed,
// as after a crash between storing a message and answering it. It leaves
// alone those of conversations another replica is answering, and those a
// replica that died was answering until its lease runs out: RunRecovery
// answers them then.
func (e *Engine) Recover(ctx context.Context) (int, error) {
	now := e.now()
	var ids []int64
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		ids, err = tx.StrandedConversations(ctx, now, now, 1000)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bot: list unprocessed messages: %w", err)
	}
	for i, id := range ids {
		if err := e.Process(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// RecoverStranded starts turns (Submit) for the conversations whose
// customer messages wait unanswered with nobody answering them: left by a
// replica that died before its turn or during it (once its lease ran out),
// or by a turn that failed. A message is left a third of TurnLease first,
// for the replica that accepted it to start its own turn. It returns how
// many conversations it started turns for.
func (e *Engine) RecoverStranded(ctx context.Context) (int, error) {
	now := e.now()
	var ids []int64
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		ids, err = tx.StrandedConversations(ctx, now, now.Add(-e.recoveryEvery()), recoveryBatch)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bot: list stranded conversations: %w", err)
	}
	for _, id := range ids {
		e.Submit(ctx, id)
	}
	if len(ids) > 0 {
		e.log.InfoContext(ctx, "answering messages that no replica was answering", "conversations", len(ids))
	}
	return len(ids), nil
}

// RunRecovery runs RecoverStranded every third of TurnLease until ctx ends,
// so that with several replicas the messages of one that died are answered
// by the others, within about a lease and a third, without a restart. It
// always returns nil.
func (e *Engine) RunRecovery(ctx context.Context) error {
	t := time.NewTicker(e.recoveryEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := e.RecoverStranded(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "recovering stranded messages", "err", err)
		}
	}
}

// recoveryEvery is how often RunRecovery looks, and how long a message
// waits for its own replica before the others step in.
func (e *Engine) recoveryEvery() time.Duration { return e.cfg.TurnLease / 3 }

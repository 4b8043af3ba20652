package bot

import (
	"context"
	"fmt"
	"time"
)

// Intake stores a platform event before the adapter's platform work for it
// (Intakes): what a crash in between would lose.
func (e *Engine) Intake(ctx context.Context, it Intake) error {
	if it.CreatedAt.IsZero() {
		it.CreatedAt = e.now()
	}
	if err := e.cfg.Store.WithTx(ctx, func(tx Tx) error { return tx.PutIntake(ctx, it) }); err != nil {
		return fmt.Errorf("bot: store intake: %w", err)
	}
	return nil
}

// IntakeDone deletes an intake once the engine has its message.
func (e *Engine) IntakeDone(ctx context.Context, p Platform, key string) error {
	if err := e.cfg.Store.WithTx(ctx, func(tx Tx) error { return tx.DeleteIntake(ctx, p, key) }); err != nil {
		return fmt.Errorf("bot: delete intake: %w", err)
	}
	return nil
}

// PendingIntakes returns a platform's intakes stored more than age ago,
// oldest first: those a crash left behind, for the adapter to replay. An
// intake younger than age may still be in the hands of a live adapter (on
// another replica).
func (e *Engine) PendingIntakes(ctx context.Context, p Platform, age time.Duration, limit int) ([]Intake, error) {
	var its []Intake
	err := e.cfg.Store.View(ctx, func(tx Tx) error {
		var err error
		its, err = tx.PendingIntakes(ctx, p, e.now().Add(-age), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bot: pending intakes: %w", err)
	}
	return its, nil
}

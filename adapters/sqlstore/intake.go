package sqlstore

import (
	"context"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// PutIntake implements bot.Intakes. A zero CreatedAt is stored as now.
func (t *tx) PutIntake(ctx context.Context, it bot.Intake) error {
	if !it.Platform.Valid() || it.Key == "" {
		return t.errorf("put intake: platform and key are required")
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = t.now()
	}
	if it.Payload == nil {
		it.Payload = []byte{}
	}
	if _, err := t.exec(ctx, `INSERT INTO intake (platform, event_key, payload, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (platform, event_key) DO NOTHING`, it.Platform, it.Key, it.Payload, stamp(it.CreatedAt)); err != nil {
		return t.errorf("put intake %s/%s: %w", it.Platform, it.Key, err)
	}
	return nil
}

// DeleteIntake implements bot.Intakes.
func (t *tx) DeleteIntake(ctx context.Context, p bot.Platform, key string) error {
	if _, err := t.exec(ctx, `DELETE FROM intake WHERE platform = $1 AND event_key = $2`, p, key); err != nil {
		return t.errorf("delete intake %s/%s: %w", p, key, err)
	}
	return nil
}

// PendingIntakes implements bot.Intakes.
func (t *tx) PendingIntakes(ctx context.Context, p bot.Platform, before time.Time, limit int) ([]bot.Intake, error) {
	its, err := queryAll(ctx, t, func(r scanner) (bot.Intake, error) {
		var it bot.Intake
		err := r.Scan(&it.Platform, &it.Key, &it.Payload, timeCol{&it.CreatedAt})
		return it, err
	}, `SELECT platform, event_key, payload, created_at FROM intake WHERE platform = $1 AND created_at < $2
		ORDER BY created_at, event_key LIMIT $3`, p, stamp(before), limit)
	if err != nil {
		return nil, t.errorf("pending intakes of %s: %w", p, err)
	}
	return its, nil
}

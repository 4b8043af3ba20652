package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// MarkUnsure implements outbox.Store: the row is rescheduled and stays in
// flight, so that its next claim reports MaybeSent.
func (s *Store) MarkUnsure(ctx context.Context, id int64, errText string, next time.Time, attempt bool) error {
	query := `UPDATE outbox SET next_attempt_at = ?, in_flight = 1 WHERE id = ? AND status = 'pending'`
	args := []any{nanos(next), id}
	if attempt {
		query = `UPDATE outbox SET next_attempt_at = ?, in_flight = 1, attempts = attempts + 1, last_error = ?
			WHERE id = ? AND status = 'pending'`
		args = []any{nanos(next), errText, id}
	}
	ok, err := execOne(ctx, s.db, query, args...)
	if err == nil && !ok {
		err = bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: reschedule outbox %d, maybe sent: %w", id, err)
	}
	return nil
}

package postgres

import (
	"context"
	"fmt"
	"time"
)

// MarkUnsure implements outbox.Store: the row is rescheduled and stays in
// flight, so that its next claim reports MaybeSent.
func (s *Store) MarkUnsure(ctx context.Context, id int64, errText string, next time.Time, attempt bool) error {
	query := `UPDATE outbox SET next_attempt_at = $1, in_flight = true WHERE id = $2 AND status = 'pending'`
	args := []any{ts(next), id}
	if attempt {
		query = `UPDATE outbox SET next_attempt_at = $1, in_flight = true, attempts = attempts + 1, last_error = $3
			WHERE id = $2 AND status = 'pending'`
		args = append(args, errText)
	}
	if err := s.execOne(ctx, query, args...); err != nil {
		return fmt.Errorf("postgres: reschedule outbox %d, maybe sent: %w", id, err)
	}
	return nil
}

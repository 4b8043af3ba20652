package outbox

import (
	"context"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Store is the outbox persistence the dispatcher needs.
type Store interface {
	// Due returns pending rows whose next attempt is at or before now: for
	// each stream only its oldest pending row, and only when that row has no
	// parent or its parent is sent or dead (ParentRef is then filled with the
	// parent's platform message id, "" for a dead parent). Oldest first, at
	// most limit rows.
	Due(ctx context.Context, now time.Time, limit int) ([]bot.Outgoing, error)
	// Claim is Due for delivery: it returns the same rows and, in the same
	// transaction, pushes their next attempt to now+lease, so that no other
	// dispatcher (another replica, or this one's next pass) sends them while
	// this one does. A dispatcher that dies mid-send leaves the row to be
	// claimed again when the lease ends.
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]bot.Outgoing, error)
	// MarkSent records a delivery and the platform's id for the message.
	MarkSent(ctx context.Context, id int64, platformMsgID string, at time.Time) error
	// MarkRetry counts a failed attempt and schedules the next one.
	MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error
	// Defer reschedules a row without counting an attempt: the platform
	// asked to slow down (rate limit), which is not a failure.
	Defer(ctx context.Context, id int64, next time.Time) error
	// MarkDead gives up on a row after repeated failures.
	MarkDead(ctx context.Context, id int64, errText string) error
	// MarkUnsure reschedules a row whose send may have reached the
	// platform although no answer said so: it timed out, the connection
	// dropped, or the dispatcher stopped mid-send. With attempt set it
	// counts a failed attempt and records errText, as MarkRetry does;
	// otherwise it only reschedules, as Defer does. Unlike both, the row
	// stays in flight: its next claim reports MaybeSent, so the adapter
	// looks before it sends again.
	MarkUnsure(ctx context.Context, id int64, errText string, next time.Time, attempt bool) error
}

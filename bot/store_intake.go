package bot

import (
	"context"
	"time"
)

// Intakes hold platform events an adapter has to do platform work for
// before the engine can take them: a Discord mention is answered in a
// thread the adapter starts from it, and only the thread's id keys the
// conversation. The event is stored first, so that a crash between the
// event and Accept loses nothing: the adapter replays what it finds here
// when it starts, and deletes an intake once the engine has the message
// (Accept deduplicates a replay that got that far).
type Intakes interface {
	// PutIntake stores an intake; storing one with a key already stored
	// changes nothing.
	PutIntake(ctx context.Context, it Intake) error
	// DeleteIntake deletes an intake; deleting none is not an error.
	DeleteIntake(ctx context.Context, p Platform, key string) error
	// PendingIntakes returns a platform's intakes stored before before,
	// oldest first, at most limit.
	PendingIntakes(ctx context.Context, p Platform, before time.Time, limit int) ([]Intake, error)
}

// Intake is one stored platform event. Payload is the adapter's own record
// of it, whose words the adapter masks before storing (mask.Text), as the
// engine masks a message before storing it.
type Intake struct {
	Platform  Platform
	Key       string // the platform's message id
	Payload   []byte
	CreatedAt time.Time
}

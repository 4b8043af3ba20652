package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrInUse is returned by Exclusive when another process answers customers
// on the same database file.
var ErrInUse = errors.New("another firstline process is answering on this database")

// ErrNoLock is returned by Exclusive where the system or the file system
// has no flock. The Store is usable: a second process on the file is not
// refused, and leases left by a stopped one run out as with several
// replicas instead of being taken back at once.
var ErrNoLock = errors.New("no file lock available")

// Recovered counts what Exclusive took back from a process that stopped
// without cleaning up.
type Recovered struct {
	// TurnLeases are conversations whose turn a dead process had started:
	// their unanswered messages are answered at once rather than when the
	// lease would have run out.
	TurnLeases int
	// Claims are outbox rows a dead process had claimed for sending: they
	// are due at once, still marked maybe sent, so the platform is asked
	// whether it has them before they are sent again.
	Claims int
}

// Exclusive makes this Store the only one answering customers on its file,
// as `firstline serve` and `firstline chat` need: SQLite serves one
// process, and the PostgreSQL store is the way to run several. It takes an
// advisory lock on a file beside the database (path + ".lock"), held until
// Close, and fails with ErrInUse while another process holds it, or with
// ErrNoLock where no lock can be taken.
//
// Holding the lock proves that whoever took a turn lease or claimed an
// outbox row before is gone: the kernel drops the lock when a process
// dies, even by kill -9. Exclusive therefore releases those at once, so a
// restart after a crash answers and sends what was in flight without
// waiting for leases meant to tell a slow replica from a dead one. A row
// claimed again this way may skip the rest of a retry delay once.
func (s *Store) Exclusive(ctx context.Context) (Recovered, error) {
	if s.lock != nil {
		return Recovered{}, errors.New("sqlite: exclusive: already held")
	}
	lock, err := lockFile(s.path + ".lock")
	if errors.Is(err, ErrNoLock) {
		return Recovered{}, err
	}
	if err != nil {
		return Recovered{}, fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	s.lock = lock

	var r Recovered
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM turn_leases`)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		r.TurnLeases = int(n)
		now := nanos(s.now())
		res, err = tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?
			WHERE status = 'pending' AND in_flight = 1 AND next_attempt_at > ?`, now, now)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		r.Claims = int(n)
		return nil
	})
	if err != nil {
		return Recovered{}, fmt.Errorf("sqlite: exclusive: release leases of a stopped process: %w", err)
	}
	return r, nil
}

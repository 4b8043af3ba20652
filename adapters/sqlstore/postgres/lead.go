package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lead intervals: how often a candidate tries for the lock, and how often
// the leader checks that its session (and so its lock) is still alive.
const (
	leadRetry = time.Second
	leadCheck = 2 * time.Second
)

// Lead makes this replica the one leader of name among all replicas on the
// database, for work that must run once across the fleet (the Discord
// gateway). Replicas are those using the same schema of the same database.
// It blocks until the lock is taken or ctx ends. The lock is a
// session advisory lock on a connection of its own: when the leader dies,
// its session ends and another replica takes over within about a second.
//
// lost is closed when leadership is lost (the session broke, or release
// was called); release gives it up. Work done as leader must stop when
// lost is closed: another replica may be leader by then.
func (s *Store) Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error) {
	key := leadKey(s.schema, name)
	for {
		conn, err := s.dial(ctx)
		if err == nil {
			var got bool
			err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got)
			if err == nil && got {
				return s.hold(conn, key)
			}
			closeConn(conn)
		}
		// Not the leader, or the database is unreachable: keep trying, as
		// the other replicas do; the caller's context bounds the wait.
		t := time.NewTimer(leadRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
	}
}

// hold watches a leader's session until it breaks or release is called.
func (s *Store) hold(conn *pgx.Conn, key int64) (<-chan struct{}, func(), error) {
	lost := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lost)
		defer closeConn(conn) // ending the session releases the lock for certain
		t := time.NewTicker(leadCheck)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), leadCheck)
				err := conn.Ping(ctx)
				cancel()
				if err != nil {
					return // the caller learns it from lost
				}
			}
		}
	}()
	var once sync.Once
	release := func() {
		once.Do(func() { close(stop) })
		<-done
	}
	return lost, release, nil
}

// dial opens a connection outside the pool: an advisory lock belongs to a
// session, which must never be handed to other work.
func (s *Store) dial(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", s.redact(err))
	}
	return conn, nil
}

// leadKey maps a leadership name in a schema to an advisory lock key,
// apart from the migration lock's key. Advisory locks are per database, so
// the schema is part of the key: two deployments in separate schemas of one
// database each have their own leader.
func leadKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("firstline/lead/" + schema + "/" + name))
	return int64(h.Sum64() &^ (1 << 63))
}

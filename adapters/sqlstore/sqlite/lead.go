package sqlite

import (
	"context"
	"sync"
)

// Lead implements leadership among replicas for SQLite, which has one
// process by design: the caller is always the leader, until it releases.
func (s *Store) Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }, nil
}

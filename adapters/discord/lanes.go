package discord

import (
	"context"
	"sync"
)

// lanes runs work in order per key (a channel id) and in parallel across
// keys. Gateway events are handed over in the order Discord sent them, so
// the messages of one channel reach the engine in order; a slow channel (a
// thread being created, a history fetch after a reconnect) holds up only
// itself, and never the gateway's reader, which must keep answering
// heartbeats.
type lanes struct {
	mu     sync.Mutex
	queues map[string][]func(context.Context) // present while a runner is active
	wg     sync.WaitGroup
}

func newLanes() *lanes {
	return &lanes{queues: map[string][]func(context.Context){}}
}

// do queues fn on the lane of key; it runs after the work queued before it
// on that lane, with ctx.
func (l *lanes) do(ctx context.Context, key string, fn func(context.Context)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q, running := l.queues[key]
	l.queues[key] = append(q, fn)
	if running {
		return
	}
	l.wg.Add(1)
	go l.run(ctx, key)
}

func (l *lanes) run(ctx context.Context, key string) {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		q := l.queues[key]
		if len(q) == 0 {
			delete(l.queues, key)
			l.mu.Unlock()
			return
		}
		fn := q[0]
		q[0] = nil
		l.queues[key] = q[1:]
		l.mu.Unlock()
		fn(ctx)
	}
}

// wait returns when every lane is empty.
func (l *lanes) wait() { l.wg.Wait() }

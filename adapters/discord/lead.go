package discord

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Leader elects one replica for work that must run once across the fleet.
// The store implements it (on SQLite this process always leads).
type Leader interface {
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error)
}

// Runner is a connection LedGateway runs while it leads: an *Adapter.
type Runner interface {
	Run(ctx context.Context) error
	Ready() bool
}

// LedGateway runs a platform connection only while this replica is its
// leader: Discord delivers each event to every connection of a shard, so
// two replicas connected at once would each handle every message. When
// leadership is lost, the connection stops and a fresh one starts when it
// is won again (the adapter backfills what it missed on READY).
type LedGateway struct {
	name   string
	leader Leader
	log    *slog.Logger
	start  func() (Runner, error)

	mu      sync.Mutex
	current Runner
	leading bool
}

// NewLedGateway returns a LedGateway that leads as name and starts a
// connection with start each time it becomes the leader.
func NewLedGateway(name string, leader Leader, log *slog.Logger, start func() (Runner, error)) *LedGateway {
	return &LedGateway{name: name, leader: leader, log: log, start: start}
}

// Run implements Runner: it waits for leadership, runs a fresh connection
// while it leads, and stops when ctx ends.
func (g *LedGateway) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		lost, release, err := g.leader.Lead(ctx, g.name)
		if err != nil {
			return nil // ctx ended while waiting
		}
		ad, err := g.start()
		if err != nil {
			release()
			return err
		}
		g.set(ad, true)
		g.log.Info("holding the gateway", "lease", g.name)
		termCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- ad.Run(termCtx) }()
		stopped := false
		select {
		case <-lost:
			g.log.Warn("lost the gateway lease; disconnecting", "lease", g.name)
		case <-ctx.Done():
		case err = <-done:
			stopped = true
		}
		cancel()
		if !stopped {
			err = <-done
		}
		release()
		g.set(nil, false)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if ctx.Err() == nil {
			// Give another replica the chance to take over before trying
			// again ourselves.
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	return nil
}

func (g *LedGateway) set(ad Runner, leading bool) {
	g.mu.Lock()
	g.current, g.leading = ad, leading
	g.mu.Unlock()
}

// Ready implements Runner: a standby replica is ready (it serves
// HTTP and sends); the leader is ready once its gateway is connected.
func (g *LedGateway) Ready() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.leading {
		return true
	}
	return g.current != nil && g.current.Ready()
}

// Leading reports whether this replica holds the gateway, for /readyz.
func (g *LedGateway) Leading() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.leading
}

package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// leader elects one replica for work that must run once across the fleet.
// Both stores implement it (SQLite: always the leader).
type leader interface {
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error)
}

// ledGateway runs a platform connection only while this replica is its
// leader: Discord delivers each event to every connection of a shard, so
// two replicas connected at once would each handle every message. When
// leadership is lost, the connection stops and a fresh one starts when it
// is won again (the adapter backfills what it missed on READY).
type ledGateway struct {
	name   string
	leader leader
	log    *slog.Logger
	start  func() (platformAdapter, error)

	mu      sync.Mutex
	current platformAdapter
	leading bool
}

// Run implements platformAdapter.
func (g *ledGateway) Run(ctx context.Context) error {
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

func (g *ledGateway) set(ad platformAdapter, leading bool) {
	g.mu.Lock()
	g.current, g.leading = ad, leading
	g.mu.Unlock()
}

// Ready implements platformAdapter: a standby replica is ready (it serves
// HTTP and sends); the leader is ready once its gateway is connected.
func (g *ledGateway) Ready() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.leading {
		return true
	}
	return g.current != nil && g.current.Ready()
}

// Leading reports whether this replica holds the gateway, for /readyz.
func (g *ledGateway) Leading() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.leading
}

package discord

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLeader hands out leadership terms the test ends by closing lost.
type fakeLeader struct {
	terms chan chan struct{}
}

func (f *fakeLeader) Lead(ctx context.Context, _ string) (<-chan struct{}, func(), error) {
	select {
	case lost := <-f.terms:
		return lost, func() {}, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

type fakeGateway struct {
	runs    *atomic.Int32
	running *atomic.Int32
}

func (g fakeGateway) Run(ctx context.Context) error {
	g.runs.Add(1)
	g.running.Add(1)
	defer g.running.Add(-1)
	<-ctx.Done()
	return nil
}
func (fakeGateway) Ready() bool { return true }

func TestLedGatewayRunsOnlyWhileLeading(t *testing.T) {
	var runs, running atomic.Int32
	fl := &fakeLeader{terms: make(chan chan struct{})}
	g := &LedGateway{
		name: "test", leader: fl, log: slog.New(slog.DiscardHandler),
		start: func() (Runner, error) { return fakeGateway{&runs, &running}, nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if g.Leading() || running.Load() != 0 {
		t.Fatal("connected before winning leadership")
	}
	term1 := make(chan struct{})
	fl.terms <- term1
	waitFor("the first term's connection", func() bool { return running.Load() == 1 && g.Leading() })
	close(term1) // leadership lost: the connection must stop
	waitFor("the connection to stop", func() bool { return running.Load() == 0 && !g.Leading() })
	term2 := make(chan struct{})
	fl.terms <- term2
	waitFor("a fresh connection in the second term", func() bool { return running.Load() == 1 && runs.Load() == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if running.Load() != 0 {
		t.Error("connection still running after shutdown")
	}
}

// quitGateway's connection ends by itself, without an error.
type quitGateway struct{ runs *atomic.Int32 }

func (g quitGateway) Run(context.Context) error { g.runs.Add(1); return nil }
func (quitGateway) Ready() bool                 { return true }

// A connection that ends on its own, without an error, does not hang the
// replica: the lease is given up and tried for again.
func TestLedGatewayConnectionEndsByItself(t *testing.T) {
	var runs atomic.Int32
	fl := &fakeLeader{terms: make(chan chan struct{})}
	g := &LedGateway{
		name: "test", leader: fl, log: slog.New(slog.DiscardHandler),
		start: func() (Runner, error) { return quitGateway{&runs}, nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	for i := range 2 {
		select {
		case fl.terms <- make(chan struct{}):
		case <-time.After(10 * time.Second):
			t.Fatalf("term %d: the gateway did not ask for the lease again (hung after its connection ended)", i+1)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if runs.Load() < 1 {
		t.Error("no connection ran")
	}
}

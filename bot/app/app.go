// Package app assembles Firstline from its parts: the store, the engine,
// the handoff flow and the outbox dispatcher that delivers what both queue,
// in one order and without late binding. `firstline serve` and `firstline
// chat`, the eval runner and the test kit all build it here, so what they
// run is what ships.
//
// The order breaks the one cycle among the parts: adapters deliver to the
// engine and the handoff flow, and the dispatcher delivers through the
// adapters. So the engine and the handoff flow come first, ringing a bell
// the dispatcher will listen to; then the caller's Senders builds the
// adapters from them; then the dispatcher is made with those senders.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/prompts"
)

// Store is everything Firstline needs of its database: the engine's and
// the handoff flow's transactions, the dispatcher's outbox, the built-in
// payment source, the admin operations, the figures of `firstline stats`,
// and what running one process or several replicas on it takes. The SQL
// store (SQLite or PostgreSQL) provides it.
type Store interface {
	bot.Store
	outbox.Store
	bot.PaymentSource
	bot.Admin
	stats.GaugeSource
	// Ping checks that the database answers, for the readiness probe.
	Ping(ctx context.Context) error
	// Lead makes this process the leader of name among the replicas
	// sharing the database, waiting until it is; lost is closed when the
	// leadership ends, release gives it up. Work that must run once across
	// the fleet (the Discord gateway) runs while leading.
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error)
	// Close releases the database; call it last.
	Close() error
}

// Agents says where handoffs are announced: the agent channel.
type Agents struct {
	Platform  bot.Platform
	Workspace string
	Channel   string
}

// Parts are what the platforms' senders are built from: the engine that
// takes customers' messages and the handoff flow that takes agents'.
type Parts struct {
	Engine   *bot.Engine
	Handoffs *handoff.Service
}

// Config is what App is assembled from. New fills in what connects the
// parts (the store, the clock, the bell, the escalator, and the logger and
// metrics where a part has none of its own); the rest of Engine, Handoff
// and Outbox are the parts' own settings, used as given.
type Config struct {
	Store   Store
	Model   bot.Model
	Prompts func() *prompts.Set
	Agents  Agents
	// Now is the clock of every part; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// Registry receives the parts' metrics; nil registers none.
	Registry prometheus.Registerer

	Engine  bot.Config
	Handoff handoff.Config
	Outbox  outbox.Config

	// Senders builds the senders of the platforms messages go out on (the
	// adapters), by platform, from the parts they deliver to. Rows of a
	// platform without a sender wait in the outbox.
	Senders func(Parts) (map[bot.Platform]outbox.Sender, error)
}

// App is Firstline assembled. The caller runs the dispatcher (and the
// handoff timers) and closes the store.
type App struct {
	Store      Store
	Engine     *bot.Engine
	Handoffs   *handoff.Service
	Dispatcher *outbox.Dispatcher
}

// New assembles the parts in order: the handoff flow, the engine that
// escalates to it, the senders built from both, and the dispatcher that
// delivers what they queue through the senders.
func New(cfg Config) (*App, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("app: needs a store")
	case cfg.Model == nil:
		return nil, errors.New("app: needs a model")
	case cfg.Prompts == nil:
		return nil, errors.New("app: needs prompts")
	case cfg.Senders == nil:
		return nil, errors.New("app: needs the platforms' senders")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bell := outbox.NewBell()

	hc := cfg.Handoff
	hc.Store, hc.Prompts, hc.Now, hc.Notify = cfg.Store, cfg.Prompts, cfg.Now, bell.Ring
	hc.AgentPlatform, hc.AgentWorkspace, hc.AgentChannel = cfg.Agents.Platform, cfg.Agents.Workspace, cfg.Agents.Channel
	ec := cfg.Engine
	ec.Store, ec.Model, ec.Prompts, ec.Now, ec.Notify = cfg.Store, cfg.Model, cfg.Prompts, cfg.Now, bell.Ring
	late := &courier{}
	ec.Courier = late
	if ec.Payments == nil {
		ec.Payments = cfg.Store // the store's payments table
	}
	if ec.Directory == nil {
		ec.Directory = cfg.Store // the store's customers table
	}
	oc := cfg.Outbox
	oc.Store, oc.Now, oc.Bell = cfg.Store, cfg.Now, bell
	hc.Logger = cmp.Or(hc.Logger, cfg.Logger)
	ec.Logger = cmp.Or(ec.Logger, cfg.Logger)
	oc.Logger = cmp.Or(oc.Logger, cfg.Logger)
	if cfg.Registry != nil {
		if hc.Metrics == nil {
			hc.Metrics = handoff.NewMetrics(cfg.Registry)
		}
		if ec.Metrics == nil {
			ec.Metrics = bot.NewMetrics(cfg.Registry)
		}
		if oc.Metrics == nil {
			oc.Metrics = outbox.NewMetrics(cfg.Registry)
		}
	}

	handoffs, err := handoff.New(hc)
	if err != nil {
		return nil, err
	}
	ec.Escalator = handoffs
	engine, err := bot.New(ec)
	if err != nil {
		return nil, err
	}
	senders, err := cfg.Senders(Parts{Engine: engine, Handoffs: handoffs})
	if err != nil {
		return nil, err
	}
	oc.Senders = senders
	// Agents learn of messages about their handoffs that could not be
	// delivered.
	oc.OnDead = handoffs.DeliveryFailed
	dispatcher, err := outbox.New(oc)
	if err != nil {
		return nil, err
	}
	late.d = dispatcher
	return &App{Store: cfg.Store, Engine: engine, Handoffs: handoffs, Dispatcher: dispatcher}, nil
}

// courier hands the engine's replies, claimed as they are stored, to the
// dispatcher. The engine is built before the dispatcher (whose senders
// need the engine), so the dispatcher is set once it exists, before New
// returns and any turn runs.
type courier struct{ d *outbox.Dispatcher }

func (c *courier) Lease() time.Duration { return c.d.Lease() }

func (c *courier) Deliver(ctx context.Context, rows []bot.Outgoing) { c.d.Deliver(ctx, rows) }

// Flush delivers what the outbox holds, bounded in time, as the last step
// before shutdown; what is left is sent at the next start.
func (a *App) Flush(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := a.Dispatcher.Flush(ctx); err != nil {
		return fmt.Errorf("app: flush the outbox: %w", err)
	}
	return nil
}

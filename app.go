package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/llm/rules"
	"github.com/firstlinehq/firstline/outbox"
	"github.com/firstlinehq/firstline/prompts"
	"github.com/firstlinehq/firstline/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// app is the wired product: store, prompts, model, engine, handoff flow and
// outbox dispatcher. Commands add their adapters as senders before they
// start anything.
type app struct {
	cfg        Config
	log        *slog.Logger
	store      *sqlite.Store
	prompts    *livePrompts
	model      bot.Model
	engine     *bot.Engine
	handoffs   *handoff.Service
	dispatcher *outbox.Dispatcher
	senders    map[bot.Platform]outbox.Sender
	registry   *prometheus.Registry
}

// agentSide says where handoffs are announced.
type agentSide struct {
	platform  bot.Platform
	workspace string
	channel   string
}

// newApp opens the store and wires everything but the adapters. The caller
// registers adapters in a.senders before running the dispatcher, and closes
// the app.
func newApp(ctx context.Context, cfg Config, agents agentSide, log *slog.Logger) (*app, error) {
	if strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://") {
		return nil, errors.New("FIRSTLINE_DB: PostgreSQL is not supported by this build yet; use a SQLite file path")
	}
	set, err := loadPrompts(cfg)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.DB, err)
	}
	a := &app{
		cfg:      cfg,
		log:      log,
		store:    st,
		prompts:  &livePrompts{},
		senders:  map[bot.Platform]outbox.Sender{},
		registry: prometheus.NewRegistry(),
	}
	a.prompts.set.Store(set)
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	a.dispatcher, err = outbox.New(outbox.Config{
		Store:   st,
		Senders: a.senders, // filled by the command before Run
		Logger:  log,
		Metrics: outbox.NewMetrics(a.registry),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	a.handoffs, err = handoff.New(handoff.Config{
		Store:          st,
		Prompts:        a.prompts.Current,
		AgentPlatform:  agents.platform,
		AgentWorkspace: agents.workspace,
		AgentChannel:   agents.channel,
		Logger:         log,
		Metrics:        handoff.NewMetrics(a.registry),
		Notify:         a.dispatcher.Notify,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	a.model = rules.New(a.prompts.Current)
	a.engine, err = bot.New(bot.Config{
		Store:       st,
		Model:       a.model,
		Payments:    st,
		Escalator:   a.handoffs,
		Prompts:     a.prompts.Current,
		Logger:      log,
		Metrics:     bot.NewMetrics(a.registry),
		Notify:      a.dispatcher.Notify,
		IdleTimeout: cfg.IdleTimeout,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// Close closes the store; call it last.
func (a *app) Close() error { return a.store.Close() }

// flush delivers what the outbox holds, bounded in time, as the last step
// before shutdown.
func (a *app) flush(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := a.dispatcher.Flush(ctx); err != nil {
		a.log.Warn("outbox not fully flushed at shutdown; pending messages are sent at next start", "err", err)
	}
}

// livePrompts holds the prompt set in use; reloads swap it atomically.
type livePrompts struct {
	set atomic.Pointer[prompts.Set]
}

// Current returns the prompt set in use.
func (l *livePrompts) Current() *prompts.Set { return l.set.Load() }

// loadPrompts loads the prompt folder, or the embedded defaults when the
// default folder does not exist.
func loadPrompts(cfg Config) (*prompts.Set, error) {
	info, err := os.Stat(cfg.PromptsDir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !cfg.PromptsDirSet:
		return prompts.Default(), nil
	case err != nil:
		return nil, fmt.Errorf("FIRSTLINE_PROMPTS_DIR: %w", err)
	case !info.IsDir():
		return nil, fmt.Errorf("FIRSTLINE_PROMPTS_DIR: %s is not a folder", cfg.PromptsDir)
	}
	set, err := prompts.Load(os.DirFS(cfg.PromptsDir))
	if err != nil {
		return nil, fmt.Errorf("prompt files in %s are invalid: %w", cfg.PromptsDir, err)
	}
	if _, err := bot.NewHumanMatcher(set); err != nil {
		return nil, fmt.Errorf("prompt files in %s are invalid: %w", cfg.PromptsDir, err)
	}
	return set, nil
}

// newLogger returns a logger writing to w at the configured level.
func newLogger(w interface{ Write([]byte) (int, error) }, level string, json bool) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

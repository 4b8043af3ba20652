package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/links"
	"github.com/firstlinehq/firstline/llm/openai"
	"github.com/firstlinehq/firstline/llm/rules"
	"github.com/firstlinehq/firstline/outbox"
	"github.com/firstlinehq/firstline/payments"
	"github.com/firstlinehq/firstline/prompts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// app is the wired product: store, prompts, model, engine, handoff flow and
// outbox dispatcher. Commands add their adapters as senders before they
// start anything.
type app struct {
	cfg        Config
	log        *slog.Logger
	store      appStore
	prompts    func() *prompts.Set
	watcher    *prompts.Watcher // nil when the embedded defaults are used
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
func newApp(ctx context.Context, cfg Config, agents agentSide, log *slog.Logger, outboxOpts ...func(*outbox.Config)) (*app, error) {
	registry := prometheus.NewRegistry()
	pm := newPromptMetrics(registry)
	live, watcher, err := loadPrompts(cfg, log, pm)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := takeOver(ctx, st, cfg.DB, log); err != nil {
		st.Close()
		return nil, err
	}
	a := &app{
		cfg:      cfg,
		log:      log,
		store:    st,
		prompts:  live,
		watcher:  watcher,
		senders:  map[bot.Platform]outbox.Sender{},
		registry: registry,
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	oc := outbox.Config{
		Store:   st,
		Senders: a.senders, // filled by the command before Run
		Logger:  log,
		Metrics: outbox.NewMetrics(a.registry),
		// Agents learn of messages about their handoffs that could not be
		// delivered; a.handoffs is set below, before anything is sent.
		OnDead: func(ctx context.Context, m bot.Outgoing, reason string) error {
			return a.handoffs.DeliveryFailed(ctx, m, reason)
		},
	}
	for _, o := range outboxOpts {
		o(&oc)
	}
	a.dispatcher, err = outbox.New(oc)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.handoffs, err = handoff.New(handoff.Config{
		Store:          st,
		Prompts:        a.prompts,
		AgentPlatform:  agents.platform,
		AgentWorkspace: agents.workspace,
		AgentChannel:   agents.channel,
		Logger:         log,
		Metrics:        handoff.NewMetrics(a.registry),
		Notify:         a.dispatcher.Notify,
		RepingEvery:    cfg.HandoffReping,
		Repings:        cfg.HandoffRepings,
		AgentTimeout:   cfg.HandoffAgentTimeout,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	a.model, err = newModel(cfg, a.prompts, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	var source bot.PaymentSource = st
	if cfg.PaymentsURL != "" {
		source, err = payments.New(payments.Config{BaseURL: cfg.PaymentsURL, Token: cfg.PaymentsToken})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("FIRSTLINE_PAYMENTS_URL: %w", err)
		}
	}
	verifier, err := codeSender(cfg.Privacy)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.engine, err = bot.New(bot.Config{
		Store:       st,
		Model:       a.model,
		Payments:    source,
		Escalator:   a.handoffs,
		Prompts:     a.prompts,
		Logger:      log,
		Metrics:     bot.NewMetrics(a.registry),
		Notify:      a.dispatcher.Notify,
		IdleTimeout: cfg.IdleTimeout,
		Shadow:      cfg.Shadow,
		Limits:      cfg.Privacy.limits(),
		Verifier:    verifier,
		Links:       links.New(cfg.Privacy.LinkHosts...),
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

// newModel selects the model: an OpenAI-compatible endpoint when a key or a
// base URL is set, the offline rules model otherwise.
func newModel(cfg Config, current func() *prompts.Set, log *slog.Logger) (bot.Model, error) {
	if !cfg.UsesLLM() {
		return rules.New(current), nil
	}
	m, err := openai.New(openai.Config{
		BaseURL: cfg.OpenAIBaseURL,
		APIKey:  cfg.OpenAIKey,
		Model:   cfg.Model,
		Logger:  log,
	})
	if err != nil {
		return nil, fmt.Errorf("OPENAI_BASE_URL / FIRSTLINE_MODEL: %w", err)
	}
	return m, nil
}

// loadPrompts returns the live prompt set: a watched folder, or the
// embedded defaults when the default folder does not exist. An invalid
// folder stops start-up: better than running with prompts nobody checked.
func loadPrompts(cfg Config, log *slog.Logger, pm *promptMetrics) (func() *prompts.Set, *prompts.Watcher, error) {
	info, err := os.Stat(cfg.PromptsDir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !cfg.PromptsDirSet:
		set := prompts.Default()
		return func() *prompts.Set { return set }, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("FIRSTLINE_PROMPTS_DIR: %w", err)
	case !info.IsDir():
		return nil, nil, fmt.Errorf("FIRSTLINE_PROMPTS_DIR: %s is not a folder", cfg.PromptsDir)
	}
	w, err := prompts.NewWatcher(prompts.WatchConfig{
		Dir:    cfg.PromptsDir,
		Check:  checkPrompts,
		Logger: log,
		OnReload: func(s *prompts.Set) {
			pm.reloads.WithLabelValues("ok").Inc()
			log.Info("prompt files reloaded", "dir", cfg.PromptsDir, "version", s.Version)
		},
		OnReject: func(error) { pm.reloads.WithLabelValues("rejected").Inc() },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("prompt files in %s are invalid: %w", cfg.PromptsDir, err)
	}
	return w.Current, w, nil
}

// checkPrompts is the check beyond the prompts package's own: the phrase
// lists must build the matcher that guards the human path.
func checkPrompts(s *prompts.Set) error {
	_, err := bot.NewHumanMatcher(s)
	return err
}

type promptMetrics struct {
	reloads *prometheus.CounterVec
}

func newPromptMetrics(reg prometheus.Registerer) *promptMetrics {
	m := &promptMetrics{reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "firstline", Name: "prompt_reloads_total",
		Help: "Reloads of the prompt files, by result (ok, rejected: the last good version stays live).",
	}, []string{"result"})}
	reg.MustRegister(m.reloads)
	return m
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

// noRegistry discards metrics, for commands that serve none.
type noRegistry struct{}

func (noRegistry) Register(prometheus.Collector) error  { return nil }
func (noRegistry) MustRegister(...prometheus.Collector) {}
func (noRegistry) Unregister(prometheus.Collector) bool { return true }

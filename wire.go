package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/adapters/openai"
	"github.com/firstlinehq/firstline/adapters/payments"
	"github.com/firstlinehq/firstline/adapters/sqlstore/postgres"
	"github.com/firstlinehq/firstline/adapters/sqlstore/sqlite"
	"github.com/firstlinehq/firstline/adapters/verification"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/retention"
	"github.com/firstlinehq/firstline/bot/rules"
	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/firstlinehq/firstline/handoff"
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

// appStore is what the commands need of a store: the engine's and the
// dispatcher's interfaces, the built-in payment source, and the admin
// operations. SQLite and PostgreSQL both provide it.
type appStore interface {
	bot.Store
	outbox.Store
	bot.PaymentSource
	Ping(ctx context.Context) error
	Close() error
	Link(ctx context.Context, l bot.Link) error
	Unlink(ctx context.Context, id bot.Identity) error
	Links(ctx context.Context) ([]bot.Link, error)
	PutCustomer(ctx context.Context, c bot.Customer) error
	PutPayment(ctx context.Context, p bot.Payment) error
	CustomerCount(ctx context.Context) (int, error)
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), err error)
	stats.GaugeSource
}

// isPostgres reports whether FIRSTLINE_DB names a PostgreSQL server.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the database FIRSTLINE_DB names and applies its
// migrations.
func openStore(ctx context.Context, db string) (appStore, error) {
	if isPostgres(db) {
		// The URL may carry a password: postgres' errors name the server
		// without it, so the URL is not repeated here.
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("FIRSTLINE_DB: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", db, err)
	}
	return st, nil
}

// exclusiveStore is a store that one process at a time answers on (SQLite).
type exclusiveStore interface {
	Exclusive(ctx context.Context) (sqlite.Recovered, error)
}

// takeOver makes this process the one answering on a SQLite file, before
// the engine and the dispatcher start: a second `serve` or `chat` on the
// same file is refused (SQLite serves one process; PostgreSQL is the way
// to run several), and what a crashed predecessor left leased is taken
// back at once. PostgreSQL stores are shared by replicas and skip this.
func takeOver(ctx context.Context, st appStore, db string, log *slog.Logger) error {
	ex, ok := st.(exclusiveStore)
	if !ok {
		return nil
	}
	r, err := ex.Exclusive(ctx)
	if errors.Is(err, sqlite.ErrNoLock) {
		log.Warn("cannot lock the database file: a second process on it is not refused, and a restart after a crash waits for the leases of unfinished work to run out",
			"db", db, "err", err)
		return nil
	}
	if errors.Is(err, sqlite.ErrInUse) {
		return fmt.Errorf("database %s is in use by another firstline serve or chat; stop it, or use another FIRSTLINE_DB (several replicas need PostgreSQL)", db)
	}
	if err != nil {
		return fmt.Errorf("open database %s: %w", db, err)
	}
	if r != (sqlite.Recovered{}) {
		log.Info("taking over from a process that stopped mid-work",
			"turns", r.TurnLeases, "outgoing_messages", r.Claims)
	}
	return nil
}

// dbForLog is FIRSTLINE_DB as it may appear in logs and messages: a
// PostgreSQL connection string without its passwords.
func dbForLog(db string) string {
	if !isPostgres(db) {
		return db
	}
	return postgres.Redacted(db)
}

// retentionJob returns the job that deletes texts older than
// FIRSTLINE_RETENTION, hourly, for `firstline serve`.
func (a *app) retentionJob() (*retention.Job, error) {
	return retention.New(retention.Config{
		Store:     a.store,
		Retention: a.cfg.Retention,
		Logger:    a.log.With("job", "retention"),
	})
}

// codeSender returns the webhook that sends verification codes, or nil
// when FIRSTLINE_VERIFY_URL is not set.
func codeSender(c PrivacyConfig) (bot.CodeSender, error) {
	if c.VerifyURL == "" {
		return nil, nil
	}
	w, err := verification.New(verification.Config{URL: c.VerifyURL, Token: c.VerifyToken})
	if err != nil {
		return nil, fmt.Errorf("FIRSTLINE_VERIFY_URL: %w", err)
	}
	return w, nil
}

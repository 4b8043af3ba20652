package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/firstlinehq/firstline/adapters/companyapi"
	"github.com/firstlinehq/firstline/adapters/mcp"
	"github.com/firstlinehq/firstline/adapters/openai"
	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/adapters/verification"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/datatools"
	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/retention"
	"github.com/firstlinehq/firstline/bot/rules"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/prompts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// product is what every command that runs Firstline opens before it
// assembles it: the live prompt files, the store and the model.
type product struct {
	cfg      Config
	log      *slog.Logger
	prompts  func() *prompts.Set
	watcher  *prompts.Watcher // nil when the embedded defaults are used
	store    app.Store
	model    bot.Model
	registry *prometheus.Registry
	// mcp is the client of the MCP servers of tools.yaml.
	mcp *mcp.Client
}

// openProduct loads the prompt files, opens the store (taking it over from
// a crashed predecessor on SQLite) and selects the model. The caller closes
// the product.
func openProduct(ctx context.Context, cfg Config, log *slog.Logger) (*product, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	live, watcher, err := loadPrompts(cfg, log, newPromptMetrics(registry))
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
	model, err := newModel(cfg, live, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &product{cfg: cfg, log: log, prompts: live, watcher: watcher, store: st, model: model, registry: registry,
		mcp: mcp.New(mcp.Options{})}, nil
}

// assemble builds Firstline on the product with the configured engine and
// handoff settings; senders builds the adapters from the engine and the
// handoff flow.
func (p *product) assemble(agents app.Agents, senders func(app.Parts) (map[bot.Platform]outbox.Sender, error), outboxOpts ...func(*outbox.Config)) (*app.App, error) {
	var source bot.PaymentSource // nil: the store's payments table
	if p.cfg.PaymentsURL != "" {
		src, err := companyapi.New(companyapi.Config{BaseURL: p.cfg.PaymentsURL, Token: p.cfg.PaymentsToken})
		if err != nil {
			return nil, fmt.Errorf("FIRSTLINE_PAYMENTS_URL: %w", err)
		}
		source = src
	}
	verifier, err := codeSender(p.cfg.Privacy)
	if err != nil {
		return nil, err
	}
	dir, _, err := directory(p.cfg, p.store)
	if err != nil {
		return nil, err
	}
	if api, ok := dir.(*companyapi.Client); ok {
		// A short cache spares the API a lookup per message; errors are
		// not cached, so a directory that is down is asked again.
		dir = companyapi.NewCachedDirectory(api, directoryCacheTTL, time.Now)
	}
	var oc outbox.Config
	for _, o := range outboxOpts {
		o(&oc)
	}
	return app.New(app.Config{
		Store: p.store, Model: p.model, Prompts: p.prompts, Agents: agents,
		Logger: p.log, Registry: p.registry,
		Engine: bot.Config{
			Payments:    source,
			Directory:   dir,
			ConnectURL:  p.cfg.Connect.URL,
			IdleTimeout: p.cfg.IdleTimeout,
			Shadow:      p.cfg.Shadow,
			Feedback:    p.cfg.Feedback,
			DataTools:   datatools.Options{MCP: p.mcp},
			Limits:      p.cfg.Privacy.limits(),
			Verifier:    verifier,
			Links:       links.New(p.cfg.Privacy.LinkHosts...),
		},
		Handoff: handoff.Config{
			RepingEvery:  p.cfg.HandoffReping,
			Repings:      p.cfg.HandoffRepings,
			AgentTimeout: p.cfg.HandoffAgentTimeout,
			BurstGap:     burstGap(agents.Platform),
		},
		Outbox:  oc,
		Senders: senders,
	})
}

// burstGap is the handoff flow's least time between posts of a customer's
// words: the default, but none in the terminal, which delivers what is
// queued only when a line is typed, and where the one customer is the
// person at the keyboard.
func burstGap(agents bot.Platform) time.Duration {
	if agents == bot.Console {
		return -1
	}
	return 0
}

// directoryCacheTTL is how long the engine keeps the company's API's
// answers about customers.
const directoryCacheTTL = 30 * time.Second

// directory returns the customer directory the configuration names, and
// how to name it to an admin: the company's API, or the store's customers
// table.
func directory(cfg Config, st app.Store) (bot.Directory, string, error) {
	if cfg.Customers.InStore() {
		return st, "the customers table of " + dbForLog(cfg.DB), nil
	}
	c, err := companyapi.New(companyapi.Config{BaseURL: cfg.Customers.URL, Token: cfg.Customers.Token,
		Name: "customers", TokenSetting: cfg.Customers.TokenSetting, URLSetting: cfg.Customers.URLSetting})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", cfg.Customers.URLSetting, err)
	}
	return c, "the company's API at " + hostOf(cfg.Customers.URL) + " (" + cfg.Customers.URLSetting + ")", nil
}

// hostOf is the host of a URL checked by checkURL, for messages: never
// its path or query, which may hold more than an operator wants printed.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host
}

// Close closes the store; call it last.
func (p *product) Close() error {
	_ = p.mcp.Close() // it only drops sessions: nothing to report
	return p.store.Close()
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

// openStore opens the database FIRSTLINE_DB names and applies its
// migrations.
func openStore(ctx context.Context, db string) (*sqlstore.Store, error) {
	st, err := sqlstore.Open(ctx, db)
	switch {
	case err == nil:
		return st, nil
	case sqlstore.IsPostgres(db):
		// The URL may carry a password: the store's errors name the server
		// without it, so the URL is not repeated here.
		return nil, fmt.Errorf("FIRSTLINE_DB: %w", err)
	default:
		return nil, fmt.Errorf("open database %s: %w", db, err)
	}
}

// takeOver makes this process the one answering on a SQLite file, before
// the engine and the dispatcher start: a second `serve` or `chat` on the
// same file is refused (SQLite serves one process; PostgreSQL is the way
// to run several), and what a crashed predecessor left leased is taken
// back at once. PostgreSQL stores are shared by replicas and skip this.
func takeOver(ctx context.Context, st *sqlstore.Store, db string, log *slog.Logger) error {
	r, err := st.Exclusive(ctx)
	if errors.Is(err, sqlstore.ErrNoLock) {
		log.Warn("cannot lock the database file: a second process on it is not refused, and a restart after a crash waits for the leases of unfinished work to run out",
			"db", db, "err", err)
		return nil
	}
	if errors.Is(err, sqlstore.ErrInUse) {
		return fmt.Errorf("database %s is in use by another firstline serve or chat; stop it, or use another FIRSTLINE_DB (several replicas need PostgreSQL)", db)
	}
	if err != nil {
		return fmt.Errorf("open database %s: %w", db, err)
	}
	if r != (sqlstore.Recovered{}) {
		log.Info("taking over from a process that stopped mid-work",
			"turns", r.TurnLeases, "outgoing_messages", r.Claims)
	}
	return nil
}

// dbForLog is FIRSTLINE_DB as it may appear in logs and messages: a
// PostgreSQL connection string without its passwords.
func dbForLog(db string) string {
	if !sqlstore.IsPostgres(db) {
		return db
	}
	return sqlstore.Redacted(db)
}

// retentionJob returns the job that deletes texts older than
// FIRSTLINE_RETENTION, hourly, for `firstline serve`.
func (p *product) retentionJob() (*retention.Job, error) {
	return retention.New(retention.Config{
		Store:     p.store,
		Retention: p.cfg.Retention,
		Logger:    p.log.With("job", "retention"),
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

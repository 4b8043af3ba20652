package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/adapters/discord"
	"github.com/firstlinehq/firstline/adapters/slack"
	"github.com/firstlinehq/firstline/adapters/web"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/stats"
	"golang.org/x/net/netutil"
)

// platformAdapter is what serve needs of a platform adapter besides being
// the outbox Sender of its platform.
type platformAdapter interface {
	Run(ctx context.Context) error
	Ready() bool
}

type namedAdapter struct {
	name string
	platformAdapter
}

// server is `firstline serve`: the product, the platform adapters and the
// HTTP server, run in three lifetimes (see run).
type server struct {
	cfg    Config
	log    *slog.Logger
	p      *product
	app    *app.App
	mux    *http.ServeMux
	agents app.Agents
	// adapters are the platforms serve runs, in start order.
	adapters []namedAdapter
	// metricsLn, with FIRSTLINE_METRICS_ADDR, is the internal listener of
	// /metrics and the profiler.
	metricsLn net.Listener
}

func cmdServe(ctx context.Context, args []string, sys stdio) error {
	cfg, err := serveConfig(args, sys)
	if err != nil {
		return err
	}
	log := newLogger(sys.err, cfg.LogLevel, true)
	p, err := openProduct(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.Close()
	s := &server{cfg: cfg, log: log, p: p, mux: http.NewServeMux(), agents: cfg.agentSide()}
	if s.app, err = p.assemble(s.agents, s.platforms); err != nil {
		return err
	}
	if err := s.mountHTTP(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("FIRSTLINE_HTTP_ADDR: listen on %s: %w", cfg.HTTPAddr, err)
	}
	if cfg.MetricsAddr != "" {
		if s.metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("FIRSTLINE_METRICS_ADDR: listen on %s: %w", cfg.MetricsAddr, err)
		}
	}
	names := make([]string, 0, len(s.adapters))
	for _, a := range s.adapters {
		names = append(names, a.name)
	}
	platforms := strings.Join(names, ",")
	if platforms == "" {
		platforms = "none (health and metrics only)"
	}
	log.Info("firstline starting", "model", p.model.Name(), "db", dbForLog(cfg.DB), "platforms", platforms,
		"agents", string(s.agents.Platform), "prompts", promptsSource(p))
	log.Info("http listening", "addr", ln.Addr().String())
	if s.metricsLn != nil {
		log.Info("metrics listening", "addr", s.metricsLn.Addr().String())
	}
	if sys.onListen != nil {
		sys.onListen(ln.Addr().String())
	}
	return s.run(ctx, ln)
}

// serveConfig reads the configuration and the flags of serve.
func serveConfig(args []string, sys stdio) (Config, error) {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return cfg, err
	}
	fs := newFlagSet("serve", "serve [--db FILE] [--http ADDR] [--prompts DIR]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "HTTP listen address (FIRSTLINE_HTTP_ADDR)")
	promptsDir := fs.String("prompts", "", "prompt folder (FIRSTLINE_PROMPTS_DIR)")
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if *promptsDir != "" {
		cfg.PromptsDir, cfg.PromptsDirSet = *promptsDir, true
	}
	return cfg, cfg.ValidateServe()
}

// platforms builds the configured platform adapters from the engine and
// the handoff flow (app.Config.Senders): each is its platform's sender;
// Slack over HTTP adds its endpoints to the mux.
func (s *server) platforms(parts app.Parts) (map[bot.Platform]outbox.Sender, error) {
	cfg, log := s.cfg, s.log
	senders := map[bot.Platform]outbox.Sender{}
	if cfg.SlackBotToken != "" {
		channel := ""
		if s.agents.Platform == bot.Slack {
			channel = s.agents.Channel
		}
		sl, err := slack.New(slack.Config{
			BotToken: cfg.SlackBotToken, AppToken: cfg.SlackAppToken, SigningSecret: cfg.SlackSigningSecret,
			APIURL: cfg.SlackAPIURL, AgentChannel: channel, AgentMention: cfg.SlackAgentMention,
			Agents: cfg.SlackAgents, Leads: cfg.SlackAgentLeads,
			LinkByEmail: cfg.SlackLinkByEmail, Engine: parts.Engine, Handoffs: parts.Handoffs,
			// The assistant's suggested prompts (assistant.yaml) live in
			// the prompt folder; without one, the built-in texts.
			Prompts: os.DirFS(cfg.PromptsDir),
			Logger:  log.With("adapter", "slack"),
		})
		if err != nil {
			return nil, fmt.Errorf("slack: %w", err)
		}
		senders[bot.Slack] = sl
		if cfg.SlackAppToken == "" {
			s.mux.Handle("POST /slack/events", sl.EventsHandler())
			s.mux.Handle("POST /slack/interactions", sl.InteractionsHandler())
		}
		s.add("slack", sl)
	}
	if cfg.DiscordBotToken != "" {
		channel := ""
		if s.agents.Platform == bot.Discord {
			channel = s.agents.Channel
		}
		dcCfg := discord.Config{
			Token: cfg.DiscordBotToken, APIURL: cfg.DiscordAPIURL, AgentChannel: channel,
			AgentRole: cfg.DiscordAgentRole, Agents: cfg.DiscordAgents, Leads: cfg.DiscordAgentLeads,
			LeadRole: cfg.DiscordAgentLeadRole, Engine: parts.Engine, Handoffs: parts.Handoffs,
			Logger: log.With("adapter", "discord"),
		}
		// Every replica sends (REST); one at a time holds the gateway.
		dc, err := discord.New(dcCfg)
		if err != nil {
			return nil, fmt.Errorf("discord: %w", err)
		}
		senders[bot.Discord] = dc
		s.add("discord", discord.NewLedGateway("discord-gateway", s.p.store, log.With("adapter", "discord"),
			func() (discord.Runner, error) { return discord.New(dcCfg) }))
	}
	return senders, nil
}

func (s *server) add(name string, a platformAdapter) {
	s.adapters = append(s.adapters, namedAdapter{name, a})
}

// mountHTTP adds health, readiness, metrics (unless FIRSTLINE_METRICS_ADDR
// serves them apart), with FIRSTLINE_CONNECT_URL the company's POST
// /connect, and with FIRSTLINE_ADMIN_TOKEN the KPI page at / to the mux.
func (s *server) mountHTTP() error {
	components := make([]web.Named, 0, len(s.adapters))
	for _, a := range s.adapters {
		components = append(components, web.Named{Name: a.name, Component: a.platformAdapter})
	}
	web.HealthConfig{Store: s.p.store, Components: components, Registry: s.p.registry,
		MetricsElsewhere: s.cfg.MetricsAddr != "", Logger: s.log}.Mount(s.mux)
	if s.cfg.Connect.URL != "" {
		s.mux.Handle("POST /connect", web.ConnectHandler(web.ConnectConfig{Secret: []byte(s.cfg.Connect.Secret),
			Connector: s.app.Engine, Logger: s.log.With("component", "connect")}))
	}
	if s.cfg.AdminToken == "" {
		return nil // the page is off, and / is not found
	}
	h, err := web.New(web.Config{
		Source:         web.StatsSource{Records: s.p.store, Idle: s.cfg.IdleTimeout},
		Token:          s.cfg.AdminToken,
		TrustedProxies: s.cfg.TrustedProxies,
		Logger:         s.log.With("component", "kpi"),
	})
	if err != nil {
		return fmt.Errorf("FIRSTLINE_ADMIN_TOKEN: %w", err)
	}
	// Exactly "/", every method: the page answers 405 to all but GET and
	// HEAD itself.
	s.mux.Handle("/{$}", h)
	return nil
}

// run serves until ctx ends or an input fails, in three lifetimes: input
// (adapters, HTTP, recovery) stops first; then in-flight turns finish;
// then the workers (outbox, prompt watcher, timers) stop and the outbox is
// flushed one last time. The store closes last (cmdServe's defer).
func (s *server) run(ctx context.Context, ln net.Listener) error {
	purge, err := s.p.retentionJob()
	if err != nil {
		ln.Close()
		if s.metricsLn != nil {
			s.metricsLn.Close()
		}
		return err
	}
	gauges := stats.NewGauges(s.p.registry, s.p.store, s.cfg.IdleTimeout, s.log)
	gauges.Refresh(ctx)
	srv := publicServer(s.mux, s.cfg.HTTPReadTimeout)
	ln = netutil.LimitListener(ln, s.cfg.HTTPMaxConns)

	inputCtx, stopInput := context.WithCancel(ctx)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopInput()
	defer stopWork()
	failed := make(chan error, len(s.adapters)+1)
	var inputs, workers sync.WaitGroup
	inputs.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("http server: %w", err)
		}
	})
	for _, a := range s.adapters {
		inputs.Go(func() {
			if err := a.Run(inputCtx); err != nil && inputCtx.Err() == nil {
				failed <- fmt.Errorf("%s: %w", a.name, err)
			}
		})
	}
	workers.Go(func() { _ = s.app.Dispatcher.Run(workCtx) })
	if s.cfg.PprofAddr != "" {
		workers.Go(func() {
			if err := servePprof(workCtx, s.cfg.PprofAddr, s.log); err != nil {
				s.log.Error("profiler stopped", "err", err)
			}
		})
	}
	if s.metricsLn != nil {
		// A worker, so that the drain can still be watched.
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", web.HealthConfig{Registry: s.p.registry}.MetricsHandler())
		mountPprof(mux)
		workers.Go(func() {
			if err := serveInternal(workCtx, s.metricsLn, mux); err != nil {
				s.log.Error("metrics listener stopped", "err", err)
			}
		})
	}
	if s.p.watcher != nil {
		workers.Go(func() { _ = s.p.watcher.Run(workCtx) })
	}
	workers.Go(func() { _ = purge.Run(workCtx) })             // hourly: FIRSTLINE_RETENTION
	workers.Go(func() { _ = s.app.Handoffs.Run(workCtx) })    // re-pings, agent timeouts, queue notices
	workers.Go(func() { _ = gauges.Run(workCtx) })            // outbox depth, open handoffs, the day's figures
	if n, err := s.app.Engine.Recover(inputCtx); err != nil { // what a crash left unanswered
		s.log.Error("recovering unprocessed messages", "err", err)
	} else if n > 0 {
		s.log.Info("recovered unprocessed messages", "conversations", n)
	}
	// Later, what another replica left when it died (docs/replicas.md).
	inputs.Go(func() { _ = s.app.Engine.RunRecovery(inputCtx) })

	var runErr error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down")
	case runErr = <-failed:
		s.log.Error("stopping after a failure", "err", runErr)
	}
	s.shutdown(srv, stopInput, &inputs, stopWork, &workers)
	return runErr
}

// publicServer is the HTTP server of serve's port, which faces the
// internet (Slack's events, the connect page, the KPI page): every phase of
// a connection is bounded, so slow or idle clients cannot hold connections
// (and, with the listener's cap, the port) for ever. Nothing it serves
// streams or long-polls, so a write timeout is safe.
func publicServer(h http.Handler, read time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(read, 10*time.Second),
		ReadTimeout:       read,
		WriteTimeout:      read + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// shutdown stops the server in order: input, turns, workers, a last flush.
func (s *server) shutdown(srv *http.Server, stopInput func(), inputs *sync.WaitGroup, stopWork func(), workers *sync.WaitGroup) {
	httpCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(httpCtx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	stopInput() // adapters close their gateway and Socket Mode connections
	inputs.Wait()
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelDrain()
	if err := s.app.Engine.Drain(drainCtx); err != nil {
		s.log.Warn("turns left unfinished; they are answered at the next start", "err", err)
	}
	stopWork()
	workers.Wait()
	if err := s.app.Flush(5 * time.Second); err != nil {
		s.log.Warn("outbox not fully flushed at shutdown; pending messages are sent at next start", "err", err)
	}
	s.log.Info("stopped")
}

// promptsSource says where the live prompts come from, for the start-up log.
func promptsSource(p *product) string {
	if p.watcher == nil {
		return "embedded defaults"
	}
	return p.cfg.PromptsDir + " (watched)"
}

// The profiler (FIRSTLINE_PPROF_ADDR) is how an operator finds where a busy
// server's time goes. It listens on a loopback address of its own, never on
// the public HTTP port: profiles name functions, and goroutine dumps hold
// request data. FIRSTLINE_METRICS_ADDR serves it too, beside /metrics, on
// an internal address an operator chose for both.

// checkPprofAddr refuses an address that is not loopback.
func checkPprofAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port on localhost, such as 127.0.0.1:6060: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: the profiler listens on localhost only (127.0.0.1:6060)", host)
	}
	return nil
}

// servePprof serves net/http/pprof on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("FIRSTLINE_PPROF_ADDR: listen on %s: %w", addr, err)
	}
	// Block and mutex profiles are sampled only with the profiler's own
	// listener: they cost little next to a turn, but nothing is free.
	runtime.SetBlockProfileRate(int(time.Millisecond))
	runtime.SetMutexProfileFraction(100)
	mux := http.NewServeMux()
	mountPprof(mux)
	log.Info("profiler listening", "addr", ln.Addr().String())
	if err := serveInternal(ctx, ln, mux); err != nil {
		return fmt.Errorf("profiler: %w", err)
	}
	return nil
}

// mountPprof adds net/http/pprof to mux.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// serveInternal serves h on ln, an operator's listener (the profiler,
// FIRSTLINE_METRICS_ADDR), until ctx ends. Profiles stream for as long as
// they were asked for, so there is no write timeout.
func serveInternal(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

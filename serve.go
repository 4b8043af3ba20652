package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/adapters/discord"
	"github.com/firstlinehq/firstline/adapters/slack"
	"github.com/firstlinehq/firstline/adapters/web"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

func cmdServe(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("serve", "serve [--db FILE] [--http ADDR] [--prompts DIR]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "HTTP listen address (FIRSTLINE_HTTP_ADDR)")
	promptsDir := fs.String("prompts", "", "prompt folder (FIRSTLINE_PROMPTS_DIR)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *promptsDir != "" {
		cfg.PromptsDir, cfg.PromptsDirSet = *promptsDir, true
	}
	if err := cfg.ValidateServe(); err != nil {
		return err
	}
	log := newLogger(sys.err, cfg.LogLevel, true)

	agents := cfg.agentSide()
	a, err := newApp(ctx, cfg, agents, log)
	if err != nil {
		return err
	}
	defer a.Close()
	purge, err := a.retentionJob()
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	var adapters []namedAdapter
	if cfg.SlackBotToken != "" {
		channel := ""
		if agents.platform == bot.Slack {
			channel = agents.channel
		}
		sl, err := slack.New(slack.Config{
			BotToken: cfg.SlackBotToken, AppToken: cfg.SlackAppToken, SigningSecret: cfg.SlackSigningSecret,
			APIURL: cfg.SlackAPIURL, AgentChannel: channel, AgentMention: cfg.SlackAgentMention,
			LinkByEmail: cfg.SlackLinkByEmail, Engine: a.engine, Handoffs: a.handoffs,
			Logger: log.With("adapter", "slack"),
		})
		if err != nil {
			return fmt.Errorf("slack: %w", err)
		}
		a.senders[bot.Slack] = sl
		if cfg.SlackAppToken == "" {
			mux.Handle("POST /slack/events", sl.EventsHandler())
			mux.Handle("POST /slack/interactions", sl.InteractionsHandler())
		}
		adapters = append(adapters, namedAdapter{"slack", sl})
	}
	if cfg.DiscordBotToken != "" {
		channel := ""
		if agents.platform == bot.Discord {
			channel = agents.channel
		}
		dcCfg := discord.Config{
			Token: cfg.DiscordBotToken, APIURL: cfg.DiscordAPIURL, AgentChannel: channel,
			AgentRole: cfg.DiscordAgentRole, Engine: a.engine, Handoffs: a.handoffs,
			Logger: log.With("adapter", "discord"),
		}
		// Every replica sends (REST); one at a time holds the gateway.
		dc, err := discord.New(dcCfg)
		if err != nil {
			return fmt.Errorf("discord: %w", err)
		}
		a.senders[bot.Discord] = dc
		gw := discord.NewLedGateway("discord-gateway", a.store, log.With("adapter", "discord"),
			func() (discord.Runner, error) { return discord.New(dcCfg) })
		adapters = append(adapters, namedAdapter{"discord", gw})
	}
	names := make([]string, 0, len(adapters))
	for _, ad := range adapters {
		names = append(names, ad.name)
	}
	platforms := strings.Join(names, ",")
	if platforms == "" {
		platforms = "none (health and metrics only)"
	}
	log.Info("firstline starting", "model", a.model.Name(), "db", dbForLog(cfg.DB), "platforms", platforms,
		"agents", string(agents.platform), "prompts", promptsSource(a))
	a.mountHealth(mux, adapters)
	if err := a.mountKPI(mux); err != nil {
		return err
	}
	gauges := stats.NewGauges(a.registry, a.store, cfg.IdleTimeout, log)

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("FIRSTLINE_HTTP_ADDR: listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("http listening", "addr", ln.Addr().String())
	if sys.onListen != nil {
		sys.onListen(ln.Addr().String())
	}

	// Three lifetimes: input (adapters, HTTP) stops first; then in-flight
	// turns finish; then the workers (outbox, prompt watcher) stop and the
	// outbox is flushed one last time; the store closes last (deferred).
	inputCtx, stopInput := context.WithCancel(ctx)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopInput()
	defer stopWork()
	failed := make(chan error, len(adapters)+1)
	var inputs, workers sync.WaitGroup
	inputs.Add(1)
	go func() {
		defer inputs.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("http server: %w", err)
		}
	}()
	for _, ad := range adapters {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			if err := ad.Run(inputCtx); err != nil && inputCtx.Err() == nil {
				failed <- fmt.Errorf("%s: %w", ad.name, err)
			}
		}()
	}
	workers.Add(1)
	go func() {
		defer workers.Done()
		_ = a.dispatcher.Run(workCtx)
	}()
	if a.watcher != nil {
		workers.Add(1)
		go func() {
			defer workers.Done()
			_ = a.watcher.Run(workCtx)
		}()
	}
	workers.Add(1)
	go func() {
		defer workers.Done()
		_ = purge.Run(workCtx) // hourly: FIRSTLINE_RETENTION
	}()
	workers.Add(1)
	go func() {
		defer workers.Done()
		_ = a.handoffs.Run(workCtx) // re-pings, agent timeouts, queue notices
	}()
	workers.Add(1)
	go func() {
		defer workers.Done()
		_ = gauges.Run(workCtx) // outbox depth, open handoffs, the day's figures
	}()
	if n, err := a.engine.Recover(inputCtx); err != nil {
		log.Error("recovering unprocessed messages", "err", err)
	} else if n > 0 {
		log.Info("recovered unprocessed messages", "conversations", n)
	}
	// Later, what another replica left when it died (docs/replicas.md).
	inputs.Add(1)
	go func() {
		defer inputs.Done()
		_ = a.engine.RunRecovery(inputCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-failed:
		log.Error("stopping after a failure", "err", runErr)
	}
	shutdown(log, srv, stopInput, &inputs, a, stopWork, &workers)
	return runErr
}

// shutdown stops the server in order: input, turns, workers, a last flush.
func shutdown(log *slog.Logger, srv *http.Server, stopInput func(), inputs *sync.WaitGroup, a *app, stopWork func(), workers *sync.WaitGroup) {
	httpCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(httpCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopInput() // adapters close their gateway and Socket Mode connections
	inputs.Wait()
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelDrain()
	if err := a.engine.Drain(drainCtx); err != nil {
		log.Warn("turns left unfinished; they are answered at the next start", "err", err)
	}
	stopWork()
	workers.Wait()
	a.flush(5 * time.Second)
	log.Info("stopped")
}

// mountHealth adds health, readiness and metrics to mux.
func (a *app) mountHealth(mux *http.ServeMux, adapters []namedAdapter) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.store.Ping(ctx); err != nil {
			a.log.Warn("readiness: database unreachable", "err", err)
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		for _, ad := range adapters {
			if !ad.Ready() {
				http.Error(w, ad.name+" not connected", http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ready")
		// Say what this replica holds: one replica at a time holds the
		// Discord gateway, the others stand by to take over.
		for _, ad := range adapters {
			if l, ok := ad.platformAdapter.(interface{ Leading() bool }); ok {
				role := "standby"
				if l.Leading() {
					role = "gateway holder"
				}
				fmt.Fprintf(w, "%s: %s\n", ad.name, role)
			}
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
}

// promptsSource says where the live prompts come from, for the start-up log.
func promptsSource(a *app) string {
	if a.watcher == nil {
		return "embedded defaults"
	}
	return a.cfg.PromptsDir + " (watched)"
}

// mountKPI serves the KPI page at / when FIRSTLINE_ADMIN_TOKEN is set; the
// page is off otherwise, and / is not found.
func (a *app) mountKPI(mux *http.ServeMux) error {
	if a.cfg.AdminToken == "" {
		return nil
	}
	h, err := web.New(web.Config{
		Source: web.StatsSource{Records: a.store, Idle: a.cfg.IdleTimeout},
		Token:  a.cfg.AdminToken,
		Logger: a.log.With("component", "kpi"),
	})
	if err != nil {
		return fmt.Errorf("FIRSTLINE_ADMIN_TOKEN: %w", err)
	}
	// Exactly "/", every method: the page answers 405 to all but GET and
	// HEAD itself.
	mux.Handle("/{$}", h)
	return nil
}

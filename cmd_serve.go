package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

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
	if cfg.SlackBotToken != "" || cfg.DiscordBotToken != "" {
		return errors.New("SLACK_BOT_TOKEN / DISCORD_BOT_TOKEN: the Slack and Discord adapters are not in this build yet; unset them to run serve for health and metrics only")
	}
	log := newLogger(sys.err, cfg.LogLevel, true)

	// With no platform configured there are no customers; handoffs would be
	// announced nowhere, so serve runs health, metrics and the outbox only.
	agents := agentSide{platform: bot.Console, channel: "agents"}
	a, err := newApp(ctx, cfg, agents, log)
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("firstline starting", "model", a.model.Name(), "db", cfg.DB, "platforms", "none", "prompts", promptsSource(a))

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("FIRSTLINE_HTTP_ADDR: listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: a.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("http listening", "addr", ln.Addr().String())
	if sys.onListen != nil {
		sys.onListen(ln.Addr().String())
	}

	runCtx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	httpErr := make(chan error, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			httpErr <- err
		}
	}()
	go func() {
		defer wg.Done()
		_ = a.dispatcher.Run(runCtx)
	}()
	if a.watcher != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = a.watcher.Run(runCtx)
		}()
	}
	if n, err := a.engine.Recover(runCtx); err != nil {
		log.Error("recovering unprocessed messages", "err", err)
	} else if n > 0 {
		log.Info("recovered unprocessed messages", "conversations", n)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-httpErr:
		log.Error("http server failed", "err", runErr)
	}
	// Shutdown order: stop taking input (adapters, then HTTP), let workers
	// finish, flush the outbox within a bound, close the store (deferred).
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopWorkers()
	wg.Wait()
	a.flush(5 * time.Second)
	log.Info("stopped")
	if runErr != nil {
		return fmt.Errorf("http server: %w", runErr)
	}
	return nil
}

// httpHandler serves health, readiness and metrics.
func (a *app) httpHandler() http.Handler {
	mux := http.NewServeMux()
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
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	return mux
}

// promptsSource says where the live prompts come from, for the start-up log.
func promptsSource(a *app) string {
	if a.watcher == nil {
		return "embedded defaults"
	}
	return a.cfg.PromptsDir + " (watched)"
}

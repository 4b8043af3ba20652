package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Component is a part of the process that readiness waits for: a platform
// connection. One that also has a Leading method is a connection one
// replica at a time holds; /readyz says whether this one does.
type Component interface {
	Ready() bool
}

// Named is a component with the name readiness reports it under.
type Named struct {
	Name string
	Component
}

// Pinger is the database as readiness sees it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// HealthConfig is what the health, readiness and metrics endpoints report
// on.
type HealthConfig struct {
	Store Pinger
	// Components are the platform connections, in the order /readyz
	// reports them.
	Components []Named
	Registry   *prometheus.Registry
	// MetricsElsewhere keeps /metrics off the mux: it is served on an
	// internal listener (FIRSTLINE_METRICS_ADDR) instead.
	MetricsElsewhere bool
	Logger           *slog.Logger
}

// Mount adds /healthz (the process answers) and /readyz (the database
// answers and every platform connection is up) to mux, and /metrics unless
// it is served elsewhere (MetricsElsewhere).
func (c HealthConfig) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", c.ready)
	if !c.MetricsElsewhere {
		mux.Handle("GET /metrics", c.MetricsHandler())
	}
}

// MetricsHandler serves the registry's metrics in Prometheus' format.
func (c HealthConfig) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(c.Registry, promhttp.HandlerOpts{Registry: c.Registry})
}

func (c HealthConfig) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := c.Store.Ping(ctx); err != nil {
		c.Logger.Warn("readiness: database unreachable", "err", err)
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	for _, n := range c.Components {
		if !n.Ready() {
			http.Error(w, n.Name+" not connected", http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
	// Say what this replica holds: one replica at a time holds the
	// Discord gateway, the others stand by to take over.
	for _, n := range c.Components {
		if l, ok := n.Component.(interface{ Leading() bool }); ok {
			role := "standby"
			if l.Leading() {
				role = "gateway holder"
			}
			fmt.Fprintf(w, "%s: %s\n", n.Name, role)
		}
	}
}

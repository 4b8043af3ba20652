package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

type component struct{ ready bool }

func (c component) Ready() bool { return c.ready }

type leading struct {
	component
	leads bool
}

func (l leading) Leading() bool { return l.leads }

func TestReadiness(t *testing.T) {
	tests := []struct {
		name       string
		store      error
		components []Named
		code       int
		body       string
	}{
		{"all up", nil, []Named{{"slack", component{true}}}, http.StatusOK, "ready\n"},
		{"database down", errors.New("gone"), []Named{{"slack", component{true}}}, http.StatusServiceUnavailable, "database unreachable"},
		{"a platform down", nil, []Named{{"slack", component{true}}, {"discord", component{false}}}, http.StatusServiceUnavailable, "discord not connected"},
		{"gateway holder", nil, []Named{{"discord", leading{component{true}, true}}}, http.StatusOK, "ready\ndiscord: gateway holder\n"},
		{"standby", nil, []Named{{"discord", leading{component{true}, false}}}, http.StatusOK, "ready\ndiscord: standby\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			HealthConfig{Store: pinger{tt.store}, Components: tt.components, Registry: prometheus.NewRegistry(),
				Logger: slog.New(slog.DiscardHandler)}.Mount(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("/readyz = %d %q, want %d with %q", rec.Code, rec.Body.String(), tt.code, tt.body)
			}
		})
	}
}

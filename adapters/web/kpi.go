// Package web is the HTTP side of `firstline serve` that is Firstline's own:
// the read-only KPI page (the figures of `firstline stats`, charts of the
// automation rate and handoffs per day, and the open handoff queue),
// server-rendered HTML with inline SVG and no external assets, behind
// FIRSTLINE_ADMIN_TOKEN.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot/stats"
)

//go:embed page.html
var pageFS embed.FS

// QueueItem is one open handoff as the page lists it.
type QueueItem struct {
	HandoffID int64
	Platform  string
	Customer  string // the linked customer id, "" when not linked
	Reason    string
	Claimed   bool
	Agent     string
	Since     time.Time
}

// Source is where the page's figures come from.
type Source interface {
	Report(ctx context.Context, since, until time.Time) (stats.Report, error)
	Queue(ctx context.Context) ([]QueueItem, error)
}

// Config wires a Handler.
type Config struct {
	Source Source
	// Token is FIRSTLINE_ADMIN_TOKEN; the page is off when it is empty.
	Token  string
	Period time.Duration // the period shown, default 30 days
	// SessionTTL is how long a session opened with ?token= lasts, default
	// 12 hours; MaxSessions bounds the sessions kept, default 1,000, the
	// oldest dropped first.
	SessionTTL  time.Duration
	MaxSessions int
	// TrustedProxies (FIRSTLINE_TRUSTED_PROXIES) are the addresses whose
	// X-Forwarded-Proto is believed: a request from one of them that says
	// https gets a Secure cookie. From anywhere else the header is ignored.
	TrustedProxies []netip.Prefix
	Now            func() time.Time
	Logger         *slog.Logger
}

// cookieName holds a session id after a first visit with ?token=, so
// neither the address bar, the history nor the cookie jar keeps the token.
const cookieName = "firstline_admin"

// Defaults of the sessions.
const (
	defaultSessionTTL  = 12 * time.Hour
	defaultMaxSessions = 1000
)

// Handler serves the page.
type Handler struct {
	cfg      Config
	page     *template.Template
	sessions *sessions
}

// New returns the page's handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Source == nil {
		return nil, fmt.Errorf("kpi: needs a source")
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("kpi: needs FIRSTLINE_ADMIN_TOKEN")
	}
	if cfg.Period <= 0 {
		cfg.Period = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = defaultSessionTTL
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = defaultMaxSessions
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	page, err := template.New("page.html").Funcs(funcs).ParseFS(pageFS, "page.html")
	if err != nil {
		return nil, fmt.Errorf("kpi: parse page: %w", err)
	}
	return &Handler{cfg: cfg, page: page, sessions: newSessions(cfg.SessionTTL, cfg.MaxSessions, cfg.Now)}, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if t := r.URL.Query().Get("token"); t != "" {
		if !h.valid(t) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		id, err := h.sessions.open()
		if err != nil {
			h.cfg.Logger.ErrorContext(r.Context(), "kpi: open a session", "err", err)
			http.Error(w, "cannot open a session", http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: cookieName, Value: id, Path: r.URL.Path, MaxAge: int(h.cfg.SessionTTL / time.Second),
			HttpOnly: true, Secure: h.https(r), SameSite: http.SameSiteStrictMode,
		})
		// The same address without the token, so that it leaves the
		// address bar and the history.
		q := r.URL.Query()
		q.Del("token")
		to := r.URL.Path
		if len(q) > 0 {
			to += "?" + q.Encode()
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="firstline"`)
		http.Error(w, "unauthorized: open this page with ?token=FIRSTLINE_ADMIN_TOKEN to start a session", http.StatusUnauthorized)
		return
	}
	now := h.cfg.Now()
	ctx := r.Context()
	report, err := h.cfg.Source.Report(ctx, now.Add(-h.cfg.Period), now)
	if err != nil {
		h.cfg.Logger.ErrorContext(ctx, "kpi: compute figures", "err", err)
		http.Error(w, "figures unavailable", http.StatusInternalServerError)
		return
	}
	queue, err := h.cfg.Source.Queue(ctx)
	if err != nil {
		h.cfg.Logger.ErrorContext(ctx, "kpi: list the queue", "err", err)
		http.Error(w, "queue unavailable", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := h.page.Execute(&b, pageData{Report: report, Queue: queue, Now: now,
		Automation: automationChart(report.Days), Handoffs: handoffChart(report.Days)}); err != nil {
		h.cfg.Logger.ErrorContext(ctx, "kpi: render", "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(b.String()))
}

func (h *Handler) authorized(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		return h.valid(strings.TrimPrefix(a, "Bearer "))
	}
	if c, err := r.Cookie(cookieName); err == nil {
		return h.sessions.valid(c.Value)
	}
	return false
}

// https reports whether the browser reached the page over HTTPS: the
// request came over TLS, or from a trusted proxy (FIRSTLINE_TRUSTED_PROXIES)
// that says so in X-Forwarded-Proto. Of a list of values, the last one is
// the one the nearest proxy, the trusted one, added.
func (h *Handler) https(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if len(h.cfg.TrustedProxies) == 0 || !trusted(h.cfg.TrustedProxies, r.RemoteAddr) {
		return false
	}
	values := r.Header.Values("X-Forwarded-Proto")
	if len(values) == 0 {
		return false
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

// trusted reports whether remote, a request's RemoteAddr, is inside one
// of the proxies' ranges.
func trusted(proxies []netip.Prefix, remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap().WithZone("")
	for _, p := range proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (h *Handler) valid(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.Token)) == 1
}

type pageData struct {
	Report     stats.Report
	Queue      []QueueItem
	Now        time.Time
	Automation chart
	Handoffs   chart
}

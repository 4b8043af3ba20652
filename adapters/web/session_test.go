package web

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustOpenSession visits the page with the token and returns the session
// cookie it sets.
func mustOpenSession(t *testing.T, h *Handler, r *http.Request) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("visit with the token: %d %s", w.Code, w.Body.String())
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	t.Fatalf("visit with the token set no %s cookie", cookieName)
	return nil
}

// withCookie is the status of GET / sending c.
func withCookie(h *Handler, c *http.Cookie) int {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestSessionCookieIsNotTheToken(t *testing.T) {
	h := newHandler(t)
	a := mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil))
	b := mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil))
	raw, err := base64.RawURLEncoding.DecodeString(a.Value)
	if err != nil || len(raw) != 32 {
		t.Errorf("session id %q: %d bytes, %v; want 32 random bytes, base64url", a.Value, len(raw), err)
	}
	if a.Value == "s3cret-token" || a.Value == b.Value {
		t.Errorf("session ids %q and %q; want a fresh random id per visit, not the token", a.Value, b.Value)
	}
	for _, c := range []*http.Cookie{a, b} {
		if code := withCookie(h, c); code != http.StatusOK {
			t.Errorf("GET / with session %q = %d, want 200", c.Value, code)
		}
	}
}

// The visit with ?token= answers a redirect to the same address without
// the token, other parameters kept, and is not cached.
func TestTokenQueryRedirectsWithoutTheToken(t *testing.T) {
	h := newHandler(t)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/?token=s3cret-token&view=week", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/?view=week" {
		t.Errorf("got %d to %q; want 303 to /?view=week", w.Code, w.Header().Get("Location"))
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

func TestSessionExpires(t *testing.T) {
	clk := &clock{t: now}
	h := newHandlerWith(t, func(c *Config) { c.Now, c.SessionTTL = clk.Now, time.Hour })
	c := mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil))
	if c.MaxAge != 3600 {
		t.Errorf("cookie MaxAge = %d, want 3600 (the session's hour)", c.MaxAge)
	}
	clk.Advance(time.Hour - time.Second)
	if code := withCookie(h, c); code != http.StatusOK {
		t.Fatalf("a second before expiry: %d, want 200", code)
	}
	clk.Advance(time.Second)
	if code := withCookie(h, c); code != http.StatusUnauthorized {
		t.Errorf("at expiry: %d, want 401", code)
	}
	if n := h.sessions.count(); n != 0 {
		t.Errorf("%d sessions kept after the only one expired; want it dropped", n)
	}
	// The token still opens a new one.
	if code := withCookie(h, mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil))); code != http.StatusOK {
		t.Errorf("a new session after expiry: %d, want 200", code)
	}
}

func TestForgedSessionRefused(t *testing.T) {
	h := newHandler(t)
	mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil))
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	for _, tc := range []struct{ name, value string }{
		{"unknown id", base64.RawURLEncoding.EncodeToString(random)},
		{"the token itself (the old cookie)", "s3cret-token"},
		{"empty", ""},
		{"garbage", "../../etc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := withCookie(h, &http.Cookie{Name: cookieName, Value: tc.value}); code != http.StatusUnauthorized {
				t.Errorf("cookie %q: %d, want 401", tc.value, code)
			}
		})
	}
}

// Past MaxSessions the oldest session goes; expired ones go first.
func TestSessionsBounded(t *testing.T) {
	clk := &clock{t: now}
	h := newHandlerWith(t, func(c *Config) { c.Now, c.MaxSessions, c.SessionTTL = clk.Now, 3, time.Hour })
	var cookies []*http.Cookie
	for range 4 {
		cookies = append(cookies, mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil)))
		clk.Advance(time.Minute)
	}
	if n := h.sessions.count(); n != 3 {
		t.Errorf("%d sessions kept, want 3", n)
	}
	for i, want := range []int{http.StatusUnauthorized, http.StatusOK, http.StatusOK, http.StatusOK} {
		if code := withCookie(h, cookies[i]); code != want {
			t.Errorf("session %d: %d, want %d", i, code, want)
		}
	}
	// An hour on, all have expired: a new one drops them all.
	clk.Advance(time.Hour)
	fresh := mustOpenSession(t, h, httptest.NewRequest("GET", "/?token=s3cret-token", nil))
	if n := h.sessions.count(); n != 1 || withCookie(h, fresh) != http.StatusOK {
		t.Errorf("%d sessions after all expired and one opened; want 1, valid", n)
	}
}

// The cookie is Secure when the browser reached the page over HTTPS: over
// TLS, or through a trusted proxy that says so. The header from anyone
// else is ignored.
func TestSecureCookie(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("192.0.2.7/32")}
	tests := []struct {
		name    string
		remote  string
		proto   []string
		tls     bool
		proxies []netip.Prefix
		want    bool
	}{
		{"plain HTTP", "203.0.113.5:4000", nil, false, proxies, false},
		{"TLS", "203.0.113.5:4000", nil, true, nil, true},
		{"trusted proxy says https", "10.1.2.3:4000", []string{"https"}, false, proxies, true},
		{"trusted host says HTTPS", "192.0.2.7:4000", []string{"HTTPS"}, false, proxies, true},
		{"trusted IPv6 proxy", "[fd00::1]:4000", []string{"https"}, false, proxies, true},
		{"trusted proxy, IPv4-mapped address", "[::ffff:10.0.0.9]:4000", []string{"https"}, false, proxies, true},
		{"trusted proxy says http", "10.1.2.3:4000", []string{"http"}, false, proxies, false},
		{"trusted proxy appended https", "10.1.2.3:4000", []string{"http, https"}, false, proxies, true},
		{"trusted proxy appended http", "10.1.2.3:4000", []string{"https", "http"}, false, proxies, false},
		{"trusted proxy, no header", "10.1.2.3:4000", nil, false, proxies, false},
		{"untrusted address says https", "203.0.113.5:4000", []string{"https"}, false, proxies, false},
		{"next to a trusted host", "192.0.2.8:4000", []string{"https"}, false, proxies, false},
		{"no trusted proxies", "10.1.2.3:4000", []string{"https"}, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandlerWith(t, func(c *Config) { c.TrustedProxies = tt.proxies })
			r := httptest.NewRequest("GET", "/?token=s3cret-token", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if c := mustOpenSession(t, h, r); c.Secure != tt.want {
				t.Errorf("Secure = %v, want %v", c.Secure, tt.want)
			}
		})
	}
}

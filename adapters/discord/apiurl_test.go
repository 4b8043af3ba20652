package discord

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// DISCORD_API_URL in the forms people write it (a proxy's bare host above
// all) reaches the API: REST and, through GET /gateway, the gateway.
func TestAPIURLForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  func(base string) string
	}{
		{"bare host", func(b string) string { return b }},
		{"host with trailing slash", func(b string) string { return b + "/" }},
		{"API path without version", func(b string) string { return b + "/api" }},
		{"API path without version, trailing slash", func(b string) string { return b + "/api/" }},
		{"full API path", func(b string) string { return b + "/api/v9" }},
		{"full API path, trailing slash", func(b string) string { return b + "/api/v9/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := fakediscord.New(t)
			a, err := New(Config{Token: testToken, APIURL: tt.url(f.BaseURL()), Engine: &stubEngine{}, Handoffs: stubHandoffs{}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run = %v", err)
				}
			}()
			eventually(t, "the gateway session", a.Ready)
			if n := len(f.Requested("GET /api/v9/users/@me")); n == 0 {
				t.Errorf("GET /api/v9/users/@me never reached the fake; requests: %v", f.Requested(""))
			}
		})
	}
}

func TestAPIBaseKeepsAnExplicitPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://proxy.internal":            "https://proxy.internal/api/v9",
		"https://proxy.internal/discord/":   "https://proxy.internal/discord",
		"https://proxy.internal/x/api/v10/": "https://proxy.internal/x/api/v10",
	} {
		u, err := apiBase(in)
		if err != nil || u.String() != want {
			t.Errorf("apiBase(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
}

// At start-up a 404 names the base URL, a 401 the token; both stop Run.
func TestStartupNamesWhatIsWrong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		want, not string
	}{
		{"404", http.StatusNotFound, "DISCORD_API_URL is wrong", "DISCORD_BOT_TOKEN"},
		{"401", http.StatusUnauthorized, "DISCORD_BOT_TOKEN was rejected", "DISCORD_API_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"message": "` + http.StatusText(tt.status) + `", "code": 0}`))
			}))
			defer srv.Close()
			a, err := New(Config{Token: testToken, APIURL: srv.URL, Engine: &stubEngine{}, Handoffs: stubHandoffs{}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = a.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.not) {
				t.Fatalf("Run = %v; want an error saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "check the bot token") && tt.status == http.StatusNotFound {
				t.Errorf("a 404 blamed on the token: %v", err)
			}
		})
	}
}

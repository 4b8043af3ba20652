package discord

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bwmarrin/discordgo"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRewriteTransport(t *testing.T) {
	t.Parallel()
	api, _ := url.Parse("http://127.0.0.1:9/proxy/api/v9")
	var got *http.Request
	c := restClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
	})}, api)
	tests := []struct{ in, want string }{
		{discordgo.EndpointChannelMessages("1") + "?after=5&limit=100", "http://127.0.0.1:9/proxy/api/v9/channels/1/messages?after=5&limit=100"},
		{discordgo.EndpointAPI + "interactions/2/tok%2Fen/callback", "http://127.0.0.1:9/proxy/api/v9/interactions/2/tok%2Fen/callback"},
		{discordgo.EndpointGateway, "http://127.0.0.1:9/proxy/api/v9/gateway"},
		{"https://cdn.discordapp.com/attachments/1/2/a.png", "https://cdn.discordapp.com/attachments/1/2/a.png"},
		{"https://discord.com/oauth2/authorize", "https://discord.com/oauth2/authorize"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, tt.in, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := req.URL.String()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		resp.Body.Close()
		if got.URL.String() != tt.want || got.Host != got.URL.Host {
			t.Errorf("%s went to %s (Host %s), want %s", tt.in, got.URL, got.Host, tt.want)
		}
		if req.URL.String() != before {
			t.Errorf("the caller's request was changed: %s", req.URL)
		}
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	ok := Config{Token: testToken, Engine: &stubEngine{}, Handoffs: stubHandoffs{}}
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"no token", func(c *Config) { c.Token = " Bot " }},
		{"no engine", func(c *Config) { c.Engine = nil }},
		{"no handoffs", func(c *Config) { c.Handoffs = nil }},
		{"bad API URL", func(c *Config) { c.APIURL = "discord.example/api" }},
	}
	for _, tt := range tests {
		cfg := ok
		tt.change(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Errorf("New: %v", err)
	}
}

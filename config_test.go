package main

import (
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "firstline.db" || c.HTTPAddr != ":8080" || c.HandoffReping != 5*time.Minute ||
		c.HandoffRepings != 3 || c.IdleTimeout != 24*time.Hour || c.Retention != 90*24*time.Hour ||
		c.SlackAgentMention != "here" || c.UsesLLM() {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.ValidateServe(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"FIRSTLINE_RETENTION": "ninety"}, "FIRSTLINE_RETENTION"},
		{"bad bool", map[string]string{"FIRSTLINE_SHADOW": "maybe"}, "FIRSTLINE_SHADOW"},
		{"bad int", map[string]string{"FIRSTLINE_HANDOFF_REPINGS": "three"}, "FIRSTLINE_HANDOFF_REPINGS"},
		{"bad url", map[string]string{"OPENAI_BASE_URL": "localhost:11434"}, "OPENAI_BASE_URL"},
		{"slack without agent channel", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_AGENT_CHANNEL"},
		{"events api without secret", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_AGENT_CHANNEL": "C1"}, "SLACK_SIGNING_SECRET"},
		{"both agent channels", map[string]string{"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y", "SLACK_AGENT_CHANNEL": "C1", "DISCORD_BOT_TOKEN": "z", "DISCORD_AGENT_CHANNEL": "2"}, "FIRSTLINE_AGENT_PLATFORM"},
		{"bad agent platform", map[string]string{"FIRSTLINE_AGENT_PLATFORM": "irc"}, "FIRSTLINE_AGENT_PLATFORM"},
		{"bad mention", map[string]string{"SLACK_AGENT_MENTION": "everyone"}, "SLACK_AGENT_MENTION"},
		{"token without url", map[string]string{"FIRSTLINE_PAYMENTS_TOKEN": "secret"}, "FIRSTLINE_PAYMENTS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if err == nil {
				err = c.ValidateServe()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want one naming %s", err, tt.want)
			}
			for _, v := range tt.env {
				if len(v) > 5 && strings.Contains(err.Error(), v) && strings.Contains(strings.ToLower(tt.want), "token") {
					t.Errorf("error repeats a secret: %v", err)
				}
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"5m", 5 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"-1d", 0, false},
		{"d", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestHandoffAgentTimeoutConfig(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil || c.HandoffAgentTimeout != 30*time.Minute {
		t.Fatalf("default FIRSTLINE_HANDOFF_AGENT_TIMEOUT = %s, %v; want 30m", c.HandoffAgentTimeout, err)
	}
	c, err = LoadConfig(envOf(map[string]string{"FIRSTLINE_HANDOFF_AGENT_TIMEOUT": "2h"}))
	if err != nil || c.HandoffAgentTimeout != 2*time.Hour {
		t.Errorf("FIRSTLINE_HANDOFF_AGENT_TIMEOUT=2h: %s, %v", c.HandoffAgentTimeout, err)
	}
	for _, bad := range []string{"soon", "30s"} {
		c, err := LoadConfig(envOf(map[string]string{"FIRSTLINE_HANDOFF_AGENT_TIMEOUT": bad}))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), "FIRSTLINE_HANDOFF_AGENT_TIMEOUT") {
			t.Errorf("FIRSTLINE_HANDOFF_AGENT_TIMEOUT=%s: error %v; want one naming the variable", bad, err)
		}
	}
}

func TestPrivacyConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want PrivacyConfig
	}{
		{"defaults", nil, PrivacyConfig{
			RatePerUser:      bot.Rate{N: 20, Per: time.Minute},
			RatePerWorkspace: bot.Rate{N: 600, Per: time.Minute},
		}},
		{"set", map[string]string{
			"FIRSTLINE_RATE_PER_USER":      "5/10s",
			"FIRSTLINE_RATE_PER_WORKSPACE": "off",
			"FIRSTLINE_DAILY_TOKEN_CAP":    "2_000_000",
			"FIRSTLINE_VERIFY_URL":         "https://id.example.com/codes",
			"FIRSTLINE_VERIFY_TOKEN":       "t",
			"FIRSTLINE_LINK_HOSTS":         "help.example.com, example.org",
		}, PrivacyConfig{
			RatePerUser:   bot.Rate{N: 5, Per: 10 * time.Second},
			DailyTokenCap: 2_000_000,
			VerifyURL:     "https://id.example.com/codes", VerifyToken: "t",
			LinkHosts: []string{"help.example.com", "example.org"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := c.Privacy
			if got.RatePerUser != tt.want.RatePerUser || got.RatePerWorkspace != tt.want.RatePerWorkspace ||
				got.DailyTokenCap != tt.want.DailyTokenCap || got.VerifyURL != tt.want.VerifyURL ||
				got.VerifyToken != tt.want.VerifyToken || strings.Join(got.LinkHosts, ",") != strings.Join(tt.want.LinkHosts, ",") {
				t.Errorf("Privacy = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrivacyConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"FIRSTLINE_RATE_PER_USER": "lots"}, "FIRSTLINE_RATE_PER_USER"},
		{map[string]string{"FIRSTLINE_RATE_PER_WORKSPACE": "10/0s"}, "FIRSTLINE_RATE_PER_WORKSPACE"},
		{map[string]string{"FIRSTLINE_DAILY_TOKEN_CAP": "-5"}, "FIRSTLINE_DAILY_TOKEN_CAP"},
		{map[string]string{"FIRSTLINE_DAILY_TOKEN_CAP": "a million"}, "FIRSTLINE_DAILY_TOKEN_CAP"},
		{map[string]string{"FIRSTLINE_VERIFY_URL": "id.example.com"}, "FIRSTLINE_VERIFY_URL"},
		{map[string]string{"FIRSTLINE_VERIFY_TOKEN": "t"}, "FIRSTLINE_VERIFY_TOKEN"},
		{map[string]string{"FIRSTLINE_LINK_HOSTS": "help.example.com,not a host"}, "FIRSTLINE_LINK_HOSTS"},
	}
	for _, tt := range tests {
		c, err := LoadConfig(envOf(tt.env))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one naming %s", tt.env, err, tt.want)
		}
	}
}

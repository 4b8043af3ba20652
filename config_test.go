package main

import (
	"strings"
	"testing"
	"time"
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

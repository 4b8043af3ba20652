package main

import (
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

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

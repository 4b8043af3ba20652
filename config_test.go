package main

import (
	"fmt"
	"net/netip"
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
		{"bad slack agent", map[string]string{"SLACK_AGENTS": "U123, alex"}, "SLACK_AGENTS"},
		{"bad slack lead", map[string]string{"SLACK_AGENT_LEADS": "#leads"}, "SLACK_AGENT_LEADS"},
		{"bad discord agent", map[string]string{"DISCORD_AGENTS": "123, @sam"}, "DISCORD_AGENTS"},
		{"discord agents unknown", map[string]string{"DISCORD_BOT_TOKEN": "z", "DISCORD_AGENT_CHANNEL": "2"}, "DISCORD_AGENT_ROLE"},
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

func TestCustomersConfig(t *testing.T) {
	const api, payments = "https://customers.example.com/v1", "https://payments.example.com"
	tests := []struct {
		name string
		env  map[string]string
		want CustomersConfig
	}{
		{"nothing set: the table", nil,
			CustomersConfig{TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}}, // no token anywhere: the directory's own setting is the one to set
		{"payments URL: the payments API", map[string]string{"FIRSTLINE_PAYMENTS_URL": payments},
			CustomersConfig{URL: payments, URLSetting: "FIRSTLINE_PAYMENTS_URL", TokenSetting: "FIRSTLINE_PAYMENTS_TOKEN"}},
		{"payments URL and token", map[string]string{"FIRSTLINE_PAYMENTS_URL": payments, "FIRSTLINE_PAYMENTS_TOKEN": "pt"},
			CustomersConfig{URL: payments, Token: "pt", URLSetting: "FIRSTLINE_PAYMENTS_URL", TokenSetting: "FIRSTLINE_PAYMENTS_TOKEN"}},
		{"customers URL and token", map[string]string{"FIRSTLINE_CUSTOMERS_URL": api, "FIRSTLINE_CUSTOMERS_TOKEN": "ct"},
			CustomersConfig{URL: api, Token: "ct", URLSetting: "FIRSTLINE_CUSTOMERS_URL", TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}},
		{"customers URL, the payments token", map[string]string{"FIRSTLINE_CUSTOMERS_URL": api, "FIRSTLINE_PAYMENTS_URL": payments, "FIRSTLINE_PAYMENTS_TOKEN": "pt"},
			CustomersConfig{URL: api, Token: "pt", URLSetting: "FIRSTLINE_CUSTOMERS_URL", TokenSetting: "FIRSTLINE_PAYMENTS_TOKEN"}},
		{"customers settings override the payments ones", map[string]string{
			"FIRSTLINE_CUSTOMERS_URL": api, "FIRSTLINE_CUSTOMERS_TOKEN": "ct",
			"FIRSTLINE_PAYMENTS_URL": payments, "FIRSTLINE_PAYMENTS_TOKEN": "pt",
		}, CustomersConfig{URL: api, Token: "ct", URLSetting: "FIRSTLINE_CUSTOMERS_URL", TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}},
		{"payments URL, the customers token", map[string]string{"FIRSTLINE_PAYMENTS_URL": payments, "FIRSTLINE_CUSTOMERS_TOKEN": "ct"},
			CustomersConfig{URL: payments, Token: "ct", URLSetting: "FIRSTLINE_PAYMENTS_URL", TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}},
		{"store keeps the table beside the payments API", map[string]string{
			"FIRSTLINE_CUSTOMERS_URL": "store", "FIRSTLINE_PAYMENTS_URL": payments, "FIRSTLINE_PAYMENTS_TOKEN": "pt",
		}, CustomersConfig{Token: "pt", TokenSetting: "FIRSTLINE_PAYMENTS_TOKEN"}},
		{"store, trimmed", map[string]string{"FIRSTLINE_CUSTOMERS_URL": " store\n", "FIRSTLINE_PAYMENTS_URL": payments},
			CustomersConfig{TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}},
		{"customers URL, trimmed", map[string]string{"FIRSTLINE_CUSTOMERS_URL": " " + api + " ", "FIRSTLINE_CUSTOMERS_TOKEN": "ct"},
			CustomersConfig{URL: api, Token: "ct", URLSetting: "FIRSTLINE_CUSTOMERS_URL", TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}},
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
			if c.Customers != tt.want {
				t.Errorf("Customers = %+v, want %+v", c.Customers, tt.want)
			}
			if got, want := c.Customers.InStore(), tt.want.URL == ""; got != want {
				t.Errorf("InStore() = %v, want %v", got, want)
			}
			// The payments settings are the payments API's whatever the
			// directory.
			if c.PaymentsURL != tt.env["FIRSTLINE_PAYMENTS_URL"] || c.PaymentsToken != tt.env["FIRSTLINE_PAYMENTS_TOKEN"] {
				t.Errorf("payments = %q, %q; want FIRSTLINE_PAYMENTS_URL and _TOKEN as set", c.PaymentsURL, c.PaymentsToken)
			}
		})
	}
}

func TestCustomersConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no scheme", map[string]string{"FIRSTLINE_CUSTOMERS_URL": "customers.example.com"}, "FIRSTLINE_CUSTOMERS_URL: want an http:// or https:// URL"},
		{"other scheme", map[string]string{"FIRSTLINE_CUSTOMERS_URL": "ftp://customers.example.com"}, "FIRSTLINE_CUSTOMERS_URL: want an http:// or https:// URL"},
		{"no host", map[string]string{"FIRSTLINE_CUSTOMERS_URL": "https://"}, "FIRSTLINE_CUSTOMERS_URL: URL has no host"},
		{"not a URL", map[string]string{"FIRSTLINE_CUSTOMERS_URL": "https://customers.example.com:port"}, "FIRSTLINE_CUSTOMERS_URL: not a URL"},
		{"store in capitals is not store", map[string]string{"FIRSTLINE_CUSTOMERS_URL": "STORE"}, "FIRSTLINE_CUSTOMERS_URL"},
		{"customers URL beside a good payments URL", map[string]string{"FIRSTLINE_CUSTOMERS_URL": "customers", "FIRSTLINE_PAYMENTS_URL": "https://payments.example.com"}, "FIRSTLINE_CUSTOMERS_URL"},
		{"the payments URL as the default", map[string]string{"FIRSTLINE_PAYMENTS_URL": "payments.example.com"}, "FIRSTLINE_PAYMENTS_URL"},
		{"a customers token for the table", map[string]string{"FIRSTLINE_CUSTOMERS_TOKEN": "ct"}, "FIRSTLINE_CUSTOMERS_TOKEN: set, but the directory is the customers table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if err != nil {
				t.Fatalf("LoadConfig: %v (want the error from Validate)", err)
			}
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
			// The customers' own checks (not the payments URL's) name the
			// setting the URL came from.
			if err != nil && tt.env["FIRSTLINE_CUSTOMERS_URL"] == "" && strings.Contains(err.Error(), "FIRSTLINE_CUSTOMERS_URL") {
				t.Errorf("Validate() = %v, names FIRSTLINE_CUSTOMERS_URL, which is not set", err)
			}
		})
	}
}

func TestCustomersConfigInvalidURLHidesCredentials(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{"FIRSTLINE_CUSTOMERS_URL": "https://firstline:s3cr3t-pw@customers.example.com:port/v1"}))
	if err == nil {
		err = c.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "FIRSTLINE_CUSTOMERS_URL") {
		t.Fatalf("Validate() = %v, want an error naming FIRSTLINE_CUSTOMERS_URL", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("the error repeats the URL's password: %v", err)
	}
}

func TestConnectConfig(t *testing.T) {
	const (
		page   = "https://example.com/connect"
		secret = "0123456789abcdef0123456789abcdef" // 32 characters
	)
	tests := []struct {
		name string
		env  map[string]string
		want string // in the error; "" for none
	}{
		{"off", nil, ""},
		{"good pair", map[string]string{"FIRSTLINE_CONNECT_URL": page, "FIRSTLINE_CONNECT_SECRET": secret}, ""},
		{"URL with a query", map[string]string{"FIRSTLINE_CONNECT_URL": page + "?from=chat", "FIRSTLINE_CONNECT_SECRET": secret}, ""},
		{"URL trimmed", map[string]string{"FIRSTLINE_CONNECT_URL": " " + page + "\n", "FIRSTLINE_CONNECT_SECRET": secret}, ""},
		{"secret without URL", map[string]string{"FIRSTLINE_CONNECT_SECRET": secret}, "FIRSTLINE_CONNECT_SECRET: set, but FIRSTLINE_CONNECT_URL is not"},
		{"URL without secret", map[string]string{"FIRSTLINE_CONNECT_URL": page}, "FIRSTLINE_CONNECT_SECRET: required with FIRSTLINE_CONNECT_URL"},
		{"short secret", map[string]string{"FIRSTLINE_CONNECT_URL": page, "FIRSTLINE_CONNECT_SECRET": secret[1:]}, "FIRSTLINE_CONNECT_SECRET: must be at least 32 characters"},
		{"URL with a fragment", map[string]string{"FIRSTLINE_CONNECT_URL": page + "#top", "FIRSTLINE_CONNECT_SECRET": secret}, "FIRSTLINE_CONNECT_URL: must not have a fragment"},
		{"URL with an empty fragment", map[string]string{"FIRSTLINE_CONNECT_URL": page + "#", "FIRSTLINE_CONNECT_SECRET": secret}, "FIRSTLINE_CONNECT_URL: must not have a fragment"},
		{"URL without a scheme", map[string]string{"FIRSTLINE_CONNECT_URL": "example.com/connect", "FIRSTLINE_CONNECT_SECRET": secret}, "FIRSTLINE_CONNECT_URL: want an http:// or https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), secret[1:]) {
				t.Errorf("the error repeats the secret: %v", err)
			}
			if tt.want == "" {
				want := ConnectConfig{URL: strings.TrimSpace(tt.env["FIRSTLINE_CONNECT_URL"]), Secret: tt.env["FIRSTLINE_CONNECT_SECRET"]}
				if c.Connect != want {
					t.Errorf("Connect = %+v, want %+v", c.Connect, want)
				}
			}
		})
	}
}

// SLACK_AGENTS, DISCORD_AGENTS and their leads are comma-separated ids,
// trimmed, blanks dropped.
func TestAgentLists(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{
		"SLACK_AGENTS": " U1, S2 ,,", "SLACK_AGENT_LEADS": "W3",
		"DISCORD_AGENTS": "111 ,222", "DISCORD_AGENT_LEADS": "333", "DISCORD_AGENT_LEAD_ROLE": " 444 ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(c.SlackAgents, c.SlackAgentLeads, c.DiscordAgents, c.DiscordAgentLeads, c.DiscordAgentLeadRole)
	if want := "[U1 S2] [W3] [111 222] [333]444"; got != want { // Sprint puts no space before a string after a slice
		t.Errorf("agent lists = %s; want %s", got, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestTrustedProxiesConfig(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{"FIRSTLINE_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7,fd00::/8, ::ffff:198.51.100.1 ,, 172.16.5.9/12"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("198.51.100.1/32"), netip.MustParsePrefix("172.16.0.0/12"),
	}
	if fmt.Sprint(c.TrustedProxies) != fmt.Sprint(want) {
		t.Errorf("FIRSTLINE_TRUSTED_PROXIES = %v, want %v", c.TrustedProxies, want)
	}
	if c, _ := LoadConfig(envOf(nil)); len(c.TrustedProxies) != 0 {
		t.Errorf("default FIRSTLINE_TRUSTED_PROXIES = %v, want none", c.TrustedProxies)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.1, 300.1.1.1", "10.0.0.0/8/8", "fe80::1%eth0"} {
		_, err := LoadConfig(envOf(map[string]string{"FIRSTLINE_TRUSTED_PROXIES": bad}))
		if err == nil || !strings.Contains(err.Error(), "FIRSTLINE_TRUSTED_PROXIES") {
			t.Errorf("FIRSTLINE_TRUSTED_PROXIES=%s: error %v; want one naming the variable", bad, err)
		}
	}
}

func TestMetricsAddrConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"unset", nil, true},
		{"internal interface", map[string]string{"FIRSTLINE_METRICS_ADDR": "10.0.0.5:9090"}, true},
		{"every interface", map[string]string{"FIRSTLINE_METRICS_ADDR": ":9090"}, true},
		{"loopback, any port", map[string]string{"FIRSTLINE_METRICS_ADDR": "127.0.0.1:0", "FIRSTLINE_HTTP_ADDR": "127.0.0.1:0"}, true},
		{"no port", map[string]string{"FIRSTLINE_METRICS_ADDR": "10.0.0.5"}, false},
		{"bad port", map[string]string{"FIRSTLINE_METRICS_ADDR": "10.0.0.5:metrics"}, false},
		{"the public port", map[string]string{"FIRSTLINE_METRICS_ADDR": ":8080"}, false},
		{"the profiler's", map[string]string{"FIRSTLINE_METRICS_ADDR": "127.0.0.1:6060", "FIRSTLINE_PPROF_ADDR": "127.0.0.1:6060"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsAddr != tt.env["FIRSTLINE_METRICS_ADDR"] {
				t.Errorf("MetricsAddr = %q", c.MetricsAddr)
			}
			err = c.ValidateServe()
			if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "FIRSTLINE_METRICS_ADDR")) {
				t.Errorf("error %v; want ok %v, or one naming FIRSTLINE_METRICS_ADDR", err, tt.ok)
			}
		})
	}
}

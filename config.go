package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/links"
)

// Config is every setting, read from the environment and overridden by
// flags. Validate checks it once, with messages that name the variable.
type Config struct {
	DB         string
	PromptsDir string
	// PromptsDirSet is true when FIRSTLINE_PROMPTS_DIR or --prompts named
	// the folder: then it must exist. The default folder is optional.
	PromptsDirSet bool
	HTTPAddr      string

	OpenAIKey     string
	OpenAIBaseURL string
	Model         string

	SlackBotToken      string
	SlackAppToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	SlackAgentChannel  string
	SlackAgentMention  string
	SlackLinkByEmail   bool
	// SlackAgents and SlackAgentLeads (SLACK_AGENTS, SLACK_AGENT_LEADS) are
	// who the company says its agents and leads are: user ids (U…, W…) and
	// user groups (S…). Without SlackAgents, the agents are the members of
	// the mention's user group, else of the (private) agent channel.
	SlackAgents     []string
	SlackAgentLeads []string

	DiscordBotToken     string
	DiscordAPIURL       string
	DiscordAgentChannel string
	DiscordAgentRole    string
	// DiscordAgents and DiscordAgentLeads (DISCORD_AGENTS,
	// DISCORD_AGENT_LEADS) are user ids; DiscordAgentLeadRole
	// (DISCORD_AGENT_LEAD_ROLE) a role whose members are leads. Members
	// holding DiscordAgentRole are agents too.
	DiscordAgents        []string
	DiscordAgentLeads    []string
	DiscordAgentLeadRole string

	AgentPlatform  string
	HandoffReping  time.Duration
	HandoffRepings int
	IdleTimeout    time.Duration
	Retention      time.Duration
	// HTTPReadTimeout bounds reading one request, headers and body: a
	// client that sends its body a byte at a time is cut off.
	HTTPReadTimeout time.Duration
	// HTTPMaxConns caps the HTTP connections open at once.
	HTTPMaxConns int

	// HandoffAgentTimeout returns a claim to the queue when its customer
	// has waited this long for a silent agent.
	HandoffAgentTimeout time.Duration

	// Privacy and abuse protection (config_privacy.go, docs/privacy.md).
	Privacy PrivacyConfig

	PaymentsURL   string
	PaymentsToken string
	// Customers is where customers are looked up (the directory).
	Customers CustomersConfig
	// Connect is the "Connect your account" flow, off when URL is empty.
	Connect    ConnectConfig
	AdminToken string
	Shadow     bool
	// Feedback (FIRSTLINE_FEEDBACK) puts 👍/👎 buttons under the bot's
	// answers.
	Feedback bool
	// PprofAddr, when set, is a loopback address serving net/http/pprof.
	PprofAddr string
	// MetricsAddr (FIRSTLINE_METRICS_ADDR), when set, is an internal
	// address serving /metrics and net/http/pprof; /metrics then leaves the
	// public port.
	MetricsAddr string
	// TrustedProxies (FIRSTLINE_TRUSTED_PROXIES) are the reverse proxies,
	// addresses and CIDR ranges, whose X-Forwarded-Proto is believed.
	TrustedProxies []netip.Prefix

	LogLevel string
}

// DefaultModel is the model used with an OpenAI-compatible endpoint when
// FIRSTLINE_MODEL is not set.
const DefaultModel = "gpt-4o-mini"

// LoadConfig reads the environment through getenv. Malformed values are
// errors naming the variable; missing ones take the defaults of the spec.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		DB:                   or(getenv("FIRSTLINE_DB"), "firstline.db"),
		PromptsDir:           or(getenv("FIRSTLINE_PROMPTS_DIR"), "prompts"),
		PromptsDirSet:        getenv("FIRSTLINE_PROMPTS_DIR") != "",
		HTTPAddr:             or(getenv("FIRSTLINE_HTTP_ADDR"), ":8080"),
		OpenAIKey:            getenv("OPENAI_API_KEY"),
		OpenAIBaseURL:        getenv("OPENAI_BASE_URL"),
		Model:                or(getenv("FIRSTLINE_MODEL"), DefaultModel),
		SlackBotToken:        getenv("SLACK_BOT_TOKEN"),
		SlackAppToken:        getenv("SLACK_APP_TOKEN"),
		SlackSigningSecret:   getenv("SLACK_SIGNING_SECRET"),
		SlackAPIURL:          getenv("SLACK_API_URL"),
		SlackAgentChannel:    getenv("SLACK_AGENT_CHANNEL"),
		SlackAgentMention:    or(getenv("SLACK_AGENT_MENTION"), "here"),
		DiscordBotToken:      getenv("DISCORD_BOT_TOKEN"),
		DiscordAPIURL:        getenv("DISCORD_API_URL"),
		DiscordAgentChannel:  getenv("DISCORD_AGENT_CHANNEL"),
		DiscordAgentRole:     getenv("DISCORD_AGENT_ROLE"),
		SlackAgents:          idList(getenv("SLACK_AGENTS")),
		SlackAgentLeads:      idList(getenv("SLACK_AGENT_LEADS")),
		DiscordAgents:        idList(getenv("DISCORD_AGENTS")),
		DiscordAgentLeads:    idList(getenv("DISCORD_AGENT_LEADS")),
		DiscordAgentLeadRole: strings.TrimSpace(getenv("DISCORD_AGENT_LEAD_ROLE")),
		AgentPlatform:        getenv("FIRSTLINE_AGENT_PLATFORM"),
		PaymentsURL:          getenv("FIRSTLINE_PAYMENTS_URL"),
		PaymentsToken:        getenv("FIRSTLINE_PAYMENTS_TOKEN"),
		Customers:            loadCustomersConfig(getenv),
		Connect:              ConnectConfig{URL: strings.TrimSpace(getenv("FIRSTLINE_CONNECT_URL")), Secret: getenv("FIRSTLINE_CONNECT_SECRET")},
		AdminToken:           getenv("FIRSTLINE_ADMIN_TOKEN"),
		PprofAddr:            strings.TrimSpace(getenv("FIRSTLINE_PPROF_ADDR")),
		MetricsAddr:          strings.TrimSpace(getenv("FIRSTLINE_METRICS_ADDR")),
		LogLevel:             or(getenv("FIRSTLINE_LOG_LEVEL"), "info"),
	}
	var errs []error
	c.SlackLinkByEmail = envBool(getenv, "SLACK_LINK_BY_EMAIL", false, &errs)
	c.Shadow = envBool(getenv, "FIRSTLINE_SHADOW", false, &errs)
	c.Feedback = envBool(getenv, "FIRSTLINE_FEEDBACK", true, &errs)
	c.HandoffReping = envDuration(getenv, "FIRSTLINE_HANDOFF_REPING", 5*time.Minute, &errs)
	c.IdleTimeout = envDuration(getenv, "FIRSTLINE_IDLE_TIMEOUT", 24*time.Hour, &errs)
	c.HTTPReadTimeout = envDuration(getenv, "FIRSTLINE_HTTP_READ_TIMEOUT", 15*time.Second, &errs)
	c.HTTPMaxConns = envInt(getenv, "FIRSTLINE_HTTP_MAX_CONNS", 1024, &errs)
	c.Retention = envDuration(getenv, "FIRSTLINE_RETENTION", 90*24*time.Hour, &errs)
	c.HandoffRepings = envInt(getenv, "FIRSTLINE_HANDOFF_REPINGS", 3, &errs)
	c.HandoffAgentTimeout = envDuration(getenv, "FIRSTLINE_HANDOFF_AGENT_TIMEOUT", 30*time.Minute, &errs)
	c.Privacy = loadPrivacyConfig(getenv, &errs)
	c.TrustedProxies = envPrefixes(getenv, "FIRSTLINE_TRUSTED_PROXIES", &errs)
	return c, errors.Join(errs...)
}

// UsesLLM reports whether an OpenAI-compatible model is configured: a key,
// a base URL, or both. Neither selects the offline rules model.
func (c Config) UsesLLM() bool { return c.OpenAIKey != "" || c.OpenAIBaseURL != "" }

// Validate checks settings that do not depend on the command.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(c.DB) == "" {
		add("FIRSTLINE_DB: must name a SQLite file or a postgres:// URL")
	}
	for name, v := range map[string]string{
		"OPENAI_BASE_URL":        c.OpenAIBaseURL,
		"SLACK_API_URL":          c.SlackAPIURL,
		"DISCORD_API_URL":        c.DiscordAPIURL,
		"FIRSTLINE_PAYMENTS_URL": c.PaymentsURL,
	} {
		if v != "" {
			if err := checkURL(v); err != nil {
				add("%s: %v", name, err)
			}
		}
	}
	if c.UsesLLM() && strings.TrimSpace(c.Model) == "" {
		add("FIRSTLINE_MODEL: must not be empty")
	}
	if c.HandoffReping < time.Second {
		add("FIRSTLINE_HANDOFF_REPING: must be at least 1s, got %s", c.HandoffReping)
	}
	if c.HandoffRepings < 0 {
		add("FIRSTLINE_HANDOFF_REPINGS: must not be negative, got %d", c.HandoffRepings)
	}
	if c.HandoffAgentTimeout < time.Minute {
		add("FIRSTLINE_HANDOFF_AGENT_TIMEOUT: must be at least 1m, got %s", c.HandoffAgentTimeout)
	}
	if c.IdleTimeout < time.Minute {
		add("FIRSTLINE_IDLE_TIMEOUT: must be at least 1m, got %s", c.IdleTimeout)
	}
	if c.HTTPReadTimeout <= 0 || c.HTTPReadTimeout > 5*time.Minute {
		add("FIRSTLINE_HTTP_READ_TIMEOUT: must be more than 0 and at most 5m, got %s", c.HTTPReadTimeout)
	}
	if c.HTTPMaxConns < 1 {
		add("FIRSTLINE_HTTP_MAX_CONNS: must be at least 1, got %d", c.HTTPMaxConns)
	}
	if c.Retention < 24*time.Hour {
		add("FIRSTLINE_RETENTION: must be at least 1d, got %s", c.Retention)
	}
	if c.PaymentsToken != "" && c.PaymentsURL == "" {
		add("FIRSTLINE_PAYMENTS_TOKEN: set, but FIRSTLINE_PAYMENTS_URL is not")
	}
	errs = append(errs, c.Privacy.Validate(), c.Customers.Validate(), c.Connect.Validate())
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		add("FIRSTLINE_LOG_LEVEL: want debug, info, warn or error, got %q", c.LogLevel)
	}
	return errors.Join(errs...)
}

// ValidateServe adds the checks of `firstline serve`: every customer-facing
// adapter needs somewhere to send people (promise 1).
func (c Config) ValidateServe() error {
	errs := []error{c.Validate()}
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	slack, discord := c.SlackBotToken != "", c.DiscordBotToken != ""
	if slack && c.SlackAppToken == "" && c.SlackSigningSecret == "" {
		add("SLACK_SIGNING_SECRET: required for the Events API over HTTP (or set SLACK_APP_TOKEN for Socket Mode)")
	}
	if c.SlackAppToken != "" && !slack {
		add("SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN is set")
	}
	if c.SlackAgentChannel != "" && !slack {
		add("SLACK_BOT_TOKEN: required when SLACK_AGENT_CHANNEL is set")
	}
	if c.DiscordAgentChannel != "" && !discord {
		add("DISCORD_BOT_TOKEN: required when DISCORD_AGENT_CHANNEL is set")
	}
	if (slack || discord) && c.SlackAgentChannel == "" && c.DiscordAgentChannel == "" {
		add("SLACK_AGENT_CHANNEL or DISCORD_AGENT_CHANNEL: required, so that customers asking for a person reach someone")
	}
	if c.SlackAgentChannel != "" && c.DiscordAgentChannel != "" && c.AgentPlatform == "" {
		add("FIRSTLINE_AGENT_PLATFORM: required (slack or discord) when both agent channels are set")
	}
	switch c.AgentPlatform {
	case "":
	case "slack":
		if c.SlackAgentChannel == "" {
			add("FIRSTLINE_AGENT_PLATFORM: slack, but SLACK_AGENT_CHANNEL is not set")
		}
	case "discord":
		if c.DiscordAgentChannel == "" {
			add("FIRSTLINE_AGENT_PLATFORM: discord, but DISCORD_AGENT_CHANNEL is not set")
		}
	default:
		add("FIRSTLINE_AGENT_PLATFORM: want slack or discord, got %q", c.AgentPlatform)
	}
	m := c.SlackAgentMention
	if !(m == "here" || m == "channel" || slackIDRe.MatchString(m)) {
		add("SLACK_AGENT_MENTION: want here, channel, a user group ID (S…) or a user ID (U…), got %q", m)
	}
	for name, ids := range map[string][]string{"SLACK_AGENTS": c.SlackAgents, "SLACK_AGENT_LEADS": c.SlackAgentLeads} {
		for _, id := range ids {
			if !slackIDRe.MatchString(id) {
				add("%s: want user IDs (U…, W…) and user group IDs (S…), comma-separated; %q is neither", name, id)
			}
		}
	}
	for name, ids := range map[string][]string{"DISCORD_AGENTS": c.DiscordAgents, "DISCORD_AGENT_LEADS": c.DiscordAgentLeads} {
		for _, id := range ids {
			if !discordIDRe.MatchString(id) {
				add("%s: want Discord user IDs (numbers), comma-separated; %q is not one", name, id)
			}
		}
	}
	if c.DiscordAgentChannel != "" && c.agentSide().Platform == bot.Discord && c.DiscordAgentRole == "" && len(c.DiscordAgents) == 0 {
		add("DISCORD_AGENT_CHANNEL: set DISCORD_AGENT_ROLE (the agents' role) or DISCORD_AGENTS (their user IDs): without either, anyone who can write in the agent channel would act as an agent")
	}
	if c.HTTPAddr == "" {
		add("FIRSTLINE_HTTP_ADDR: must not be empty")
	}
	if c.PprofAddr != "" {
		if err := checkPprofAddr(c.PprofAddr); err != nil {
			add("FIRSTLINE_PPROF_ADDR: %v", err)
		}
	}
	if c.MetricsAddr != "" {
		if err := checkMetricsAddr(c.MetricsAddr, c.HTTPAddr, c.PprofAddr); err != nil {
			add("FIRSTLINE_METRICS_ADDR: %v", err)
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < minAdminToken {
		add("FIRSTLINE_ADMIN_TOKEN: must be at least %d characters (a random one: openssl rand -hex 24)", minAdminToken)
	}
	return errors.Join(errs...)
}

// minAdminToken is the shortest FIRSTLINE_ADMIN_TOKEN accepted: the KPI
// page is reachable by anyone who can guess it.
const minAdminToken = 16

// slackIDRe matches a Slack user group (S…) or user (U…, W…) id.
var slackIDRe = regexp.MustCompile(`^[SUW][A-Z0-9]+$`)

// discordIDRe matches a Discord snowflake.
var discordIDRe = regexp.MustCompile(`^[0-9]{1,20}$`)

// idList splits a comma-separated list of ids, trimmed, blanks dropped.
func idList(v string) []string {
	var out []string
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// checkMetricsAddr checks FIRSTLINE_METRICS_ADDR: a host:port of its own,
// not the public port's nor the profiler's.
func checkMetricsAddr(addr, httpAddr, pprofAddr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port on an internal interface, such as 10.0.0.5:9090 or 127.0.0.1:9090: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q is not a port number", port)
	}
	if port != "0" {
		for name, other := range map[string]string{"FIRSTLINE_HTTP_ADDR": httpAddr, "FIRSTLINE_PPROF_ADDR": pprofAddr} {
			if addr == other {
				return fmt.Errorf("%s is also %s: the metrics need a listener of their own", addr, name)
			}
		}
	}
	return nil
}

// envPrefixes reads a comma-separated list of IP addresses and CIDR
// ranges; an address is the range of that one address.
func envPrefixes(getenv func(string) string, name string, errs *[]error) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range idList(getenv(name)) {
		if strings.Contains(v, "/") {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %q is not a CIDR range (want addresses and ranges such as 10.0.0.0/8 or 192.0.2.7, comma-separated)", name, v))
				continue
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			*errs = append(*errs, fmt.Errorf("%s: %q is not an IP address (want addresses and ranges such as 10.0.0.0/8 or 192.0.2.7, comma-separated)", name, v))
			continue
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		// url.Error quotes the whole URL, credentials included: keep only
		// what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("want an http:// or https:// URL, got %q", u.Scheme+"://…")
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}

func or(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

func envBool(getenv func(string) string, name string, def bool, errs *[]error) bool {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: want true or false, got %q", name, v))
		return def
	}
	return b
}

func envInt(getenv func(string) string, name string, def int, errs *[]error) int {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: want a whole number, got %q", name, v))
		return def
	}
	return n
}

func envDuration(getenv func(string) string, name string, def time.Duration, errs *[]error) time.Duration {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	d, err := parseDuration(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %v", name, err))
		return def
	}
	return d
}

// parseDuration is time.ParseDuration plus whole days ("90d"), which is how
// people write retention periods.
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("want a duration such as 90d, 24h or 5m, got %q", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration such as 90d, 24h or 5m, got %q", v)
	}
	return d, nil
}

// agentSide says where handoffs are announced: FIRSTLINE_AGENT_PLATFORM, or
// the one platform with an agent channel. With no platform at all, serve has
// no customers; handoffs would go to a console channel nobody reads.
func (c Config) agentSide() app.Agents {
	switch {
	case c.AgentPlatform == "slack" || (c.AgentPlatform == "" && c.SlackAgentChannel != ""):
		return app.Agents{Platform: bot.Slack, Channel: c.SlackAgentChannel}
	case c.AgentPlatform == "discord" || (c.AgentPlatform == "" && c.DiscordAgentChannel != ""):
		return app.Agents{Platform: bot.Discord, Channel: c.DiscordAgentChannel}
	default:
		return app.Agents{Platform: bot.Console, Channel: "agents"}
	}
}

// PrivacyConfig is the configuration of privacy and abuse protection: rate
// limits, the daily token cap, identity verification by code, and the hosts
// that replies may link to. See docs/privacy.md.
type PrivacyConfig struct {
	// RatePerUser and RatePerWorkspace (FIRSTLINE_RATE_PER_USER,
	// FIRSTLINE_RATE_PER_WORKSPACE) bound the messages the bot answers.
	RatePerUser      bot.Rate
	RatePerWorkspace bot.Rate
	// DailyTokenCap (FIRSTLINE_DAILY_TOKEN_CAP) caps the model tokens of a
	// UTC day; 0 is no cap.
	DailyTokenCap int64
	// VerifyURL (FIRSTLINE_VERIFY_URL) is the company's webhook that
	// delivers verification codes; unset turns verification by code off.
	VerifyURL   string
	VerifyToken string
	// LinkHosts (FIRSTLINE_LINK_HOSTS) are the hosts, besides those linked
	// from the prompt files, that model-written replies may link to.
	LinkHosts []string
}

// Defaults of the rate limits: a person types far slower than either.
const (
	defaultRatePerUser      = "20/1m"
	defaultRatePerWorkspace = "600/1m"
)

// loadPrivacyConfig reads the privacy settings; malformed values are added
// to errs, naming the variable.
func loadPrivacyConfig(getenv func(string) string, errs *[]error) PrivacyConfig {
	var c PrivacyConfig
	c.RatePerUser = envRate(getenv, "FIRSTLINE_RATE_PER_USER", defaultRatePerUser, errs)
	c.RatePerWorkspace = envRate(getenv, "FIRSTLINE_RATE_PER_WORKSPACE", defaultRatePerWorkspace, errs)
	if v := strings.TrimSpace(getenv("FIRSTLINE_DAILY_TOKEN_CAP")); v != "" {
		n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
		if err != nil || n < 0 {
			*errs = append(*errs, fmt.Errorf("FIRSTLINE_DAILY_TOKEN_CAP: want a whole number of tokens (0 for no cap), got %q", v))
		} else {
			c.DailyTokenCap = n
		}
	}
	c.VerifyURL = strings.TrimSpace(getenv("FIRSTLINE_VERIFY_URL"))
	c.VerifyToken = getenv("FIRSTLINE_VERIFY_TOKEN")
	for _, h := range strings.Split(getenv("FIRSTLINE_LINK_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.LinkHosts = append(c.LinkHosts, h)
		}
	}
	return c
}

// Validate checks the privacy settings, naming the variable at fault.
func (c PrivacyConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.VerifyURL != "" {
		if err := checkURL(c.VerifyURL); err != nil {
			add("FIRSTLINE_VERIFY_URL: %v", err)
		}
	}
	if c.VerifyToken != "" && c.VerifyURL == "" {
		add("FIRSTLINE_VERIFY_TOKEN: set, but FIRSTLINE_VERIFY_URL is not")
	}
	for _, h := range c.LinkHosts {
		if len(links.New(h).Hosts()) == 0 {
			add("FIRSTLINE_LINK_HOSTS: %q is not a host name (want names such as help.example.com, comma-separated)", h)
		}
	}
	return errors.Join(errs...)
}

// limits returns the engine's limits.
func (c PrivacyConfig) limits() bot.Limits {
	return bot.Limits{PerUser: c.RatePerUser, PerWorkspace: c.RatePerWorkspace, DailyTokens: c.DailyTokenCap}
}

func envRate(getenv func(string) string, name, def string, errs *[]error) bot.Rate {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		v = def
	}
	r, err := bot.ParseRate(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %v", name, err))
	}
	return r
}

// CustomersConfig says where the customer directory is: the company's API
// (FIRSTLINE_CUSTOMERS_URL, by default FIRSTLINE_PAYMENTS_URL) or, without
// one or with FIRSTLINE_CUSTOMERS_URL=store, the store's customers table.
type CustomersConfig struct {
	URL   string // "" for the store's table
	Token string
	// URLSetting and TokenSetting name the variables the values came
	// from, for messages that say what to check.
	URLSetting, TokenSetting string
}

// customersInStore is the FIRSTLINE_CUSTOMERS_URL that keeps the directory
// in the store while payments come from an API.
const customersInStore = "store"

func loadCustomersConfig(getenv func(string) string) CustomersConfig {
	c := CustomersConfig{URL: strings.TrimSpace(getenv("FIRSTLINE_CUSTOMERS_URL")), URLSetting: "FIRSTLINE_CUSTOMERS_URL",
		Token: getenv("FIRSTLINE_CUSTOMERS_TOKEN"), TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN"}
	switch c.URL {
	case customersInStore:
		c.URL, c.URLSetting = "", ""
	case "":
		if c.URL = strings.TrimSpace(getenv("FIRSTLINE_PAYMENTS_URL")); c.URL != "" {
			c.URLSetting = "FIRSTLINE_PAYMENTS_URL"
		} else {
			c.URLSetting = ""
		}
	}
	// The payment API's token serves the directory too, when that is where
	// the directory is, or when it is the only token set.
	if pt := getenv("FIRSTLINE_PAYMENTS_TOKEN"); c.Token == "" && (pt != "" || c.URLSetting == "FIRSTLINE_PAYMENTS_URL") {
		c.Token, c.TokenSetting = pt, "FIRSTLINE_PAYMENTS_TOKEN"
	}
	return c
}

// InStore reports whether the directory is the store's customers table.
func (c CustomersConfig) InStore() bool { return c.URL == "" }

// Validate checks the directory's settings.
func (c CustomersConfig) Validate() error {
	if c.URL == "" {
		if c.Token != "" && c.TokenSetting == "FIRSTLINE_CUSTOMERS_TOKEN" {
			return errors.New("FIRSTLINE_CUSTOMERS_TOKEN: set, but the directory is the customers table (no company API URL is set)")
		}
		return nil
	}
	if err := checkURL(c.URL); err != nil {
		return fmt.Errorf("%s: %w", c.URLSetting, err)
	}
	return nil
}

// ConnectConfig is the "Connect your account" flow: the company's page
// (FIRSTLINE_CONNECT_URL) a customer logs in on, and the secret its back
// end signs POST /connect with (FIRSTLINE_CONNECT_SECRET).
type ConnectConfig struct {
	URL    string
	Secret string
}

// minConnectSecret is the shortest FIRSTLINE_CONNECT_SECRET accepted: 32
// bytes, the size of the HMAC-SHA256 key it is.
const minConnectSecret = 32

// Validate checks that the flow is configured whole or not at all.
func (c ConnectConfig) Validate() error {
	switch {
	case c.URL == "" && c.Secret == "":
		return nil
	case c.URL == "":
		return errors.New("FIRSTLINE_CONNECT_SECRET: set, but FIRSTLINE_CONNECT_URL is not")
	case c.Secret == "":
		return errors.New("FIRSTLINE_CONNECT_SECRET: required with FIRSTLINE_CONNECT_URL (the company's back end signs POST /connect with it; make one with `openssl rand -hex 32`)")
	case len(c.Secret) < minConnectSecret:
		return fmt.Errorf("FIRSTLINE_CONNECT_SECRET: must be at least %d characters (make one with `openssl rand -hex 32`)", minConnectSecret)
	}
	if err := checkURL(c.URL); err != nil {
		return fmt.Errorf("FIRSTLINE_CONNECT_URL: %w", err)
	}
	if strings.Contains(c.URL, "#") {
		return errors.New("FIRSTLINE_CONNECT_URL: must not have a fragment (the state is added as a query parameter)")
	}
	return nil
}

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/links"
)

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

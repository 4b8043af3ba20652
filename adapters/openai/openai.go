// Package openai implements bot.Model over any OpenAI-compatible
// chat-completions endpoint: OpenAI itself, Azure-compatible proxies, Ollama,
// vLLM and llama.cpp. It uses github.com/sashabaranov/go-openai for the wire
// format (non-streaming chat completions with tools) and adds what a
// customer-facing bot needs around it:
//
//   - retries with exponential backoff and full jitter on HTTP 429, 5xx and
//     network errors, honouring Retry-After, each try under its own timeout;
//   - a history budget, so a long conversation never outgrows the model's
//     context window: the system prompt, the tools and the newest messages
//     that fit are sent, and the model is told that earlier ones were cut;
//   - errors as *bot.ModelError whose Reason is one sentence a support agent
//     can act on, never containing the API key or the customer's words.
//
// The package does not validate tool names or arguments: the engine does,
// in one place, for every model (bot/tools.go).
package openai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/firstlinehq/firstline/bot"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxRetries    = 3
	DefaultBaseBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff    = 8 * time.Second
	DefaultHistoryBudget = 6000
	DefaultMaxTokens     = 800
)

// Config configures a Model. Only Model is required.
type Config struct {
	// BaseURL is the API root, up to and including /v1 (for example
	// http://localhost:11434/v1 for Ollama). "" means OpenAI's own.
	BaseURL string
	// APIKey is sent as a bearer token. It may be empty: Ollama, vLLM and
	// llama.cpp need none, and then no Authorization header is sent.
	APIKey string
	// Model is the model name the endpoint knows, e.g. "gpt-4o-mini".
	Model string
	// HTTPClient sends the requests. nil means a client with connect and
	// TLS timeouts; either way, each try is bounded by Timeout.
	HTTPClient *http.Client
	// Timeout bounds one try (connect, request and the whole response).
	// A try that times out is not repeated: the customer has already waited
	// this long, and a person can take over sooner. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a try that failed with HTTP 429, a 5xx
	// (or 408, 409) or a network error is repeated. Zero means
	// DefaultMaxRetries; a negative value disables retries.
	MaxRetries int
	// BaseBackoff and MaxBackoff shape the wait before retry n: a random
	// duration in [0, min(MaxBackoff, BaseBackoff·2ⁿ⁻¹)) ("full jitter", so
	// that many conversations hitting one rate limit do not retry in step).
	// A Retry-After header lengthens the wait to what the server asked for;
	// when the server asks for more than MaxBackoff, the call fails at once
	// instead, because a customer should not wait that long for a reply
	// when a person can take over. Zero means the defaults.
	BaseBackoff, MaxBackoff time.Duration
	// Sleep waits between tries. nil means a timer that stops early when
	// ctx is done; tests inject a function that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// HistoryBudget is the approximate number of tokens (see budget.go) for
	// the system prompt, the tools and the history together. Zero means
	// DefaultHistoryBudget.
	HistoryBudget int
	// MaxTokens bounds the completion. Zero means DefaultMaxTokens.
	MaxTokens int
	// Logger receives retry warnings and debug records; nil discards them.
	// Records never contain message content or the API key.
	Logger *slog.Logger
}

// Model is a bot.Model backed by an OpenAI-compatible endpoint. It is safe
// for concurrent use.
type Model struct {
	cfg    Config
	client *goopenai.Client
	name   string
	log    *slog.Logger
	redact func(string) string
	jitter func(ceiling time.Duration) time.Duration // random in [0, ceiling); replaced in tests
}

var _ bot.Model = (*Model)(nil)

// New checks cfg, fills in the defaults and returns a Model. It makes no
// network call: an endpoint that is down must not stop the bot from
// starting, since the human path works without it.
func New(cfg Config) (*Model, error) {
	cfg.Model = strings.TrimSpace(cfg.Model)
	if cfg.Model == "" {
		return nil, errors.New("openai: a model name is required")
	}
	// A key read from a file often ends in a newline; any other control
	// character would make every request fail with an unreadable error.
	cfg.APIKey = strings.TrimSpace(cfg.APIKey)
	if strings.ContainsFunc(cfg.APIKey, unicode.IsControl) {
		return nil, errors.New("openai: the API key contains control characters")
	}
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = goopenai.DefaultConfig("").BaseURL
	}
	// The errors say what is wrong without echoing a URL that may carry a
	// secret.
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("openai: the base URL must be an absolute http:// or https:// URL, like http://localhost:11434/v1")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// go-openai appends /chat/completions to the base URL as a string:
		// after a query, that would land in the query.
		return nil, errors.New("openai: the base URL must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	base = u.String()
	cfg.BaseURL = base

	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.BaseBackoff {
		cfg.MaxBackoff = cfg.BaseBackoff
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.HistoryBudget <= 0 {
		cfg.HistoryBudget = DefaultHistoryBudget
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}

	cc := goopenai.DefaultConfig(cfg.APIKey)
	cc.BaseURL = base
	cc.HTTPClient = observer{next: httpClient}

	key := cfg.APIKey
	m := &Model{
		cfg:    cfg,
		client: goopenai.NewClientWithConfig(cc),
		name:   cfg.Model + " at " + displayURL(u),
		log:    cfg.Logger.With("model", cfg.Model),
		redact: func(s string) string {
			if key == "" {
				return s
			}
			return strings.ReplaceAll(s, key, "[redacted]")
		},
		jitter: func(ceiling time.Duration) time.Duration {
			if ceiling <= 0 {
				return 0
			}
			return rand.N(ceiling)
		},
	}
	return m, nil
}

// Name implements bot.Model: the model and the endpoint, for start-up logs
// and metrics. It never includes the key, nor credentials someone put into
// the base URL.
func (m *Model) Name() string { return m.name }

// displayURL is u without user info.
func displayURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// Complete implements bot.Model: one chat completion, retried on transient
// failures. A cancelled ctx ends the call promptly with ctx.Err(); every
// other failure is a *bot.ModelError.
func (m *Model) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	if err := ctx.Err(); err != nil {
		return bot.ModelResponse{}, err
	}
	fit := trimHistory(req.System, req.Tools, req.Messages, m.cfg.HistoryBudget)
	if fit.omitted > 0 || fit.truncated {
		m.log.DebugContext(ctx, "AI model history trimmed to the budget",
			"kept", len(fit.messages), "omitted", fit.omitted, "truncated", fit.truncated,
			"tokens", fit.tokens, "budget", m.cfg.HistoryBudget)
	}
	creq := m.chatRequest(req.System, req.Tools, fit)

	var failures []*failure
	for try := 1; ; try++ {
		resp, f := m.try(ctx, creq)
		if f == nil {
			out, err := parseResponse(resp)
			if errors.Is(err, errContentFilter) {
				return bot.ModelResponse{}, &bot.ModelError{Reason: "The AI model's answer was withheld by the endpoint's content filter.", Err: err}
			}
			if err != nil {
				return bot.ModelResponse{}, &bot.ModelError{Reason: reasonMalformed, Err: err}
			}
			out.Usage = bot.Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return bot.ModelResponse{}, err
		}
		failures = append(failures, f)
		if !f.retryable || try > m.cfg.MaxRetries {
			return bot.ModelResponse{}, m.giveUp(failures)
		}
		if f.retryAfter > m.cfg.MaxBackoff {
			return bot.ModelResponse{}, &bot.ModelError{
				Reason: fmt.Sprintf("The AI model is overloaded (HTTP %d) and asked to wait %s before trying again.", f.status, roundWait(f.retryAfter)),
				Err:    f.err,
			}
		}
		wait := m.backoff(try, f.retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The caller's deadline would end the wait with a bare
			// context error, which the engine reads as "stopped", and the
			// customer would get nothing. Failing now hands them over.
			return bot.ModelResponse{}, m.giveUp(failures)
		}
		attrs := []any{"attempt", try, "max_attempts", m.cfg.MaxRetries + 1,
			"status", f.status, "failure", f.kind, "wait", wait}
		if f.kind == failNetwork {
			// Only then: a status failure's text comes from the server,
			// which may echo what was sent. f.err is already redacted.
			attrs = append(attrs, "err", f.err)
		}
		m.log.WarnContext(ctx, "AI model call failed; retrying", attrs...)
		if err := m.cfg.Sleep(ctx, wait); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return bot.ModelResponse{}, ctxErr
			}
			return bot.ModelResponse{}, &bot.ModelError{Reason: "The AI model call was interrupted while waiting to retry.", Err: err}
		}
	}
}

// try makes one request under its own timeout. It returns either the
// response or what went wrong.
func (m *Model) try(ctx context.Context, creq goopenai.ChatCompletionRequest) (goopenai.ChatCompletionResponse, *failure) {
	tctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	var obs observed
	start := time.Now()
	resp, err := m.client.CreateChatCompletion(withObserved(tctx, &obs), creq)
	if err == nil {
		m.log.DebugContext(ctx, "AI model answered",
			"duration", time.Since(start), "prompt_tokens", resp.Usage.PromptTokens,
			"completion_tokens", resp.Usage.CompletionTokens)
		return resp, nil
	}
	return resp, m.classify(tctx, &obs, err)
}

// backoff is the wait before retry number try (1 for the first retry):
// full jitter over an exponentially growing cap, and never less than what
// the server asked for in Retry-After.
func (m *Model) backoff(try int, retryAfter time.Duration) time.Duration {
	ceiling := m.cfg.BaseBackoff
	for i := 1; i < try && ceiling < m.cfg.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, m.cfg.MaxBackoff)
	return max(m.jitter(ceiling), min(retryAfter, m.cfg.MaxBackoff))
}

// sleep is the default Config.Sleep.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

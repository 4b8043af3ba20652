// Package slack connects Firstline to Slack. Customers write to the bot in
// direct messages, or mention it in a channel and continue in the thread it
// answers in, or, when the app has Slack's assistant view, in assistant
// threads (assistant.go); agents work in an agent channel, where each
// handoff is a Block Kit card with Claim and Resolve buttons and the card's
// thread is where agent and customer talk.
//
// The adapter only translates. Incoming events become bot.Incoming (for the
// engine) or handoff actions (for the handoff flow); the platform is
// acknowledged only after the engine stored the message, and model turns run
// after the acknowledgement. Everything the product says arrives through the
// outbox at Send, which formats it as Slack mrkdwn, escapes it so that no
// mention from a customer or a model can ping anyone, shapes posts to about
// one per second per channel, and classifies Slack's errors for the
// dispatcher (rate limits, permanent failures, retryable ones).
//
// Two connection modes: Socket Mode when an app-level token is configured,
// else the Events API over HTTP, with every request's signature checked.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	slackapi "github.com/slack-go/slack"
)

// Engine is what the adapter needs of the conversation engine; *bot.Engine
// satisfies it.
type Engine interface {
	Accept(ctx context.Context, in bot.Incoming) (bot.Accepted, error)
	Submit(ctx context.Context, conversationID int64)
	Active(ctx context.Context, key bot.ConversationKey) (bool, error)
	TalkToPerson(ctx context.Context, conversationID int64, user string) error
	Rate(ctx context.Context, user string, handoffID int64, score int) error
	// Feedback is a customer's vote on an answer (the feedback buttons).
	Feedback(ctx context.Context, user string, messageID int64, helpful bool) error
	LinkByEmail(ctx context.Context, id bot.Identity, p bot.EmailProfile) (bool, error)
	Edited(ctx context.Context, ed bot.Edit) (bool, error)
	// Cursors says where each open conversation stands, for fetching back
	// what Slack did not deliver (catchup.go).
	Cursors(ctx context.Context, p bot.Platform) ([]bot.Cursor, error)
}

// Handoffs is what the adapter needs of the handoff flow; *handoff.Service
// satisfies it.
type Handoffs interface {
	AgentMessage(ctx context.Context, m handoff.AgentMessage) (handoff.Result, error)
	Claim(ctx context.Context, handoffID int64, agent handoff.Agent) (handoff.Result, error)
	Resolve(ctx context.Context, handoffID int64, agent handoff.Agent) (handoff.Result, error)
	SendDraft(ctx context.Context, draftID int64, agent handoff.Agent) (handoff.Result, error)
}

var (
	_ Engine   = (*bot.Engine)(nil)
	_ Handoffs = (*handoff.Service)(nil)
)

// Config wires an Adapter.
type Config struct {
	// BotToken (xoxb-…) is required. With AppToken (xapp-…) the adapter
	// uses Socket Mode; without it, the Events API over HTTP, which needs
	// SigningSecret to check that requests come from Slack.
	BotToken, AppToken, SigningSecret string
	// APIURL is the Web API base URL (SLACK_API_URL); "" is Slack's.
	APIURL string
	// AgentChannel is the channel id where handoffs are announced and
	// agents work; "" when agents sit on another platform.
	AgentChannel string
	// AgentMention is who the announcement pings: here, channel, a user
	// group id (S…) or a user id (U… or W…). "" means here.
	AgentMention string
	// Agents (SLACK_AGENTS) are who may act on handoffs: user IDs (U…,
	// W…) and user group IDs (S…, for their members). When empty, the
	// agents are the members of the AgentMention user group, if it is one,
	// else the members of AgentChannel, which must then be private.
	Agents []string
	// Leads (SLACK_AGENT_LEADS, the same syntax) are agents who may also
	// resolve, unclaim, transfer and send the drafts of handoffs other
	// agents claimed.
	Leads []string
	// LinkByEmail links Slack users to the customer with their profile
	// email (needs the users:read.email scope).
	LinkByEmail bool
	// Prompts is the prompt folder (FIRSTLINE_PROMPTS_DIR, as os.DirFS):
	// its assistant.yaml, when there is one, has the suggested prompts and
	// the status of Slack's assistant threads per language, read again
	// when it changes. nil, or no such file: the built-in ones.
	Prompts  fs.FS
	Engine   Engine
	Handoffs Handoffs
	Logger   *slog.Logger
	// Now is the clock of the per-channel shaper, of the agents'
	// refreshes and of the catch-up's horizon; default time.Now.
	Now        func() time.Time
	HTTPClient *http.Client
}

// Adapter is the Slack platform adapter and the outbox Sender for Slack.
type Adapter struct {
	cfg     Config
	log     *slog.Logger
	api     *slackapi.Client
	mention string // the agent mention, in Slack's syntax
	secrets *strings.Replacer
	shaper  *shaper
	users   *userCache
	source  agentSource // where the agents come from
	agents  *agentCache
	serial  *serializer
	// slots bounds the events handled at once in Socket Mode.
	slots chan struct{}
	ready atomic.Bool

	authMu sync.Mutex
	self   *identity // set by the first successful auth.test

	parts  *partials
	catch  *catchUp
	assist *assistantState

	bgMu      sync.Mutex
	bgStopped bool
	bg        sync.WaitGroup
}

// identity is who the bot is, learned from auth.test.
type identity struct {
	User string // the bot's user id, mentioned as <@User>
	Bot  string // the bot id its own messages carry
	Team string
}

// How long the adapter gives Slack calls that sit in front of an
// acknowledgement (Slack waits three seconds), and the others.
const (
	lookupTimeout   = 2 * time.Second
	handleTimeout   = 10 * time.Second
	interactTimeout = 2500 * time.Millisecond
	directTimeout   = 10 * time.Second
	maxHandlers     = 32
)

// New checks cfg and returns an Adapter. It does not contact Slack: Run does.
func New(cfg Config) (*Adapter, error) {
	switch {
	case cfg.BotToken == "":
		return nil, errors.New("slack: SLACK_BOT_TOKEN is required")
	case cfg.AppToken == "" && cfg.SigningSecret == "":
		return nil, errors.New("slack: SLACK_SIGNING_SECRET is required for the Events API over HTTP (or set SLACK_APP_TOKEN for Socket Mode)")
	case cfg.Engine == nil:
		return nil, errors.New("slack: needs the engine")
	case cfg.Handoffs == nil:
		return nil, errors.New("slack: needs the handoff flow")
	}
	mention, err := mentionSyntax(cfg.AgentMention)
	if err != nil {
		return nil, err
	}
	if cfg.Agents, err = parseAgentIDs("SLACK_AGENTS", cfg.Agents); err != nil {
		return nil, err
	}
	if cfg.Leads, err = parseAgentIDs("SLACK_AGENT_LEADS", cfg.Leads); err != nil {
		return nil, err
	}
	if cfg.APIURL == "" {
		cfg.APIURL = slackapi.APIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("slack: SLACK_API_URL: want an http(s) URL, got %q", cfg.APIURL)
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/" // slack-go appends method names to it
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	a := &Adapter{
		cfg:     cfg,
		log:     cfg.Logger,
		mention: mention,
		secrets: secretReplacer(cfg.BotToken, cfg.AppToken, cfg.SigningSecret),
		shaper:  newShaper(cfg.Now, channelRate, channelBurst),
		serial:  newSerializer(),
		slots:   make(chan struct{}, maxHandlers),
		parts:   newPartials(),
		catch:   newCatchUp(),
		assist:  newAssistantState(),
	}
	a.users = newUserCache(time.Now)
	a.source = sourceOf(cfg)
	a.agents = &agentCache{now: cfg.Now, load: a.loadAgents, onFail: a.agentsFailed}
	opts := []slackapi.Option{
		slackapi.OptionAPIURL(cfg.APIURL),
		slackapi.OptionHTTPClient(cfg.HTTPClient),
		slackapi.OptionLog(libLogger{a}),
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	a.api = slackapi.New(cfg.BotToken, opts...)
	return a, nil
}

var idRe = regexp.MustCompile(`^[SUW][A-Z0-9]+$`)

// mentionSyntax turns SLACK_AGENT_MENTION into the text that pings.
func mentionSyntax(m string) (string, error) {
	switch {
	case m == "" || m == "here":
		return "<!here>", nil
	case m == "channel":
		return "<!channel>", nil
	case idRe.MatchString(m) && m[0] == 'S':
		return "<!subteam^" + m + ">", nil
	case idRe.MatchString(m):
		return "<@" + m + ">", nil
	}
	return "", fmt.Errorf("slack: SLACK_AGENT_MENTION: want here, channel, a user group ID (S…) or a user ID (U…), got %q", m)
}

// Run learns who the bot is (auth.test) and who the agents are (refusing
// a public agent channel as their source, see agents.go) and, in Socket Mode, connects and
// handles events until ctx is done, closing the connection itself. In HTTP
// mode events arrive at EventsHandler and InteractionsHandler, and Run only
// waits for ctx. Once ready (in Socket Mode, after every reconnect too) it
// fetches back, in the background, what Slack did not deliver (catchup.go).
// Either way it returns once the handlers it started are done.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.stopBackground()
	defer a.ready.Store(false)
	// Where the conversations stood before any event of this run.
	snap := a.snapshotCursors(ctx)
	self, err := a.authenticate(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := a.startAgents(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if a.cfg.AppToken == "" {
		a.ready.Store(true)
		a.log.InfoContext(ctx, "slack ready: events over HTTP", "team", self.Team, "bot_user", self.User)
		a.catchUp(ctx, self, snap)
		<-ctx.Done()
		return nil
	}
	return a.runSocket(ctx, self, snap)
}

// Ready reports whether the adapter can take events: connected in Socket
// Mode, authenticated in HTTP mode.
func (a *Adapter) Ready() bool { return a.ready.Load() }

// authenticate calls auth.test until it succeeds, gives a permanent answer
// (a bad token), or ctx ends. A network hiccup at start-up must not stop
// the service; a revoked token must.
func (a *Adapter) authenticate(ctx context.Context) (identity, error) {
	wait := time.Second
	for {
		self, err := a.whoami(ctx)
		if err == nil {
			return self, nil
		}
		if permanentAuth(err) {
			return identity{}, err
		}
		a.log.WarnContext(ctx, "slack auth.test failed; retrying", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return identity{}, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// whoami returns the bot's identity, calling auth.test the first time. HTTP
// events may arrive before Run got to it.
func (a *Adapter) whoami(ctx context.Context) (identity, error) {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if a.self != nil {
		return *a.self, nil
	}
	ctx, cancel := context.WithTimeout(ctx, directTimeout)
	defer cancel()
	res, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return identity{}, a.wrap("auth.test (check SLACK_BOT_TOKEN)", err)
	}
	a.self = &identity{User: res.UserID, Bot: res.BotID, Team: res.TeamID}
	return *a.self, nil
}

func permanentAuth(err error) bool {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return permanentErrors[se.Err]
	}
	var sc slackapi.StatusCodeError
	return errors.As(err, &sc) && sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusTooManyRequests
}

// secretReplacer hides the configured secrets, and anything shaped like a
// Slack token, from errors and logs. slack-go's errors can carry request
// details; tokens must never reach a log line or the outbox's last_error.
func secretReplacer(secrets ...string) *strings.Replacer {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	return strings.NewReplacer(pairs...)
}

var tokenRe = regexp.MustCompile(`\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+`)

func (a *Adapter) redact(s string) string {
	return tokenRe.ReplaceAllString(a.secrets.Replace(s), "[redacted]")
}

// redactedError shows a redacted message but keeps the original error in the
// chain, so that errors.As still finds slack-go's rate-limit and API errors.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// wrap says what was being done and redacts secrets from err.
func (a *Adapter) wrap(what string, err error) error {
	return fmt.Errorf("slack: %s: %w", what, &redactedError{msg: a.redact(err.Error()), err: err})
}

// libLogger routes slack-go's own log lines (debug only) into the adapter's
// logger, redacted.
type libLogger struct{ a *Adapter }

func (l libLogger) Output(_ int, s string) error {
	l.a.log.Debug("slack-go: " + l.a.redact(strings.TrimSpace(s)))
	return nil
}

// goBackground runs f in a goroutine that Run waits for before it returns;
// after Run has stopped it runs nothing and reports false.
func (a *Adapter) goBackground(f func()) bool {
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	if a.bgStopped {
		return false
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		f()
	}()
	return true
}

func (a *Adapter) stopBackground() {
	a.bgMu.Lock()
	a.bgStopped = true
	a.bgMu.Unlock()
	a.bg.Wait()
}

// serializer runs functions one after another per key, each key in its own
// goroutine: events of one channel are handled in the order Slack sent
// them, events of different channels at the same time.
type serializer struct {
	mu     sync.Mutex
	queues map[string][]func()
}

func newSerializer() *serializer { return &serializer{queues: map[string][]func(){}} }

// do queues f behind the functions queued for key; start runs a drainer
// when none is running for key, and reports false when it cannot (the
// adapter is stopping: nothing more runs).
func (s *serializer) do(key string, f func(), start func(drain func()) bool) {
	s.mu.Lock()
	q, running := s.queues[key]
	s.queues[key] = append(q, f)
	s.mu.Unlock()
	if running {
		return
	}
	started := start(func() {
		for {
			s.mu.Lock()
			q := s.queues[key]
			if len(q) == 0 {
				delete(s.queues, key)
				s.mu.Unlock()
				return
			}
			next := q[0]
			s.queues[key] = q[1:]
			s.mu.Unlock()
			next()
		}
	})
	if !started {
		s.mu.Lock()
		delete(s.queues, key)
		s.mu.Unlock()
	}
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firstlinehq/firstline/bot/datatools"
	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/prompts"
)

// Config wires an Engine. Store, Model, Payments, Directory, Escalator and
// Prompts are required.
type Config struct {
	Store    Store
	Model    Model
	Payments PaymentSource
	// Directory is where customers are looked up by email (verification by
	// code, SLACK_LINK_BY_EMAIL) and checked by id (account connection).
	Directory Directory
	Escalator Escalator
	// Prompts returns the prompt files currently live (hot-reloaded).
	Prompts func() *prompts.Set
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *Metrics
	// Notify is called after a commit that queued outgoing messages, to wake
	// the outbox dispatcher.
	Notify func()
	// Courier, when set, is handed a turn's reply claimed in the
	// transaction that stores it, so the reply leaves without another
	// commit or a wait for the dispatcher's next pass (outgoing.go).
	Courier Courier
	// IdleTimeout closes a conversation after this long without messages.
	IdleTimeout time.Duration
	// MaxToolRounds bounds model→tool→model round trips in one turn.
	MaxToolRounds int
	// HistoryLimit is how many stored messages a turn loads; the model's
	// own budget trims further.
	HistoryLimit int
	// Shadow is FIRSTLINE_SHADOW: every customer message goes to a person,
	// and the bot's answer is only a draft in the handoff thread that an
	// agent may send (shadow.go).
	Shadow bool
	// MaxConcurrentTurns bounds the turns Submit runs at once, default 16:
	// a slow model must not pile up unbounded goroutines.
	MaxConcurrentTurns int
	// Replica names this engine in turn leases (lease.go), which let
	// several replicas share a database; default: the host name, the
	// process id and a random part.
	Replica string
	// TurnLease is how long a turn lease lasts unless renewed, default
	// DefaultTurnLease: how long the conversations of a replica that died
	// mid-turn wait before another replica answers them.
	TurnLease time.Duration
	// Limits bounds what chat users can make the bot do (rate limits, the
	// daily token cap, attachments); the zero value limits nothing.
	Limits Limits
	// Verifier sends identity verification codes (FIRSTLINE_VERIFY_URL);
	// nil turns verification by code off.
	Verifier CodeSender
	// ConnectURL is the company's page an unlinked customer connects their
	// chat on (FIRSTLINE_CONNECT_URL, connect.go); "" turns the flow off.
	ConnectURL string
	// Links is the allow-list of hosts that model-written replies may link
	// to; hosts linked from the prompt files are added to it.
	Links links.Policy
	// Feedback puts 👍/👎 buttons under every answer of the model
	// (feedback.go).
	Feedback bool
	// DataTools are the options of the company's data tools (tools.yaml):
	// the MCP client, the HTTP client; the zero value serves HTTP tools with
	// Go's default client and no MCP server.
	DataTools datatools.Options
}

// Engine runs conversations: it stores what customers write, decides whether
// a person is needed, runs model turns with tools, and queues the replies.
// It is safe for concurrent use; turns of one conversation run in order.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	metrics *Metrics
	locks   keyedMutex
	matcher atomic.Pointer[versionedMatcher]
	guard   guard // rate limits
	hosts   systemHosts

	// frustrated is the matcher of escalation.yaml's frustration phrases,
	// disconnects that of phrases.yaml's disconnect phrases.
	frustrated  atomic.Pointer[versionedMatcher]
	disconnects atomic.Pointer[versionedMatcher]

	// Background turns (Submit): slots bounds how many run at once;
	// stopped and draining stop new ones at shutdown.
	slots    chan struct{}
	inflight sync.WaitGroup
	submitMu sync.Mutex
	stopped  bool
	draining chan struct{}
	// queued holds the conversations whose Submit waits for a slot: one
	// waiting turn answers every message stored before it starts.
	queued map[int64]bool
}

// New checks cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("bot: engine needs a store")
	case cfg.Model == nil:
		return nil, errors.New("bot: engine needs a model")
	case cfg.Payments == nil:
		return nil, errors.New("bot: engine needs a payment source")
	case cfg.Directory == nil:
		return nil, errors.New("bot: engine needs a customer directory")
	case cfg.Escalator == nil:
		return nil, errors.New("bot: engine needs an escalator")
	case cfg.Prompts == nil:
		return nil, errors.New("bot: engine needs prompts")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 24 * time.Hour
	}
	if cfg.MaxToolRounds <= 0 {
		cfg.MaxToolRounds = 4
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 50
	}
	if cfg.MaxConcurrentTurns <= 0 {
		cfg.MaxConcurrentTurns = 16
	}
	if cfg.Replica == "" {
		cfg.Replica = newReplicaID()
	}
	if cfg.TurnLease <= 0 {
		cfg.TurnLease = DefaultTurnLease
	}
	if err := cfg.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("bot: limits: %w", err)
	}
	e := &Engine{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, metrics: cfg.Metrics, guard: newGuard(cfg.Limits),
		slots:    make(chan struct{}, cfg.MaxConcurrentTurns),
		draining: make(chan struct{}),
	}
	if _, err := e.humanMatcher(); err != nil {
		return nil, err
	}
	return e, nil
}

// Handle stores an incoming message and runs the turn it calls for. It is
// Accept followed, when needed, by Process.
func (e *Engine) Handle(ctx context.Context, in Incoming) (Accepted, error) {
	acc, err := e.Accept(ctx, in)
	if err != nil || !acc.Pending {
		return acc, err
	}
	return acc, e.Process(ctx, acc.ConversationID)
}

// Package discord is Firstline's Discord adapter. It keeps a gateway session
// open (github.com/bwmarrin/discordgo), turns customer messages (direct
// messages, and mentions in a server channel, which open a thread) into
// bot.Incoming for the engine, turns agents' messages in handoff threads and
// button clicks into handoff actions, and delivers what the outbox sends as
// Discord messages (outbox.Sender).
//
// Where things live on Discord:
//
//   - A direct message channel is one conversation: Key{Workspace: "",
//     Channel: DM channel id}.
//   - A mention of the bot in a server channel starts a public thread from
//     that message, and the conversation lives in the thread. A thread is a
//     channel on Discord, so the key is Key{Workspace: guild id, Channel:
//     thread id} with no Thread part; replies simply go to that channel.
//   - When Discord will not start that thread (the bot lacks Create Public
//     Threads there, or the endpoint keeps failing), the conversation is
//     held in the channel itself: Key{Workspace: guild id, Channel:
//     channel id, Thread: "user:" + the customer's id}. The bot's messages
//     there reply to the customer's latest message and mention them; the
//     customer's later mentions (or replies to the bot) continue it
//     (inchannel.go).
//   - A handoff is announced in the agent channel and gets a thread started
//     from the announcement. Discord gives a thread started from a message
//     the message's own id, so the announcement's id (what Send returns) is
//     also the handoff thread's channel id.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/gorilla/websocket"
)

// Engine is what the adapter needs of the conversation engine;
// *bot.Engine satisfies it.
type Engine interface {
	Accept(ctx context.Context, in bot.Incoming) (bot.Accepted, error)
	Submit(ctx context.Context, conversationID int64)
	Active(ctx context.Context, key bot.ConversationKey) (bool, error)
	TalkToPerson(ctx context.Context, conversationID int64, user string) error
	Rate(ctx context.Context, user string, handoffID int64, score int) error
	// Feedback is a customer's vote on an answer (the 👍/👎 buttons).
	Feedback(ctx context.Context, user string, messageID int64, helpful bool) error
	// Intake, IntakeDone and PendingIntakes keep a mention stored while
	// its thread is started (intake.go).
	Intake(ctx context.Context, it bot.Intake) error
	IntakeDone(ctx context.Context, p bot.Platform, key string) error
	PendingIntakes(ctx context.Context, p bot.Platform, age time.Duration, limit int) ([]bot.Intake, error)
	Cursors(ctx context.Context, p bot.Platform) ([]bot.Cursor, error)
	Edited(ctx context.Context, ed bot.Edit) (bool, error)
}

// Handoffs is what the adapter needs of the handoff flow;
// *handoff.Service satisfies it.
type Handoffs interface {
	AgentMessage(ctx context.Context, m handoff.AgentMessage) (handoff.Result, error)
	Claim(ctx context.Context, handoffID int64, agent handoff.Agent) (handoff.Result, error)
	Resolve(ctx context.Context, handoffID int64, agent handoff.Agent) (handoff.Result, error)
	SendDraft(ctx context.Context, draftID int64, agent handoff.Agent) (handoff.Result, error)
	Threads(ctx context.Context, p bot.Platform) ([]handoff.ThreadCursor, error)
	// Queue lists the waiting handoffs for an agent's /queue.
	Queue(ctx context.Context, agent handoff.Agent) (handoff.Result, error)
}

var (
	_ Engine        = (*bot.Engine)(nil)
	_ Handoffs      = (*handoff.Service)(nil)
	_ outbox.Sender = (*Adapter)(nil)
)

// Config wires an Adapter.
type Config struct {
	// Token is the bot token (DISCORD_BOT_TOKEN), with or without "Bot ".
	Token string
	// APIURL is the REST base URL (DISCORD_API_URL); "" is
	// https://discord.com/api/v9. A bare host or a path ending in /api
	// gets the rest of the API path (see apiBase). The gateway URL comes from
	// GET {APIURL}/gateway, so pointing REST elsewhere moves both.
	APIURL string
	// AgentChannel is the channel id where handoffs are announced
	// (DISCORD_AGENT_CHANNEL); "" when agents work on another platform.
	AgentChannel string
	// AgentRole is the agents' role id (DISCORD_AGENT_ROLE): it is
	// mentioned on announcements, and members holding it act as agents on
	// handoffs. "" mentions nobody, and only Agents and Leads are agents.
	AgentRole string
	// Agents are the user ids of further agents (DISCORD_AGENTS, comma
	// separated), with or without AgentRole. With an agent channel,
	// AgentRole or Agents is required: nobody else acts on handoffs.
	Agents []string
	// Leads are the user ids of agent leads (DISCORD_AGENT_LEADS): agents
	// who may also resolve, unclaim, transfer and send the drafts of
	// handoffs other agents claimed.
	Leads []string
	// LeadRole is a role id whose members are leads
	// (DISCORD_AGENT_LEAD_ROLE); "" for none.
	LeadRole string
	Engine   Engine
	Handoffs Handoffs
	Logger   *slog.Logger
	// HTTPClient is used for REST calls (its Transport and Timeout); nil
	// uses a client with a 20 s timeout.
	HTTPClient *http.Client
}

// Intents are the gateway intents the bot asks for: messages in direct
// messages and in servers, and their content. Message Content is a
// privileged intent that must be enabled in the developer portal.
const Intents = discordgo.IntentsDirectMessages | discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent

// Adapter is the Discord adapter. Run it for incoming events; Send is safe
// to call at any time, also before Run and after it returned.
type Adapter struct {
	cfg      Config
	log      *slog.Logger
	token    string   // "Bot …", as sent in the Authorization header
	api      *url.URL // DISCORD_API_URL as used; nil for discord.com
	session  *discordgo.Session
	dialer   *gatewayDialer
	lanes    *lanes
	channels *channelCache
	replies  *replyTargets // what the bot replies to in in-channel conversations (inchannel.go)
	roster   roster        // who is an agent, who a lead (agents.go)
	members  *memberCache  // looked-up members' roles
	// registered are the servers this process set its slash commands in
	// (commands.go).
	registered guildSet
	// forum is what is known of a forum agent channel (forum.go).
	forum forumState
	now   func() time.Time

	botID    atomic.Pointer[string]
	ready    atomic.Bool
	running  atomic.Bool
	dropped  chan struct{} // the session closed itself; Run reconnects
	bg       sync.WaitGroup
	backfill chan struct{} // bounds concurrent history fetches

	ctxMu sync.Mutex
	ctx   context.Context // Run's context, for work started by gateway events

	// ackAfter is how long an interaction's action may take before the
	// interaction is acknowledged with a deferred response (Discord allows
	// three seconds in all); tests shorten it.
	ackAfter time.Duration
	// retryBase is the first pause before retrying a failed store or REST
	// call while handling an event.
	retryBase time.Duration
}

// New checks cfg and returns an Adapter. It does not connect: Run does.
func New(cfg Config) (*Adapter, error) {
	token := bareToken(cfg.Token)
	switch {
	case token == "":
		return nil, errors.New("discord: a bot token is required (DISCORD_BOT_TOKEN)")
	case cfg.Engine == nil:
		return nil, errors.New("discord: an engine is required")
	case cfg.Handoffs == nil:
		return nil, errors.New("discord: the handoff flow is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	agents, err := newRoster(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.AgentChannel != "" && !agents.vouches() {
		return nil, errors.New(errNoAgents)
	}
	var api *url.URL
	if cfg.APIURL != "" {
		if api, err = apiBase(cfg.APIURL); err != nil {
			return nil, err
		}
	}
	a := &Adapter{
		cfg:       cfg,
		api:       api,
		log:       cfg.Logger,
		token:     "Bot " + token,
		lanes:     newLanes(),
		channels:  newChannelCache(channelCacheSize),
		replies:   newReplyTargets(),
		roster:    agents,
		members:   newMemberCache(memberCacheSize),
		now:       time.Now,
		dropped:   make(chan struct{}, 1),
		backfill:  make(chan struct{}, backfillConcurrency),
		ctx:       context.Background(),
		ackAfter:  2 * time.Second,
		retryBase: 200 * time.Millisecond,
	}
	s, err := discordgo.New(a.token)
	if err != nil {
		return nil, fmt.Errorf("discord: create session: %w", err)
	}
	s.Client = restClient(cfg.HTTPClient, api)
	a.dialer = &gatewayDialer{handshake: handshakeTimeout, ctx: a.runContext}
	s.Dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: handshakeTimeout,
		NetDialContext:   a.dialer.dial,
	}
	s.Identify.Intents = Intents
	// Handlers run in the gateway's reader goroutine, one event after the
	// other, so that the order Discord sends events in is the order they
	// reach the per-channel lanes (see lanes.go). Handlers only enqueue.
	s.SyncEvents = true
	// A 429 becomes an error the outbox defers on, instead of a sleep
	// inside discordgo that would hold up every other channel.
	s.ShouldRetryOnRateLimit = false
	// Run reconnects itself, with back-off and a context: discordgo's own
	// loop retries forever in a goroutine nobody can stop.
	s.ShouldReconnectOnError = false
	// Nothing here reads discordgo's state cache; with only message
	// intents it would hold little anyway.
	s.StateEnabled = false
	// discordgo logs to the standard library's global logger; this adapter
	// logs what matters (connects, drops, failures) through cfg.Logger.
	s.LogLevel = -1
	s.AddHandler(a.onReady)
	s.AddHandler(a.onResumed)
	s.AddHandler(a.onDisconnect)
	// MESSAGE_CREATE is read from the raw event, which alone has the
	// members of mentioned users (see agents.go).
	s.AddHandler(a.onEvent)
	s.AddHandler(a.onMessageUpdate)
	s.AddHandler(a.onMessageDelete)
	s.AddHandler(a.onInteractionCreate)
	a.session = s
	if id, err := ClientIDFromToken(token); err == nil {
		a.botID.Store(&id) // READY and /users/@me confirm it
	}
	return a, nil
}

// bareToken returns a token without the "Bot " prefix and surrounding
// space, or "" when it is not one word.
func bareToken(s string) string {
	f := strings.Fields(s)
	if len(f) > 0 && f[0] == "Bot" {
		f = f[1:]
	}
	if len(f) != 1 {
		return ""
	}
	return f[0]
}

// Ready reports whether the gateway session is up (READY or RESUMED
// received, not disconnected since), for /readyz.
func (a *Adapter) Ready() bool { return a.ready.Load() }

func (a *Adapter) selfID() string {
	if p := a.botID.Load(); p != nil {
		return *p
	}
	return ""
}

// runContext is the context work started by gateway events runs under:
// Run's, once Run started.
func (a *Adapter) runContext() context.Context {
	a.ctxMu.Lock()
	defer a.ctxMu.Unlock()
	return a.ctx
}

func (a *Adapter) setRunContext(ctx context.Context) {
	a.ctxMu.Lock()
	a.ctx = ctx
	a.ctxMu.Unlock()
}

// goBackground runs fn in a goroutine that Run waits for before it returns.
func (a *Adapter) goBackground(fn func()) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		fn()
	}()
}

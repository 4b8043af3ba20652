// Package fakediscord is Discord as Firstline's tests see it: a REST server
// and a gateway WebSocket server (both httptest) speaking the real opcodes
// and JSON shapes, as discordgo and the Discord adapter expect them.
//
// A test drives it as Discord would: people write messages (Say), press
// buttons (Click), write while the bot is away (SayOffline); the network
// drops (Drop) and the REST API fails, rate-limits or hangs (FailNext).
// Everything the bot sends is recorded (SentTo, Edits, ThreadStarts,
// CallbacksFor, …) for the test to check. A bot process that is killed and
// started again simply identifies anew: the fake keeps its history, so the
// new process finds what was posted before it died.
package fakediscord

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Ids in the fake server (snowflakes are decimal strings).
const (
	BotID    = "1100000000000000001"
	Guild    = "1200000000000000001"
	General  = "1200000000000000002" // a text channel in the server
	Agents   = "1200000000000000003" // the agent channel
	Role     = "1200000000000000004" // the agent role
	LeadRole = "1200000000000000005" // the agent leads' role
	Ada      = "1300000000000000001" // a customer
	Grace    = "1300000000000000002" // an agent
	Linus    = "1300000000000000003" // another agent
	OtherBot = "1300000000000000004" // another bot
	Eve      = "1300000000000000005" // a server member who is no agent (she can read the agent channel)
	DMAda    = "1400000000000000001" // Ada's DM channel with the bot
	DMGone   = "1400000000000000002" // a DM channel Discord refuses (50007)
)

// Token looks like a real bot token: base64 of the bot's id, a timestamp
// part and an HMAC part. Its secret part must never be logged.
const Token = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GhJkLm.s3cr3t-HMAC-part_never-in-logs-0123456789"

// TokenSecret is the part of Token that must never appear in a log.
const TokenSecret = "s3cr3t-HMAC-part_never-in-logs-0123456789"

// Discord's JSON error codes the fake answers with.
const (
	codeUnknownChannel       = 10003
	codeUnknownMember        = 10007
	codeUnknownMessage       = 10008
	codeMissingAccess        = 50001
	codeCannotSendToUser     = 50007
	codeMissingPermissions   = 50013
	codeInvalidFormBody      = 50035
	codeCannotReplyNoHistory = 160002
	codeThreadAlreadyCreated = 160004
)

// CodeMissingPermissions is Discord's JSON error code for a permission the
// bot lacks (HTTP 403), such as Create Public Threads.
const CodeMissingPermissions = codeMissingPermissions

// errorMessages are the message texts Discord answers its JSON error codes
// with ({"message": "Missing Permissions", "code": 50013}).
var errorMessages = map[int]string{
	codeUnknownChannel:       "Unknown Channel",
	codeUnknownMember:        "Unknown Member",
	codeUnknownMessage:       "Unknown Message",
	codeMissingAccess:        "Missing Access",
	codeCannotSendToUser:     "Cannot send messages to this user",
	codeMissingPermissions:   "Missing Permissions",
	codeInvalidFormBody:      "Invalid Form Body",
	codeCannotReplyNoHistory: "Cannot reply without permission to read message history",
	codeThreadAlreadyCreated: "A thread has already been created for this message",
}

// maxMessageLen is the longest content Discord accepts, in characters.
const maxMessageLen = 2000

// discordEpoch is the first millisecond of 2015, where snowflakes count
// from.
const discordEpoch = 1420070400000

// AppFlagMessageContentLimited is the application flag that says the
// Message Content intent is enabled (for bots in fewer than 100 servers).
const AppFlagMessageContentLimited = 1 << 19

// User is a Discord user the fake knows, a member of Guild.
type User struct {
	ID, Username, GlobalName, Nick string
	Bot                            bool
	// Roles are the ids of the user's roles in Guild, as member.roles
	// carries them (Role for agents).
	Roles []string
	// NotMember: the user is not (or no longer) in Guild; GET
	// /guilds/{guild}/members/{user} answers Unknown Member.
	NotMember bool
}

// Channel is a channel the fake knows.
type Channel struct {
	ID, GuildID, ParentID string
	Type                  int // 0 text, 1 DM, 11 public thread, 12 private thread, 15 forum
	// Recipient is the user a DM channel is with.
	Recipient string
	// Name is a thread's name ("thread" when empty).
	Name string
	// Invitable: members of a private thread may invite others.
	Invitable bool
}

// message is a message in the fake's history.
type message struct {
	ID, ChannelID, AuthorID, Content string
	Nonce                            string
	RefID                            string // the message this one replies to
	Attachments                      []map[string]any
	Body                             map[string]any // what the bot sent, for its messages
	NoMember                         bool           // the event carries no member data
}

// Sent is a message create or edit the bot made.
type Sent struct {
	Method, Channel, ID string // ID: the message created or edited
	Content             string
	Nonce               string
	EnforceNonce        bool
	AllowedMentions     map[string]any
	HasAllowedMentions  bool
	Components          []any
	// MessageReference is the message_reference of a reply, nil when the
	// message replies to nothing.
	MessageReference map[string]any
	// Deduped is true when Discord returned an earlier message for the
	// nonce instead of creating one.
	Deduped bool
	// ForumStarter: the first message of a forum post, created with the
	// post (it takes no nonce).
	ForumStarter bool
}

// CustomIDs returns the custom_ids of a message's buttons, in order.
func (s Sent) CustomIDs() []string {
	var out []string
	for _, row := range s.Components {
		r, _ := row.(map[string]any)
		cs, _ := r["components"].([]any)
		for _, c := range cs {
			b, _ := c.(map[string]any)
			if id, ok := b["custom_id"].(string); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// Callback is an interaction response (or a follow-up) the bot sent.
type Callback struct {
	Interaction string
	Type        int
	Content     string
	Flags       int
}

// ThreadStart is a thread the bot started from a message.
type ThreadStart struct {
	Channel, Message, Name string
}

// Failure is an injected REST error for a channel's message posts.
type Failure struct {
	// After is how many posts are let through first.
	After int
	// Status is the HTTP status, Code Discord's JSON error code.
	Status int
	Code   int
	// RetryAfter is the wait a 429 asks for.
	RetryAfter time.Duration
	// Hang holds the request this long (or until the client gives up)
	// before answering with Status.
	Hang time.Duration
	// AfterCreate creates the message first, then answers with the
	// failure: Discord has the message, the bot was not told.
	AfterCreate bool
}

// Server is a fake Discord: REST and gateway.
type Server struct {
	t    testing.TB
	rest *httptest.Server
	gw   *httptest.Server
	// closing ends requests held by a Hang failure when the server stops.
	closing chan struct{}

	mu        sync.Mutex
	lastID    uint64
	users     map[string]User
	channels  map[string]Channel
	history   map[string][]*message
	nonces    map[string]string // channel + nonce → message id
	sends     []Sent
	typing    []string
	threads   []ThreadStart
	callbacks []Callback
	followups []Callback
	requests  []string // "METHOD /path?query", every REST request
	failures  map[string][]Failure
	appFlags  int64
	rejectAll bool // answer 401 to everything
	// threadFailures are injected failures of thread starts, by channel.
	threadFailures map[string][]Failure
	noHistory      map[string]bool // channels where the bot may not read history, so not reply
	noThreads      map[string]bool // channels where the bot may not create public threads
	noPrivate      map[string]bool // channels where the bot may not create private threads

	// application commands and interactions (commands.go)
	guilds        []string             // the servers the bot is in, as READY lists them
	commands      map[string][]Command // by guild
	overwrites    map[string]int       // bulk overwrites, by guild
	noCommands    map[string]bool      // guilds where the bot lacks the applications.commands scope
	tokens        map[string]string    // interaction token → interaction id
	answered      map[string]bool      // interactions with a callback
	originals     map[string]Callback  // the latest edit of each interaction's @original
	originalEdits []Callback
	created       []PrivateThread     // threads started without a message
	threadMembers map[string][]string // members of the threads the bot started without a message

	// forum channels (forum.go)
	forumTags   map[string][]forumTag // by forum
	appliedTags map[string][]string   // by post: tag ids
	tagHistory  map[string][][]string // by post: each set of tag ids applied
	noManage    map[string]bool       // channels where the bot lacks Manage Channels

	// gateway
	conn          *conn
	sessionID     string
	sessions      int
	seq           int64
	events        []frame // dispatched in this session, for Resume
	identifies    int
	resumes       int
	heartbeats    int
	intents       int64
	invalidResume bool // answer the next Resume with Invalid Session
	silent        bool // accept connections and send nothing
}

// New starts a fake Discord that stops when the test ends. It knows the
// server Guild with the channels General and Agents, the users Ada (a
// customer), Grace and Linus (agents: they hold Role), Eve (a member
// without a role) and OtherBot, and Ada's DM channel.
func New(t testing.TB) *Server {
	s := &Server{
		t:        t,
		closing:  make(chan struct{}),
		users:    map[string]User{},
		channels: map[string]Channel{},
		history:  map[string][]*message{},
		nonces:   map[string]string{},
		failures: map[string][]Failure{},
		appFlags: AppFlagMessageContentLimited,

		threadFailures: map[string][]Failure{},
		noHistory:      map[string]bool{},
		noThreads:      map[string]bool{},
		noPrivate:      map[string]bool{},

		guilds:        []string{Guild},
		commands:      map[string][]Command{},
		overwrites:    map[string]int{},
		noCommands:    map[string]bool{},
		tokens:        map[string]string{},
		answered:      map[string]bool{},
		originals:     map[string]Callback{},
		threadMembers: map[string][]string{},
		forumTags:     map[string][]forumTag{},
		appliedTags:   map[string][]string{},
		tagHistory:    map[string][][]string{},
		noManage:      map[string]bool{},
	}
	for _, u := range []User{
		{ID: BotID, Username: "firstline", Bot: true},
		{ID: Ada, Username: "ada", GlobalName: "Ada Lovelace"},
		{ID: Grace, Username: "grace", GlobalName: "Grace Hopper", Nick: "Grace (support)", Roles: []string{Role}},
		{ID: Linus, Username: "linus", GlobalName: "Linus", Roles: []string{Role}},
		{ID: Eve, Username: "eve", GlobalName: "Eve"},
		{ID: OtherBot, Username: "otherbot", Bot: true},
	} {
		s.users[u.ID] = u
	}
	for _, c := range []Channel{
		{ID: General, GuildID: Guild, Type: 0},
		{ID: Agents, GuildID: Guild, Type: 0},
		{ID: DMAda, Type: 1, Recipient: Ada},
		{ID: DMGone, Type: 1, Recipient: Linus},
	} {
		s.channels[c.ID] = c
	}
	// Started after both are assigned: handlers read their URLs.
	s.rest = httptest.NewUnstartedServer(s.restHandler())
	s.gw = httptest.NewUnstartedServer(http.HandlerFunc(s.serveGateway))
	s.rest.Start()
	s.gw.Start()
	t.Cleanup(s.Close)
	return s
}

// Close stops both servers; requests held by a Hang failure end first.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		return
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.rest.Close()
	s.gw.Close()
}

// APIURL is the DISCORD_API_URL pointing at the fake.
func (s *Server) APIURL() string { return s.rest.URL + "/api/v9" }

// BaseURL is the fake's REST server without the API path
// (http://127.0.0.1:port), as a proxy is often addressed.
func (s *Server) BaseURL() string { return s.rest.URL }

// CloseREST stops the REST server alone: Discord unreachable.
func (s *Server) CloseREST() { s.rest.Close() }

// User returns a user the fake knows.
func (s *Server) User(id string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[id]
}

// AddUser adds a user (a customer, an agent).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// SetRoles replaces a user's roles in Guild: what later events,
// interactions and member lookups carry.
func (s *Server) SetRoles(user string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[user]
	if !ok {
		s.t.Fatalf("fakediscord: no user %s", user)
	}
	u.Roles = slices.Clone(roles)
	s.users[user] = u
}

// AddChannel adds a channel: a DM (Type 1) or a text channel of Guild.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c.ID] = c
}

// SetAppFlags sets the application's flags (0: no Message Content intent).
func (s *Server) SetAppFlags(flags int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appFlags = flags
}

// SetRejectAll makes every REST request fail with 401, as for a revoked
// token.
func (s *Server) SetRejectAll(reject bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectAll = reject
}

// SetSilent makes the gateway accept connections and say nothing, not
// even Hello.
func (s *Server) SetSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = silent
}

// FailNext makes the next posts to a channel fail, in order.
func (s *Server) FailNext(channel string, fails ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[channel] = append(s.failures[channel], fails...)
}

// FailThreadStarts makes the next thread starts in a channel (POST
// /channels/{channel}/messages/{id}/threads) fail, in order: a 503, or a
// 403 with CodeMissingPermissions where the bot lacks Create Public
// Threads.
func (s *Server) FailThreadStarts(channel string, fails ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.threadFailures[channel] = append(s.threadFailures[channel], fails...)
}

// DenyReadHistory takes Read Message History from the bot in a channel:
// Discord then refuses its replies (messages with a message_reference)
// there with code 160002.
func (s *Server) DenyReadHistory(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noHistory[channel] = true
}

// DenyThreads takes Create Public Threads from the bot in a channel:
// every thread start there answers 403 with CodeMissingPermissions, as
// Discord does.
func (s *Server) DenyThreads(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noThreads[channel] = true
}

// ExpireNonces forgets the nonces Discord enforces: they hold for a few
// minutes only, and a retry after that creates the message again.
func (s *Server) ExpireNonces() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.nonces)
}

// newIDLocked returns a snowflake later than any before.
func (s *Server) newIDLocked() string {
	id := uint64(time.Now().UnixMilli()-discordEpoch) << 22
	if id <= s.lastID {
		id = s.lastID + 1
	}
	s.lastID = id
	return strconv.FormatUint(id, 10)
}

// ---- what the tests read ----

// SentTo returns the messages the bot created in a channel (not edits, not
// nonce replays), in order.
func (s *Server) SentTo(channel string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, x := range s.sends {
		if x.Method == http.MethodPost && x.Channel == channel && !x.Deduped {
			out = append(out, x)
		}
	}
	return out
}

// AllSends returns every create and edit the bot made, nonce replays
// included.
func (s *Server) AllSends() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sends)
}

// Edits returns the edits of one message.
func (s *Server) Edits(id string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, x := range s.sends {
		if x.Method == http.MethodPatch && x.ID == id {
			out = append(out, x)
		}
	}
	return out
}

// ThreadStarts returns the threads the bot started.
func (s *Server) ThreadStarts() []ThreadStart {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.threads)
}

// CallbacksFor returns the responses to one interaction.
func (s *Server) CallbacksFor(interaction string) []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Callback
	for _, c := range s.callbacks {
		if c.Interaction == interaction {
			out = append(out, c)
		}
	}
	return out
}

// Followups returns the interaction follow-up messages the bot sent.
func (s *Server) Followups() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.followups)
}

// TypedIn counts the typing indicators the bot triggered in a channel.
func (s *Server) TypedIn(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.typing {
		if c == channel {
			n++
		}
	}
	return n
}

// Requested returns the REST requests ("METHOD /path?query") that start
// with prefix.
func (s *Server) Requested(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// Counts returns how many times the bot identified and resumed.
func (s *Server) Counts() (identifies, resumes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies, s.resumes
}

// Heartbeats counts the heartbeats the bot sent.
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}

// Intents returns the intents of the last Identify.
func (s *Server) Intents() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.intents
}

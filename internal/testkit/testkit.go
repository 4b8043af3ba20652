// Package testkit assembles the real engine, handoff flow, outbox
// dispatcher and store for tests (bot/app, as the binary does), on a fresh
// SQLite or PostgreSQL database, with a recording fake platform and an
// injected clock. Only tests import it.
package testkit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/rules"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/prompts"
)

// The workspace of the test customers and the agent channel.
const (
	Team         = "T1"
	AgentChannel = "CAGENTS"
)

// Clock is a settable clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Recorder is the fake platform: it records what would be posted, and fails
// every send while Fail is set.
type Recorder struct {
	mu   sync.Mutex
	msgs []bot.Outgoing
	Fail error
}

func (r *Recorder) Send(_ context.Context, m bot.Outgoing) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return "", r.Fail
	}
	r.msgs = append(r.msgs, m)
	return fmt.Sprintf("ts-%d", m.ID), nil
}

// All returns what was posted so far.
func (r *Recorder) All() []bot.Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Outgoing(nil), r.msgs...)
}

// ModelFunc adapts a function to bot.Model.
type ModelFunc func(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error)

func (f ModelFunc) Complete(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	return f(ctx, req)
}
func (f ModelFunc) Name() string { return "test model" }

var _ bot.Model = ModelFunc(nil)

// Harness is a wired engine with its parts exposed.
type Harness struct {
	T        testing.TB
	Ctx      context.Context
	Store    app.Store
	Engine   *bot.Engine
	Handoffs *handoff.Service
	Disp     *outbox.Dispatcher
	// Platform records what is sent to Slack, unless WithSenders put
	// adapters in its place.
	Platform *Recorder
	Clock    *Clock
	seq      int
}

// Options is what a harness is built from; Option functions change it.
type Options struct {
	// Engine is the engine's configuration (store, model, prompts, ...).
	Engine bot.Config
	// AgentPlatform, AgentWorkspace and AgentChannel are where handoffs
	// are announced: Slack, Team and AgentChannel by default.
	AgentPlatform  bot.Platform
	AgentWorkspace string
	AgentChannel   string
	// Now is the clock every part uses.
	Now func() time.Time
	// OpenStore opens the (empty) store; SQLite in a temporary folder by
	// default.
	OpenStore func(t testing.TB) app.Store
	// Handoffs, when set, changes the handoff flow's configuration.
	Handoffs func(*handoff.Config)
	// Senders, when set, builds the platforms' senders (adapters under
	// test) in place of the Recorder.
	Senders func(Parts) (map[bot.Platform]outbox.Sender, error)
	// Empty leaves the store as a new company's is: no customers, no
	// payments, no links (MustSeed is not run).
	Empty bool
}

// Parts are what WithSenders builds adapters from: the engine and the
// handoff flow they deliver to, and the harness's clock.
type Parts struct {
	app.Parts
	Clock *Clock
}

// WithSenders builds the platforms' senders from the engine and the
// handoff flow, as serve builds its adapters; the Recorder then receives
// nothing.
func WithSenders(f func(Parts) (map[bot.Platform]outbox.Sender, error)) Option {
	return func(o *Options) { o.Senders = f }
}

// Option changes how a harness is built.
type Option func(*Options)

// Empty starts from an empty store, as a company's first run does: no
// customers, payments or links. Combine it with WithDirectory and
// WithPayments for customers that live in the company's systems.
func Empty() Option { return func(o *Options) { o.Empty = true } }

// WithDirectory replaces the store's customers table as the customer
// directory.
func WithDirectory(d bot.Directory) Option {
	return WithEngine(func(c *bot.Config) { c.Directory = d })
}

// WithEngine changes the engine configuration.
func WithEngine(f func(*bot.Config)) Option { return func(o *Options) { f(&o.Engine) } }

// WithModel replaces the offline rules model.
func WithModel(m bot.Model) Option { return WithEngine(func(c *bot.Config) { c.Model = m }) }

// WithPayments replaces the store's payments table as the payment source.
func WithPayments(p bot.PaymentSource) Option {
	return WithEngine(func(c *bot.Config) { c.Payments = p })
}

// WithPrompts replaces the embedded default prompts for the engine.
func WithPrompts(p func() *prompts.Set) Option {
	return WithEngine(func(c *bot.Config) { c.Prompts = p })
}

// WithAgents announces handoffs on another platform or channel.
func WithAgents(p bot.Platform, workspace, channel string) Option {
	return func(o *Options) { o.AgentPlatform, o.AgentWorkspace, o.AgentChannel = p, workspace, channel }
}

// WithStore runs the harness on another store, such as PostgreSQL (see
// PostgresSchema).
func WithStore(open func(t testing.TB) app.Store) Option {
	return func(o *Options) { o.OpenStore = open }
}

// WithClock replaces the harness's settable clock (for adapters' tests that
// need real time, pass time.Now).
func WithClock(now func() time.Time) Option { return func(o *Options) { o.Now = now } }

// New returns a harness on a fresh database seeded by MustSeed. The
// Recorder receives Slack's messages unless WithSenders builds adapters.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	ctx := context.Background()
	set := Prompts(map[string]string{prompts.FileHours: AlwaysOpen})
	current := func() *prompts.Set { return set }
	clk := &Clock{now: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	o := Options{
		AgentPlatform: bot.Slack, AgentWorkspace: Team, AgentChannel: AgentChannel, Now: clk.Now,
		Engine: bot.Config{
			Model: rules.New(current), Prompts: current, IdleTimeout: time.Hour,
		},
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.OpenStore == nil {
		o.OpenStore = SQLite
	}
	st := o.OpenStore(t)
	if !o.Empty {
		MustSeed(t, st)
	}
	rec := &Recorder{}
	senders := func(p app.Parts) (map[bot.Platform]outbox.Sender, error) {
		if o.Senders != nil {
			return o.Senders(Parts{Parts: p, Clock: clk})
		}
		return map[bot.Platform]outbox.Sender{bot.Slack: rec}, nil
	}
	var hc handoff.Config
	if o.Handoffs != nil {
		o.Handoffs(&hc)
	}
	a, err := app.New(app.Config{
		Store: st, Model: o.Engine.Model, Prompts: o.Engine.Prompts, Now: o.Now,
		Agents:  app.Agents{Platform: o.AgentPlatform, Workspace: o.AgentWorkspace, Channel: o.AgentChannel},
		Engine:  o.Engine,
		Handoff: hc,
		Senders: senders,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Harness{T: t, Ctx: ctx, Store: st, Engine: a.Engine, Handoffs: a.Handoffs, Disp: a.Dispatcher, Platform: rec, Clock: clk}
}

// MustSeed adds customers C-1 (Ada, U-ada) and C-2 (Grace, U-grace), linked
// on Slack, and payments PAY-1001 and PAY-1002 (C-1) and PAY-2001 (C-2).
func MustSeed(t testing.TB, st bot.Admin) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []bot.Customer{{ID: "C-1", Name: "Ada"}, {ID: "C-2", Name: "Grace"}} {
		if err := st.PutCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	for i, p := range []bot.Payment{
		{Reference: "PAY-1001", CustomerID: "C-1", Amount: "120.00", Currency: "EUR", Status: bot.PaymentSettled, Merchant: "Books"},
		{Reference: "PAY-1002", CustomerID: "C-1", Amount: "49.90", Currency: "EUR", Status: bot.PaymentPending, Merchant: "Rail"},
		{Reference: "PAY-2001", CustomerID: "C-2", Amount: "300.00", Currency: "USD", Status: bot.PaymentSettled, Merchant: "Secret Shop"},
	} {
		p.CreatedAt = at.Add(time.Duration(i) * time.Hour)
		p.UpdatedAt = p.CreatedAt
		if err := st.PutPayment(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for user, customer := range map[string]string{"U-ada": "C-1", "U-grace": "C-2"} {
		id := bot.NewIdentity(bot.Slack, Team, user)
		if err := st.Link(ctx, bot.Link{Identity: id, CustomerID: customer, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
}

// DM is a direct message from user, in its own DM channel.
func (h *Harness) DM(user, text string) bot.Incoming {
	h.seq++
	return bot.Incoming{
		Key:       bot.ConversationKey{Platform: bot.Slack, Workspace: Team, Channel: "D-" + user},
		User:      user,
		UserName:  strings.TrimPrefix(user, "U-"),
		Text:      text,
		MessageID: fmt.Sprintf("m%d", h.seq),
		Private:   true,
	}
}

// Say sends a DM, delivers the outbox, and returns what was posted.
func (h *Harness) Say(user, text string) []bot.Outgoing {
	h.T.Helper()
	return h.Send(h.DM(user, text))
}

// Send handles in, delivers the outbox, and returns what was posted.
func (h *Harness) Send(in bot.Incoming) []bot.Outgoing {
	h.T.Helper()
	before := len(h.Platform.All())
	if _, err := h.Engine.Handle(h.Ctx, in); err != nil {
		h.T.Fatalf("handle %q: %v", in.Text, err)
	}
	h.Flush()
	return h.Platform.All()[before:]
}

// Flush delivers the outbox.
func (h *Harness) Flush() {
	h.T.Helper()
	if _, err := h.Disp.Flush(h.Ctx); err != nil {
		h.T.Fatalf("flush outbox: %v", err)
	}
}

// Agent writes in the thread of the handoff announced by announce.
func (h *Harness) Agent(announce bot.Outgoing, agentID, text string) (handoff.Result, []bot.Outgoing) {
	h.T.Helper()
	before := len(h.Platform.All())
	h.seq++
	res, err := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{
		Platform:  bot.Slack,
		Channel:   AgentChannel,
		Thread:    fmt.Sprintf("ts-%d", announce.ID),
		Agent:     handoff.Agent{ID: agentID, Name: "Agent " + agentID, Role: handoff.RoleAgent},
		Text:      text,
		MessageID: fmt.Sprintf("a%d", h.seq),
	})
	if err != nil {
		h.T.Fatalf("agent message %q: %v", text, err)
	}
	h.Flush()
	return res, h.Platform.All()[before:]
}

// Only returns the messages of one kind.
func Only(msgs []bot.Outgoing, kind bot.OutKind) []bot.Outgoing {
	var out []bot.Outgoing
	for _, m := range msgs {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// Replies returns the texts of bot replies, without the greeting.
func Replies(msgs []bot.Outgoing) []string {
	var out []string
	for _, m := range Only(msgs, bot.KindReply) {
		if strings.Contains(m.Text, "AI support assistant") {
			continue
		}
		out = append(out, m.Text)
	}
	return out
}

// MustOne returns the only element of xs.
func MustOne[T any](t testing.TB, xs []T, what string) T {
	t.Helper()
	if len(xs) != 1 {
		t.Fatalf("want exactly one %s, got %d: %+v", what, len(xs), xs)
	}
	return xs[0]
}

// SQLite opens an empty SQLite store in a temporary folder, the default.
func SQLite(t testing.TB) app.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

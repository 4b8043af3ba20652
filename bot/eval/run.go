package eval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/bot/rules"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/prompts"
)

// DefaultParallel is how many scenarios run at once when Config.Parallel is
// not set: enough to hide a remote model's latency, few enough not to trip
// its rate limit.
const DefaultParallel = 4

// Config says what to run scenarios against.
type Config struct {
	// NewModel builds the configured model (the offline rules model or an
	// OpenAI-compatible one), once per scenario so that no state leaks
	// between scenarios. nil means the offline rules model.
	NewModel func(prompts func() *prompts.Set) (bot.Model, error)
	// Prompts returns the prompt files in use (FIRSTLINE_PROMPTS_DIR or the
	// embedded defaults). nil means the defaults.
	Prompts func() *prompts.Set
	// Parallel is how many scenarios run at once; DefaultParallel when not
	// positive.
	Parallel int
	// OpenStore opens (creating) the scenario database at path, the SQL
	// store on a SQLite file as `firstline chat` uses.
	OpenStore func(ctx context.Context, path string) (app.Store, error)
	// TempDir is where the per-scenario databases go; "" means os.TempDir.
	TempDir string
	// Logger receives the engine's logs, with the scenario's name; nil
	// discards them.
	Logger *slog.Logger
	// Repeat runs each scenario this many times (at least once): a model
	// that answers right once in a while passes pass@1 often and pass^k
	// rarely (the reliability measure of τ-bench).
	Repeat int
}

func (c Config) withDefaults() Config {
	if c.Prompts == nil {
		set := prompts.Default()
		c.Prompts = func() *prompts.Set { return set }
	}
	if c.NewModel == nil {
		c.NewModel = func(p func() *prompts.Set) (bot.Model, error) { return rules.New(p), nil }
	}
	if c.Parallel <= 0 {
		c.Parallel = DefaultParallel
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Run plays the scenarios, at most cfg.Parallel at once, and reports on
// each in the order given. A scenario that cannot run (its database cannot
// be created, the model cannot be built, the engine fails) fails with the
// reason; scenarios not started when ctx is done fail as not run.
func Run(ctx context.Context, cfg Config, scenarios []Scenario) Report {
	cfg = cfg.withDefaults()
	repeat := max(cfg.Repeat, 1)
	start := time.Now()
	runs := make([][]Result, len(scenarios))
	for i := range runs {
		runs[i] = make([]Result, repeat)
	}
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		for k := range repeat {
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
				}
				if err := ctx.Err(); err != nil {
					runs[i][k] = newResult(sc)
					runs[i][k].Error = "not run: " + err.Error()
					return
				}
				runs[i][k] = runScenario(ctx, cfg, sc)
			})
		}
	}
	wg.Wait()
	results := make([]Result, len(scenarios))
	for i, rs := range runs {
		results[i] = merge(rs)
	}
	r := newReport(results, time.Since(start))
	r.Repeat = repeat
	return r
}

// merge makes one result of a scenario's runs: it passed when every run
// did (pass^k); it shows the first failing run, else the first.
func merge(rs []Result) Result {
	out := rs[0]
	passes := 0
	for _, r := range rs {
		if r.Passed {
			passes++
		} else if out.Passed {
			out = r
		}
	}
	out.Runs, out.Passes = len(rs), passes
	out.Passed = passes == len(rs)
	return out
}

func newResult(sc Scenario) Result {
	return Result{Name: sc.Name, File: sc.File, Line: sc.Line}
}

// runScenario plays one scenario on its own database.
func runScenario(ctx context.Context, cfg Config, sc Scenario) (res Result) {
	start := time.Now()
	res = newResult(sc)
	log := cfg.Logger.With("scenario", sc.Name)
	defer func() {
		// A panic in a model or in the engine fails this scenario, not the
		// whole run: the other results are still worth reading.
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "scenario panicked", "panic", p, "stack", string(debug.Stack()))
			res.Error = fmt.Sprintf("panic: %v", p)
		}
		res.Duration = time.Since(start)
		res.finish()
	}()
	s, err := newSession(ctx, cfg, sc, log)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer func() {
		if err := s.close(); err != nil {
			log.WarnContext(ctx, "remove scenario database", "err", err)
		}
	}()
	for i, t := range sc.Turns {
		tr, err := s.play(ctx, i+1, t)
		res.Turns = append(res.Turns, tr)
		s.turns = append(s.turns, tr)
		var stop stopError
		switch {
		case errors.As(err, &stop):
			msg := string(stop)
			if rest := len(sc.Turns) - i - 1; rest > 0 {
				msg += fmt.Sprintf("; the scenario stops here (%d turns not played)", rest)
			}
			res.Turns[i].Failures = append(res.Turns[i].Failures, msg)
			return res
		case err != nil:
			res.Error = fmt.Sprintf("turn %d: %v", i+1, err)
			return res
		}
	}
	return res
}

// stopError is a failure after which the scenario cannot go on (an agent
// asked to act on a handoff that was never opened).
type stopError string

func (e stopError) Error() string { return string(e) }

// The agent who acts in scenarios' handoff threads.
const (
	agentID   = "eval-agent"
	agentName = "Alex"
)

// Where the scenario's conversation and agent channel are: the places of
// `firstline chat`'s console.
const (
	workspace    = "local"
	channel      = "console"
	agentChannel = "agents"
	user         = "console-user"
)

// session is one scenario's product, assembled as `firstline chat`
// assembles it: the console platform for the customer and the agent
// channel, a real engine, handoff flow and dispatcher on a fresh database.
type session struct {
	sc       Scenario
	dir      string
	store    app.Store
	clock    *clock
	model    *recordingModel
	sender   *recordingSender
	disp     *outbox.Dispatcher
	handoffs *handoff.Service
	engine   *bot.Engine

	key      bot.ConversationKey
	userName string
	foreign  []datum

	convID    int64  // the conversation, once the customer wrote
	greeted   bool   // the greeting was delivered
	handoffID int64  // the latest handoff announced
	thread    string // the platform id of its announcement: its agent thread
	said      []string
	turns     []TurnResult
}

func newSession(ctx context.Context, cfg Config, sc Scenario, log *slog.Logger) (_ *session, err error) {
	dir, err := os.MkdirTemp(cfg.TempDir, "firstline-eval-*")
	if err != nil {
		return nil, fmt.Errorf("create the scenario's database folder: %w", err)
	}
	s := &session{sc: sc, dir: dir, clock: &clock{now: startTime(cfg.Prompts(), time.Now())}}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	if cfg.OpenStore == nil {
		return nil, errors.New("eval: no store to open the scenario's database with")
	}
	s.store, err = cfg.OpenStore(ctx, filepath.Join(dir, "eval.db"))
	if err != nil {
		return nil, err
	}
	if err := s.seed(ctx); err != nil {
		return nil, err
	}

	m, err := cfg.NewModel(cfg.Prompts)
	if err != nil {
		return nil, fmt.Errorf("build the model: %w", err)
	}
	s.model = &recordingModel{Model: m}
	s.sender = &recordingSender{}
	a, err := app.New(app.Config{
		Store: s.store, Model: s.model, Prompts: cfg.Prompts, Now: s.clock.Now, Logger: log,
		Agents: app.Agents{Platform: bot.Console, Workspace: workspace, Channel: agentChannel},
		Senders: func(app.Parts) (map[bot.Platform]outbox.Sender, error) {
			return map[bot.Platform]outbox.Sender{bot.Console: s.sender}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	s.disp, s.handoffs, s.engine = a.Dispatcher, a.Handoffs, a.Engine
	s.key = bot.ConversationKey{Platform: bot.Console, Workspace: workspace, Channel: channel}
	if sc.Place == PlaceChannel {
		// A thread in a shared channel: the conversation others can read.
		s.key.Channel, s.key.Thread = "support", "eval-thread"
	}
	return s, nil
}

// seed fills the database with the demo data and the scenario's own, links
// the console identity to the scenario's customer, and lists the data that
// customer must never see.
func (s *session) seed(ctx context.Context) error {
	now := s.clock.Now()
	if _, err := bot.SeedDemo(ctx, s.store, now); err != nil {
		return err
	}
	customers, payments := bot.DemoCustomers(), bot.DemoPayments(now)
	var own []bot.Customer
	for _, c := range s.sc.Seed.Customers {
		own = append(own, bot.Customer{ID: c.ID, Name: c.Name, Email: c.Email})
	}
	if res, err := s.store.ImportCustomers(ctx, own, false); err != nil {
		return fmt.Errorf("seed customers: %w", err)
	} else if len(res.Conflicts) > 0 {
		c := own[res.Conflicts[0].Index]
		return fmt.Errorf("seed customer %s: its email is on customer %s already", c.ID, res.Conflicts[0].Other)
	}
	customers = append(customers, own...)
	for _, p := range s.sc.Seed.Payments {
		created := now.Add(-p.Age)
		pay := bot.Payment{
			Reference: p.Reference, CustomerID: p.Customer, Amount: p.Amount, Currency: p.Currency,
			Status: bot.PaymentStatus(p.Status), Merchant: p.Merchant, CreatedAt: created, UpdatedAt: created,
		}
		if err := s.store.PutPayment(ctx, pay); err != nil {
			return fmt.Errorf("seed payment %s: %w", p.Reference, err)
		}
		payments = append(payments, pay)
	}
	s.userName = "Guest"
	if s.sc.Customer != CustomerNone {
		for _, c := range customers {
			if c.ID == s.sc.Customer {
				s.userName = c.Name
			}
		}
		id := bot.NewIdentity(bot.Console, workspace, user)
		if err := s.store.Link(ctx, bot.Link{Identity: id, CustomerID: s.sc.Customer, CreatedAt: now}); err != nil {
			return fmt.Errorf("link the chat user to customer %s: %w", s.sc.Customer, err)
		}
	}
	s.foreign = foreignData(s.sc.Customer, customers, payments)
	return nil
}

func (s *session) close() error {
	var errs []error
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

// play runs one turn, delivers the outbox, and checks the turn's
// expectations. An error means the scenario cannot go on.
func (s *session) play(ctx context.Context, num int, t Turn) (TurnResult, error) {
	// A minute between turns: a customer's pace, well inside the idle
	// timeout that would close the conversation.
	s.clock.advance(time.Minute)
	sentBefore, callsBefore := s.sender.count(), s.model.count()
	tr := TurnResult{Turn: num, Line: t.Line}

	switch t.Kind {
	case TurnSay:
		tr.Action = "say " + strconv.Quote(t.Text)
		s.said = append(s.said, t.Text)
		acc, err := s.engine.Handle(ctx, bot.Incoming{
			Key:       s.key,
			User:      user,
			UserName:  s.userName,
			Text:      t.Text,
			MessageID: "eval-" + strconv.Itoa(num),
			Private:   s.sc.Place == PlaceDM,
		})
		if err != nil {
			return tr, err
		}
		s.convID = acc.ConversationID
	case TurnPress:
		switch t.Button {
		case ButtonTalkToPerson:
			tr.Action = "press talk_to_person"
			if err := s.engine.TalkToPerson(ctx, s.convID, user); err != nil {
				return tr, err
			}
		case ButtonRate:
			tr.Action = fmt.Sprintf("press rate %d", t.Rating)
			if s.handoffID == 0 {
				return tr, stopError("the customer cannot rate: no handoff was opened in this conversation")
			}
			if err := s.engine.Rate(ctx, user, s.handoffID, t.Rating); err != nil {
				return tr, err
			}
		}
	case TurnAgent:
		tr.Action = "agent " + strconv.Quote(t.Text)
		if s.thread == "" {
			return tr, stopError("the agent cannot act: no handoff was opened in this conversation")
		}
		res, err := s.handoffs.AgentMessage(ctx, handoff.AgentMessage{
			Platform:  bot.Console,
			Channel:   agentChannel,
			Thread:    s.thread,
			Agent:     handoff.Agent{ID: agentID, Name: agentName, Role: handoff.RoleAgent},
			Text:      t.Text,
			MessageID: "eval-agent-" + strconv.Itoa(num),
		})
		if err != nil {
			return tr, err
		}
		tr.Outcome = string(res.Outcome)
	}
	if _, err := s.disp.Flush(ctx); err != nil {
		return tr, err
	}
	if err := s.observe(ctx, &tr, s.sender.since(sentBefore), s.model.since(callsBefore)); err != nil {
		return tr, err
	}
	tr.Failures = append(tr.Failures, s.check(t, &tr)...)
	return tr, nil
}

// observe records what a turn did: what the customer and the agents
// received, what the model answered, and where the conversation stands.
func (s *session) observe(ctx context.Context, tr *TurnResult, sent []bot.Outgoing, calls []modelCall) error {
	var reply []string
	for _, m := range sent {
		switch m.Kind {
		case bot.KindReply:
			if !s.greeted {
				// The engine queues the greeting before anything else
				// of a new conversation; it is the product's, not an
				// answer to the turn.
				s.greeted = true
				tr.Greeting = m.Text
				tr.delivered = append(tr.delivered, m.Text)
				continue
			}
			reply = append(reply, m.Text)
			tr.delivered = append(tr.delivered, m.Text)
		case bot.KindRelay:
			// As the customer reads it: "NAME (support): text".
			text := m.Author + " (support): " + m.Text
			tr.Relays = append(tr.Relays, m.Text)
			reply = append(reply, text)
			tr.delivered = append(tr.delivered, text)
		case bot.KindAnnounce:
			tr.Handoff = true
			s.handoffID = m.HandoffID
			s.thread = platformID(m)
			tr.Thread = append(tr.Thread, m.Text)
		case bot.KindThread, bot.KindUpdate:
			tr.Thread = append(tr.Thread, m.Text)
		}
	}
	tr.Reply = strings.Join(reply, "\n")
	for _, c := range calls {
		tr.Tokens.Prompt += c.resp.Usage.PromptTokens
		tr.Tokens.Completion += c.resp.Usage.CompletionTokens
		tr.Tokens.Calls++
		if c.err != nil {
			tr.Notes = append(tr.Notes, "the model failed: "+oneLine(c.err.Error(), 200))
		}
		if cannotHelpRe.MatchString(c.resp.Text) {
			tr.cannotHelp = true
		}
		for _, tc := range c.resp.ToolCalls {
			tr.ToolCalls = append(tr.ToolCalls, ToolCall{Name: tc.Name, Arguments: tc.Arguments})
		}
	}
	tr.modelAsked = len(calls) > 0
	if s.convID == 0 {
		return nil
	}
	return s.store.WithTx(ctx, func(tx bot.Tx) error {
		conv, err := tx.Conversation(ctx, s.convID)
		if err != nil {
			return err
		}
		tr.State = string(conv.State)
		if tr.Handoff {
			h, err := tx.Handoff(ctx, s.handoffID)
			if err != nil {
				return err
			}
			tr.HandoffReason = fmt.Sprintf("trigger %s: %s", h.Trigger, h.Reason)
		}
		return nil
	})
}

// startTime is when a scenario's clock starts: now, or, outside business
// hours, half an hour into the next opening, so that the suite checks the
// bot and not the time of day it happens to run at (hours have scenarios
// of their own in the handoff tests).
func startTime(set *prompts.Set, now time.Time) time.Time {
	now = now.UTC().Truncate(time.Second)
	h := set.Hours()
	if h.Open(now) {
		return now
	}
	if next, ok := h.NextOpen(now); ok {
		return next.Add(30 * time.Minute).UTC()
	}
	return now
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot/human"
	"github.com/firstlinehq/firstline/bot/links"
	"github.com/firstlinehq/firstline/prompts"
)

// MaxTextLen bounds the stored length of a customer message, in bytes. Longer
// messages are cut at a rune boundary: no platform sends more, and nothing
// downstream (model, agents) benefits from megabytes of text.
const MaxTextLen = 16 << 10

// Config wires an Engine. Store, Model, Payments, Escalator and Prompts are
// required.
type Config struct {
	Store     Store
	Model     Model
	Payments  PaymentSource
	Escalator Escalator
	// Prompts returns the prompt files currently live (hot-reloaded).
	Prompts func() *prompts.Set
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *Metrics
	// Notify is called after a commit that queued outgoing messages, to wake
	// the outbox dispatcher.
	Notify func()
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
	// Links is the allow-list of hosts that model-written replies may link
	// to; hosts linked from the prompt files are added to it.
	Links links.Policy
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

	// frustrated is the matcher of escalation.yaml's frustration phrases.
	frustrated atomic.Pointer[versionedMatcher]

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

type versionedMatcher struct {
	version string
	m       *human.Matcher
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

// Accepted is the outcome of storing an incoming message.
type Accepted struct {
	ConversationID int64
	MessageID      int64
	// Duplicate is true when the platform delivered this message before:
	// nothing was stored and nothing more is to be done.
	Duplicate bool
	// Pending is true when the message awaits a model turn (Process).
	Pending bool
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

// Accept stores an incoming message in one transaction, and in the same
// transaction settles what needs no model: a duplicate is dropped, a message
// to a conversation with an agent goes to the handoff thread, a request for a
// person opens a handoff, a typed rating is recorded. Once Accept returns
// nil, the message is safe: the platform may be acknowledged. When the
// result is Pending, Process runs the model turn.
func (e *Engine) Accept(ctx context.Context, in Incoming) (Accepted, error) {
	if err := validIncoming(in); err != nil {
		return Accepted{}, err
	}
	start := e.now()
	text, masked, cut := cleanText(in.Text)
	attachments, dropped := capAttachments(in.Attachments, e.cfg.Limits.MaxAttachments)
	set := e.cfg.Prompts()
	matcher, err := e.humanMatcher()
	if err != nil {
		return Accepted{}, err
	}
	// Canned messages follow the customer's own words: the language of a
	// matched phrase, else a confident guess; otherwise it stays as it was.
	asksHuman := false
	detected := ""
	if m, ok := matcher.Match(text); ok {
		asksHuman, detected = true, m.Lang
	}
	if l, ok := DetectLang(text); ok && detected == "" {
		detected = l
	}
	// Over a rate limit a message is stored but not answered; a request
	// for a person always goes through (promise 1). The limit is charged
	// once the message is known to be new (a platform's redelivery is not
	// another message), and once only, however often the transaction runs.
	var over verdict
	charged := false
	var acc Accepted
	var queued bool
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		acc, queued = Accepted{}, false
		conv, created, err := e.conversation(ctx, tx, in, start)
		if err != nil {
			return err
		}
		acc.ConversationID = conv.ID
		if detected != "" {
			conv.Lang = detected
		}
		if created {
			// The greeting comes first, so the model sees the conversation
			// in the order the customer does.
			greeting, err := set.Message("greeting", conv.Lang, nil)
			if err != nil {
				return err
			}
			if err := e.reply(ctx, tx, conv, greeting, set, false); err != nil {
				return err
			}
			queued = true
		}
		plan, err := e.planVerify(ctx, tx, conv, text, asksHuman, start)
		if err != nil {
			return err
		}
		msg := Message{
			ConversationID: conv.ID,
			Role:           RoleCustomer,
			Author:         in.User,
			AuthorName:     in.UserName,
			Text:           plan.stored(text),
			DedupeKey:      string(in.Key.Platform) + ":" + in.MessageID,
			CreatedAt:      start,
		}
		inserted, err := tx.AddMessage(ctx, &msg)
		if err != nil {
			return fmt.Errorf("store message: %w", err)
		}
		if !inserted {
			// Roll back: a redelivery must not open a conversation or greet.
			return errDuplicate
		}
		acc.MessageID = msg.ID
		if !asksHuman && !charged {
			over, charged = e.guard.check(in, start), true
		}
		conv.LastMessageAt = start
		if told, err := e.inputNotices(ctx, tx, conv, cut, dropped, set); err != nil {
			return err
		} else if told {
			queued = true
		}
		if plan.kind == verifyCancel {
			if _, err := e.applyVerify(ctx, tx, &conv, plan, set, start); err != nil {
				return err
			}
		}

		// Only the conversation's customer rates their handoff: in a
		// channel thread others may write too, and their digit is an
		// ordinary message that leaves the question open.
		pendingRating := conv.RatingHandoffID
		if in.User == conv.User {
			conv.RatingHandoffID = 0
		} else {
			pendingRating = 0
		}

		switch {
		case conv.State == StateWaiting || conv.State == StateAgent:
			if err := e.cfg.Escalator.CustomerMessage(ctx, tx, &conv, msg, attachments); err != nil {
				return fmt.Errorf("relay to handoff: %w", err)
			}
			queued = true
			// In shadow mode the bot still drafts an answer for the agents,
			// within the customer's rate limit like any model turn.
			acc.Pending = e.cfg.Shadow && !over.limited
		case pendingRating != 0 && isRating(text):
			n, _ := strconv.Atoi(strings.TrimSpace(text))
			if err := e.rate(ctx, tx, &conv, pendingRating, n, set); err != nil {
				return err
			}
			queued = true
		case asksHuman:
			e.metrics.humanRequest(in.Key.Platform)
			req := HandoffRequest{Trigger: TriggerPhrase, Reason: "The customer asked for a person."}
			if err := e.cfg.Escalator.Open(ctx, tx, &conv, req); err != nil {
				return fmt.Errorf("open handoff: %w", err)
			}
			queued = true
		case plan.handles():
			pending, err := e.applyVerify(ctx, tx, &conv, plan, set, start)
			if err != nil {
				return err
			}
			acc.Pending, queued = pending, queued || !pending
		case over.limited:
			e.log.InfoContext(ctx, "message over the rate limit: stored, not answered", "conversation", conv.ID, "platform", in.Key.Platform)
			if over.tell {
				if err := e.notice(ctx, tx, conv, "rate_limited", nil, set); err != nil {
					return err
				}
				queued = true
			}
		default:
			acc.Pending = true
		}
		if !acc.Pending {
			if _, err := tx.MarkProcessed(ctx, msg.ID); err != nil {
				return fmt.Errorf("mark processed: %w", err)
			}
		}
		return tx.UpdateConversation(ctx, conv)
	})
	if errors.Is(err, errDuplicate) {
		acc, err = Accepted{ConversationID: acc.ConversationID, Duplicate: true}, nil
	}
	if err != nil {
		return Accepted{}, fmt.Errorf("bot: accept message: %w", err)
	}
	if acc.Duplicate {
		e.metrics.duplicate(in.Key.Platform)
		e.log.DebugContext(ctx, "duplicate message ignored", "platform", in.Key.Platform, "conversation", acc.ConversationID)
		return acc, nil
	}
	e.metrics.received(in.Key.Platform)
	if masked > 0 {
		e.metrics.maskedSecrets(masked)
		e.log.InfoContext(ctx, "masked secrets in a customer message", "conversation", acc.ConversationID, "count", masked)
	}
	if queued {
		e.cfg.Notify()
	}
	return acc, nil
}

// conversation returns the open conversation at in.Key, closing one that has
// been idle too long (unless a person is involved) and creating a new one.
func (e *Engine) conversation(ctx context.Context, tx Tx, in Incoming, now time.Time) (Conversation, bool, error) {
	conv, err := tx.ActiveConversation(ctx, in.Key)
	switch {
	case err == nil:
		idle := now.Sub(conv.LastMessageAt) > e.cfg.IdleTimeout
		if !idle || conv.State != StateBot {
			if err := e.linkCustomer(ctx, tx, &conv); err != nil {
				return Conversation{}, false, err
			}
			return conv, false, nil
		}
		conv.ClosedAt = now
		if err := tx.UpdateConversation(ctx, conv); err != nil {
			return Conversation{}, false, fmt.Errorf("close idle conversation: %w", err)
		}
	case !errors.Is(err, ErrNotFound):
		return Conversation{}, false, fmt.Errorf("find conversation: %w", err)
	}
	conv = Conversation{
		Key:           in.Key,
		State:         StateBot,
		Private:       in.Private,
		User:          in.User,
		UserName:      in.UserName,
		OpenedAt:      now,
		LastMessageAt: now,
	}
	if err := e.linkCustomer(ctx, tx, &conv); err != nil {
		return Conversation{}, false, err
	}
	if err := tx.CreateConversation(ctx, &conv); err != nil {
		return Conversation{}, false, fmt.Errorf("create conversation: %w", err)
	}
	e.metrics.conversationOpened(in.Key.Platform)
	return conv, true, nil
}

// linkCustomer refreshes the customer linked to the conversation's user: an
// admin may link or unlink an identity while a conversation is open.
func (e *Engine) linkCustomer(ctx context.Context, tx Tx, conv *Conversation) error {
	id, err := tx.CustomerFor(ctx, conv.Identity())
	switch {
	case err == nil:
		conv.CustomerID = id
	case errors.Is(err, ErrNotFound):
		conv.CustomerID = ""
	default:
		return fmt.Errorf("look up linked customer: %w", err)
	}
	return nil
}

func (e *Engine) rate(ctx context.Context, tx Tx, conv *Conversation, handoffID int64, n int, set *prompts.Set) error {
	if err := tx.RateHandoff(ctx, handoffID, n); err != nil {
		return fmt.Errorf("rate handoff: %w", err)
	}
	e.metrics.rating(n)
	text, err := set.Message("rating_thanks", conv.Lang, map[string]any{"Rating": n})
	if err != nil {
		return err
	}
	return e.reply(ctx, tx, *conv, text, set, false)
}

// Rate records a rating given with a button (see handoff.ParseRating for
// the button's value). Only the customer of the handoff's conversation can
// rate, and only the handoff they were last asked about; pressing again
// changes nothing.
func (e *Engine) Rate(ctx context.Context, user string, handoffID int64, n int) error {
	if n < 1 || n > 5 {
		return fmt.Errorf("bot: rating %d out of range 1–5", n)
	}
	set := e.cfg.Prompts()
	queued := false
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		queued = false
		h, err := tx.Handoff(ctx, handoffID)
		if err != nil {
			return err
		}
		conv, err := tx.Conversation(ctx, h.ConversationID)
		if err != nil {
			return err
		}
		if conv.User != user {
			return ErrNotYours
		}
		if conv.RatingHandoffID != handoffID {
			return nil // already rated, or asked about another handoff
		}
		conv.RatingHandoffID = 0
		if err := e.rate(ctx, tx, &conv, handoffID, n, set); err != nil {
			return err
		}
		queued = true
		return tx.UpdateConversation(ctx, conv)
	})
	if err != nil {
		return fmt.Errorf("bot: rate handoff %d: %w", handoffID, err)
	}
	if queued {
		e.cfg.Notify()
	}
	return nil
}

// errDuplicate rolls back the transaction of a redelivered message.
var errDuplicate = errors.New("duplicate message")

// ErrNotYours is returned when someone presses a button on a conversation
// that is not theirs.
var ErrNotYours = errors.New("this conversation belongs to another customer")

// TalkToPerson opens a handoff for the "Talk to a person" button. Only the
// conversation's own customer can press it; pressing it again while a
// handoff is open changes nothing.
func (e *Engine) TalkToPerson(ctx context.Context, conversationID int64, user string) error {
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		conv, err := tx.Conversation(ctx, conversationID)
		if err != nil {
			return err
		}
		if conv.User != user {
			return ErrNotYours
		}
		if !conv.ClosedAt.IsZero() {
			// The button sits under an answer of a conversation that has
			// since closed: the request goes to the conversation open at
			// the same place now (promise 1: the press is never lost).
			in := Incoming{Key: conv.Key, User: user, UserName: conv.UserName, Private: conv.Private}
			if conv, _, err = e.conversation(ctx, tx, in, e.now()); err != nil {
				return err
			}
			if conv.User != user {
				return ErrNotYours
			}
		}
		if conv.State != StateBot {
			return nil // a person is asked for already
		}
		req := HandoffRequest{Trigger: TriggerButton, Reason: "The customer pressed \"Talk to a person\"."}
		if err := e.cfg.Escalator.Open(ctx, tx, &conv, req); err != nil {
			return err
		}
		return tx.UpdateConversation(ctx, conv)
	})
	if err != nil {
		return fmt.Errorf("bot: talk to a person in conversation %d: %w", conversationID, err)
	}
	e.metrics.humanRequest(Platform("button"))
	e.cfg.Notify()
	return nil
}

// Recover processes customer messages that were stored but not processed,
// as after a crash between storing a message and answering it. It leaves
// alone those of conversations another replica is answering, and those a
// replica that died was answering until its lease runs out: RunRecovery
// answers them then.
func (e *Engine) Recover(ctx context.Context) (int, error) {
	now := e.now()
	var ids []int64
	err := e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		var err error
		ids, err = tx.StrandedConversations(ctx, now, now, 1000)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bot: list unprocessed messages: %w", err)
	}
	for i, id := range ids {
		if err := e.Process(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

func validIncoming(in Incoming) error {
	switch {
	case !in.Key.Platform.Valid():
		return fmt.Errorf("bot: incoming message: unknown platform %q", in.Key.Platform)
	case in.Key.Channel == "":
		return errors.New("bot: incoming message: no channel")
	case in.User == "":
		return errors.New("bot: incoming message: no user")
	case in.MessageID == "":
		return errors.New("bot: incoming message: no message id")
	case !utf8.ValidString(in.Text):
		return errors.New("bot: incoming message: text is not UTF-8")
	}
	return nil
}

func isRating(text string) bool {
	t := strings.TrimSpace(text)
	return len(t) == 1 && t[0] >= '1' && t[0] <= '5'
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (e *Engine) humanMatcher() (*human.Matcher, error) {
	set := e.cfg.Prompts()
	if vm := e.matcher.Load(); vm != nil && vm.version == set.Version {
		return vm.m, nil
	}
	m, err := NewHumanMatcher(set)
	if err != nil {
		return nil, err
	}
	e.matcher.Store(&versionedMatcher{version: set.Version, m: m})
	return m, nil
}

// NewHumanMatcher builds the phrase matcher of a prompt set. Prompt reloads
// call it as an extra check, so a phrase file the matcher rejects never
// goes live.
func NewHumanMatcher(set *prompts.Set) (*human.Matcher, error) {
	langs := make([]human.Lang, 0, len(set.Phrases))
	for _, p := range set.Phrases {
		langs = append(langs, human.Lang{
			Code: p.Code, Phrases: p.Phrases, Alone: p.Alone,
			Fillers: p.Fillers, Negations: p.Negations, Except: p.Except,
		})
	}
	m, err := human.NewMatcher(langs)
	if err != nil {
		return nil, fmt.Errorf("bot: handoff phrases: %w", err)
	}
	return m, nil
}

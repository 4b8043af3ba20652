package discord

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// stubEngine and stubHandoffs stand in where the test is about the wire,
// not the product; nil functions do nothing.
type stubEngine struct {
	talk func(ctx context.Context, conversationID int64, user string) error
}

func (s *stubEngine) Accept(context.Context, bot.Incoming) (bot.Accepted, error) {
	return bot.Accepted{}, nil
}
func (s *stubEngine) Submit(context.Context, int64)                             {}
func (s *stubEngine) Active(context.Context, bot.ConversationKey) (bool, error) { return false, nil }
func (s *stubEngine) Feedback(context.Context, string, int64, bool) error       { return nil }
func (s *stubEngine) Intake(context.Context, bot.Intake) error                  { return nil }
func (s *stubEngine) IntakeDone(context.Context, bot.Platform, string) error    { return nil }
func (s *stubEngine) PendingIntakes(context.Context, bot.Platform, time.Duration, int) ([]bot.Intake, error) {
	return nil, nil
}
func (s *stubEngine) Rate(context.Context, string, int64, int) error              { return nil }
func (s *stubEngine) Cursors(context.Context, bot.Platform) ([]bot.Cursor, error) { return nil, nil }
func (s *stubEngine) Edited(context.Context, bot.Edit) (bool, error)              { return false, nil }
func (s *stubEngine) TalkToPerson(ctx context.Context, id int64, user string) error {
	if s.talk == nil {
		return nil
	}
	return s.talk(ctx, id, user)
}

type stubHandoffs struct{}

func (stubHandoffs) AgentMessage(context.Context, handoff.AgentMessage) (handoff.Result, error) {
	return handoff.Result{Outcome: handoff.Ignored}, nil
}
func (stubHandoffs) Claim(context.Context, int64, handoff.Agent) (handoff.Result, error) {
	return handoff.Result{}, nil
}
func (stubHandoffs) Resolve(context.Context, int64, handoff.Agent) (handoff.Result, error) {
	return handoff.Result{}, nil
}
func (stubHandoffs) SendDraft(context.Context, int64, handoff.Agent) (handoff.Result, error) {
	return handoff.Result{}, nil
}
func (stubHandoffs) Threads(context.Context, bot.Platform) ([]handoff.ThreadCursor, error) {
	return nil, nil
}
func (stubHandoffs) Queue(context.Context, handoff.Agent) (handoff.Result, error) {
	return handoff.Result{}, nil
}

var (
	_ Engine   = (*stubEngine)(nil)
	_ Handoffs = stubHandoffs{}
)

// newSender returns an adapter that is not running: Send needs only REST.
func newSender(t *testing.T, f *fakediscord.Server, logs *syncBuffer) *Adapter {
	t.Helper()
	cfg := Config{Token: "Bot " + testToken, APIURL: f.APIURL() + "/", AgentChannel: testAgents, AgentRole: testRole,
		Engine: &stubEngine{}, Handoffs: stubHandoffs{}}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSendErrorsClassified(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	logs := &syncBuffer{}
	a := newSender(t, f, logs)
	reply := func(ch string) bot.Outgoing {
		return bot.Outgoing{ID: 7, Platform: bot.Discord, Channel: ch, Kind: bot.KindReply, Text: "hello"}
	}
	tests := []struct {
		name      string
		fail      *failure
		m         bot.Outgoing
		permanent bool
		retry     bool // a rate limit: deferred, no failure counted
	}{
		{name: "unknown channel", m: reply("1999999999999999999"), permanent: true},
		{name: "user accepts no DMs (50007)", m: reply(testDMGone), permanent: true},
		{name: "missing permissions", fail: &failure{Status: http.StatusForbidden, Code: codeMissingPermissions}, m: reply(testGeneral), permanent: true},
		{name: "missing access", fail: &failure{Status: http.StatusForbidden, Code: codeMissingAccess}, m: reply(testGeneral), permanent: true},
		{name: "invalid form body", fail: &failure{Status: http.StatusBadRequest, Code: codeInvalidFormBody}, m: reply(testGeneral), permanent: true},
		{name: "server error", fail: &failure{Status: http.StatusInternalServerError}, m: reply(testGeneral)},
		{name: "rate limited", fail: &failure{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond}, m: reply(testAgents), retry: true},
		{name: "update of an undelivered card", m: bot.Outgoing{ID: 8, Channel: testAgents, Kind: bot.KindUpdate, Text: "x"}, permanent: true},
		{name: "no channel", m: reply(""), permanent: true},
		{name: "nothing to send", m: bot.Outgoing{ID: 9, Channel: testGeneral, Kind: bot.KindReply, Text: " \n "}, permanent: true},
	}
	for _, tt := range tests {
		if tt.fail != nil {
			f.FailNext(tt.m.Channel, *tt.fail)
		}
		_, err := a.Send(context.Background(), tt.m)
		if err == nil {
			t.Errorf("%s: Send succeeded", tt.name)
			continue
		}
		var se *outbox.SendError
		isSE := errors.As(err, &se)
		switch {
		case tt.permanent && (!isSE || !se.Permanent):
			t.Errorf("%s: %v, want permanent", tt.name, err)
		case tt.retry && (!isSE || se.Permanent || se.RetryAfter < time.Second):
			t.Errorf("%s: %v, want a rate limit honouring retry_after", tt.name, err)
		case !tt.permanent && !tt.retry && isSE:
			t.Errorf("%s: %v, want a plain error to retry", tt.name, err)
		}
		if !strings.HasPrefix(err.Error(), "discord: ") {
			t.Errorf("%s: error %q does not say where it comes from", tt.name, err)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the token is in the error: %v", tt.name, err)
		}
	}
	// The bucket discordgo knows to be exhausted is not tried again early.
	_, err := a.Send(context.Background(), reply(testAgents))
	var se *outbox.SendError
	if !errors.As(err, &se) || se.RetryAfter <= 0 {
		t.Errorf("send during the rate limit = %v, want deferred without a request", err)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token is in the logs")
	}
}

// A 429 defers the row without counting a failure, and it is delivered
// once the limit resets; other channels are served meanwhile.
func TestRateLimitHonoured(t *testing.T) {
	t.Parallel()
	rec := &recordingSender{}
	e := start(t, withSender(func(a *Adapter) outbox.Sender { rec.a = a; return rec }))
	e.f.FailNext(testDMAda, failure{Status: http.StatusTooManyRequests, RetryAfter: 2500 * time.Millisecond})
	e.f.Say(testDMAda, testAda, "status of PAY-1001")
	e.eventually("the 429", func() bool { return len(rec.errors()) == 1 })

	// Another conversation is served while Ada's waits.
	mention := e.f.Say(testGeneral, testLinus, "<@"+testBotID+"> hello")
	e.waitSent(mention, "AI support assistant")
	if n := len(e.f.SentTo(testDMAda)); n != 0 {
		t.Errorf("%d messages delivered to the rate-limited DM before retry_after", n)
	}

	e.waitSent(testDMAda, "AI support assistant")
	e.waitSent(testDMAda, "account linked") // unlinked: no account data
	errs := rec.errors()
	if len(errs) != 1 {
		t.Fatalf("send errors = %v, want exactly the one 429", errs)
	}
	var se *outbox.SendError
	if !errors.As(errs[0], &se) || se.Permanent || se.RetryAfter < 2*time.Second {
		t.Errorf("429 returned %v, want outbox.RetryAfter(≈2.5s): deferred, no failure counted", errs[0])
	}
	if got := len(e.f.Requested("POST /api/v9/channels/" + testDMAda + "/messages")); got < 3 {
		t.Errorf("%d posts to the DM, want the refused one and two deliveries", got)
	}
}

type recordingSender struct {
	a    *Adapter
	mu   sync.Mutex
	errs []error
}

func (r *recordingSender) Send(ctx context.Context, m bot.Outgoing) (string, error) {
	id, err := r.a.Send(ctx, m)
	if err != nil {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
	}
	return id, err
}

func (r *recordingSender) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// A long answer is split within Discord's limit, the buttons go on the last
// part, and a retry after a part failed posts nothing twice: every part
// carries a nonce of its own that Discord enforces.
func TestSendSplitsAndRetriesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	a := newSender(t, f, nil)
	para := strings.Repeat("word ", 300) // 1,500 characters
	m := bot.Outgoing{
		ID: 42, Platform: bot.Discord, Channel: testDMAda, Kind: bot.KindReply,
		Text:    strings.Join([]string{para, para, para}, "\n\n"),
		Buttons: []bot.Button{{Action: bot.ActionTalkToPerson, Label: "Talk to a person", Value: "3"}},
	}
	first, err := a.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	parts := f.SentTo(testDMAda)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	if first != parts[0].ID {
		t.Errorf("Send returned %s, want the first part's id %s", first, parts[0].ID)
	}
	for i, p := range parts {
		if n := len([]rune(p.Content)); n > MaxMessageLen {
			t.Errorf("part %d has %d characters", i, n)
		}
		var want []string
		if i == 2 {
			want = []string{"fl:talk_to_person:3"}
		}
		if !slices.Equal(p.CustomIDs(), want) {
			t.Errorf("part %d buttons = %v, want %v", i, p.CustomIDs(), want)
		}
	}
	if got := []string{parts[0].Nonce, parts[1].Nonce, parts[2].Nonce}; !slices.Equal(got, []string{"fl42", "fl42.1", "fl42.2"}) {
		t.Errorf("nonces = %v", got)
	}

	// Another row whose second part fails: the retry creates only what is
	// missing, and returns the same first id.
	m.ID = 43
	f.FailNext(testDMAda, failure{After: 1, Status: http.StatusInternalServerError})
	if _, err := a.Send(context.Background(), m); err == nil {
		t.Fatal("Send succeeded, want the injected failure")
	}
	retryFirst, err := a.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	created := f.SentTo(testDMAda)[3:]
	if len(created) != 3 {
		t.Errorf("%d messages created for a 3-part answer sent twice, want 3", len(created))
	}
	if len(created) > 0 && retryFirst != created[0].ID {
		t.Errorf("retry returned %s, want the first part's id %s", retryFirst, created[0].ID)
	}
}

// A card too long for one message is shortened, keeping its status line,
// so that updates can edit it whole.
func TestCardFitsOneMessage(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	a := newSender(t, f, nil)
	long := "**Handoff #9**: Ada\n" + strings.Repeat("> customer: blah blah\n", 200)
	id, err := a.Send(context.Background(), bot.Outgoing{ID: 50, Channel: testAgents, Kind: bot.KindAnnounce, HandoffID: 9,
		Text: long, Mention: true, Buttons: []bot.Button{{Action: bot.ActionClaim, Label: "Claim", Value: "9"}}})
	if err != nil {
		t.Fatal(err)
	}
	cards := f.SentTo(testAgents)
	if len(cards) != 1 || cards[0].ID != id || len([]rune(cards[0].Content)) > MaxMessageLen {
		t.Fatalf("cards = %+v, want one within the limit", cards)
	}
	if _, err := a.Send(context.Background(), bot.Outgoing{ID: 51, Channel: testAgents, Kind: bot.KindUpdate, ParentRef: id, HandoffID: 9,
		Text: long + "**Status:** claimed by Grace"}); err != nil {
		t.Fatal(err)
	}
	edits := f.Edits(id)
	if len(edits) != 1 || !strings.HasSuffix(edits[0].Content, "\n**Status:** claimed by Grace") || len([]rune(edits[0].Content)) > MaxMessageLen {
		t.Errorf("edit = %+v, want the status line kept within the limit", edits)
	}
	if edits[0].Components == nil || len(edits[0].CustomIDs()) != 0 {
		t.Errorf("edit components = %v, want an empty list (buttons removed)", edits[0].Components)
	}
	// A retried announcement (the thread failed last time) posts no second
	// card and accepts the existing thread.
	if again, err := a.Send(context.Background(), bot.Outgoing{ID: 50, Channel: testAgents, Kind: bot.KindAnnounce, HandoffID: 9, Text: long}); err != nil || again != id {
		t.Errorf("retried announce = %s, %v; want %s", again, err, id)
	}
}

// A button press whose action is slow is acknowledged within Discord's
// three seconds with a deferred update, and the feedback follows.
func TestSlowButtonAcknowledgedInTime(t *testing.T) {
	t.Parallel()
	f := fakediscord.New(t)
	release := make(chan struct{})
	eng := &stubEngine{talk: func(ctx context.Context, _ int64, _ string) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return bot.ErrNotYours
	}}
	a, err := New(Config{Token: testToken, APIURL: f.APIURL(), Engine: eng, Handoffs: stubHandoffs{}})
	if err != nil {
		t.Fatal(err)
	}
	a.ackAfter = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	eventually(t, "the session", a.Ready)
	msg := f.SayOffline(testDMAda, testBotID, "Hello")
	i := f.Click(testDMAda, msg, "fl:talk_to_person:7", testAda)
	eventually(t, "the deferred answer", func() bool { return len(f.CallbacksFor(i)) == 1 })
	if cb := f.CallbacksFor(i)[0]; cb.Type != 6 {
		t.Errorf("first answer = %+v, want a deferred update (6)", cb)
	}
	close(release)
	eventually(t, "the follow-up", func() bool { return len(f.Followups()) == 1 })
	fu := f.Followups()[0]
	if fu.Content != msgNotYours || fu.Flags != 64 || fu.Interaction != "interaction-token-"+i {
		t.Errorf("follow-up = %+v, want the refusal, ephemeral, on the interaction's token", fu)
	}
}

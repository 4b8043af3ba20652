package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

func TestPaymentStatusOwnPayment(t *testing.T) {
	h := testkit.New(t)
	got := testkit.Replies(h.Say("U-ada", "what's the status of PAY-1002?"))
	reply := testkit.MustOne(t, got, "reply")
	for _, want := range []string{"PAY-1002", "49.90", "pending"} {
		if !strings.Contains(reply, want) {
			t.Errorf("reply %q does not mention %q", reply, want)
		}
	}
}

func TestPaymentList(t *testing.T) {
	h := testkit.New(t)
	reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "what's the status of my payments?")), "reply")
	if !strings.Contains(reply, "PAY-1001") || !strings.Contains(reply, "PAY-1002") {
		t.Errorf("reply %q does not list Ada's payments", reply)
	}
	if strings.Contains(reply, "PAY-2001") {
		t.Errorf("reply %q lists another customer's payment", reply)
	}
}

// Another customer's reference reads exactly like an unknown one: the
// customer must not learn that it exists.
func TestOtherCustomersPaymentReadsAsNotFound(t *testing.T) {
	h := testkit.New(t)
	other := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "status of PAY-2001")), "reply")
	unknown := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "status of PAY-9999")), "reply")
	if strings.Contains(other, "300.00") || strings.Contains(other, "Secret Shop") || strings.Contains(other, "settled") {
		t.Fatalf("reply leaks another customer's payment: %q", other)
	}
	if strings.ReplaceAll(other, "PAY-2001", "REF") != strings.ReplaceAll(unknown, "PAY-9999", "REF") {
		t.Errorf("not yours and not found read differently:\n%q\n%q", other, unknown)
	}
}

func TestRepeatedMessageIDHandledOnce(t *testing.T) {
	h := testkit.New(t)
	in := h.DM("U-ada", "status of PAY-1001")
	first := h.Send(in)
	acc, err := h.Engine.Handle(h.Ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Duplicate {
		t.Errorf("second delivery not reported as duplicate: %+v", acc)
	}
	h.Flush()
	if all := h.Platform.All(); len(all) != len(first) {
		t.Errorf("a repeated delivery produced more messages: %d, then %d", len(first), len(all))
	}
}

// The human path never depends on the model: with a model that fails the
// test if it is called, asking for a person still opens a handoff.
func TestHumanRequestSkipsTheModel(t *testing.T) {
	var calls atomic.Int32
	h := testkit.New(t, testkit.WithModel(testkit.ModelFunc(func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
		calls.Add(1)
		return bot.ModelResponse{}, errors.New("model down")
	})))
	msgs := h.Say("U-ada", "can i talk to a human??")
	if calls.Load() != 0 {
		t.Errorf("the model was called %d times for an explicit request", calls.Load())
	}
	ann := testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
	if !ann.Mention || ann.Channel != testkit.AgentChannel {
		t.Errorf("announcement %+v: want a mention in %s", ann, testkit.AgentChannel)
	}
	if !strings.Contains(ann.Text, "C-1") || !strings.Contains(ann.Text, "asked for a person") {
		t.Errorf("announcement lacks customer or reason: %q", ann.Text)
	}
	ack := testkit.Replies(msgs)
	if len(ack) != 1 || !strings.Contains(ack[0], "person") || !strings.Contains(ack[0], "number 1") {
		t.Errorf("customer acknowledgement = %q; want a person promised with the queue position", ack)
	}
}

func TestHumanRequestInSwedishAnsweredInSwedish(t *testing.T) {
	h := testkit.New(t)
	msgs := h.Say("U-ada", "jag vill prata med en människa")
	if len(testkit.Only(msgs, bot.KindAnnounce)) != 1 {
		t.Fatalf("no handoff announced: %+v", msgs)
	}
	out := testkit.Only(msgs, bot.KindReply)
	if len(out) != 2 || !strings.Contains(out[0].Text, "AI-assistent") || !strings.Contains(out[1].Text, "person från vårt supportteam") {
		t.Errorf("greeting and acknowledgement not in Swedish: %+v", out)
	}
}

func TestModelFailureHandsOff(t *testing.T) {
	tests := []struct {
		name   string
		model  testkit.ModelFunc
		reason string
	}{
		{"error", func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
			return bot.ModelResponse{}, errors.New("connection refused")
		}, "could not be reached"},
		{"timeout", func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
			return bot.ModelResponse{}, context.DeadlineExceeded
		}, "did not answer in time"},
		{"empty answer", func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
			return bot.ModelResponse{}, nil
		}, "empty answer"},
		{"endless tools", func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
			return bot.ModelResponse{ToolCalls: []bot.ToolCall{{ID: "1", Name: bot.ToolPaymentStatus, Arguments: "{}"}}}, nil
		}, "kept calling tools"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testkit.New(t, testkit.WithModel(tt.model))
			msgs := h.Say("U-ada", "hello, question about my account")
			ann := testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "announcement")
			if !strings.Contains(ann.Text, tt.reason) {
				t.Errorf("announcement reason: %q does not contain %q", ann.Text, tt.reason)
			}
			if r := testkit.Replies(msgs); len(r) != 2 || !strings.Contains(r[0], "went wrong") {
				t.Errorf("customer replies = %q; want the error message and the handoff acknowledgement", r)
			}
		})
	}
}

// scripted returns a model that makes one tool call and then reports the
// tool's result back as its answer, so tests can see what the tool returned.
func scripted(name, args string) testkit.ModelFunc {
	return func(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == bot.ChatTool {
			return bot.ModelResponse{Text: "TOOL:" + last.Content}, nil
		}
		return bot.ModelResponse{ToolCalls: []bot.ToolCall{{ID: "c1", Name: name, Arguments: args}}}, nil
	}
}

// Authorization is in the tool layer: whatever the model asks, it gets only
// the linked customer's data, and bad calls are refused, not executed.
func TestToolAuthorization(t *testing.T) {
	tests := []struct {
		name, user, tool, args string
		want, notWant          []string
	}{
		{"own payment", "U-ada", bot.ToolPaymentStatus, `{"reference":"PAY-1001"}`, []string{`"reference":"PAY-1001"`, `"status":"settled"`}, []string{"C-1"}},
		{"injection: other customer's reference", "U-ada", bot.ToolPaymentStatus, `{"reference":"PAY-2001"}`, []string{`"error":"not_found"`}, []string{"300.00", "Secret Shop"}},
		{"list is own only", "U-ada", bot.ToolPaymentStatus, `{}`, []string{"PAY-1001", "PAY-1002"}, []string{"PAY-2001"}},
		{"unlinked user", "U-stranger", bot.ToolPaymentStatus, `{}`, []string{`"error":"not_linked"`}, []string{"PAY-"}},
		{"unknown tool", "U-ada", "delete_customer", `{}`, []string{`"error":"unknown_tool"`}, nil},
		{"malformed arguments", "U-ada", bot.ToolPaymentStatus, `{"reference":`, []string{`"error":"invalid_arguments"`}, []string{"PAY-1001"}},
		{"extra argument", "U-ada", bot.ToolPaymentStatus, `{"reference":"PAY-2001","customer_id":"C-2"}`, []string{`"error":"invalid_arguments"`}, []string{"300.00"}},
		{"hostile reference", "U-ada", bot.ToolPaymentStatus, `{"reference":"' OR 1=1 --"}`, []string{`"error":"invalid_arguments"`}, []string{"PAY-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testkit.New(t, testkit.WithModel(scripted(tt.tool, tt.args)))
			reply := testkit.MustOne(t, testkit.Replies(h.Say(tt.user, "anything")), "reply")
			for _, w := range tt.want {
				if !strings.Contains(reply, w) {
					t.Errorf("tool result %q lacks %q", reply, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(reply, w) {
					t.Errorf("tool result %q contains %q", reply, w)
				}
			}
		})
	}
}

func TestAccountDataOnlyInPrivate(t *testing.T) {
	h := testkit.New(t)
	in := h.DM("U-ada", "status of my payments")
	in.Private = false
	in.Key.Channel, in.Key.Thread = "C-general", "1700000000.000100"
	reply := testkit.MustOne(t, testkit.Replies(h.Send(in)), "reply")
	if strings.Contains(reply, "PAY-1001") || !strings.Contains(reply, "direct message") {
		t.Errorf("channel reply = %q; want an offer to continue in a direct message", reply)
	}
}

func TestSecondMissHandsOff(t *testing.T) {
	h := testkit.New(t)
	first := h.Say("U-ada", "my parrot speaks latin")
	if len(testkit.Only(first, bot.KindAnnounce)) != 0 {
		t.Fatal("handed off on the first miss")
	}
	if r := testkit.MustOne(t, testkit.Replies(first), "reply"); !strings.Contains(r, "person") {
		t.Errorf("first miss does not offer a person: %q", r)
	}
	second := h.Say("U-ada", "and it sings opera")
	ann := testkit.MustOne(t, testkit.Only(second, bot.KindAnnounce), "announcement")
	if !strings.Contains(ann.Text, "could not answer") {
		t.Errorf("announcement reason: %q", ann.Text)
	}
}

func TestFAQAnswer(t *testing.T) {
	h := testkit.New(t)
	reply := testkit.MustOne(t, testkit.Replies(h.Say("U-ada", "how long does a refund take?")), "reply")
	if !strings.Contains(reply, "5 business days") {
		t.Errorf("reply = %q; want the refund FAQ answer", reply)
	}
}

func TestGreetingDisclosesAIOnce(t *testing.T) {
	h := testkit.New(t)
	first := testkit.Only(h.Say("U-ada", "hi"), bot.KindReply)
	if len(first) == 0 || !strings.Contains(first[0].Text, "AI") || !strings.Contains(first[0].Text, "human") {
		t.Fatalf("first message does not disclose the AI and the way to a person: %+v", first)
	}
	for i := 1; i < len(first); i++ {
		if first[i].Text == first[i-1].Text {
			t.Errorf("the answer to \"hi\" repeats the greeting: %q", first[i].Text)
		}
	}
	for _, m := range testkit.Only(h.Say("U-ada", "status of PAY-1001"), bot.KindReply) {
		if strings.Contains(m.Text, "AI support assistant") {
			t.Errorf("greeting repeated: %q", m.Text)
		}
	}
}

func TestIdleConversationCloses(t *testing.T) {
	h := testkit.New(t)
	h.Say("U-ada", "status of PAY-1001")
	h.Clock.Advance(2 * time.Hour) // idle timeout is 1h
	msgs := h.Say("U-ada", "status of PAY-1002")
	var greeted bool
	for _, m := range testkit.Only(msgs, bot.KindReply) {
		greeted = greeted || strings.Contains(m.Text, "AI support assistant")
	}
	if !greeted {
		t.Error("no new conversation (greeting) after the idle timeout")
	}
}

func TestCardNumbersMaskedBeforeStorage(t *testing.T) {
	var seen []string
	var logs bytes.Buffer
	debugLog := func(c *bot.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := testkit.New(t, testkit.WithEngine(debugLog), testkit.WithModel(testkit.ModelFunc(func(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
		for _, m := range req.Messages {
			seen = append(seen, m.Content)
		}
		return bot.ModelResponse{Text: "ok"}, nil
	})))
	acc, err := h.Engine.Handle(h.Ctx, h.DM("U-ada", "my card is 4111 1111 1111 1111, why was it declined?"))
	if err != nil {
		t.Fatal(err)
	}
	err = h.Store.WithTx(h.Ctx, func(tx bot.Tx) error {
		m, err := tx.Message(h.Ctx, acc.MessageID)
		if err != nil {
			return err
		}
		if strings.Contains(m.Text, "4111 1111 1111 1111") || !strings.Contains(m.Text, "1111") {
			t.Errorf("stored text = %q; want the card masked to its last four digits", m.Text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seen {
		if strings.Contains(s, "4111 1111 1111 1111") {
			t.Errorf("the model saw the card number: %q", s)
		}
	}
	if strings.Contains(logs.String(), "4111") || !strings.Contains(logs.String(), "masked secrets") {
		t.Errorf("logs: want the masking noted and no card digits:\n%s", logs.String())
	}
}

// A turn whose conversation was handed to a person while the model was
// thinking is dropped: the customer hears from the person, not the bot.
func TestSlowTurnDroppedAfterHandoff(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	h := testkit.New(t, testkit.WithModel(testkit.ModelFunc(func(ctx context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
		close(started)
		<-release
		return bot.ModelResponse{Text: "LATE ANSWER"}, nil
	})))
	done := make(chan error)
	go func() {
		_, err := h.Engine.Handle(h.Ctx, h.DM("U-ada", "a slow question"))
		done <- err
	}()
	<-started
	// The human request is not delayed by the slow turn.
	if _, err := h.Engine.Accept(h.Ctx, h.DM("U-ada", "human please")); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.Flush()
	for _, m := range h.Platform.All() {
		if strings.Contains(m.Text, "LATE ANSWER") {
			t.Errorf("the bot answered after the handoff: %q", m.Text)
		}
	}
	if len(testkit.Only(h.Platform.All(), bot.KindAnnounce)) != 1 {
		t.Error("no handoff announced")
	}
}

func TestRejectsMalformedIncoming(t *testing.T) {
	h := testkit.New(t)
	tests := []struct {
		name   string
		mutate func(*bot.Incoming)
	}{
		{"no message id", func(in *bot.Incoming) { in.MessageID = "" }},
		{"no user", func(in *bot.Incoming) { in.User = "" }},
		{"unknown platform", func(in *bot.Incoming) { in.Key.Platform = "irc" }},
		{"invalid utf-8", func(in *bot.Incoming) { in.Text = "\xff\xfe" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := h.DM("U-ada", "hello")
			tt.mutate(&in)
			if _, err := h.Engine.Handle(h.Ctx, in); err == nil {
				t.Error("accepted a malformed message")
			}
		})
	}
}

func TestRecoverProcessesStoredMessages(t *testing.T) {
	h := testkit.New(t)
	acc, err := h.Engine.Accept(h.Ctx, h.DM("U-ada", "status of PAY-1001"))
	if err != nil || !acc.Pending {
		t.Fatalf("accept: %+v, %v", acc, err)
	}
	// A crash here: stored, not answered, and leased for the turn that
	// never ran. Once that lease ran out, recovery answers it once.
	if n, _ := h.Engine.Recover(h.Ctx); n != 0 {
		t.Fatalf("recover took up %d conversations while the message's turn lease ran", n)
	}
	h.Clock.Advance(bot.DefaultTurnLease / 3)
	if n, err := h.Engine.Recover(h.Ctx); err != nil || n != 1 {
		t.Fatalf("recover = %d, %v; want 1 conversation", n, err)
	}
	if n, _ := h.Engine.Recover(h.Ctx); n != 0 {
		t.Errorf("second recover processed %d conversations again", n)
	}
	h.Flush()
	if r := testkit.Replies(h.Platform.All()); len(r) != 1 || !strings.Contains(r[0], "PAY-1001") {
		t.Errorf("replies after recovery = %q", r)
	}
}

func TestSubmitBoundsAndDrains(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := testkit.New(t, testkit.WithEngine(func(c *bot.Config) { c.MaxConcurrentTurns = 2 }), testkit.WithModel(testkit.ModelFunc(func(context.Context, bot.ModelRequest) (bot.ModelResponse, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return bot.ModelResponse{Text: "done"}, nil
	})))
	for i := range 5 {
		acc, err := h.Engine.Accept(h.Ctx, h.DM(fmt.Sprintf("U-%d", i), "question"))
		if err != nil {
			t.Fatal(err)
		}
		h.Engine.Submit(h.Ctx, acc.ConversationID)
	}
	close(release)
	ctx, cancel := context.WithTimeout(h.Ctx, 10*time.Second)
	defer cancel()
	if err := h.Engine.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d turns ran at once; the bound is 2", p)
	}
	// After Drain nothing new starts: turns that were still queued, and a
	// message submitted now, wait for Recover, which answers each once.
	acc, err := h.Engine.Accept(h.Ctx, h.DM("U-late", "question"))
	if err != nil {
		t.Fatal(err)
	}
	h.Engine.Submit(h.Ctx, acc.ConversationID)
	if _, err := h.Engine.Recover(h.Ctx); err != nil {
		t.Fatal(err)
	}
	h.Flush()
	done := 0
	for _, r := range testkit.Replies(h.Platform.All()) {
		if r == "done" {
			done++
		}
	}
	if done != 6 {
		t.Errorf("%d turns answered; want 6, each message once", done)
	}
}

func TestActiveCursorsAndLinkByEmail(t *testing.T) {
	h := testkit.New(t)
	key := h.DM("U-ada", "x").Key
	if ok, err := h.Engine.Active(h.Ctx, key); err != nil || ok {
		t.Fatalf("Active before any message = %v, %v", ok, err)
	}
	in := h.DM("U-ada", "status of PAY-1001")
	h.Send(in)
	if ok, _ := h.Engine.Active(h.Ctx, key); !ok {
		t.Error("conversation not active after a message")
	}
	cursors, err := h.Engine.Cursors(h.Ctx, bot.Slack)
	if err != nil || len(cursors) != 1 || cursors[0].LastMessageID != in.MessageID || cursors[0].Key != key {
		t.Errorf("cursors = %+v, %v; want %q", cursors, err, in.MessageID)
	}
	h.Clock.Advance(2 * time.Hour)
	if ok, _ := h.Engine.Active(h.Ctx, key); ok {
		t.Error("idle conversation still active")
	}

	if err := h.Store.PutCustomer(h.Ctx, bot.Customer{ID: "C-9", Name: "Nine", Email: "nine@example.com"}); err != nil {
		t.Fatal(err)
	}
	newcomer := bot.NewIdentity(bot.Slack, testkit.Team, "U-nine")
	for _, tc := range []struct {
		id    bot.Identity
		email string
		want  bool
	}{
		{newcomer, "NINE@example.com", true},
		{newcomer, "nine@example.com", false},                                          // already linked
		{bot.NewIdentity(bot.Slack, testkit.Team, "U-ada"), "nine@example.com", false}, // linked by an admin: kept
		{bot.NewIdentity(bot.Slack, testkit.Team, "U-x"), "nobody@example.com", false},
		{bot.NewIdentity(bot.Slack, testkit.Team, "U-y"), "", false},
	} {
		got, err := h.Engine.LinkByEmail(h.Ctx, tc.id, bot.EmailProfile{Email: tc.email})
		if err != nil || got != tc.want {
			t.Errorf("LinkByEmail(%s, %q) = %v, %v; want %v", tc.id.User, tc.email, got, err, tc.want)
		}
	}
	reply := testkit.MustOne(t, testkit.Replies(h.Say("U-nine", "my payments")), "reply")
	if !strings.Contains(reply, "couldn't find any payments") {
		t.Errorf("a user linked by email got %q; want their (empty) payment list", reply)
	}
}

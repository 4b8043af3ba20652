package bot_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// company is the company's own systems as the engine sees them: customers
// and payments that the store does not hold. down makes every call fail.
type company struct {
	mu        sync.Mutex
	customers map[string]bot.Customer
	payments  []bot.Payment
	down      bool
}

func newCompany() *company {
	c := &company{customers: map[string]bot.Customer{}}
	for _, cu := range []bot.Customer{
		{ID: "C-API-1", Name: "Alice", Email: "alice@corp.example"},
		{ID: "C-API-2", Name: "Bob", Email: "bob@corp.example"},
	} {
		c.customers[cu.ID] = cu
	}
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	c.payments = []bot.Payment{
		{Reference: "PAY-A1", CustomerID: "C-API-1", Amount: "10.00", Currency: "EUR", Status: bot.PaymentSettled, Merchant: "Alice's Shop", CreatedAt: at, UpdatedAt: at},
		{Reference: "PAY-B1", CustomerID: "C-API-2", Amount: "99.00", Currency: "EUR", Status: bot.PaymentPending, Merchant: "Bob's Secret", CreatedAt: at, UpdatedAt: at},
	}
	return c
}

var errDown = errors.New("company API: HTTP 503")

func (c *company) setDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = down
}

func (c *company) Customer(_ context.Context, id string) (bot.Customer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return bot.Customer{}, errDown
	}
	cu, ok := c.customers[id]
	if !ok {
		return bot.Customer{}, bot.ErrNotFound
	}
	return cu, nil
}

func (c *company) CustomersByEmail(_ context.Context, email string) ([]bot.Customer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil, errDown
	}
	out := []bot.Customer{}
	for _, cu := range c.customers {
		if strings.EqualFold(cu.Email, strings.TrimSpace(email)) {
			out = append(out, cu)
		}
	}
	return out, nil
}

func (c *company) CustomerPayments(_ context.Context, id string, limit int) ([]bot.Payment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil, errDown
	}
	var out []bot.Payment
	for _, p := range c.payments {
		if p.CustomerID == id && len(out) < limit {
			out = append(out, p)
		}
	}
	return out, nil
}

func (c *company) Payment(_ context.Context, ref string) (bot.Payment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return bot.Payment{}, errDown
	}
	for _, p := range c.payments {
		if strings.EqualFold(p.Reference, ref) {
			return p, nil
		}
	}
	return bot.Payment{}, bot.ErrNotFound
}

const connectPage = "https://login.corp.example/chat-connect?src=bot"

// companyHarness is a new company's deployment: an empty store, customers
// and payments in the company's systems, the connect flow on.
func companyHarness(t *testing.T, opts ...testkit.Option) (*testkit.Harness, *company) {
	t.Helper()
	co := newCompany()
	opts = append([]testkit.Option{testkit.Empty(), testkit.WithDirectory(co), testkit.WithPayments(co),
		testkit.WithEngine(func(c *bot.Config) { c.ConnectURL = connectPage })}, opts...)
	return testkit.New(t, opts...), co
}

// connectOffer returns the state of the connect button in msgs.
func connectOffer(t *testing.T, msgs []bot.Outgoing) string {
	t.Helper()
	for _, m := range msgs {
		for _, b := range m.Buttons {
			if b.Action != bot.ActionOpenURL {
				continue
			}
			u, err := url.Parse(b.Value)
			if err != nil {
				t.Fatalf("connect button URL %q: %v", b.Value, err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != "https://login.corp.example/chat-connect" || u.Query().Get("src") != "bot" {
				t.Errorf("connect button URL %q does not keep the company's page", b.Value)
			}
			if b.Label != "Connect your account" {
				t.Errorf("button label = %q", b.Label)
			}
			return u.Query().Get("state")
		}
	}
	t.Fatalf("no connect button in %+v", msgs)
	return ""
}

func TestConnect(t *testing.T) {
	h, _ := companyHarness(t)
	state := connectOffer(t, h.Say("U-alice", "what's the status of my payments?"))
	if len(state) < 40 {
		t.Fatalf("state %q is too short to be unguessable", state)
	}
	// The state is stored hashed: nothing stored holds it.
	for _, text := range storedTexts(t, h, "U-alice") {
		if strings.Contains(text, state) {
			t.Errorf("a stored message holds the state: %q", text)
		}
	}

	got, err := h.Engine.Connect(h.Ctx, state, "C-API-1")
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if got.CustomerID != "C-API-1" || got.Identity.User != "U-alice" {
		t.Errorf("Connect = %+v", got)
	}
	h.Flush()
	if last := h.Platform.All(); !strings.Contains(last[len(last)-1].Text, "Your account is connected") {
		t.Errorf("the customer was not told: %q", last[len(last)-1].Text)
	}
	wantReply(t, "payments after connecting", h.Say("U-alice", "my payments"), "PAY-A1")

	// Replayed, the state changes nothing, even for another customer.
	if _, err := h.Engine.Connect(h.Ctx, state, "C-API-2"); !errors.Is(err, bot.ErrConnectUsed) {
		t.Errorf("replayed Connect: err = %v, want ErrConnectUsed", err)
	}
	reply := one(t, h.Say("U-alice", "my payments"))
	if !strings.Contains(reply, "PAY-A1") || strings.Contains(reply, "PAY-B1") {
		t.Errorf("after a replay, Alice reads %q", reply)
	}
	var actions []string
	for _, e := range auditLog(t, h) {
		if strings.HasPrefix(string(e.Action), "connect") {
			actions = append(actions, string(e.Action)+"/"+e.CustomerID+"/"+string(e.Outcome))
		}
	}
	if s := strings.Join(actions, " "); s != "connect_offer//allowed connect/C-API-1/allowed" {
		t.Errorf("audited: %s", s)
	}
}

func TestConnectRefusals(t *testing.T) {
	h, co := companyHarness(t)
	state := connectOffer(t, h.Say("U-bob", "status of my payments"))
	for _, tc := range []struct {
		name, state, customer string
		want                  error
	}{
		{"unknown state", strings.Repeat("A", len(state)), "C-API-2", bot.ErrConnectUnknown},
		{"malformed state", "../../etc", "C-API-2", bot.ErrConnectUnknown},
		{"empty state", "", "C-API-2", bot.ErrConnectUnknown},
		{"customer the directory does not know", state, "C-NOPE", bot.ErrUnknownCustomer},
	} {
		if _, err := h.Engine.Connect(h.Ctx, tc.state, tc.customer); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	co.setDown(true)
	if _, err := h.Engine.Connect(h.Ctx, state, "C-API-2"); !errors.Is(err, bot.ErrDirectoryDown) {
		t.Errorf("directory down: err = %v, want ErrDirectoryDown", err)
	}
	co.setDown(false)
	// None of that used the state up.
	if _, err := h.Engine.Connect(h.Ctx, state, "C-API-2"); err != nil {
		t.Fatalf("Connect after the refusals: %v", err)
	}

	// Ten minutes later a new state has expired.
	stale := connectOffer(t, h.Say("U-carol", "my payments"))
	h.Clock.Advance(bot.ConnectTTL)
	if _, err := h.Engine.Connect(h.Ctx, stale, "C-API-1"); !errors.Is(err, bot.ErrConnectExpired) {
		t.Errorf("expired: err = %v, want ErrConnectExpired", err)
	}
	connectOffer(t, h.Say("U-carol", "my payments")) // a new link, still unlinked
}

// Of many redemptions of one state at once, exactly one links.
func TestConnectRace(t *testing.T) {
	for _, st := range []struct {
		name string
		opts []testkit.Option
	}{
		{"sqlite", nil},
		{"postgres", []testkit.Option{testkit.WithStore(testkit.Postgres)}},
	} {
		t.Run(st.name, func(t *testing.T) {
			h, _ := companyHarness(t, st.opts...)
			state := connectOffer(t, h.Say("U-alice", "my payments"))
			var wg sync.WaitGroup
			errs := make(chan error, 10)
			for i := range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := h.Engine.Connect(context.Background(), state, []string{"C-API-1", "C-API-2"}[i%2])
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, bot.ErrConnectUsed):
					t.Errorf("Connect: %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d redemptions succeeded, want 1", ok)
			}
		})
	}
}

// With both ways on, an unlinked customer is offered both: the button and
// the email question of verification by code.
func TestConnectAndVerifyOffered(t *testing.T) {
	box := &codeBox{}
	h, _ := companyHarness(t, testkit.WithEngine(func(c *bot.Config) { c.Verifier = box }))
	msgs := h.Say("U-dora", "my payments")
	connectOffer(t, msgs)
	if replies := strings.Join(testkit.Replies(msgs), "|"); !strings.Contains(replies, "what is the email address on your account") {
		t.Errorf("no email question: %s", replies)
	}
	// The code goes to the address the company's directory holds.
	wantReply(t, "email given", h.Say("U-dora", "bob@CORP.example"), "6-digit code is on its way")
	if sent := box.last(t); sent.CustomerID != "C-API-2" || sent.Email != "bob@corp.example" {
		t.Errorf("code sent = %+v", sent)
	}
	wantReply(t, "right code", h.Say("U-dora", box.last(t).Code), "now linked")
	wantReply(t, "payments", h.Say("U-dora", "my payments"), "PAY-B1")
}

// A directory that cannot answer sends no code and says the flow is not
// available: nothing is guessed.
func TestVerifyDirectoryDown(t *testing.T) {
	box := &codeBox{}
	h, co := companyHarness(t, testkit.WithEngine(func(c *bot.Config) { c.Verifier = box; c.ConnectURL = "" }))
	h.Say("U-erin", "my payments")
	co.setDown(true)
	wantReply(t, "email given, directory down", h.Say("U-erin", "alice@corp.example"), "couldn't send a code right now")
	if box.count() != 0 {
		t.Errorf("%d codes sent with the directory down", box.count())
	}
	var reasons []string
	for _, e := range auditLog(t, h) {
		if e.Action == bot.AuditVerifySent {
			reasons = append(reasons, string(e.Outcome)+"/"+e.Reason)
		}
	}
	if s := strings.Join(reasons, " "); s != "refused/directory_unavailable" {
		t.Errorf("audited: %s", s)
	}
}

func TestDisconnect(t *testing.T) {
	h := testkit.New(t)
	wantReply(t, "linked", h.Say("U-ada", "status of PAY-1001"), "120.00")
	for _, text := range []string{"don't disconnect my account", "how do I disconnect my account from my card?"} {
		if got := one(t, h.Say("U-ada", text)); strings.Contains(got, "no longer connected") {
			t.Errorf("%q disconnected: %q", text, got)
		}
	}
	wantReply(t, "disconnect", h.Say("U-ada", "Please disconnect my account!"), "no longer connected")
	wantReply(t, "after disconnecting", h.Say("U-ada", "status of PAY-1001"), "can't see any account linked")
	wantReply(t, "again", h.Say("U-ada", "disconnect my account"), "isn't connected to any account")
	h.Say("U-grace", "hej")
	wantReply(t, "Swedish", h.Say("U-grace", "koppla bort mitt konto tack"), "inte längre kopplad")

	var got []string
	for _, e := range auditLog(t, h) {
		if e.Action == bot.AuditDisconnect {
			got = append(got, e.Actor+"/"+e.CustomerID+"/"+e.Reason)
		}
	}
	want := "slack:" + testkit.Team + ":U-ada/C-1/customer_request slack:" + testkit.Team + ":U-grace/C-2/customer_request"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("audited: %s; want %s", s, want)
	}
}

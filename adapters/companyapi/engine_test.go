package companyapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/firstlinehq/firstline/adapters/companyapi"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// The company API's view of testkit.MustSeed's customers. Amounts and
// merchants differ from the store's seed, so a reply shows which source
// answered.
var (
	apiPay1001 = record(map[string]any{"reference": "PAY-1001", "customer_id": "C-1", "amount": "120.50", "merchant": "Books API", "created_at": "2026-10-01T12:00:00Z"})
	apiPay1002 = record(map[string]any{"reference": "PAY-1002", "customer_id": "C-1", "amount": "49.95", "status": "pending", "merchant": "Rail API", "created_at": "2026-10-01T13:00:00Z"})
	apiPay2001 = record(map[string]any{"reference": "PAY-2001", "customer_id": "C-2", "amount": "300.00", "currency": "USD", "merchant": "Secret Shop", "created_at": "2026-10-01T14:00:00Z"})
)

// fakeAPI is the company's payment API: bodies by request path, 404 for
// anything else. It checks the bearer token and records what was asked.
type fakeAPI struct {
	mu     sync.Mutex
	bodies map[string]string
	status int // when non-zero, every request gets this status
	asked  []string
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{bodies: map[string]string{
		"/customers/C-1/payments": list(apiPay1002, apiPay1001), // newest first
		"/customers/C-2/payments": list(apiPay2001),
		"/payments/PAY-1001":      apiPay1001,
		"/payments/PAY-1002":      apiPay1002,
		"/payments/PAY-2001":      apiPay2001,
	}}
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r.URL.EscapedPath())
	if r.Header.Get("Authorization") != "Bearer "+secret {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	body, ok := f.bodies[r.URL.EscapedPath()]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

func (f *fakeAPI) set(path, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[path] = body
}

func (f *fakeAPI) wasAsked(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.asked {
		if p == path {
			return true
		}
	}
	return false
}

// newHarness wires the engine with the company API as its payment source.
func newHarness(t *testing.T, api *fakeAPI) *testkit.Harness {
	t.Helper()
	srv := serve(t, api.ServeHTTP)
	client, err := companyapi.New(companyapi.Config{BaseURL: srv.URL + "/", Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	return testkit.New(t, testkit.WithPayments(client))
}

// say sends a DM and returns the bot's one reply.
func say(t *testing.T, h *testkit.Harness, user, text string) string {
	t.Helper()
	return testkit.MustOne(t, testkit.Replies(h.Say(user, text)), "reply to "+text)
}

func mustContain(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%q does not contain %q", s, w)
		}
	}
}

func mustNotContain(t *testing.T, s string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(s, u) {
			t.Errorf("%q contains %q", s, u)
		}
	}
}

// Other customers' data, as the API holds it: none of it may reach Ada.
var grace = []string{"PAY-2001", "300.00", "Secret Shop", "USD"}

func TestEngineOwnPaymentFromAPI(t *testing.T) {
	api := newFakeAPI()
	h := newHarness(t, api)
	got := say(t, h, "U-ada", "status of PAY-1002")
	mustContain(t, got, "PAY-1002", "49.95", "pending", "Rail API")
	if !api.wasAsked("/payments/PAY-1002") {
		t.Errorf("the API was not asked; asked: %v", api.asked)
	}
}

func TestEngineListFromAPI(t *testing.T) {
	api := newFakeAPI()
	h := newHarness(t, api)
	got := say(t, h, "U-ada", "my payments")
	mustContain(t, got, "PAY-1002", "49.95", "PAY-1001", "120.50")
	mustNotContain(t, got, grace...)
	if i, j := strings.Index(got, "PAY-1002"), strings.Index(got, "PAY-1001"); i > j {
		t.Errorf("the API's order (newest first) was not kept: %q", got)
	}
	if !api.wasAsked("/customers/C-1/payments") {
		t.Errorf("the API was not asked for C-1's payments; asked: %v", api.asked)
	}
}

func TestEngineCustomerUnknownToAPI(t *testing.T) {
	api := newFakeAPI()
	delete(api.bodies, "/customers/C-1/payments") // the API answers 404
	h := newHarness(t, api)
	got := say(t, h, "U-ada", "my payments")
	mustContain(t, got, "couldn't find any payments")
}

// Another customer's reference reads exactly like an unknown one.
func TestEngineOtherCustomersReferenceFromAPI(t *testing.T) {
	h := newHarness(t, newFakeAPI())
	other := say(t, h, "U-ada", "status of PAY-2001")
	unknown := say(t, h, "U-ada", "status of PAY-9999")
	mustNotContain(t, other, "300.00", "Secret Shop", "USD", "settled")
	if strings.ReplaceAll(other, "PAY-2001", "REF") != strings.ReplaceAll(unknown, "PAY-9999", "REF") {
		t.Errorf("not yours and not found read differently:\n%q\n%q", other, unknown)
	}
}

// A misbehaving API that answers a question about Ada's payment with
// Grace's is refused too: the tool checks what came back, not what was
// asked.
func TestEngineMisbehavingAPISinglePayment(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"another payment entirely", apiPay2001},
		{"the asked reference, another customer", record(map[string]any{
			"reference": "PAY-1001", "customer_id": "C-2", "amount": "300.00", "currency": "USD", "merchant": "Secret Shop",
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI()
			api.set("/payments/PAY-1001", tt.body)
			h := newHarness(t, api)
			got := say(t, h, "U-ada", "status of PAY-1001")
			unknown := say(t, h, "U-ada", "status of PAY-9999")
			mustNotContain(t, got, grace[1:]...)
			if strings.ReplaceAll(got, "PAY-1001", "REF") != strings.ReplaceAll(unknown, "PAY-9999", "REF") {
				t.Errorf("a misdirected record does not read as not found:\n%q\n%q", got, unknown)
			}
		})
	}
}

func TestEngineMisbehavingAPIList(t *testing.T) {
	api := newFakeAPI()
	api.set("/customers/C-1/payments", list(apiPay2001, apiPay1002, apiPay1001))
	h := newHarness(t, api)
	got := say(t, h, "U-ada", "my payments")
	mustContain(t, got, "PAY-1002", "PAY-1001")
	mustNotContain(t, got, grace...)
}

// When the API fails, the customer is handed to a person; agents learn
// why, and nobody sees the token.
func TestEngineAPIFailureHandsOff(t *testing.T) {
	tests := []struct {
		name   string
		status int
		reason string
	}{
		{"unavailable", http.StatusServiceUnavailable, "HTTP 503"},
		{"token refused", http.StatusUnauthorized, "FIRSTLINE_PAYMENTS_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI()
			api.status = tt.status
			h := newHarness(t, api)
			msgs := h.Say("U-ada", "status of PAY-1001")
			ann := testkit.MustOne(t, testkit.Only(msgs, bot.KindAnnounce), "handoff announcement")
			mustContain(t, ann.Text, tt.reason)
			for _, m := range msgs {
				mustNotContain(t, m.Text, secret)
			}
		})
	}
}

package companyapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/adapters/companyapi"
	"github.com/firstlinehq/firstline/bot"
)

// secret is the bearer token every test client uses. No error may contain it.
const secret = "tok-9f2c1e-do-not-leak"

// omit deletes a field in record.
type omit struct{}

// record returns a PAYMENT as JSON: PAY-1001 of C-1001, with changes applied
// (a value of omit{} deletes the field).
func record(changes map[string]any) string {
	m := map[string]any{
		"reference":   "PAY-1001",
		"customer_id": "C-1001",
		"amount":      "120.00",
		"currency":    "EUR",
		"status":      "settled",
		"merchant":    "Books & Co",
		"created_at":  "2026-10-01T12:00:00Z",
		"updated_at":  "2026-10-02T08:30:00+02:00",
	}
	return withChanges(m, changes)
}

// withChanges returns m as JSON with changes applied (a value of omit{} deletes
// the field).
func withChanges(m, changes map[string]any) string {
	for k, v := range changes {
		if _, ok := v.(omit); ok {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// list wraps records as the list endpoint's body.
func list(records ...string) string {
	return `{"payments":[` + strings.Join(records, ",") + `]}`
}

// pay1001 is record(nil) as a bot.Payment.
var pay1001 = bot.Payment{
	Reference:  "PAY-1001",
	CustomerID: "C-1001",
	Amount:     "120.00",
	Currency:   "EUR",
	Status:     bot.PaymentSettled,
	Merchant:   "Books & Co",
	CreatedAt:  time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC),
	UpdatedAt:  time.Date(2026, 10, 2, 6, 30, 0, 0, time.UTC),
}

// cmpPayments compares payments, times by instant.
var cmpPayments = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// serve starts a test server answering every request with h.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// reply answers every request with status and body as JSON.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// mustNew returns a client for baseURL with the test token and a short
// timeout.
func mustNew(t *testing.T, baseURL string) *companyapi.Client {
	t.Helper()
	c, err := companyapi.New(companyapi.Config{BaseURL: baseURL, Token: secret, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("New(%q): %v", baseURL, err)
	}
	return c
}

// errWant says what an error must be.
type errWant struct {
	is       []error  // errors.Is must hold for each
	contains []string // substrings of the message
	exact    string   // the whole message, when set
}

// checkErr fails unless err matches want. Every error checked here is also
// checked for the token, so the rule "the token never appears in an error"
// is asserted over every error case of this file.
func checkErr(t *testing.T, err error, want errWant) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one")
	}
	msg := err.Error()
	if strings.Contains(msg, secret) {
		t.Errorf("error contains the token: %q", msg)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if want.exact != "" && msg != want.exact {
		t.Errorf("error = %q, want %q", msg, want.exact)
	}
	for _, target := range want.is {
		if !errors.Is(err, target) {
			t.Errorf("error %q does not wrap %v", msg, target)
		}
	}
	for _, s := range want.contains {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not mention %q", msg, s)
		}
	}
}

func TestPayment(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    bot.Payment
		wantErr *errWant
		// notIn are substrings the error must not contain: server values.
		notIn []string
	}{
		{name: "all fields", status: 200, body: record(nil), want: pay1001},
		{
			name: "no updated_at", status: 200, body: record(map[string]any{"updated_at": omit{}}),
			want: func() bot.Payment { p := pay1001; p.UpdatedAt = time.Time{}; return p }(),
		},
		{
			name: "null updated_at and merchant", status: 200, body: record(map[string]any{"updated_at": nil, "merchant": nil}),
			want: func() bot.Payment { p := pay1001; p.UpdatedAt, p.Merchant = time.Time{}, ""; return p }(),
		},
		{
			name:   "lower-case currency, negative amount, fractional seconds, unknown field",
			status: 200,
			body: record(map[string]any{
				"currency": "sek", "amount": "-15.5", "status": "refunded",
				"created_at": "2026-10-01T12:00:00.250-05:00", "card_last4": "4242",
			}),
			want: func() bot.Payment {
				p := pay1001
				p.Currency, p.Amount, p.Status = "SEK", "-15.5", bot.PaymentRefunded
				p.CreatedAt = time.Date(2026, 10, 1, 17, 0, 0, 250e6, time.UTC)
				return p
			}(),
		},
		{
			name: "404", status: 404, body: `{"error":"no such payment"}`,
			wantErr: &errWant{is: []error{bot.ErrNotFound}, exact: "payments: GET /payments/PAY-1001: HTTP 404: not found"},
		},
		{
			name: "500", status: 500, body: "internal error",
			wantErr: &errWant{exact: "payments: GET /payments/PAY-1001: HTTP 500"},
		},
		{
			name: "503", status: 503, body: "<html>maintenance</html>",
			wantErr: &errWant{exact: "payments: GET /payments/PAY-1001: HTTP 503"},
			notIn:   []string{"maintenance"},
		},
		{
			name: "401", status: 401, body: `{"error":"bad token ` + secret + `"}`,
			wantErr: &errWant{is: []error{companyapi.ErrUnauthorized}, contains: []string{"HTTP 401", "FIRSTLINE_PAYMENTS_TOKEN"}},
		},
		{
			name: "403", status: 403,
			wantErr: &errWant{is: []error{companyapi.ErrUnauthorized}, contains: []string{"HTTP 403", "FIRSTLINE_PAYMENTS_TOKEN"}},
		},
		{
			name: "204", status: 204,
			wantErr: &errWant{exact: "payments: GET /payments/PAY-1001: HTTP 204"},
		},
		{
			name: "not JSON", status: 200, body: "<html>hello</html>",
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"invalid JSON"}},
		},
		{
			name: "truncated JSON", status: 200, body: record(nil)[:40],
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"invalid JSON"}},
		},
		{
			name: "empty body", status: 200, body: "",
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"invalid JSON"}},
		},
		{
			name: "array instead of object", status: 200, body: "[" + record(nil) + "]",
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"not a JSON object"}},
		},
		{
			name: "trailing data", status: 200, body: record(nil) + ` {"x":1}`,
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"data after the object"}},
		},
		{
			name: "bad status", status: 200, body: record(map[string]any{"status": "bogus-status"}),
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, exact: "payments: GET /payments/PAY-1001: invalid response: status: not one of settled, pending, failed, refunded"},
			notIn:   []string{"bogus-status"},
		},
		{
			name: "status in the wrong case", status: 200, body: record(map[string]any{"status": "Settled"}),
			wantErr: &errWant{contains: []string{"status:"}},
		},
		{
			name: "missing customer_id", status: 200, body: record(map[string]any{"customer_id": omit{}}),
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"customer_id: missing"}},
		},
		{
			name: "null customer_id", status: 200, body: record(map[string]any{"customer_id": nil}),
			wantErr: &errWant{contains: []string{"customer_id: missing"}},
		},
		{
			name: "customer_id in another case", status: 200,
			body:    `{"reference":"PAY-1001","Customer_ID":"C-1","amount":"1.00","currency":"EUR","status":"settled","created_at":"2026-10-01T12:00:00Z"}`,
			wantErr: &errWant{contains: []string{"customer_id: missing"}},
		},
		{
			name: "duplicate customer_id", status: 200,
			body:    `{"reference":"PAY-1001","customer_id":"C-1","customer_id":"C-2","amount":"1.00","currency":"EUR","status":"settled","created_at":"2026-10-01T12:00:00Z"}`,
			wantErr: &errWant{contains: []string{`duplicate key "customer_id"`}},
		},
		{
			name: "customer_id a number", status: 200, body: record(map[string]any{"customer_id": 1001}),
			wantErr: &errWant{contains: []string{"customer_id: want a string, got number"}},
		},
		{
			name: "empty reference", status: 200, body: record(map[string]any{"reference": ""}),
			wantErr: &errWant{contains: []string{"reference: missing"}},
		},
		{
			name: "bad created_at", status: 200, body: record(map[string]any{"created_at": "01/10/2026 12:00"}),
			wantErr: &errWant{contains: []string{"created_at: not an RFC 3339 time"}},
			notIn:   []string{"01/10/2026"},
		},
		{
			name: "created_at without zone", status: 200, body: record(map[string]any{"created_at": "2026-10-01T12:00:00"}),
			wantErr: &errWant{contains: []string{"created_at: not an RFC 3339 time"}},
		},
		{
			name: "missing created_at", status: 200, body: record(map[string]any{"created_at": omit{}}),
			wantErr: &errWant{contains: []string{"created_at: missing"}},
		},
		{
			name: "zero created_at", status: 200, body: record(map[string]any{"created_at": "0001-01-01T00:00:00Z"}),
			wantErr: &errWant{contains: []string{"created_at: not an RFC 3339 time"}},
		},
		{
			name: "bad updated_at", status: 200, body: record(map[string]any{"updated_at": "yesterday"}),
			wantErr: &errWant{contains: []string{"updated_at: not an RFC 3339 time"}},
		},
		{
			name: "amount with a comma", status: 200, body: record(map[string]any{"amount": "120,00"}),
			wantErr: &errWant{contains: []string{"amount: not a decimal string"}},
		},
		{
			name: "amount a JSON number", status: 200, body: record(map[string]any{"amount": 120.0}),
			wantErr: &errWant{contains: []string{"amount: want a string, got number"}},
		},
		{
			name: "amount with exponent", status: 200, body: record(map[string]any{"amount": "1e3"}),
			wantErr: &errWant{contains: []string{"amount: not a decimal string"}},
		},
		{
			name: "currency of 4 letters", status: 200, body: record(map[string]any{"currency": "EURO"}),
			wantErr: &errWant{contains: []string{"currency: not a 3-letter currency code"}},
		},
		{
			name: "currency a symbol", status: 200, body: record(map[string]any{"currency": "€"}),
			wantErr: &errWant{contains: []string{"currency:"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, reply(tt.status, tt.body))
			got, err := mustNew(t, srv.URL).Payment(t.Context(), "PAY-1001")
			if tt.wantErr != nil {
				checkErr(t, err, *tt.wantErr)
				for _, s := range tt.notIn {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q quotes the server's %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Payment: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpPayments); diff != "" {
				t.Errorf("Payment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCustomerPayments(t *testing.T) {
	newest := record(map[string]any{"reference": "PAY-1003", "status": "pending", "created_at": "2026-10-03T09:00:00Z", "updated_at": omit{}})
	middle := record(map[string]any{"reference": "PAY-1002", "status": "failed", "created_at": "2026-10-02T09:00:00Z"})
	oldest := record(nil)
	pay := func(ref string, status bot.PaymentStatus, created, updated time.Time) bot.Payment {
		p := pay1001
		p.Reference, p.Status, p.CreatedAt, p.UpdatedAt = ref, status, created, updated
		return p
	}
	all := []bot.Payment{
		pay("PAY-1003", bot.PaymentPending, time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC), time.Time{}),
		pay("PAY-1002", bot.PaymentFailed, time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC), pay1001.UpdatedAt),
		pay1001,
	}
	tests := []struct {
		name    string
		status  int
		body    string
		limit   int
		want    []bot.Payment
		wantErr *errWant
	}{
		{name: "all, order kept", status: 200, body: list(newest, middle, oldest), limit: 5, want: all},
		{name: "limit cuts the oldest", status: 200, body: list(newest, middle, oldest), limit: 2, want: all[:2]},
		{name: "limit 1", status: 200, body: list(newest, middle, oldest), limit: 1, want: all[:1]},
		{name: "no limit", status: 200, body: list(newest, middle, oldest), limit: 0, want: all},
		{name: "order is the API's, not re-sorted", status: 200, body: list(oldest, newest), limit: 5, want: []bot.Payment{all[2], all[0]}},
		{name: "empty list", status: 200, body: `{"payments":[]}`, limit: 5, want: []bot.Payment{}},
		{name: "extra top-level field", status: 200, body: `{"payments":[],"next":null}`, limit: 5, want: []bot.Payment{}},
		{name: "404 is no payments", status: 404, body: `{"error":"unknown customer"}`, limit: 5, want: []bot.Payment{}},
		{
			name: "503", status: 503, limit: 5,
			wantErr: &errWant{exact: "payments: GET /customers/C-1001/payments: HTTP 503"},
		},
		{
			name: "401", status: 401, limit: 5,
			wantErr: &errWant{is: []error{companyapi.ErrUnauthorized}, contains: []string{"FIRSTLINE_PAYMENTS_TOKEN"}},
		},
		{
			name: "malformed JSON", status: 200, body: `{"payments":[` + oldest, limit: 5,
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"invalid JSON"}},
		},
		{
			name: "a bare array", status: 200, body: "[" + oldest + "]", limit: 5,
			wantErr: &errWant{contains: []string{"not a JSON object"}},
		},
		{
			name: "payments missing", status: 200, body: `{"items":[]}`, limit: 5,
			wantErr: &errWant{contains: []string{`"payments": missing`}},
		},
		{
			name: "payments null", status: 200, body: `{"payments":null}`, limit: 5,
			wantErr: &errWant{contains: []string{`"payments": missing`}},
		},
		{
			name: "payments an object", status: 200, body: `{"payments":` + oldest + `}`, limit: 5,
			wantErr: &errWant{contains: []string{`"payments": want an array, got object`}},
		},
		{
			name: "a record is not an object", status: 200, body: `{"payments":["PAY-1001"]}`, limit: 5,
			wantErr: &errWant{contains: []string{"payments[0]: not a JSON object"}},
		},
		{
			name: "invalid record names its index and field", status: 200, limit: 5,
			body:    list(newest, record(map[string]any{"status": "chargeback"}), oldest),
			wantErr: &errWant{is: []error{companyapi.ErrInvalidResponse}, exact: "payments: GET /customers/C-1001/payments: invalid response: payments[1].status: not one of settled, pending, failed, refunded"},
		},
		{
			name: "invalid record past the limit still fails", status: 200, limit: 1,
			body:    list(newest, record(map[string]any{"customer_id": omit{}})),
			wantErr: &errWant{contains: []string{"payments[1].customer_id: missing"}},
		},
		{
			name: "bad time in a record", status: 200, limit: 5,
			body:    list(record(map[string]any{"created_at": "2026-13-01T00:00:00Z"})),
			wantErr: &errWant{contains: []string{"payments[0].created_at: not an RFC 3339 time"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, reply(tt.status, tt.body))
			got, err := mustNew(t, srv.URL).CustomerPayments(t.Context(), "C-1001", tt.limit)
			if tt.wantErr != nil {
				checkErr(t, err, *tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("CustomerPayments: %v", err)
			}
			if got == nil {
				t.Errorf("CustomerPayments returned a nil slice, want non-nil")
			}
			if diff := cmp.Diff(tt.want, got, cmpPayments); diff != "" {
				t.Errorf("CustomerPayments (-want +got):\n%s", diff)
			}
		})
	}
}

// The client returns what the API says, including a customer_id other than
// the one asked for: the tool layer decides, on what comes back.
func TestReturnsWhatTheAPISays(t *testing.T) {
	other := record(map[string]any{"reference": "PAY-2001", "customer_id": "C-2"})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/customers/") {
			reply(200, list(record(nil), other))(w, r)
			return
		}
		reply(200, other)(w, r)
	})
	c := mustNew(t, srv.URL)
	ps, err := c.CustomerPayments(t.Context(), "C-1001", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[1].CustomerID != "C-2" {
		t.Errorf("CustomerPayments = %+v, want both records as sent", ps)
	}
	p, err := c.Payment(t.Context(), "PAY-1001")
	if err != nil {
		t.Fatal(err)
	}
	if p.Reference != "PAY-2001" || p.CustomerID != "C-2" {
		t.Errorf("Payment = %+v, want the record as sent", p)
	}
}

func TestOversizedBody(t *testing.T) {
	big := `{"payments":[],"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"with Content-Length", reply(200, big)},
		{"chunked", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(200)
			for b := []byte(big); len(b) > 0; {
				n := min(len(b), 64<<10)
				if _, err := w.Write(b[:n]); err != nil {
					return // the client stopped reading
				}
				w.(http.Flusher).Flush() // no Content-Length: the body is chunked
				b = b[n:]
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.handler)
			c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL, Token: secret, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CustomerPayments(t.Context(), "C-1", 5)
			checkErr(t, err, errWant{is: []error{companyapi.ErrInvalidResponse}, contains: []string{"1 MiB"}})
		})
	}

	t.Run("just under the limit is read", func(t *testing.T) {
		pad := (1 << 20) - len(`{"payments":[],"pad":""}`)
		srv := serve(t, reply(200, `{"payments":[],"pad":"`+strings.Repeat("x", pad)+`"}`))
		// mustNew's 100 ms timeout is for the timeout tests; reading and
		// parsing a megabyte under -race on a loaded machine may take more.
		c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL, Token: secret, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ps, err := c.CustomerPayments(t.Context(), "C-1", 5)
		if err != nil || len(ps) != 0 {
			t.Fatalf("CustomerPayments = %v, %v; want no payments, no error", ps, err)
		}
	})
}

// hang blocks a handler until the client goes away (or a backstop passes).
func hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no response headers", func(_ http.ResponseWriter, r *http.Request) { hang(r) }},
		{"body stalls", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"payments":[`))
			w.(http.Flusher).Flush()
			hang(r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.handler)
			c := mustNew(t, srv.URL) // Timeout: 100ms
			start := time.Now()
			_, err := c.CustomerPayments(t.Context(), "C-1", 5)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %s with a 100ms timeout", elapsed)
			}
			checkErr(t, err, errWant{
				is:       []error{context.DeadlineExceeded},
				contains: []string{"payments: GET /customers/C-1/payments", "timed out after 100ms"},
			})
		})
	}

	t.Run("caller cancels", func(t *testing.T) {
		srv := serve(t, func(_ http.ResponseWriter, r *http.Request) { hang(r) })
		c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL, Token: secret, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err = c.Payment(ctx, "PAY-1")
		checkErr(t, err, errWant{is: []error{context.Canceled}, contains: []string{"canceled"}})
		if strings.Contains(err.Error(), "timed out") {
			t.Errorf("a cancellation reads as a timeout: %q", err)
		}
	})

	t.Run("caller's deadline", func(t *testing.T) {
		srv := serve(t, func(_ http.ResponseWriter, r *http.Request) { hang(r) })
		c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL, Token: secret, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err = c.Payment(ctx, "PAY-1")
		checkErr(t, err, errWant{is: []error{context.DeadlineExceeded}, contains: []string{"timed out"}})
	})
}

func TestPathEscaping(t *testing.T) {
	tests := []struct {
		name, reference, customer string
		wantRef, wantCustomer     string // request URIs
	}{
		{"plain", "PAY-1001", "C-1", "/payments/PAY-1001", "/customers/C-1/payments"},
		{"dot-dot slash", "../admin", "../../payments/PAY-2001",
			"/payments/..%2Fadmin", "/customers/..%2F..%2Fpayments%2FPAY-2001/payments"},
		{"slash inside", "PAY-1/../../admin", "C-1/payments/../../admin",
			"/payments/PAY-1%2F..%2F..%2Fadmin", "/customers/C-1%2Fpayments%2F..%2F..%2Fadmin/payments"},
		{"query and fragment", "PAY-1?customer=C-2#x", "C-1?x=1",
			"/payments/PAY-1%3Fcustomer%3DC-2%23x", "/customers/C-1%3Fx%3D1/payments"},
		{"path parameter trick", "..;", "..;x=1",
			"/payments/..%3B", "/customers/..%3Bx%3D1/payments"},
		{"escaped slash stays literal", "%2F..%2F", "%2e%2e",
			"/payments/%252F..%252F", "/customers/%252e%252e/payments"},
		{"space, line break, unicode", "PAY 1\r\nX-Evil: 1", "Åsa é",
			"/payments/PAY%201%0D%0AX-Evil%3A%201", "/customers/%C3%85sa%20%C3%A9/payments"},
		{"backslash", `..\admin`, `..\..\`, "/payments/..%5Cadmin", "/customers/..%5C..%5C/payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.RequestURI)
				mu.Unlock()
				w.WriteHeader(404)
			})
			for _, prefix := range []string{"", "/v2"} {
				mu.Lock()
				seen = nil
				mu.Unlock()
				c := mustNew(t, srv.URL+prefix)
				if _, err := c.Payment(t.Context(), tt.reference); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("Payment(%q) = %v, want not found", tt.reference, err)
				}
				if _, err := c.CustomerPayments(t.Context(), tt.customer, 5); err != nil {
					t.Errorf("CustomerPayments(%q): %v", tt.customer, err)
				}
				mu.Lock()
				want := []string{prefix + tt.wantRef, prefix + tt.wantCustomer}
				if diff := cmp.Diff(want, seen); diff != "" {
					t.Errorf("base %q: request URIs (-want +got):\n%s", srv.URL+prefix, diff)
				}
				mu.Unlock()
			}
		})
	}
}

// "", "." and ".." cannot be sent as a path segment at all: servers resolve
// dot segments however they are escaped. No request is made.
func TestUnsendableSegments(t *testing.T) {
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(500)
	})
	c := mustNew(t, srv.URL)
	for _, s := range []string{"", ".", ".."} {
		_, err := c.Payment(t.Context(), s)
		checkErr(t, err, errWant{is: []error{bot.ErrNotFound}})
		_, err = c.CustomerPayments(t.Context(), s, 5)
		checkErr(t, err, errWant{contains: []string{"invalid customer id"}})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests were sent, want none", n)
	}
}

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		wantAuth string
	}{
		{"token sent as bearer", secret, "Bearer " + secret},
		{"no token, no header", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got http.Header
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				reply(200, record(nil))(w, r)
			})
			c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL, Token: tt.token})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Payment(t.Context(), "PAY-1001"); err != nil {
				t.Fatal(err)
			}
			if _, present := got["Authorization"]; present != (tt.wantAuth != "") || got.Get("Authorization") != tt.wantAuth {
				t.Errorf("Authorization = %q (present %v), want %q", got.Get("Authorization"), present, tt.wantAuth)
			}
			if a := got.Get("Accept"); a != "application/json" {
				t.Errorf("Accept = %q, want application/json", a)
			}
			if ua := got.Get("User-Agent"); !strings.Contains(strings.ToLower(ua), "firstline") {
				t.Errorf("User-Agent = %q, want it to name firstline", ua)
			}
		})
	}
}

// With no token configured, a 401 says so rather than "check the token".
func TestUnauthorizedWithoutToken(t *testing.T) {
	srv := serve(t, reply(401, ""))
	c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CustomerPayments(t.Context(), "C-1", 5)
	checkErr(t, err, errWant{is: []error{companyapi.ErrUnauthorized}, contains: []string{"HTTP 401", "FIRSTLINE_PAYMENTS_TOKEN", "not set"}})
}

func TestBaseURL(t *testing.T) {
	var (
		mu   sync.Mutex
		seen string
	)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.RequestURI
		mu.Unlock()
		reply(200, record(nil))(w, r)
	})
	tests := []struct{ base, want string }{
		{srv.URL, "/payments/PAY-1001"},
		{srv.URL + "/", "/payments/PAY-1001"},
		{srv.URL + "/v2", "/v2/payments/PAY-1001"},
		{srv.URL + "/v2/", "/v2/payments/PAY-1001"},
		{srv.URL + "/api/v2//", "/api/v2/payments/PAY-1001"},
		{srv.URL + "/api%20v2", "/api%20v2/payments/PAY-1001"},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			if _, err := mustNew(t, tt.base).Payment(t.Context(), "PAY-1001"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen != tt.want {
				t.Errorf("request URI = %q, want %q", seen, tt.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  companyapi.Config
		want string
	}{
		{"no base URL", companyapi.Config{}, "base URL: required"},
		{"no scheme", companyapi.Config{BaseURL: "api.example.com/v2"}, "http:// or https://"},
		{"ftp", companyapi.Config{BaseURL: "ftp://api.example.com"}, "http:// or https://"},
		{"no host", companyapi.Config{BaseURL: "https:///v2"}, "must name a host"},
		{"credentials", companyapi.Config{BaseURL: "https://svc:" + secret + "@api.example.com"}, "must not contain credentials"},
		{"unparsable, with credentials", companyapi.Config{BaseURL: "https://svc:" + secret + "@api.example.com:port/"}, "not a valid URL"},
		{"query", companyapi.Config{BaseURL: "https://api.example.com/v2?key=" + secret}, "must not have a query"},
		{"fragment", companyapi.Config{BaseURL: "https://api.example.com/#x"}, "must not have a fragment"},
		{"token with a line break", companyapi.Config{BaseURL: "https://api.example.com", Token: secret + "\n"}, "token: must not contain"},
		{"token with a space", companyapi.Config{BaseURL: "https://api.example.com", Token: "Bearer " + secret}, "token: must not contain"},
		{"negative timeout", companyapi.Config{BaseURL: "https://api.example.com", Timeout: -time.Second}, "timeout: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := companyapi.New(tt.cfg)
			if c != nil {
				t.Errorf("New returned a client with an error")
			}
			checkErr(t, err, errWant{contains: []string{"payments: ", tt.want}})
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	target := serve(t, func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		reply(200, record(nil))(w, r)
	})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
	})
	_, err := mustNew(t, srv.URL).Payment(t.Context(), "PAY-1001")
	checkErr(t, err, errWant{contains: []string{"HTTP 302", "FIRSTLINE_PAYMENTS_URL"}})
	if elsewhere.Load() != 0 {
		t.Errorf("the redirect was followed")
	}
}

func TestCustomHTTPClient(t *testing.T) {
	srv := serve(t, reply(200, record(nil)))
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := companyapi.New(companyapi.Config{BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Payment(t.Context(), "PAY-1001"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("the given HTTP client made %d requests, want 1", calls.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := mustNew(t, url).Payment(t.Context(), "PAY-1001")
	checkErr(t, err, errWant{contains: []string{"payments: GET /payments/PAY-1001: "}})
	if errors.Is(err, bot.ErrNotFound) {
		t.Errorf("an unreachable API reads as not found: %v", err)
	}
}

// The package's own messages never hold the token; scrub is the net for
// text from elsewhere, here a reference that happens to be the token.
func TestTokenScrubbedFromErrors(t *testing.T) {
	srv := serve(t, reply(404, ""))
	_, err := mustNew(t, srv.URL).Payment(t.Context(), secret)
	checkErr(t, err, errWant{is: []error{bot.ErrNotFound}, contains: []string{"[redacted]"}})
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), secret) {
			t.Errorf("a wrapped error holds the token: %q", e)
		}
	}
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range u.Unwrap() {
			if strings.Contains(e.Error(), secret) {
				t.Errorf("a wrapped error holds the token: %q", e)
			}
		}
	}
}

func ExampleNew() {
	c, err := companyapi.New(companyapi.Config{
		BaseURL: "https://payments.example.com/v2",
		Token:   os.Getenv("FIRSTLINE_PAYMENTS_TOKEN"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var _ bot.PaymentSource = c
	fmt.Println("ok")
	// Output: ok
}

package fakecompany

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/adapters/companyapi"
	"github.com/firstlinehq/firstline/bot"
)

const token = "fake-company-token"

var (
	ada   = bot.Customer{ID: "C-1", Name: "Ada Lovelace", Email: "Ada@Example.com"}
	grace = bot.Customer{ID: "C-2", Name: "Grace Hopper", Email: "grace@example.com"}
	day   = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
)

func payment(ref, customer string, created time.Time) bot.Payment {
	return bot.Payment{
		Reference: ref, CustomerID: customer, Amount: "120.00", Currency: "EUR",
		Status: bot.PaymentSettled, Merchant: "Books", CreatedAt: created,
	}
}

// mustServer starts a fake with Ada, Grace and three payments.
func mustServer(t *testing.T) *Server {
	t.Helper()
	s := New(token)
	t.Cleanup(s.Close)
	s.AddCustomer(ada)
	s.AddCustomer(grace)
	s.AddPayment(payment("PAY-1001", "C-1", day))
	p := payment("PAY-1002", "C-1", day.Add(time.Hour))
	p.UpdatedAt = day.Add(2 * time.Hour)
	s.AddPayment(p)
	s.AddPayment(payment("PAY-2001", "C-2", day))
	return s
}

// mustClient is the real client for the fake, as the binary builds it.
func mustClient(t *testing.T, s *Server, tok string) *companyapi.Client {
	t.Helper()
	c, err := companyapi.New(companyapi.Config{
		BaseURL: s.URL(), Token: tok, Timeout: 5 * time.Second,
		Name: "customers", TokenSetting: "FIRSTLINE_CUSTOMERS_TOKEN", URLSetting: "FIRSTLINE_CUSTOMERS_URL",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var cmpTimes = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// The real client reads the fake: both speak the same API.
func TestSpeaksTheClientsAPI(t *testing.T) {
	s := mustServer(t)
	c := mustClient(t, s, token)
	ctx := t.Context()

	if got, err := c.Customer(ctx, "C-1"); err != nil || got != ada {
		t.Errorf("Customer(C-1) = %+v, %v; want Ada", got, err)
	}
	if _, err := c.Customer(ctx, "C-9"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Customer(C-9) = %v, want not found", err)
	}
	got, err := c.CustomersByEmail(ctx, "ada@example.COM")
	if diff := cmp.Diff([]bot.Customer{ada}, got); err != nil || diff != "" {
		t.Errorf("CustomersByEmail: %v %s", err, diff)
	}
	if got, err := c.CustomersByEmail(ctx, "nobody@example.com"); err != nil || len(got) != 0 {
		t.Errorf("CustomersByEmail(nobody) = %v, %v; want none", got, err)
	}

	ps, err := c.CustomerPayments(ctx, "C-1", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.Payment{payment("PAY-1002", "C-1", day.Add(time.Hour)), payment("PAY-1001", "C-1", day)}
	want[0].UpdatedAt = day.Add(2 * time.Hour)
	if diff := cmp.Diff(want, ps, cmpTimes); diff != "" {
		t.Errorf("CustomerPayments(C-1), newest first (-want +got):\n%s", diff)
	}
	if ps, err := c.CustomerPayments(ctx, "C-9", 10); err != nil || len(ps) != 0 {
		t.Errorf("CustomerPayments(C-9) = %v, %v; want none (404)", ps, err)
	}
	p, err := c.Payment(ctx, "PAY-2001")
	if diff := cmp.Diff(payment("PAY-2001", "C-2", day), p, cmpTimes); err != nil || diff != "" {
		t.Errorf("Payment(PAY-2001): %v %s", err, diff)
	}
	if _, err := c.Payment(ctx, "PAY-9"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Payment(PAY-9) = %v, want not found", err)
	}
}

// Ids are path segments, unescaped as the client escapes them.
func TestEscapedIDs(t *testing.T) {
	s := mustServer(t)
	odd := bot.Customer{ID: "C/1?x=1&y", Name: "Odd", Email: "a+b&c@example.com"}
	s.AddCustomer(odd)
	s.AddPayment(payment("PAY/1 ?", odd.ID, day))
	c := mustClient(t, s, token)
	if got, err := c.Customer(t.Context(), odd.ID); err != nil || got != odd {
		t.Errorf("Customer(%q) = %+v, %v", odd.ID, got, err)
	}
	if got, err := c.CustomersByEmail(t.Context(), odd.Email); err != nil || len(got) != 1 || got[0] != odd {
		t.Errorf("CustomersByEmail(%q) = %+v, %v", odd.Email, got, err)
	}
	if ps, err := c.CustomerPayments(t.Context(), odd.ID, 5); err != nil || len(ps) != 1 {
		t.Errorf("CustomerPayments(%q) = %+v, %v", odd.ID, ps, err)
	}
	if p, err := c.Payment(t.Context(), "PAY/1 ?"); err != nil || p.CustomerID != odd.ID {
		t.Errorf("Payment = %+v, %v", p, err)
	}
}

func TestReplaces(t *testing.T) {
	s := mustServer(t)
	renamed := ada
	renamed.Name = "Ada King"
	s.AddCustomer(renamed)
	c := mustClient(t, s, token)
	got, err := c.CustomersByEmail(t.Context(), ada.Email)
	if diff := cmp.Diff([]bot.Customer{renamed}, got); err != nil || diff != "" {
		t.Errorf("CustomersByEmail after a replace: %v %s", err, diff)
	}
}

func TestToken(t *testing.T) {
	s := mustServer(t)
	for _, tok := range []string{"", "wrong-token"} {
		_, err := mustClient(t, s, tok).Customer(t.Context(), "C-1")
		if !errors.Is(err, companyapi.ErrUnauthorized) || !strings.Contains(err.Error(), "FIRSTLINE_CUSTOMERS_TOKEN") {
			t.Errorf("with token %q: %v, want unauthorized", tok, err)
		}
	}
	// No token configured: none needed.
	open := New("")
	defer open.Close()
	open.AddCustomer(ada)
	if _, err := mustClient(t, open, "").Customer(t.Context(), "C-1"); err != nil {
		t.Errorf("a fake without a token refused: %v", err)
	}
}

func TestDown(t *testing.T) {
	s := mustServer(t)
	c := mustClient(t, s, token)
	s.SetDown(true)
	_, err := c.Customer(t.Context(), "C-1")
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Customer while down = %v, want HTTP 503", err)
	}
	if _, err := c.Payment(t.Context(), "PAY-1001"); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("Payment while down = %v, want HTTP 503", err)
	}
	s.SetDown(false)
	if _, err := c.Customer(t.Context(), "C-1"); err != nil {
		t.Errorf("Customer after coming back: %v", err)
	}
}

func TestRequests(t *testing.T) {
	s := mustServer(t)
	c := mustClient(t, s, token)
	ctx := t.Context()
	_, _ = c.Customer(ctx, "C-1")
	_, _ = c.Customer(ctx, "C-9")
	_, _ = c.CustomersByEmail(ctx, "ada@example.com")
	_, _ = c.CustomerPayments(ctx, "C-1", 5)
	_, _ = c.Payment(ctx, "PAY-1001")
	_, _ = mustClient(t, s, "wrong").Payment(ctx, "PAY-1001") // refused, still counted
	for _, tt := range []struct {
		prefix string
		want   int
	}{
		{"", 6},
		{"/customers/", 3},
		{"/customers/C-1", 2},
		{"/customers?email=", 1},
		{"/customers?email=ada%40example.com", 1},
		{"/payments/", 2},
		{"/payments/PAY-1001", 2},
		{"/nothing", 0},
	} {
		if got := s.Requests(tt.prefix); got != tt.want {
			t.Errorf("Requests(%q) = %d, want %d", tt.prefix, got, tt.want)
		}
	}
}

func TestOtherRequests(t *testing.T) {
	s := mustServer(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/customers/C-1", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/payments/PAY-1001", http.StatusMethodNotAllowed},
		{http.MethodGet, "/customers", http.StatusBadRequest},
		{http.MethodGet, "/customers?email=a@example.com&email=b@example.com", http.StatusBadRequest},
		{http.MethodGet, "/accounts/C-1", http.StatusNotFound},
		{http.MethodGet, "/customers/C-1/invoices", http.StatusNotFound},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, s.URL()+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustServer(t)
	c := mustClient(t, s, token)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				id := fmt.Sprintf("C-%d-%d", g, i)
				s.AddCustomer(bot.Customer{ID: id, Email: id + "@example.com"})
				s.AddPayment(payment("PAY-"+id, id, day))
				if _, err := c.Customer(t.Context(), id); err != nil {
					t.Errorf("Customer(%s): %v", id, err)
				}
				if cs, err := c.CustomersByEmail(t.Context(), id+"@example.com"); err != nil || len(cs) != 1 {
					t.Errorf("CustomersByEmail(%s) = %v, %v", id, cs, err)
				}
				_ = s.Requests("/customers/")
			}
		})
	}
	wg.Wait()
	if n := s.Requests("/customers"); n != 8*20*2 {
		t.Errorf("Requests(/customers) = %d, want %d", n, 8*20*2)
	}
}

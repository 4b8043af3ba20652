// Package fakecompany is the company's own API as Firstline's end-to-end
// tests see it: one httptest server speaking exactly the documented API
// (README.md, and package adapters/companyapi), customers and payments
// both, so that one Server can be passed to the binary as
// FIRSTLINE_CUSTOMERS_URL and FIRSTLINE_PAYMENTS_URL:
//
//	GET /customers/{id}           200 CUSTOMER, or 404
//	GET /customers?email=ADDRESS  200 {"customers": [CUSTOMER, ...]} (email compared ignoring case)
//	GET /customers/{id}/payments  200 {"payments": [PAYMENT, ...]}, newest first; 404 for an unknown customer
//	GET /payments/{reference}     200 PAYMENT, or 404
//
// Every request needs "Authorization: Bearer TOKEN" (401 otherwise); other
// methods get 405, other paths 404. A test fills it (AddCustomer,
// AddPayment), takes it down (SetDown: 503 for everything) and counts what
// was asked (Requests).
package fakecompany

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Server is a fake company API. It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	customers map[string]bot.Customer // by id
	ids       []string                // customers' ids, in the order added
	payments  map[string]bot.Payment  // by reference
	down      bool
	requests  []string // request URIs (escaped path and query), in order
}

// New starts a server that accepts requests carrying token as a bearer
// token; with token "", requests need no Authorization header. Close it
// when done.
func New(token string) *Server {
	s := &Server{
		token:     token,
		customers: make(map[string]bot.Customer),
		payments:  make(map[string]bot.Payment),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers", s.customersByEmail)
	mux.HandleFunc("GET /customers/{id}", s.customer)
	mux.HandleFunc("GET /customers/{id}/payments", s.customerPayments)
	mux.HandleFunc("GET /payments/{reference}", s.payment)
	s.srv = httptest.NewServer(s.guard(mux))
	return s
}

// URL is the API's base URL, for FIRSTLINE_CUSTOMERS_URL and
// FIRSTLINE_PAYMENTS_URL.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// AddCustomer adds c, or replaces the customer with its id. It is not
// validated: a test may serve a record the client must refuse.
func (s *Server) AddCustomer(c bot.Customer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.customers[c.ID]; !ok {
		s.ids = append(s.ids, c.ID)
	}
	s.customers[c.ID] = c
}

// AddPayment adds p, or replaces the payment with its reference. Its
// customer need not be added: the payment API knows every customer with a
// payment.
func (s *Server) AddPayment(p bot.Payment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payments[p.Reference] = p
}

// SetDown takes the API down (every request answered 503) or brings it
// back.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Requests counts the requests received whose URI (escaped path, then "?"
// and the query if any) starts with prefix, refused ones included:
// Requests("/customers?email=") counts email lookups, Requests("/payments/")
// payment lookups, Requests("") everything. Note that "/customers/" counts
// both customer and payment-list requests, and "/customers/C-1" also
// counts C-10's.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// guard records every request, then answers 503 while down and 401
// without the token, before h sees the request.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			uri += "?" + r.URL.RawQuery
		}
		s.mu.Lock()
		s.requests = append(s.requests, uri)
		down := s.down
		s.mu.Unlock()
		switch {
		case down:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
		case s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		default:
			h.ServeHTTP(w, r)
		}
	})
}

func (s *Server) customer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.customers[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, customerJSON(c))
}

func (s *Server) customersByEmail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email := q.Get("email")
	if len(q["email"]) != 1 || email == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "one email parameter required"})
		return
	}
	s.mu.Lock()
	out := []customerBody{}
	for _, id := range s.ids {
		if c := s.customers[id]; c.Email != "" && strings.EqualFold(c.Email, email) {
			out = append(out, customerJSON(c))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"customers": out})
}

func (s *Server) customerPayments(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	_, known := s.customers[id]
	var ps []bot.Payment
	for _, p := range s.payments {
		if p.CustomerID == id {
			ps = append(ps, p)
		}
	}
	s.mu.Unlock()
	if !known && len(ps) == 0 {
		notFound(w)
		return
	}
	// Newest first; the reference breaks ties, so the order is stable.
	slices.SortFunc(ps, func(a, b bot.Payment) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Reference, b.Reference)
	})
	out := make([]paymentBody, 0, len(ps))
	for _, p := range ps {
		out = append(out, paymentJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"payments": out})
}

func (s *Server) payment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.payments[r.PathValue("reference")]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, paymentJSON(p))
}

// customerBody is a CUSTOMER as the API sends it.
type customerBody struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func customerJSON(c bot.Customer) customerBody {
	return customerBody{ID: c.ID, Name: c.Name, Email: c.Email}
}

// paymentBody is a PAYMENT as the API sends it; updated_at is left out
// when the payment has none.
type paymentBody struct {
	Reference  string `json:"reference"`
	CustomerID string `json:"customer_id"`
	Amount     string `json:"amount"`
	Currency   string `json:"currency"`
	Status     string `json:"status"`
	Merchant   string `json:"merchant"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

func paymentJSON(p bot.Payment) paymentBody {
	b := paymentBody{
		Reference: p.Reference, CustomerID: p.CustomerID, Amount: p.Amount,
		Currency: p.Currency, Status: string(p.Status), Merchant: p.Merchant,
		CreatedAt: p.CreatedAt.Format(time.RFC3339Nano),
	}
	if !p.UpdatedAt.IsZero() {
		b.UpdatedAt = p.UpdatedAt.Format(time.RFC3339Nano)
	}
	return b
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

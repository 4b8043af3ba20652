// Package fakeorders is the example orders API of prompts/tools.yaml, as
// the tests and evals see it: one httptest server speaking exactly the
// documented API:
//
//	GET /customers/{id}/orders  200 {"orders": [ORDER, ...]}, newest first (empty for an unknown customer)
//	GET /orders/{reference}     200 ORDER, or 404 {"error": "not_found"}
//
//	ORDER = {"reference": "ORD-1001", "customer_id": "C-1001",
//	         "status": "processing|shipped|delivered|cancelled|returned",
//	         "total": "59.90", "currency": "EUR",
//	         "items": [{"name": "…", "quantity": 1, "sku": "…"}],
//	         "shipping": {"carrier": "…", "tracking": "…", "eta": "YYYY-MM-DD",
//	                      "address": "…"},
//	         "created_at": "RFC 3339", "internal_note": "…"}
//
// An order carries fields a support bot must not show (the shipping
// address, the internal note, the SKU): the tools file's field list keeps
// them from the model, and the tests check it.
//
// Every request needs "Authorization: Bearer TOKEN" (401 otherwise). A
// test fills it (Add), breaks it (Fail: the next n requests get a status;
// Leak: the list endpoint answers with every customer's orders, as a buggy
// API would) and reads what was asked (Requests).
package fakeorders

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// Order is one order as the API returns it.
type Order struct {
	Reference    string   `json:"reference"`
	CustomerID   string   `json:"customer_id"`
	Status       string   `json:"status"`
	Total        string   `json:"total"`
	Currency     string   `json:"currency"`
	Items        []Item   `json:"items"`
	Shipping     Shipping `json:"shipping"`
	CreatedAt    string   `json:"created_at"`
	InternalNote string   `json:"internal_note,omitempty"`
}

// Item is one line of an order.
type Item struct {
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
	SKU      string `json:"sku"`
}

// Shipping is where an order is on its way.
type Shipping struct {
	Carrier  string `json:"carrier"`
	Tracking string `json:"tracking"`
	ETA      string `json:"eta"`
	Address  string `json:"address"`
}

// Request is one request the server received.
type Request struct {
	Method string
	// URI is the request URI as sent: escaped path and query.
	URI    string
	Header http.Header
	Body   string
}

// Server is a fake orders API. It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	orders   []Order // newest last
	failN    int
	failCode int
	leak     bool
	requests []Request
}

// New starts a server that accepts requests carrying token as a bearer
// token; with token "", requests need none. Close it when done.
func New(token string) *Server {
	s := &Server{token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}/orders", s.customerOrders)
	mux.HandleFunc("GET /orders/{reference}", s.order)
	s.srv = httptest.NewServer(s.guard(mux))
	return s
}

// NewDemo starts a server with Demo's orders.
func NewDemo(token string) *Server {
	s := New(token)
	for _, o := range Demo() {
		s.Add(o)
	}
	return s
}

// Demo returns orders of three customers (C-1001, C-1002, C-1003), oldest
// first.
func Demo() []Order {
	return []Order{
		{Reference: "ORD-1001", CustomerID: "C-1001", Status: "delivered", Total: "59.90", Currency: "EUR",
			Items:     []Item{{Name: "Trail running shoes", Quantity: 1, SKU: "SKU-TRS-42"}},
			Shipping:  Shipping{Carrier: "DHL", Tracking: "JD014600006281234567", ETA: "2026-11-20", Address: "Hauptstraße 1, 10115 Berlin"},
			CreatedAt: "2026-11-17T09:12:00Z", InternalNote: "customer called twice about sizing"},
		{Reference: "ORD-1002", CustomerID: "C-1001", Status: "shipped", Total: "24.00", Currency: "EUR",
			Items:     []Item{{Name: "Running socks", Quantity: 3, SKU: "SKU-SOCK-3"}},
			Shipping:  Shipping{Carrier: "DHL", Tracking: "JD014600006289999998", ETA: "2026-12-09", Address: "Hauptstraße 1, 10115 Berlin"},
			CreatedAt: "2026-12-05T15:40:00Z", InternalNote: "paid with card 4111 1111 1111 1111"},
		{Reference: "ORD-2001", CustomerID: "C-1002", Status: "processing", Total: "129.00", Currency: "EUR",
			Items:     []Item{{Name: "Rain jacket", Quantity: 1, SKU: "SKU-RJ-M"}},
			Shipping:  Shipping{Carrier: "UPS", ETA: "2026-12-12", Address: "Rue de Rivoli 5, 75001 Paris"},
			CreatedAt: "2026-12-06T10:00:00Z", InternalNote: "VIP"},
		{Reference: "ORD-3001", CustomerID: "C-1003", Status: "cancelled", Total: "15.50", Currency: "GBP",
			Items:     []Item{{Name: "Water bottle", Quantity: 1, SKU: "SKU-WB"}},
			Shipping:  Shipping{Address: "1 Baker Street, London"},
			CreatedAt: "2026-10-01T08:00:00Z"},
	}
}

// URL is the API's base URL (ORDERS_API_URL in prompts/tools.yaml).
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Add adds o (newest), or replaces the order with its reference. It is
// not validated.
func (s *Server) Add(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = slices.DeleteFunc(s.orders, func(x Order) bool { return x.Reference == o.Reference })
	s.orders = append(s.orders, o)
}

// Fail makes the next n requests fail with status code.
func (s *Server) Fail(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, code
}

// Leak makes the list endpoint return every customer's orders, as a
// broken API would: the tool's owner check must drop the others.
func (s *Server) Leak(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leak = on
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: string(body)})
		fail := 0
		if s.failN > 0 {
			s.failN--
			fail = s.failCode
		}
		s.mu.Unlock()
		if fail != 0 {
			writeJSON(w, fail, map[string]string{"error": http.StatusText(fail)})
			return
		}
		if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) customerOrders(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	out := []Order{}
	for i := len(s.orders) - 1; i >= 0; i-- {
		if s.leak || s.orders[i].CustomerID == id {
			out = append(out, s.orders[i])
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

func (s *Server) order(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("reference")
	s.mu.Lock()
	i := slices.IndexFunc(s.orders, func(o Order) bool { return strings.EqualFold(o.Reference, ref) })
	var o Order
	if i >= 0 {
		o = s.orders[i]
	}
	s.mu.Unlock()
	if i < 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

package datatools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeorders"
)

const ordersToken = "orders-TOKEN-s3cr3t"

// exampleFile returns prompts/tools.yaml with its commented-out example
// turned on, so that the shipped example is what these tests run.
func exampleFile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../prompts/tools.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n# tools:\n")
	if !ok {
		t.Fatal(`prompts/tools.yaml has no "# tools:" example`)
	}
	var out strings.Builder
	out.WriteString("tools:\n")
	for _, line := range strings.Split(after, "\n") {
		out.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
		out.WriteByte('\n')
	}
	return []byte(out.String())
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// laxTools are tools without patterns, so that hostile values reach the
// escaping layer instead of stopping at the schema.
const laxTools = `
  - name: lax_order
    description: an order by reference, with no pattern
    parameters:
      type: object
      properties:
        reference: {type: string}
      required: [reference]
    request:
      url: "${ORDERS_API_URL}/orders/{{.Params.reference}}"
      headers:
        Authorization: "Bearer ${ORDERS_API_TOKEN}"
        X-Reference: "{{.Params.reference}}"
    response:
      owner: customer_id
      id: reference
      fields: [reference, status]
  - name: lax_search
    description: the customer's orders, filtered by a query value
    parameters:
      type: object
      properties:
        q: {type: string}
    request:
      url: "${ORDERS_API_URL}/customers/{{.Customer.ID}}/orders?q={{.Params.q}}&limit=5"
      headers:
        Authorization: "Bearer ${ORDERS_API_TOKEN}"
    response:
      records: orders
      owner: customer_id
      id: reference
      fields: [reference, status]
`

type fixture struct {
	set    *Set
	orders *fakeorders.Server
	sleeps atomic.Int32
}

func newFixture(t *testing.T, extra string) *fixture {
	t.Helper()
	f := &fixture{orders: fakeorders.NewDemo(ordersToken)}
	t.Cleanup(f.orders.Close)
	src := string(exampleFile(t)) + extra
	set, err := Parse("tools.yaml", []byte(src), envOf(map[string]string{"ORDERS_API_URL": f.orders.URL(), "ORDERS_API_TOKEN": ordersToken}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	f.set = set.WithOptions(Options{
		Client:  f.orders.Client(),
		Backoff: time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error {
			f.sleeps.Add(1)
			return ctx.Err()
		},
	})
	return f
}

var alice = Caller{CustomerID: "C-1001", Private: true}

// Markers of other customers' orders: none may ever reach C-1001's model.
var othersMarkers = []string{"C-1002", "C-1003", "ORD-2001", "ORD-3001", "Rain jacket", "Water bottle", "Paris", "London", "VIP"}

func assertNoLeak(t *testing.T, r Result) {
	t.Helper()
	for _, m := range othersMarkers {
		if strings.Contains(r.Content, m) || slices.Contains(r.Records, m) {
			t.Fatalf("leak: %q in %+v", m, r)
		}
	}
	for _, s := range []string{ordersToken, "Hauptstraße", "internal_note", "SKU-", "customer_id", "C-1001"} {
		// An invalid call's message may repeat the model's own argument name.
		if strings.Contains(r.Content, s) && !(r.Outcome == OutcomeInvalid && s == "customer_id") {
			t.Fatalf("content shows %q, which is not a declared field: %s", s, r.Content)
		}
	}
	if strings.Contains(r.Detail, ordersToken) || strings.Contains(r.Reason, ordersToken) {
		t.Fatalf("the secret is in the result: %+v", r)
	}
}

func call(t *testing.T, f *fixture, name, args string, c Caller) Result {
	t.Helper()
	r := f.set.Call(context.Background(), name, json.RawMessage(args), c)
	assertNoLeak(t, r)
	if !json.Valid([]byte(r.Content)) {
		t.Fatalf("content is not JSON: %q", r.Content)
	}
	return r
}

func TestShippedFile(t *testing.T) {
	b, err := os.ReadFile("../../prompts/tools.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// As shipped, it loads on a fresh checkout with nothing set.
	if _, err := Parse("tools.yaml", b, envOf(nil)); err != nil {
		t.Fatalf("prompts/tools.yaml: %v", err)
	}
	// Its example needs its variables, and names them, not their values.
	_, err = Parse("tools.yaml", exampleFile(t), envOf(map[string]string{"ORDERS_API_URL": "https://orders.example.com"}))
	if err == nil || !strings.Contains(err.Error(), "environment variable ORDERS_API_TOKEN is not set") {
		t.Fatalf("example without ORDERS_API_TOKEN: %v", err)
	}
	f := newFixture(t, "")
	if got := f.set.Names(); !slices.Equal(got, []string{"order_status", "recent_orders"}) {
		t.Fatalf("example tools = %v", got)
	}
	for _, d := range f.set.Defs() {
		s := strings.ToLower(string(d.Parameters) + d.Description)
		if strings.Contains(s, "customer_id") || strings.Contains(s, "customer.id") {
			t.Errorf("%s: the model sees the customer: %s", d.Name, d.Parameters)
		}
	}
}

func TestOrderStatus(t *testing.T) {
	f := newFixture(t, "")
	r := call(t, f, "order_status", `{"reference":"ORD-1002"}`, alice)
	if r.Outcome != OutcomeOK || r.Reason != "" || !slices.Equal(r.Records, []string{"ORD-1002"}) {
		t.Fatalf("result = %+v", r)
	}
	var got struct {
		Record map[string]any `json:"record"`
	}
	if err := json.Unmarshal([]byte(r.Content), &got); err != nil {
		t.Fatal(err)
	}
	want := `{"record":{"created_at":"2026-12-05T15:40:00Z","currency":"EUR","items":[{"name":"Running socks","quantity":3}],"reference":"ORD-1002","shipping":{"carrier":"DHL","eta":"2026-12-09","tracking":"JD014600006289999998"},"status":"shipped","total":"24.00"}}`
	if r.Content != want {
		t.Errorf("content =\n%s\nwant\n%s", r.Content, want)
	}
	reqs := f.orders.Requests()
	if len(reqs) != 1 || reqs[0].URI != "/orders/ORD-1002" || reqs[0].Header.Get("Authorization") != "Bearer "+ordersToken {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestOwnerFiltering(t *testing.T) {
	f := newFixture(t, "")
	t.Run("another customer's order reads as not found", func(t *testing.T) {
		theirs := call(t, f, "order_status", `{"reference":"ORD-2001"}`, alice)
		missing := call(t, f, "order_status", `{"reference":"ORD-9999"}`, alice)
		if theirs.Outcome != OutcomeNotFound || missing.Outcome != OutcomeNotFound {
			t.Fatalf("outcomes %q, %q", theirs.Outcome, missing.Outcome)
		}
		if theirs.Content != missing.Content {
			t.Fatalf("not yours %q differs from not found %q", theirs.Content, missing.Content)
		}
		if theirs.Reason != ReasonNotYours || missing.Reason != ReasonNotFound || theirs.Dropped != 1 || len(theirs.Records) != 0 {
			t.Fatalf("audit: %+v / %+v", theirs, missing)
		}
	})
	t.Run("a list with other customers' orders keeps only the caller's", func(t *testing.T) {
		f.orders.Leak(true)
		defer f.orders.Leak(false)
		r := call(t, f, "recent_orders", `{}`, alice)
		if r.Outcome != OutcomeOK || !slices.Equal(r.Records, []string{"ORD-1002", "ORD-1001"}) || r.Dropped != 2 {
			t.Fatalf("result = %+v", r)
		}
		if reqs := f.orders.Requests(); reqs[len(reqs)-1].URI != "/customers/C-1001/orders" {
			t.Errorf("request = %q", reqs[len(reqs)-1].URI)
		}
	})
	t.Run("records without an owner are dropped", func(t *testing.T) {
		f.orders.Add(fakeorders.Order{Reference: "ORD-7777", Status: "shipped"})
		r := call(t, f, "order_status", `{"reference":"ORD-7777"}`, alice)
		if r.Outcome != OutcomeNotFound {
			t.Fatalf("result = %+v", r)
		}
	})
	t.Run("another customer sees only their own", func(t *testing.T) {
		r := f.set.Call(context.Background(), "recent_orders", nil, Caller{CustomerID: "C-1002", Private: true})
		if r.Outcome != OutcomeOK || !slices.Equal(r.Records, []string{"ORD-2001"}) || strings.Contains(r.Content, "ORD-100") {
			t.Fatalf("result = %+v", r)
		}
	})
}

func TestFieldsProjectionAndMasking(t *testing.T) {
	f := newFixture(t, "")
	f.orders.Add(fakeorders.Order{
		Reference: "ORD-5000", CustomerID: "C-1001", Status: "card 4111 1111 1111 1111 declined",
		Items:    []fakeorders.Item{{Name: "IBAN DE89 3704 0044 0532 0130 00", Quantity: 1, SKU: "SKU-X"}},
		Shipping: fakeorders.Shipping{Carrier: "DHL", Address: "Hauptstraße 1"}, InternalNote: "secret note",
	})
	r := call(t, f, "order_status", `{"reference":"ORD-5000"}`, alice)
	if r.Outcome != OutcomeOK {
		t.Fatalf("result = %+v", r)
	}
	for _, bad := range []string{"4111 1111 1111 1111", "DE89 3704", "secret note", "SKU-X", "address"} {
		if strings.Contains(r.Content, bad) {
			t.Errorf("content shows %q: %s", bad, r.Content)
		}
	}
	for _, good := range []string{"[card ••••1111]", "[iban ••••3000]", `"carrier":"DHL"`} {
		if !strings.Contains(r.Content, good) {
			t.Errorf("content lacks %q: %s", good, r.Content)
		}
	}
}

func TestProjectLeafObjectDropped(t *testing.T) {
	ft := newFieldTree()
	for _, p := range [][]string{{"a"}, {"b"}, {"c", "x"}, {"tags"}} {
		if err := ft.add(p); err != nil {
			t.Fatal(err)
		}
	}
	obj := map[string]any{
		"a":    map[string]any{"secret": 1}, // an object at a leaf is not passed whole
		"b":    []any{map[string]any{"secret": 1}},
		"c":    map[string]any{"x": "ok", "y": "hidden"},
		"tags": []any{"one", "two"},
		"z":    "hidden",
	}
	b, _ := json.Marshal(ft.project(obj))
	if got, want := string(b), `{"c":{"x":"ok"},"tags":["one","two"]}`; got != want {
		t.Errorf("project = %s, want %s", got, want)
	}
}

func TestRequirements(t *testing.T) {
	f := newFixture(t, `
  - name: store_hours
    description: opening hours of a store
    requires: {linked: false, private: false}
    request: {url: "${ORDERS_API_URL}/orders/ORD-1001"}
    response:
      fields: [status]
`)
	r := call(t, f, "order_status", `{"reference":"ORD-1001"}`, Caller{Private: true})
	if r.Outcome != OutcomeRefused || r.Reason != ReasonNotLinked {
		t.Errorf("not linked: %+v", r)
	}
	r = call(t, f, "order_status", `{"reference":"ORD-1001"}`, Caller{CustomerID: "C-1001"})
	if r.Outcome != OutcomeRefused || r.Reason != ReasonNotPrivate {
		t.Errorf("not private: %+v", r)
	}
	if n := len(f.orders.Requests()); n != 0 {
		t.Errorf("%d requests made for refused calls", n)
	}
	// Unauthenticated (no header declared): 401 from the fake → error.
	r = call(t, f, "store_hours", `{}`, Caller{})
	if r.Outcome != OutcomeError || !strings.Contains(r.Detail, "status 401") {
		t.Errorf("store_hours: %+v", r)
	}
	r = call(t, f, "nope", `{}`, alice)
	if r.Outcome != OutcomeInvalid || r.Reason != ReasonUnknownTool {
		t.Errorf("unknown tool: %+v", r)
	}
}

// The injection cases of issue 19: whatever the model passes, C-1001 gets
// nothing of another customer, and each is refused in Go.
func TestInjection(t *testing.T) {
	f := newFixture(t, laxTools)
	tests := []struct {
		name, tool, args string
		outcome          string
		wantURI          string // the request sent, when one is
	}{
		{"another customer's order by ref", "order_status", `{"reference":"ORD-2001"}`, OutcomeNotFound, "/orders/ORD-2001"},
		{"customer id as a parameter", "order_status", `{"reference":"ORD-1001","customer_id":"C-1002"}`, OutcomeInvalid, ""},
		{"customer id as a parameter to a list", "recent_orders", `{"customer_id":"C-1002"}`, OutcomeInvalid, ""},
		{"Customer object as a parameter", "recent_orders", `{"Customer":{"ID":"C-1002"}}`, OutcomeInvalid, ""},
		{"path traversal stopped by the pattern", "order_status", `{"reference":"../customers/C-1002/orders"}`, OutcomeInvalid, ""},
		{"path traversal", "lax_order", `{"reference":"../customers/C-1002/orders"}`, OutcomeInvalid, ""},
		{"dotdot", "lax_order", `{"reference":".."}`, OutcomeInvalid, ""},
		{"escaped slash", "lax_order", `{"reference":"..%2Fcustomers%2FC-1002%2Forders"}`, OutcomeInvalid, ""},
		{"escaped slash lower case", "lax_order", `{"reference":"x%2fy"}`, OutcomeInvalid, ""},
		{"query in a path value", "lax_order", `{"reference":"ORD-2001?customer=C-1002"}`, OutcomeNotFound, "/orders/ORD-2001%3Fcustomer=C-1002"},
		{"query in a query value", "lax_search", `{"q":"x&customer=C-1002"}`, OutcomeOK, "/customers/C-1001/orders?q=x%26customer%3DC-1002&limit=5"},
		{"template in a value", "lax_order", `{"reference":"{{.Customer.ID}}"}`, OutcomeNotFound, "/orders/%7B%7B.Customer.ID%7D%7D"},
		{"template in a query value", "lax_search", `{"q":"{{.Customer.ID}}"}`, OutcomeOK, "/customers/C-1001/orders?q=%7B%7B.Customer.ID%7D%7D&limit=5"},
		{"CRLF in a header value", "lax_order", `{"reference":"ORD-1001\r\nX-Customer: C-1002"}`, OutcomeInvalid, ""},
		{"another customer's order by ref, lax", "lax_order", `{"reference":"ORD-3001"}`, OutcomeNotFound, "/orders/ORD-3001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.orders.Requests())
			r := call(t, f, tt.tool, tt.args, alice)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome = %q, want %q (%+v)", r.Outcome, tt.outcome, r)
			}
			reqs := f.orders.Requests()[before:]
			if tt.wantURI == "" {
				if len(reqs) != 0 {
					t.Fatalf("a request was made: %+v", reqs)
				}
				return
			}
			if len(reqs) != 1 || reqs[0].URI != tt.wantURI {
				t.Fatalf("requests = %+v, want %s", reqs, tt.wantURI)
			}
			if strings.Contains(reqs[0].URI, "C-1002") && !strings.Contains(reqs[0].URI, "%3D") && !strings.Contains(reqs[0].URI, "%3F") {
				t.Fatalf("another customer's id reached the API unescaped: %s", reqs[0].URI)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		failN    int
		code     int
		outcome  string
		requests int
	}{
		{"one 503 is retried", 1, http.StatusServiceUnavailable, OutcomeOK, 2},
		{"one 500 is retried", 1, http.StatusInternalServerError, OutcomeOK, 2},
		{"two 502s fail", 2, http.StatusBadGateway, OutcomeError, 2},
		{"400 is not retried", 1, http.StatusBadRequest, OutcomeError, 1},
		{"429 is not retried", 1, http.StatusTooManyRequests, OutcomeError, 1},
		{"401 is not retried", 1, http.StatusUnauthorized, OutcomeError, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			f.orders.Fail(tt.failN, tt.code)
			r := call(t, f, "order_status", `{"reference":"ORD-1001"}`, alice)
			if r.Outcome != tt.outcome {
				t.Fatalf("result = %+v", r)
			}
			if n := len(f.orders.Requests()); n != tt.requests {
				t.Fatalf("%d requests, want %d", n, tt.requests)
			}
			if int(f.sleeps.Load()) != tt.requests-1 {
				t.Errorf("%d backoffs for %d requests", f.sleeps.Load(), tt.requests)
			}
			if r.Outcome == OutcomeError {
				if r.Reason != ReasonUpstreamError || !strings.Contains(r.Content, "offer to connect them with a person") ||
					!strings.Contains(r.Detail, fmt.Sprintf("status %d", tt.code)) {
					t.Errorf("error result = %+v", r)
				}
			}
		})
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	f := newFixture(t, "")
	r := call(t, f, "order_status", `{"reference":"ORD-9999"}`, alice)
	if r.Outcome != OutcomeNotFound || len(f.orders.Requests()) != 1 {
		t.Fatalf("result = %+v, %d requests", r, len(f.orders.Requests()))
	}
}

// slowSet is a Set with one tool against h.
func slowSet(t *testing.T, h http.Handler, request string) (*Set, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	src := `tools:
  - name: thing
    description: a thing
    request:
      url: "${API_URL}/thing"
      headers: {Authorization: "Bearer ${API_TOKEN}"}
` + request + `
    response:
      owner: owner
      fields: [status]
`
	s, err := Parse("tools.yaml", []byte(src), envOf(map[string]string{"API_URL": srv.URL, "API_TOKEN": ordersToken}))
	if err != nil {
		t.Fatal(err)
	}
	return s.WithOptions(Options{Client: srv.Client(), Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}), srv
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int32
	s, _ := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), "      timeout: 50ms\n      retries: 1")
	defer close(release)
	start := time.Now()
	r := s.Call(context.Background(), "thing", nil, alice)
	if r.Outcome != OutcomeError || r.Reason != ReasonTimeout || strings.Contains(r.Detail, ordersToken) {
		t.Fatalf("result = %+v", r)
	}
	if n.Load() != 2 {
		t.Errorf("%d attempts, want 2 (a timeout is retried)", n.Load())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	// The caller's context bounds the whole call, retries included.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	s2, _ := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }), "      timeout: 30s\n      retries: 3")
	r = s2.Call(ctx, "thing", nil, alice)
	if r.Outcome != OutcomeError || r.Reason != ReasonTimeout {
		t.Fatalf("cancelled: %+v", r)
	}
}

func TestSizeLimit(t *testing.T) {
	big := `{"owner":"C-1001","status":"` + strings.Repeat("x", 2000) + `"}`
	s, _ := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, big)
	}), "      max_response_bytes: 1000")
	r := s.Call(context.Background(), "thing", nil, alice)
	if r.Outcome != OutcomeError || r.Reason != ReasonTooLarge {
		t.Fatalf("result = %+v", r)
	}
	// Exactly at the limit is fine.
	exact := `{"owner":"C-1001","status":"ok"}`
	s, _ = slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, exact) }),
		fmt.Sprintf("      max_response_bytes: %d", len(exact)))
	if r := s.Call(context.Background(), "thing", nil, alice); r.Outcome != OutcomeOK {
		t.Fatalf("at the limit: %+v", r)
	}
}

func TestContentBound(t *testing.T) {
	f := newFixture(t, "")
	for i := range 30 {
		f.orders.Add(fakeorders.Order{Reference: fmt.Sprintf("ORD-%d", 6000+i), CustomerID: "C-1001", Status: strings.Repeat("s", 300), Total: "1.00", Currency: "EUR"})
	}
	r := call(t, f, "recent_orders", `{}`, alice)
	if r.Outcome != OutcomeOK || len(r.Content) > DefaultMaxContent {
		t.Fatalf("content is %d bytes: %+v", len(r.Content), r.Outcome)
	}
	var got struct {
		Records []map[string]any `json:"records"`
		Note    string           `json:"note"`
	}
	if err := json.Unmarshal([]byte(r.Content), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Records) == 0 || len(got.Records) != len(r.Records) || !strings.Contains(got.Note, "more records were left out") {
		t.Fatalf("%d records, %d audited, note %q", len(got.Records), len(r.Records), got.Note)
	}
	if got.Records[0]["reference"] != "ORD-6029" {
		t.Errorf("first record = %v, want the newest", got.Records[0]["reference"])
	}
}

func TestSecretsNeverInResults(t *testing.T) {
	// An API that echoes the token back, and one that is down.
	s, srv := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"owner":"C-1001","status":%q}`, r.Header.Get("Authorization"))
	}), "")
	r := s.Call(context.Background(), "thing", nil, alice)
	if r.Outcome != OutcomeOK || strings.Contains(r.Content, ordersToken) || !strings.Contains(r.Content, "[redacted]") {
		t.Fatalf("echo: %+v", r)
	}
	srv.Close()
	r = s.Call(context.Background(), "thing", nil, alice)
	if r.Outcome != OutcomeError || r.Reason != ReasonUpstreamError {
		t.Fatalf("down: %+v", r)
	}
	for _, out := range []string{r.Content, r.Detail, r.Reason, fmt.Sprintf("%v %+v %#v", s, s, s)} {
		if strings.Contains(out, ordersToken) || strings.Contains(out, "/thing") {
			t.Errorf("shows the secret or the URL: %s", out)
		}
	}
}

func TestNoRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, `{"owner":"C-1001","status":"ok"}`)
	}))
	defer other.Close()
	s, _ := slowSet(t, http.RedirectHandler(other.URL+"/x", http.StatusFound), "")
	r := s.Call(context.Background(), "thing", nil, alice)
	if r.Outcome != OutcomeError || elsewhere.Load() != 0 {
		t.Fatalf("result = %+v, %d requests elsewhere", r, elsewhere.Load())
	}
}

func TestUpstreamInvalid(t *testing.T) {
	for _, body := range []string{`not json`, `[1,2]`, `{"a":1} {"b":2}`} {
		s, _ := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }), "")
		if r := s.Call(context.Background(), "thing", nil, alice); r.Outcome != OutcomeError || r.Reason != ReasonUpstreamInvalid {
			t.Errorf("%s: %+v", body, r)
		}
	}
}

func TestPostBody(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		got.Store(r.Header.Get("Content-Type") + " " + b.String())
		fmt.Fprint(w, `{"data":{"items":[{"who":"C-1001","status":"ok"}]}}`)
	}))
	defer srv.Close()
	src := `tools:
  - name: search
    description: search orders
    parameters:
      type: object
      properties:
        text: {type: string}
        qty: {type: integer}
        gift: {type: boolean}
        note: {type: string}
      required: [text, qty]
    request:
      method: POST
      url: "${API_URL}/search"
      body: '{"customer": "{{.Customer.ID}}", "query": "{{.Params.text}}", "qty": "{{.Params.qty}}", "gift": "{{.Params.gift}}", "label": "n={{.Params.qty}}", "fixed": [1, true, null]}'
    response:
      records: data.items
      owner: who
      fields: [status]
`
	s, err := Parse("tools.yaml", []byte(src), envOf(map[string]string{"API_URL": srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	s = s.WithOptions(Options{Client: srv.Client()})
	r := s.Call(context.Background(), "search", json.RawMessage(`{"text":"a\", \"customer\": \"C-1002","qty":2}`), alice)
	if r.Outcome != OutcomeOK || r.Content != `{"records":[{"status":"ok"}]}` {
		t.Fatalf("result = %+v", r)
	}
	want := `application/json {"customer":"C-1001","query":"a\", \"customer\": \"C-1002","qty":2,"label":"n=2","fixed":[1,true,null]}`
	if g := got.Load(); g != want {
		t.Errorf("body =\n%v\nwant\n%s", g, want)
	}
}

func TestMaskedNumbers(t *testing.T) {
	s, _ := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"owner":"C-1001","status":4111111111111111}`)
	}), "")
	r := s.Call(context.Background(), "thing", nil, alice)
	if r.Outcome != OutcomeOK || r.Content != `{"record":{"status":"[card ••••1111]"}}` {
		t.Fatalf("result = %+v", r)
	}
}

func TestOwnerAsNumber(t *testing.T) {
	s, _ := slowSet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"owner":1001,"status":"ok"}`)
	}), "")
	if r := s.Call(context.Background(), "thing", nil, Caller{CustomerID: "1001", Private: true}); r.Outcome != OutcomeOK {
		t.Fatalf("numeric owner, same customer: %+v", r)
	}
	if r := s.Call(context.Background(), "thing", nil, Caller{CustomerID: "1002", Private: true}); r.Outcome != OutcomeNotFound {
		t.Fatalf("numeric owner, other customer: %+v", r)
	}
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// serving is a `firstline serve` running in process.
type serving struct {
	base   string
	stderr *syncBuffer
	stop   func()
}

// startServe runs `firstline serve` with env on a free port until the test
// ends, and checks that it shuts down cleanly.
func startServe(t *testing.T, env map[string]string) serving {
	t.Helper()
	env["FIRSTLINE_HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan int, 1)
	stderr := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve"}, stdio{
			in: strings.NewReader(""), out: io.Discard, err: stderr,
			getenv:   func(k string) string { return env[k] },
			onListen: func(a string) { addr <- a },
		})
	}()
	var s serving
	select {
	case a := <-addr:
		s = serving{base: "http://" + a, stderr: stderr}
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not listen within 30s")
	}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down within 20s")
		}
	}
	t.Cleanup(s.stop)
	return s
}

// get fetches path with an optional bearer token and returns the status
// and body.
func (s serving) get(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// pageFigures reads the KPI page's figure cards: each card's label (its
// first words) to its value, and the heading of the open queue.
func pageFigures(t *testing.T, page string) (map[string]string, string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	figures := map[string]string{}
	queue := ""
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "div" && class(n) == "card" {
			var v, k string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				switch class(c) {
				case "v":
					v = text(c)
				case "k":
					k = text(c)
				}
			}
			figures[k] = v
		}
		if n.Type == html.ElementNode && n.Data == "h2" && strings.HasPrefix(text(n), "Open handoffs") {
			queue = text(n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return figures, queue
}

func class(n *html.Node) string {
	for _, a := range n.Attr {
		if a.Key == "class" {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// `firstline serve` with FIRSTLINE_ADMIN_TOKEN serves the KPI page at /:
// refused without the token, and its figures move after a conversation
// in the same database (a scripted `firstline chat` between two runs).
func TestServeKPIPage(t *testing.T) {
	const token = "kpi-test-token-0123456789"
	db := filepath.Join(t.TempDir(), "kpi.db")
	s := startServe(t, map[string]string{"FIRSTLINE_DB": db, "FIRSTLINE_ADMIN_TOKEN": token})

	for _, tc := range []struct{ name, token string }{{"no token", ""}, {"wrong token", "not-the-token"}} {
		code, body := s.get(t, "/", tc.token)
		if code != http.StatusUnauthorized || strings.Contains(body, "conversations") {
			t.Errorf("%s: GET / = %d %q, want 401 and no figures", tc.name, code, body)
		}
	}
	code, page := s.get(t, "/", token)
	if code != http.StatusOK {
		t.Fatalf("GET / with the token = %d: %s", code, page)
	}
	before, queue := pageFigures(t, page)
	if before["conversations"] != "0" || queue != "Open handoffs (0)" {
		t.Errorf("on an empty database: conversations %q, %q; want 0 and an empty queue (figures %v)", before["conversations"], queue, before)
	}
	if code, _ := s.get(t, "/elsewhere", token); code != http.StatusNotFound {
		t.Errorf("GET /elsewhere = %d, want 404: the page is at / only", code)
	}

	// A customer asks about a payment, then for a person; nobody claims.
	// One process answers on a SQLite file at a time, so serve stops for
	// the scripted chat and starts again on the same file.
	s.stop()
	mustChat(t, db, "status of PAY-1001", "I want to talk to a human")
	s = startServe(t, map[string]string{"FIRSTLINE_DB": db, "FIRSTLINE_ADMIN_TOKEN": token})

	_, page = s.get(t, "/", token)
	after, queue := pageFigures(t, page)
	if after["conversations"] != "1" || after["handoff rate"] != "100%" || queue != "Open handoffs (1)" {
		t.Errorf("after a conversation handed off: conversations %q, handoff rate %q, %q; want 1, 100%% and one open handoff (figures %v)",
			after["conversations"], after["handoff rate"], queue, after)
	}
	if !strings.Contains(page, "C-1001") || !strings.Contains(page, "asked for a person") {
		t.Errorf("the queue does not show the customer and the reason:\n%s", page)
	}

	code, metrics := s.get(t, "/metrics", "")
	for _, want := range []string{"firstline_outbox_pending ", "firstline_handoffs_open{state=\"waiting\"}", "firstline_handoff_time_to_claim_seconds_bucket"} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Without FIRSTLINE_ADMIN_TOKEN the page is off.
func TestServeKPIPageOff(t *testing.T) {
	s := startServe(t, map[string]string{"FIRSTLINE_DB": filepath.Join(t.TempDir(), "off.db")})
	if code, _ := s.get(t, "/", ""); code != http.StatusNotFound {
		t.Errorf("GET / without FIRSTLINE_ADMIN_TOKEN = %d, want 404", code)
	}
}

// A short FIRSTLINE_ADMIN_TOKEN stops start-up with a message naming it.
func TestServeRefusesAShortAdminToken(t *testing.T) {
	env := map[string]string{
		"FIRSTLINE_DB": filepath.Join(t.TempDir(), "short.db"), "FIRSTLINE_HTTP_ADDR": "127.0.0.1:0",
		"FIRSTLINE_ADMIN_TOKEN": "admin",
	}
	var stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve"}, stdio{in: strings.NewReader(""), out: io.Discard, err: &stderr,
		getenv: func(k string) string { return env[k] }})
	if code != 1 || !strings.Contains(stderr.String(), "FIRSTLINE_ADMIN_TOKEN: must be at least 16 characters") {
		t.Errorf("serve with a 5-character token: exit %d, %q; want 1 and the variable named", code, stderr.String())
	}
}

// A second process answering on the same SQLite file is refused with a
// message that says what to do; admin commands still run beside serve.
func TestOneProcessAnswersOnSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	startServe(t, map[string]string{"FIRSTLINE_DB": db})
	code, _, errOut := runCmd(t, db, "hello\n", "chat")
	if code != 1 || !strings.Contains(errOut, "in use by another firstline serve or chat") || !strings.Contains(errOut, "PostgreSQL") {
		t.Errorf("chat beside serve: exit %d, %q; want 1 and a message naming the way out", code, errOut)
	}
	if code, _, errOut := runCmd(t, db, "", "audit"); code != 0 {
		t.Errorf("audit beside serve: exit %d: %s", code, errOut)
	}
}

func TestCheckPprofAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"localhost:6060", true},
		{"[::1]:6060", true},
		{":6060", false}, // every interface
		{"0.0.0.0:6060", false},
		{"10.0.0.5:6060", false},
		{"example.com:6060", false},
		{"6060", false},
	}
	for _, tt := range tests {
		if err := checkPprofAddr(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkPprofAddr(%q) = %v; want ok %v", tt.addr, err, tt.ok)
		}
	}
}

// TestServeCutsSlowClients: a client that sends its request a byte at a
// time is cut off once FIRSTLINE_HTTP_READ_TIMEOUT has passed, so slow
// clients cannot hold serve's connections.
func TestServeCutsSlowClients(t *testing.T) {
	s := startServe(t, map[string]string{
		"FIRSTLINE_DB":                filepath.Join(t.TempDir(), "slow.db"),
		"FIRSTLINE_HTTP_READ_TIMEOUT": "300ms",
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	request := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)
	start := time.Now()
	for i := 0; i < len(request); i++ {
		if _, err := conn.Write([]byte{request[i]}); err != nil {
			break // cut off
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a request dribbled for 10 s was not cut off; the read timeout is 300ms")
		}
		time.Sleep(50 * time.Millisecond) // the slow client under test
	}
	// The server may answer (408) before it closes: read to the end.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil || time.Since(start) > 10*time.Second {
		t.Errorf("the connection stayed open %s after a dribbled request (%v)", time.Since(start), err)
	}
}

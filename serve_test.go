package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/firstlinehq/firstline/internal/fakeslack"
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

// logged finds the first JSON log line of serve with message msg and
// returns its attribute key.
func logged(t *testing.T, log, msg, key string) string {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != msg {
			continue
		}
		if v, ok := rec[key].(string); ok {
			return v
		}
	}
	t.Fatalf("serve logged no %q with %s:\n%s", msg, key, log)
	return ""
}

// With FIRSTLINE_METRICS_ADDR, /metrics and the profiler are served on
// that listener, and /metrics is not found on the public one.
func TestServeMetricsOnTheirOwnListener(t *testing.T) {
	s := startServe(t, map[string]string{
		"FIRSTLINE_DB":           filepath.Join(t.TempDir(), "metrics.db"),
		"FIRSTLINE_METRICS_ADDR": "127.0.0.1:0",
	})
	if code, _ := s.get(t, "/metrics", ""); code != http.StatusNotFound {
		t.Errorf("public GET /metrics = %d, want 404", code)
	}
	if code, _ := s.get(t, "/healthz", ""); code != http.StatusOK {
		t.Errorf("public GET /healthz = %d, want 200", code)
	}
	internal := serving{base: "http://" + logged(t, s.stderr.String(), "metrics listening", "addr")}
	code, metrics := internal.get(t, "/metrics", "")
	if code != http.StatusOK || !strings.Contains(metrics, "firstline_outbox_pending ") {
		t.Errorf("GET /metrics on FIRSTLINE_METRICS_ADDR = %d, lacking firstline_outbox_pending:\n%.500s", code, metrics)
	}
	if code, body := internal.get(t, "/debug/pprof/", ""); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ on FIRSTLINE_METRICS_ADDR = %d", code)
	}
	if code, _ := internal.get(t, "/", ""); code != http.StatusNotFound {
		t.Errorf("GET / on FIRSTLINE_METRICS_ADDR = %d, want 404: only metrics and the profiler are there", code)
	}
}

// Through the real server, a visit with ?token= leaves a session cookie
// that is not the token, and the redirect drops the token; behind a
// trusted proxy saying https the cookie is Secure.
func TestServeKPISession(t *testing.T) {
	const token = "kpi-test-token-0123456789"
	s := startServe(t, map[string]string{
		"FIRSTLINE_DB": filepath.Join(t.TempDir(), "session.db"), "FIRSTLINE_ADMIN_TOKEN": token,
		"FIRSTLINE_TRUSTED_PROXIES": "127.0.0.1",
	})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, s.base+"/?token="+token, nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(cookies) != 1 {
		t.Fatalf("GET /?token= = %d to %q with cookies %v; want 303 to / and a cookie", resp.StatusCode, resp.Header.Get("Location"), cookies)
	}
	if c := cookies[0]; strings.Contains(c.Value, token) || !c.Secure || !c.HttpOnly {
		t.Errorf("cookie %+v; want a Secure, HttpOnly session id, not the token", c)
	}
	req, _ = http.NewRequest(http.MethodGet, s.base+"/", nil)
	req.AddCookie(cookies[0])
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / with the session = %d, want 200", resp.StatusCode)
	}
}

// A request whose body arrives a byte at a time is cut off once
// FIRSTLINE_HTTP_READ_TIMEOUT has passed, even on a route that reads the
// body (Slack's events, whose signature headers are valid).
func TestServeCutsSlowBodies(t *testing.T) {
	fake := fakeslack.New(t)
	s := startServe(t, map[string]string{
		"FIRSTLINE_DB":                filepath.Join(t.TempDir(), "slowbody.db"),
		"FIRSTLINE_HTTP_READ_TIMEOUT": "300ms",
		"SLACK_BOT_TOKEN":             fakeslack.BotToken,
		"SLACK_SIGNING_SECRET":        fakeslack.SigningSecret,
		"SLACK_API_URL":               fake.APIURL(),
		"SLACK_AGENT_CHANNEL":         fakeslack.AgentChannel,
	})
	const size = 1_000_000
	ts, sig := fakeslack.Sign(fakeslack.SigningSecret, time.Now(), bytes.Repeat([]byte("x"), size))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nX-Slack-Request-Timestamp: %s\r\nX-Slack-Signature: %s\r\n\r\n", size, ts, sig)
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	// A byte, then up to 50ms waiting for the server to answer or hang
	// up, which paces the body too; until the server closes.
	var answer []byte
	var answered time.Duration
	buf := make([]byte, 4096)
	sent := 0
	for {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("a body dribbled for 10s (%d bytes) was not cut off; the read timeout is 300ms", sent)
		}
		if _, err := conn.Write([]byte{'x'}); err != nil {
			break // cut off
		}
		sent++
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := conn.Read(buf)
		if n > 0 && len(answer) == 0 {
			answered = time.Since(start)
		}
		answer = append(answer, buf[:n]...)
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			break // closed: EOF or reset
		}
	}
	took := time.Since(start)
	if took < 250*time.Millisecond || took > 5*time.Second {
		t.Errorf("cut off after %s (%d bytes); want soon after the 300ms read timeout", took, sent)
	}
	// What the server said, if the answer arrived before the reset: the
	// handler's read failed at the timeout, not a missing route or
	// signature. (net/http closes half a second after answering.)
	if len(answer) > 0 && (!bytes.HasPrefix(answer, []byte("HTTP/1.1 400")) || !bytes.Contains(answer, []byte("cannot read request")) || answered < 250*time.Millisecond) {
		t.Errorf("answer %q after %s; want 400 (the body could not be read) at the read timeout, or none", answer, answered)
	}
	t.Logf("answered after %s, cut off after %s, %d body bytes sent, answer %q", answered, took, sent, bytes.SplitN(answer, []byte("\r\n"), 2)[0])
}

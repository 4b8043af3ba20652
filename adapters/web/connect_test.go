package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/web"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

var secret = []byte("0123456789abcdef0123456789abcdef-connect")

// connectEnv is the handler in front of a real engine on an empty store,
// whose directory knows one customer, C-1 (the store's table).
type connectEnv struct {
	h    *testkit.Harness
	srv  *httptest.Server
	logs *bytes.Buffer
}

func newConnectEnv(t *testing.T) *connectEnv {
	t.Helper()
	h := testkit.New(t, testkit.Empty(), testkit.WithEngine(func(c *bot.Config) { c.ConnectURL = "https://login.example/connect" }))
	if err := h.Store.PutCustomer(h.Ctx, bot.Customer{ID: "C-1", Name: "Ada", Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	srv := httptest.NewServer(web.ConnectHandler(web.ConnectConfig{Secret: secret, Connector: h.Engine, Now: h.Clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	return &connectEnv{h: h, srv: srv, logs: logs}
}

// offer has user ask for payments and returns the state of the link.
func (e *connectEnv) offer(t *testing.T, user string) string {
	t.Helper()
	for _, m := range e.h.Say(user, "my payments") {
		for _, b := range m.Buttons {
			if b.Action == bot.ActionOpenURL {
				u, err := url.Parse(b.Value)
				if err != nil {
					t.Fatal(err)
				}
				return u.Query().Get("state")
			}
		}
	}
	t.Fatal("no connect link offered")
	return ""
}

type post struct {
	body      string
	timestamp string // "" leaves the header out; "now" is the clock's
	signature string // "" signs the body with secret; "none" leaves the header out
}

func (e *connectEnv) send(t *testing.T, p post) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	ts := p.timestamp
	if ts == "now" {
		ts = strconv.FormatInt(e.h.Clock.Now().Unix(), 10)
	}
	if ts != "" {
		req.Header.Set(web.ConnectTimestampHeader, ts)
	}
	switch p.signature {
	case "":
		req.Header.Set(web.ConnectSignatureHeader, web.SignConnect(secret, ts, []byte(p.body)))
	case "none":
	default:
		req.Header.Set(web.ConnectSignatureHeader, p.signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func (e *connectEnv) linked(t *testing.T, user string) string {
	t.Helper()
	var c string
	err := e.h.Store.WithTx(context.Background(), func(tx bot.Tx) error {
		var err error
		c, err = tx.CustomerFor(context.Background(), bot.NewIdentity(bot.Slack, testkit.Team, user))
		if errors.Is(err, bot.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConnectHandler(t *testing.T) {
	e := newConnectEnv(t)
	state := e.offer(t, "U-ada")
	good := `{"state":"` + state + `","customer_id":"C-1"}`
	old := strconv.FormatInt(e.h.Clock.Now().Add(-web.ConnectWindow-time.Second).Unix(), 10)
	forged := web.SignConnect([]byte("not-the-secret-not-the-secret-xx"), "", []byte(good))
	for _, tc := range []struct {
		name string
		p    post
		want int
	}{
		{"no timestamp", post{body: good, signature: "none"}, http.StatusUnauthorized},
		{"timestamp not a number", post{body: good, timestamp: "yesterday"}, http.StatusUnauthorized},
		{"stale timestamp, rightly signed", post{body: good, timestamp: old}, http.StatusUnauthorized},
		{"no signature", post{body: good, timestamp: "now", signature: "none"}, http.StatusUnauthorized},
		{"signed with another secret", post{body: good, timestamp: "now", signature: forged}, http.StatusUnauthorized},
		{"signature of another body", post{body: good, timestamp: "now", signature: web.SignConnect(secret, "0", []byte(good))}, http.StatusUnauthorized},
		{"not JSON", post{body: "state=x", timestamp: "now"}, http.StatusBadRequest},
		{"unknown field", post{body: `{"state":"` + state + `","customer_id":"C-1","admin":true}`, timestamp: "now"}, http.StatusBadRequest},
		{"two objects", post{body: good + good, timestamp: "now"}, http.StatusBadRequest},
		{"customer id with a newline", post{body: `{"state":"` + state + `","customer_id":"C-1\nC-2"}`, timestamp: "now"}, http.StatusBadRequest},
		{"no state", post{body: `{"customer_id":"C-1"}`, timestamp: "now"}, http.StatusBadRequest},
		{"unknown state", post{body: `{"state":"` + strings.Repeat("x", len(state)) + `","customer_id":"C-1"}`, timestamp: "now"}, http.StatusNotFound},
		{"unknown customer", post{body: `{"state":"` + state + `","customer_id":"C-404"}`, timestamp: "now"}, http.StatusUnprocessableEntity},
		{"body too large", post{body: `{"state":"` + strings.Repeat("x", 20<<10) + `"}`, timestamp: "now"}, http.StatusRequestEntityTooLarge},
	} {
		if got, body := e.send(t, tc.p); got != tc.want {
			t.Errorf("%s: HTTP %d %s; want %d", tc.name, got, body, tc.want)
		}
		if c := e.linked(t, "U-ada"); c != "" {
			t.Fatalf("%s linked U-ada to %s", tc.name, c)
		}
	}

	if got, body := e.send(t, post{body: good, timestamp: "now"}); got != http.StatusOK || !strings.Contains(body, "connected") {
		t.Fatalf("good request: HTTP %d %s", got, body)
	}
	if c := e.linked(t, "U-ada"); c != "C-1" {
		t.Fatalf("linked to %q; want C-1", c)
	}
	// Replayed, within the window and rightly signed: refused, no change.
	if got, _ := e.send(t, post{body: good, timestamp: "now"}); got != http.StatusConflict {
		t.Errorf("replay: HTTP %d; want 409", got)
	}
	// An expired state.
	state2 := e.offer(t, "U-bob")
	e.h.Clock.Advance(bot.ConnectTTL + time.Second)
	if got, _ := e.send(t, post{body: `{"state":"` + state2 + `","customer_id":"C-1"}`, timestamp: "now"}); got != http.StatusGone {
		t.Errorf("expired state: HTTP %d; want 410", got)
	}
	if c := e.linked(t, "U-bob"); c != "" {
		t.Errorf("an expired state linked U-bob to %s", c)
	}
	for _, secretish := range []string{state, state2, string(secret)} {
		if strings.Contains(e.logs.String(), secretish) {
			t.Errorf("the log holds a secret: %s", e.logs.String())
		}
	}
}

func FuzzConnectBody(f *testing.F) {
	for _, s := range []string{`{"state":"abc","customer_id":"C-1"}`, `{}`, `[]`, `{"state":1}`, `{"state":"a","customer_id":"\u0000"}`, "{\"state\":\"a\"}{}"} {
		f.Add(s)
	}
	var calls int
	h := web.ConnectHandler(web.ConnectConfig{Secret: secret, Connector: connectorFunc(func(_ context.Context, state, customer string) (bot.Connected, error) {
		calls++
		if state == "" || (bot.Customer{ID: customer}).Validate() != nil {
			panic("Connect called with an invalid request")
		}
		return bot.Connected{}, bot.ErrConnectUnknown
	})})
	f.Fuzz(func(t *testing.T, body string) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/connect", strings.NewReader(body))
		req.Header.Set(web.ConnectTimestampHeader, ts)
		req.Header.Set(web.ConnectSignatureHeader, web.SignConnect(secret, ts, []byte(body)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusOK || w.Code >= 500 {
			t.Fatalf("HTTP %d for %q", w.Code, body)
		}
	})
}

type connectorFunc func(ctx context.Context, state, customerID string) (bot.Connected, error)

func (f connectorFunc) Connect(ctx context.Context, state, customerID string) (bot.Connected, error) {
	return f(ctx, state, customerID)
}

// The README's example computes the signature with openssl; it must agree
// with SignConnect.
func TestConnectSignatureMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	body := `{"state":"S","customer_id":"C-1001"}`
	cmd := exec.Command("sh", "-c", `printf 'v1:%s:%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //'`)
	cmd.Env = append(os.Environ(), "TS=1767786000", "BODY="+body, "SECRET="+string(secret))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	if got, want := "v1="+strings.TrimSpace(string(out)), web.SignConnect(secret, "1767786000", []byte(body)); got != want {
		t.Errorf("openssl gives %s; SignConnect %s", got, want)
	}
}

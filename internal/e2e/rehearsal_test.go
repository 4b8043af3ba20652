package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/web"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakecompany"
	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// TestDeploymentRehearsal is a new company's first day, with the real
// binary: an empty database, no demo data, customers and payments in the
// company's own API, Slack. Four customers get connected in the four ways
// (an admin's `firstline link`, the signed connect link, a code by email,
// the Slack profile email), then each asks for "my payments" and must see
// exactly their own; a stranger sees none; a replayed and a forged connect
// request change nothing. Run with -v to read the rehearsal as it goes.
func TestDeploymentRehearsal(t *testing.T) {
	const (
		companyToken  = "co-api-token-7f3e"
		connectSecret = "rehearsal-connect-secret-0123456789abcdef"
		connectPage   = "https://login.corp.example/chat-connect"
	)
	company := fakecompany.New(companyToken)
	t.Cleanup(company.Close)
	at := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	people := []struct{ user, customer, name, email, payment, merchant string }{
		{"U-ALICE", "C-ALICE", "Alice Admin-Linked", "alice@corp.example", "PAY-A-100", "Alpha Books"},
		{"U-BOB", "C-BOB", "Bob Connect", "bob@corp.example", "PAY-B-200", "Bravo Rail"},
		{"U-CAROL", "C-CAROL", "Carol Code", "carol@corp.example", "PAY-C-300", "Charlie Coffee"},
		{"U-DAN", "C-DAN", "Dan Profile", "dan@corp.example", "PAY-D-400", "Delta Sports"},
	}
	for i, p := range people {
		company.AddCustomer(bot.Customer{ID: p.customer, Name: p.name, Email: p.email})
		company.AddPayment(bot.Payment{Reference: p.payment, CustomerID: p.customer, Amount: fmt.Sprintf("%d.00", 10*(i+1)),
			Currency: "EUR", Status: bot.PaymentSettled, Merchant: p.merchant, CreatedAt: at, UpdatedAt: at})
	}
	codes := newCodeWebhook(t)

	slack := fakeslack.New(t)
	for _, p := range people {
		u := fakeslack.User{Handle: strings.ToLower(p.user[2:]), Display: p.name}
		if p.user == "U-DAN" {
			u.Email = p.email // Dan's Slack profile carries his email; the others' do not
		}
		slack.AddUser(p.user, u)
	}
	// A stranger, and a guest whose profile claims Dan's email.
	slack.AddUser("U-STRANGER", fakeslack.User{Handle: "stranger", Display: "Stranger", Email: "nobody@elsewhere.example"})
	slack.AddUser("U-GUEST", fakeslack.User{Handle: "guest", Display: "Guest", Email: "dan@corp.example", Guest: true})

	db := t.TempDir() + "/firstline.db"
	srv := newServer(t,
		"FIRSTLINE_DB="+db,
		"SLACK_BOT_TOKEN="+fakeslack.BotToken, "SLACK_APP_TOKEN="+fakeslack.AppToken,
		"SLACK_API_URL="+slack.APIURL(), "SLACK_AGENT_CHANNEL="+agentChannel,
		"SLACK_LINK_BY_EMAIL=true",
		"FIRSTLINE_PAYMENTS_URL="+company.URL(), "FIRSTLINE_PAYMENTS_TOKEN="+companyToken,
		"FIRSTLINE_VERIFY_URL="+codes.srv.URL,
		"FIRSTLINE_CONNECT_URL="+connectPage, "FIRSTLINE_CONNECT_SECRET="+connectSecret,
	)

	// 1. An admin links Alice before the bot starts, against the company's
	// API (no customer is in the database).
	out := srv.cli("link", "--platform", "slack", "--team", fakeslack.Team, "--user", "U-ALICE", "--customer", "C-ALICE", "--by", "rehearsal")
	t.Logf("$ firstline link --platform slack --team %s --user U-ALICE --customer C-ALICE\n%s", fakeslack.Team, out)
	if !strings.Contains(out, "found in the company's API") {
		t.Errorf("link does not say it used the company's API: %s", out)
	}
	if out := srv.cliFails("link", "--platform", "slack", "--team", fakeslack.Team, "--user", "U-X", "--customer", "C-NOBODY"); !strings.Contains(out, "no customer C-NOBODY in the company's API") {
		t.Errorf("link to an unknown customer: %s", out)
	}
	srv.start()
	dm := func(user, text string) fakeslack.Post {
		t.Helper()
		n := len(slack.Posts())
		slack.DM(user, text)
		return awaitPost(t, slack, n, fakeslack.DMChannel(user), "")
	}

	// 2. Bob connects through the signed link.
	offer := awaitPostWith(t, slack, func() { slack.DM("U-BOB", "what is the status of my payments?") }, fakeslack.DMChannel("U-BOB"), "connect this chat")
	state := connectState(t, offer, connectPage)
	body := []byte(`{"state":"` + state + `","customer_id":"C-BOB"}`)
	connectURL := "http://" + srv.addr() + "/connect"
	if code := postConnect(t, connectURL, body, []byte("the-wrong-secret-the-wrong-secret-xx")); code != http.StatusUnauthorized {
		t.Errorf("connect signed with a wrong secret: HTTP %d; want 401", code)
	}
	n := len(slack.Posts())
	if code := postConnect(t, connectURL, body, []byte(connectSecret)); code != http.StatusOK {
		t.Fatalf("connect: HTTP %d; want 200", code)
	}
	awaitPost(t, slack, n, fakeslack.DMChannel("U-BOB"), "Your account is connected")
	if code := postConnect(t, connectURL, []byte(`{"state":"`+state+`","customer_id":"C-ALICE"}`), []byte(connectSecret)); code != http.StatusConflict {
		t.Errorf("replayed connect (for another customer): HTTP %d; want 409", code)
	}
	t.Logf("Bob connected through the signed link; a forged (401) and a replayed (409) request were refused")

	// 3. Carol verifies by code.
	awaitPostWith(t, slack, func() { slack.DM("U-CAROL", "my payments please") }, fakeslack.DMChannel("U-CAROL"), "email address on your account")
	awaitPostWith(t, slack, func() { slack.DM("U-CAROL", "it's carol@CORP.example") }, fakeslack.DMChannel("U-CAROL"), "code is on its way")
	code := codes.last(t, "C-CAROL", "carol@corp.example")
	awaitPostWith(t, slack, func() { slack.DM("U-CAROL", code) }, fakeslack.DMChannel("U-CAROL"), "now linked")
	t.Logf("Carol verified by a code sent to the address in the company's directory")

	// 4-6. Each asks for their payments; Dan is linked by his profile email
	// on his first message; the stranger and the guest see nothing.
	for _, p := range people {
		reply := dm(p.user, "status of my payments")
		text := reply.Section()
		t.Logf("%s asks for their payments:\n%s", p.user, text)
		if !strings.Contains(text, p.payment) {
			t.Errorf("%s does not see their payment %s: %q", p.user, p.payment, text)
		}
		for _, o := range people {
			if o.user != p.user && (strings.Contains(text, o.payment) || strings.Contains(text, o.merchant)) {
				t.Errorf("%s sees %s's payment: %q", p.user, o.user, text)
			}
		}
	}
	for _, user := range []string{"U-STRANGER", "U-GUEST"} {
		reply := awaitPostWith(t, slack, func() { slack.DM(user, "status of my payments") }, fakeslack.DMChannel(user), "connect this chat")
		all := ""
		for _, p := range slack.Posts() {
			if p.Channel == fakeslack.DMChannel(user) {
				all += p.Section() + "\n"
			}
		}
		for _, o := range people {
			if strings.Contains(all, o.payment) || strings.Contains(all, o.merchant) {
				t.Errorf("%s sees %s's payment: %q", user, o.user, all)
			}
		}
		t.Logf("%s asks for payments and is offered to connect: %q", user, reply.Section())
	}

	links := srv.cli("link", "--list")
	t.Logf("$ firstline link --list\n%s", links)
	for _, want := range []string{"U-ALICE  C-ALICE", "U-BOB    C-BOB", "U-CAROL  C-CAROL", "U-DAN    C-DAN"} {
		if !strings.Contains(strings.Join(strings.Fields(links), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("link --list lacks %q", want)
		}
	}
	for _, not := range []string{"U-STRANGER", "U-GUEST"} {
		if strings.Contains(links, not) {
			t.Errorf("%s got linked:\n%s", not, links)
		}
	}
	audit := srv.cli("audit")
	for _, want := range []string{"link", "connect", "verify_linked", "link_by_email"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %s:\n%s", want, audit)
		}
	}
	if strings.Contains(srv.tail(100000), companyToken) || strings.Contains(srv.tail(100000), state) {
		t.Error("the company's token or a connect state is in the logs")
	}
}

// cli runs a firstline admin command with the server's environment and
// returns its output, failing the test unless it succeeds.
func (s *server) cli(args ...string) string {
	s.t.Helper()
	out, err := s.runCLI(args...)
	if err != nil {
		s.t.Fatalf("firstline %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// cliFails runs a command that must fail and returns its output.
func (s *server) cliFails(args ...string) string {
	s.t.Helper()
	out, err := s.runCLI(args...)
	if err == nil {
		s.t.Fatalf("firstline %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func (s *server) runCLI(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// addr is the running process's HTTP address.
func (s *server) addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.addr
}

// awaitPost waits for a post to channel, after the first n posts, whose
// section holds text ("" for any).
func awaitPost(t *testing.T, slack *fakeslack.Server, n int, channel, text string) fakeslack.Post {
	t.Helper()
	var found fakeslack.Post
	waitFor(t, 20*time.Second, fmt.Sprintf("a post in %s containing %q", channel, text), func() bool {
		for _, p := range slack.PostsSince(n) {
			if p.Channel == channel && p.Method == "chat.postMessage" && strings.Contains(p.Section(), text) &&
				(text != "" || !strings.Contains(p.Section(), "AI support assistant")) {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

// awaitPostWith runs act and waits for the post it causes in channel.
func awaitPostWith(t *testing.T, slack *fakeslack.Server, act func(), channel, text string) fakeslack.Post {
	t.Helper()
	n := len(slack.Posts())
	act()
	return awaitPost(t, slack, n, channel, text)
}

// connectState is the state of a post's connect button, whose URL must
// be the company's page.
func connectState(t *testing.T, p fakeslack.Post, page string) string {
	t.Helper()
	for _, b := range p.Buttons() {
		if b.URL == "" {
			continue
		}
		u, err := url.Parse(b.URL)
		if err != nil || !strings.HasPrefix(b.URL, page+"?") {
			t.Fatalf("connect button URL %q is not the company's page", b.URL)
		}
		if b.Label != "Connect your account" {
			t.Errorf("connect button label %q", b.Label)
		}
		return u.Query().Get("state")
	}
	t.Fatalf("no link button in %+v", p.Buttons())
	return ""
}

// postConnect is the company's back end calling POST /connect, signed
// with secret, and returns the status.
func postConnect(t *testing.T, target string, body, secret []byte) int {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(web.ConnectTimestampHeader, ts)
	req.Header.Set(web.ConnectSignatureHeader, web.SignConnect(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// codeWebhook is the company's FIRSTLINE_VERIFY_URL: it records the codes
// it is asked to deliver.
type codeWebhook struct {
	srv   *httptest.Server
	mu    sync.Mutex
	codes []bot.VerificationCode
}

func newCodeWebhook(t *testing.T) *codeWebhook {
	w := &codeWebhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var c struct {
			CustomerID string `json:"customer_id"`
			Email      string `json:"email"`
			Code       string `json:"code"`
		}
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(rw, "bad body", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.codes = append(w.codes, bot.VerificationCode{CustomerID: c.CustomerID, Email: c.Email, Code: c.Code})
		w.mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// last returns the last code, which must be for customer at email.
func (w *codeWebhook) last(t *testing.T, customer, email string) string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.codes) == 0 {
		t.Fatal("no verification code was sent")
	}
	c := w.codes[len(w.codes)-1]
	if c.CustomerID != customer || c.Email != email {
		t.Fatalf("code sent for %s to %s; want %s at %s", c.CustomerID, c.Email, customer, email)
	}
	return c.Code
}

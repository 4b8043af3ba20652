package slack

import (
	"bufio"
	"fmt"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSignatures: requests not signed by Slack with the signing secret, or
// signed too long ago, are refused before anything is read from them.
func TestSignatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	event := e.fake.EventCallback(fakeslack.IMEvent("U-ada", "status of PAY-1001", e.fake.NewTS()))
	form := url.Values{"payload": {string(fakeslack.BlockActions("U-ada", "DADA", "1.2", button{ActionID: "firstline_talk_to_person", Value: "1", Label: "x"}))}}
	jsonH := http.Header{"Content-Type": {"application/json"}}
	formH := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	now := time.Now()
	tests := []struct {
		name   string
		path   string
		body   []byte
		h      http.Header
		secret string
		at     time.Time
		want   int
	}{
		{"event, forged", "/slack/events", event, jsonH, "not-the-secret", now, http.StatusUnauthorized},
		{"event, stale", "/slack/events", event, jsonH, testSecret, now.Add(-6 * time.Minute), http.StatusUnauthorized},
		{"event, from the future", "/slack/events", event, jsonH, testSecret, now.Add(6 * time.Minute), http.StatusUnauthorized},
		{"event, unsigned", "/slack/events", event, jsonH, "", now, http.StatusUnauthorized},
		{"event, just in time", "/slack/events", event, jsonH, testSecret, now.Add(-4 * time.Minute), http.StatusOK},
		{"interaction, forged", "/slack/interactions", []byte(form.Encode()), formH, "not-the-secret", now, http.StatusUnauthorized},
		{"interaction, stale", "/slack/interactions", []byte(form.Encode()), formH, testSecret, now.Add(-10 * time.Minute), http.StatusUnauthorized},
		{"event, too large", "/slack/events", []byte(`{"type":"event_callback","x":"` + strings.Repeat("a", maxBody) + `"}`), jsonH, testSecret, now, http.StatusRequestEntityTooLarge},
		{"event, not JSON", "/slack/events", []byte("hello"), jsonH, testSecret, now, http.StatusBadRequest},
		{"interaction, no payload", "/slack/interactions", []byte("x=1"), formH, testSecret, now, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _ := postSigned(t, e.app.URL+tt.path, tt.body, tt.h, tt.secret, tt.at)
			if code != tt.want {
				t.Errorf("status %d, want %d", code, tt.want)
			}
		})
	}

	// A signature over other bytes than the body is as bad as none.
	ts, sig := fakeslack.Sign(testSecret, now, []byte(`{"type":"url_verification","challenge":"other"}`))
	req, _ := http.NewRequest(http.MethodPost, e.app.URL+"/slack/events", strings.NewReader(`{"type":"url_verification","challenge":"abc"}`))
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered body: status %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "stale timestamp") {
		t.Error("refusals of stale requests are not logged as such")
	}
}

// TestURLVerification: Slack checks the request URL with a challenge.
func TestURLVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	body := []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	code, got := e.signedPost("/slack/events", body, http.Header{"Content-Type": {"application/json"}}, time.Now())
	if code != http.StatusOK || got != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q", code, got)
	}
}

// TestNotStoredNotAcknowledged: when the engine cannot store a message,
// Slack is not acknowledged (HTTP 500), so that it delivers it again; the
// redelivery, once the store is back, is answered once.
func TestNotStoredNotAcknowledged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	body := e.fake.EventCallback(fakeslack.IMEvent("U-ada", "status of PAY-1001", e.fake.NewTS()))
	closer, ok := e.h.Store.(interface{ Close() error })
	if !ok {
		t.Fatalf("the test store %T cannot be closed", e.h.Store)
	}
	closer.Close() // the database is gone
	code, _ := e.signedPost("/slack/events", body, http.Header{"Content-Type": {"application/json"}}, time.Now())
	if code != http.StatusInternalServerError {
		t.Fatalf("status %d with the store down, want 500", code)
	}
	if n := e.fake.Calls("reactions.add"); n != 0 {
		t.Errorf("%d signs of life for a message not stored", n)
	}
}

// TestStaleRequestRefusedBeforeItsBody: a request with no signature or a
// stale timestamp is refused on its headers, without its body being read:
// a client that announces a megabyte and sends none of it gets its answer
// at once.
func TestStaleRequestRefusedBeforeItsBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	u, err := url.Parse(e.app.URL)
	if err != nil {
		t.Fatal(err)
	}
	ts, sig := fakeslack.Sign(testSecret, time.Now().Add(-6*time.Minute), nil)
	tests := []struct {
		name    string
		headers string
	}{
		{"stale", "X-Slack-Request-Timestamp: " + ts + "\r\nX-Slack-Signature: " + sig + "\r\n"},
		{"unsigned", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = fmt.Fprintf(conn, "POST /slack/events HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n%s\r\n{", u.Host, tt.headers)
			if err != nil {
				t.Fatal(err)
			}
			if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer before the body: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
		})
	}
}

package fakediscord

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// get makes a REST call as the bot would and decodes the answer.
func get(t *testing.T, s *Server, path string, body string) (int, any) {
	t.Helper()
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, s.APIURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestMessagesNewestFirstWithNonce: the bot finds its recent messages,
// newest first, with the nonce it created them with; an enforced nonce
// returns the message already created, until Discord forgets it.
func TestMessagesNewestFirstWithNonce(t *testing.T) {
	s := New(t)
	s.SayOffline(DMAda, Ada, "hello")
	for _, n := range []string{"fl1", "fl2", "fl2"} {
		if code, _ := get(t, s, "/channels/"+DMAda+"/messages", `{"content":"hi","nonce":"`+n+`","enforce_nonce":true}`); code != http.StatusOK {
			t.Fatalf("create: %d", code)
		}
	}
	if n := len(s.SentTo(DMAda)); n != 2 {
		t.Fatalf("%d messages created, want 2 (the second fl2 is the first one again)", n)
	}
	_, out := get(t, s, "/channels/"+DMAda+"/messages?limit=2", "")
	msgs := out.([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["nonce"] != "fl2" || msgs[1].(map[string]any)["nonce"] != "fl1" {
		t.Fatalf("newest two = %v, want fl2 then fl1", msgs)
	}
	s.ExpireNonces()
	get(t, s, "/channels/"+DMAda+"/messages", `{"content":"hi","nonce":"fl2","enforce_nonce":true}`)
	if n := len(s.SentTo(DMAda)); n != 3 {
		t.Errorf("%d messages after the nonce expired, want 3", n)
	}
}

// TestFailureAfterCreate: an injected failure after the create leaves the
// message created, the answer an error.
func TestFailureAfterCreate(t *testing.T) {
	s := New(t)
	s.FailNext(DMAda, Failure{AfterCreate: true, Status: http.StatusBadGateway})
	if code, _ := get(t, s, "/channels/"+DMAda+"/messages", `{"content":"hi"}`); code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", code)
	}
	if n := len(s.SentTo(DMAda)); n != 1 {
		t.Errorf("%d messages created, want 1", n)
	}
}

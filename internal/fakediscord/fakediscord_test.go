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

// TestMembersCarryRoles: agents hold Role in events, interactions and the
// member lookup; a user who is not in the server is Unknown Member.
func TestMembersCarryRoles(t *testing.T) {
	s := New(t)
	code, out := get(t, s, "/guilds/"+Guild+"/members/"+Grace, "")
	m, _ := out.(map[string]any)
	if roles, _ := m["roles"].([]any); code != http.StatusOK || len(roles) != 1 || roles[0] != Role {
		t.Errorf("Grace's member = %d %v, want the agent role", code, out)
	}
	if u, _ := m["user"].(map[string]any); u["id"] != Grace {
		t.Errorf("member without its user: %v", out)
	}
	code, out = get(t, s, "/guilds/"+Guild+"/members/"+Eve, "")
	if roles, _ := out.(map[string]any)["roles"].([]any); code != http.StatusOK || len(roles) != 0 {
		t.Errorf("Eve's member = %d %v, want no roles", code, out)
	}
	s.AddUser(User{ID: "1300000000000000099", Username: "gone", NotMember: true})
	for _, path := range []string{"/guilds/" + Guild + "/members/1300000000000000099", "/guilds/" + Guild + "/members/1300000000000000098", "/guilds/1/members/" + Grace} {
		if code, out := get(t, s, path, ""); code != http.StatusNotFound || out.(map[string]any)["code"] != float64(codeUnknownMember) {
			t.Errorf("%s = %d %v, want Unknown Member", path, code, out)
		}
	}
	s.SetRoles(Eve, Role)
	msg := s.messageJSON(&message{ID: "1", ChannelID: Agents, AuthorID: Eve, Content: "transfer <@" + Grace + ">"}, true)
	member, _ := msg["member"].(map[string]any)
	if roles, _ := member["roles"].([]string); len(roles) != 1 || roles[0] != Role {
		t.Errorf("event member = %v, want Eve's new role", msg["member"])
	}
	mentions, _ := msg["mentions"].([]any)
	if len(mentions) != 1 || mentions[0].(map[string]any)["member"] == nil {
		t.Errorf("event mentions = %v, want Grace with her member", mentions)
	}
	if rest := s.messageJSON(&message{ID: "1", ChannelID: Agents, AuthorID: Eve, Content: "<@" + Grace + ">"}, false); rest["member"] != nil || rest["mentions"].([]any)[0].(map[string]any)["member"] != nil {
		t.Errorf("a REST message carries member data: %v", rest)
	}
}

// TestDenyThreads: without Create Public Threads every thread start in the
// channel is 403 Missing Permissions, and no thread is made; other
// channels are unaffected.
func TestDenyThreads(t *testing.T) {
	s := New(t)
	s.DenyThreads(General)
	id := s.SayOffline(General, Ada, "hello")
	for range 2 {
		code, out := get(t, s, "/channels/"+General+"/messages/"+id+"/threads", `{"name":"Support"}`)
		if m, _ := out.(map[string]any); code != http.StatusForbidden || m["code"] != float64(CodeMissingPermissions) || m["message"] != "Missing Permissions" {
			t.Errorf("thread start = %d %v, want 403 Missing Permissions", code, out)
		}
	}
	if n := len(s.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started, want none", n)
	}
	card := s.SayOffline(Agents, Grace, "card")
	if code, _ := get(t, s, "/channels/"+Agents+"/messages/"+card+"/threads", `{"name":"Handoff"}`); code != http.StatusCreated {
		t.Errorf("thread start in another channel = %d, want 201", code)
	}
}

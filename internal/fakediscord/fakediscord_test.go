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

// call makes a REST call with any method as the bot would.
func call(t *testing.T, s *Server, method, path, body string) (int, any) {
	t.Helper()
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

// TestBulkOverwrite: a guild's commands are replaced by the array sent; a
// command of the same name keeps its id, one left out is gone; an unknown
// guild is refused.
func TestBulkOverwrite(t *testing.T) {
	s := New(t)
	s.SetCommands(Guild, "old", "keep")
	keep := s.Commands(Guild)[1].ID
	path := "/applications/" + BotID + "/guilds/" + Guild + "/commands"
	body := `[{"type":1,"name":"keep","description":"kept"},{"name":"ask","description":"Ask","options":[{"type":3,"name":"question","description":"Q","required":false,"max_length":2000}]}]`
	code, out := call(t, s, http.MethodPut, path, body)
	if code != http.StatusOK || len(out.([]any)) != 2 {
		t.Fatalf("overwrite = %d %v", code, out)
	}
	cmds := s.Commands(Guild)
	if len(cmds) != 2 || cmds[0].Name != "keep" || cmds[0].ID != keep || cmds[1].Name != "ask" || cmds[1].Type != 1 {
		t.Errorf("commands = %+v, want keep (same id) and ask", cmds)
	}
	if code, _ := call(t, s, http.MethodPut, "/applications/"+BotID+"/guilds/1299999999999999999/commands", "[]"); code != http.StatusNotFound {
		t.Errorf("unknown guild: %d, want 404", code)
	}
	s.DenyCommands(Guild)
	if code, _ := call(t, s, http.MethodPut, path, body); code != http.StatusForbidden {
		t.Errorf("without the scope: %d, want 403", code)
	}
	if n := s.CommandOverwrites(Guild); n != 1 {
		t.Errorf("%d overwrites recorded, want 1", n)
	}
}

// TestInteractionAnsweredOnce: an interaction takes one callback; its
// @original can be edited only once answered.
func TestInteractionAnsweredOnce(t *testing.T) {
	s := New(t)
	s.SetCommands(Guild, "ask")
	id := s.Use(General, Ada, "ask", nil)
	token := "interaction-token-" + id
	original := "/webhooks/" + BotID + "/" + token + "/messages/@original"
	if code, _ := call(t, s, http.MethodPatch, original, `{"content":"x","allowed_mentions":{"parse":[]}}`); code != http.StatusNotFound {
		t.Errorf("edit before the answer: %d, want 404", code)
	}
	cb := "/interactions/" + id + "/" + token + "/callback"
	if code, _ := call(t, s, http.MethodPost, cb, `{"type":5,"data":{"flags":64}}`); code != http.StatusNoContent {
		t.Fatalf("callback: %d", code)
	}
	if code, out := call(t, s, http.MethodPost, cb, `{"type":4,"data":{"content":"again"}}`); code != http.StatusBadRequest || out.(map[string]any)["code"] != float64(codeAlreadyAcknowledged) {
		t.Errorf("second callback: %d %v, want 400 40060", code, out)
	}
	if code, _ := call(t, s, http.MethodPatch, original, `{"content":"done","allowed_mentions":{"parse":[]}}`); code != http.StatusOK {
		t.Errorf("edit: %d", code)
	}
	if got, ok := s.Original(id); !ok || got.Type != 5 || got.Flags != 64 || got.Content != "done" {
		t.Errorf("original = %+v, %v", got, ok)
	}
}

// TestPrivateThread: a thread started without a message is private by
// default, its creator a member; members are added one by one.
func TestPrivateThread(t *testing.T) {
	s := New(t)
	code, out := call(t, s, http.MethodPost, "/channels/"+General+"/threads", `{"name":"Support for Ada","auto_archive_duration":1440,"invitable":false}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	ch := out.(map[string]any)
	id, _ := ch["id"].(string)
	if ch["type"] != float64(12) || ch["parent_id"] != General || ch["owner_id"] != BotID || ch["thread_metadata"].(map[string]any)["invitable"] != false {
		t.Errorf("thread = %v, want a private thread of the bot's under General", ch)
	}
	if code, _ := call(t, s, http.MethodPut, "/channels/"+id+"/thread-members/"+Ada, ""); code != http.StatusNoContent {
		t.Errorf("add member: %d", code)
	}
	if got := s.ThreadMembers(id); len(got) != 2 || got[0] != BotID || got[1] != Ada {
		t.Errorf("members = %v", got)
	}
	s.Say(id, Ada, "hello") // a member may write
	s.DenyPrivateThreads(General)
	if code, _ := call(t, s, http.MethodPost, "/channels/"+General+"/threads", `{"name":"x","type":12}`); code != http.StatusForbidden {
		t.Errorf("without Create Private Threads: %d, want 403", code)
	}
}

// TestForum: a forum takes posts, not messages; a post's tags must be the
// forum's; tags added to the forum get ids, those sent with one keep it.
func TestForum(t *testing.T) {
	s := New(t)
	const forum = "1200000000000000020"
	s.AddChannel(Channel{ID: forum, GuildID: Guild, Type: 15})
	s.SetForumTags(forum, "waiting")
	if code, _ := call(t, s, http.MethodPost, "/channels/"+forum+"/messages", `{"content":"hi"}`); code != http.StatusBadRequest {
		t.Errorf("message to a forum: %d, want 400", code)
	}
	_, ch := call(t, s, http.MethodGet, "/channels/"+forum, "")
	tags := ch.(map[string]any)["available_tags"].([]any)
	waiting := tags[0].(map[string]any)["id"].(string)
	if code, _ := call(t, s, http.MethodPost, "/channels/"+forum+"/threads", `{"name":"#1","applied_tags":["1"],"message":{"content":"card"}}`); code != http.StatusBadRequest {
		t.Errorf("post with an unknown tag: %d, want 400", code)
	}
	code, out := call(t, s, http.MethodPost, "/channels/"+forum+"/threads", `{"name":"#1 Ada","applied_tags":["`+waiting+`"],"message":{"content":"card"}}`)
	post, _ := out.(map[string]any)
	if code != http.StatusCreated || post["parent_id"] != forum || post["message"].(map[string]any)["id"] != post["id"] {
		t.Fatalf("post = %d %v, want a thread whose first message has its id", code, out)
	}
	code, _ = call(t, s, http.MethodPatch, "/channels/"+forum, `{"available_tags":[{"id":"`+waiting+`","name":"waiting"},{"name":"claimed"}]}`)
	if got := s.ForumTags(forum); code != http.StatusOK || len(got) != 2 || got[1] != "claimed" {
		t.Fatalf("tags = %d %v", code, got)
	}
	if now, history := s.PostTags(post["id"].(string)); len(now) != 1 || now[0] != "waiting" || len(history) != 1 {
		t.Errorf("post tags = %v (%v), want waiting, kept across the forum's change", now, history)
	}
}

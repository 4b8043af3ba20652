package fakediscord

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func (s *Server) restHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v9/gateway", s.gateway)
	mux.HandleFunc("GET /api/v9/gateway/bot", s.gateway)
	mux.HandleFunc("GET /api/v9/users/@me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, userJSON(s.User(BotID)))
	})
	mux.HandleFunc("GET /api/v9/applications/@me", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		flags := s.appFlags
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"id": BotID, "name": "Firstline", "flags": flags, "bot_public": false})
	})
	mux.HandleFunc("GET /api/v9/channels/{ch}", s.getChannel)
	mux.HandleFunc("GET /api/v9/guilds/{guild}/members/{user}", s.getMember)
	mux.HandleFunc("GET /api/v9/channels/{ch}/messages", s.getMessages)
	mux.HandleFunc("POST /api/v9/channels/{ch}/messages", s.postMessage)
	mux.HandleFunc("PATCH /api/v9/channels/{ch}/messages/{id}", s.editMessage)
	mux.HandleFunc("POST /api/v9/channels/{ch}/messages/{id}/threads", s.startThread)
	mux.HandleFunc("POST /api/v9/channels/{ch}/typing", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.typing = append(s.typing, r.PathValue("ch"))
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", s.interactionCallback)
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", s.followup)
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/@original", s.editOriginal)
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", s.overwriteCommands)
	mux.HandleFunc("GET /api/v9/applications/{app}/guilds/{guild}/commands", s.getCommands)
	mux.HandleFunc("POST /api/v9/channels/{ch}/threads", s.createThread)
	mux.HandleFunc("PUT /api/v9/channels/{ch}/thread-members/{user}", s.addThreadMember)
	mux.HandleFunc("PATCH /api/v9/channels/{ch}", s.modifyChannel)
	mux.HandleFunc("GET /api/v9/guilds/{guild}/threads/active", s.activeThreads)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
		reject := s.rejectAll
		s.mu.Unlock()
		if reject || r.Header.Get("Authorization") != "Bot "+Token {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"url":                 "ws" + strings.TrimPrefix(s.gw.URL, "http"),
		"shards":              1,
		"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
	})
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[r.PathValue("ch")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	writeJSON(w, http.StatusOK, s.channelJSONLocked(c))
}

// getMember serves GET /guilds/{guild}/members/{user}: a guild member
// object with its user, or Unknown Member.
func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[r.PathValue("user")]
	if r.PathValue("guild") != Guild || !ok || u.NotMember {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Member", "code": codeUnknownMember})
		return
	}
	m := memberJSON(u, true)
	delete(m, "permissions") // only interactions carry it
	writeJSON(w, http.StatusOK, m)
}

// getMessages serves GET /channels/{id}/messages?after=&limit=, newest
// first as Discord returns them: the messages right after `after`, or the
// newest ones without it.
func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := r.PathValue("ch")
	if _, ok := s.channels[ch]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	after := r.URL.Query().Get("after")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	var page []*message
	if after == "" {
		h := s.history[ch]
		page = h[max(0, len(h)-limit):]
	} else {
		for _, m := range s.history[ch] {
			if compareSnowflakes(m.ID, after) > 0 {
				page = append(page, m)
				if len(page) == limit {
					break
				}
			}
		}
	}
	out := make([]map[string]any, 0, len(page))
	for _, m := range page {
		out = append(out, s.messageJSON(m, false))
	}
	slices.Reverse(out)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	ch := r.PathValue("ch")
	body := mustBody(s.t, r)
	s.mu.Lock()
	var fail *Failure
	if q := s.failures[ch]; len(q) > 0 {
		if q[0].After > 0 {
			q[0].After--
		} else {
			s.failures[ch] = q[1:]
			fail = &q[0]
		}
	}
	if fail != nil && !fail.AfterCreate {
		s.mu.Unlock()
		s.writeFailure(w, r, *fail)
		return
	}
	status, reply := s.createLocked(ch, body)
	s.mu.Unlock()
	if fail != nil {
		s.writeFailure(w, r, *fail)
		return
	}
	writeJSON(w, status, reply)
}

// createLocked creates a message as Discord does and returns the answer.
func (s *Server) createLocked(ch string, body map[string]any) (int, any) {
	c, ok := s.channels[ch]
	if !ok {
		return http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel}
	}
	if c.Type == 15 {
		return http.StatusBadRequest, map[string]any{"message": "Cannot send messages in a non-text channel", "code": codeNonTextChannel}
	}
	if c.ID == DMGone {
		return http.StatusForbidden, map[string]any{"message": "Cannot send messages to this user", "code": codeCannotSendToUser}
	}
	x := recordSent(http.MethodPost, ch, body)
	if utf8.RuneCountInString(x.Content) > maxMessageLen {
		return http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody}
	}
	var refID string
	if ref := x.MessageReference; ref != nil {
		refID, _ = ref["message_id"].(string)
		if s.noHistory[ch] {
			return http.StatusBadRequest, map[string]any{"message": errorMessages[codeCannotReplyNoHistory], "code": codeCannotReplyNoHistory}
		}
		if refCh, _ := ref["channel_id"].(string); refCh != "" && refCh != ch {
			s.t.Errorf("fakediscord: a reply in channel %s refers to a message in channel %s", ch, refCh)
		}
		if s.find(ch, refID) == nil {
			if fail, ok := ref["fail_if_not_exists"].(bool); !ok || fail {
				return http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody,
					"errors": map[string]any{"message_reference": map[string]any{"_errors": []any{map[string]any{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}}}}}
			}
			refID = "" // Discord sends it as a plain message
		}
	}
	if x.EnforceNonce && x.Nonce != "" {
		if id, ok := s.nonces[ch+"/"+x.Nonce]; ok {
			x.ID, x.Deduped = id, true
			s.sends = append(s.sends, x)
			return http.StatusOK, s.messageJSON(s.find(ch, id), false)
		}
	}
	m := &message{ID: s.newIDLocked(), ChannelID: ch, AuthorID: BotID, Content: x.Content, Nonce: x.Nonce, RefID: refID, Body: body}
	s.history[ch] = append(s.history[ch], m)
	if x.Nonce != "" {
		s.nonces[ch+"/"+x.Nonce] = m.ID
	}
	x.ID = m.ID
	s.sends = append(s.sends, x)
	return http.StatusOK, s.messageJSON(m, false)
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request) {
	ch, id := r.PathValue("ch"), r.PathValue("id")
	body := mustBody(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(ch, id)
	if m == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Message", "code": codeUnknownMessage})
		return
	}
	x := recordSent(http.MethodPatch, ch, body)
	x.ID = id
	s.sends = append(s.sends, x)
	m.Content, m.Body = x.Content, body
	writeJSON(w, http.StatusOK, s.messageJSON(m, false))
}

func (s *Server) startThread(w http.ResponseWriter, r *http.Request) {
	ch, id := r.PathValue("ch"), r.PathValue("id")
	body := mustBody(s.t, r)
	s.mu.Lock()
	if q := s.threadFailures[ch]; len(q) > 0 {
		fail := q[0]
		s.threadFailures[ch] = q[1:]
		s.mu.Unlock()
		s.writeFailure(w, r, fail)
		return
	}
	defer s.mu.Unlock()
	if s.noThreads[ch] {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": errorMessages[codeMissingPermissions], "code": codeMissingPermissions})
		return
	}
	parent, ok := s.channels[ch]
	if !ok || s.find(ch, id) == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Message", "code": codeUnknownMessage})
		return
	}
	if _, exists := s.channels[id]; exists {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "A thread has already been created for this message", "code": codeThreadAlreadyCreated})
		return
	}
	name, _ := body["name"].(string)
	s.threads = append(s.threads, ThreadStart{Channel: ch, Message: id, Name: name})
	// A thread started from a message has the message's id.
	c := Channel{ID: id, GuildID: parent.GuildID, ParentID: ch, Type: 11}
	s.channels[id] = c
	writeJSON(w, http.StatusCreated, s.channelJSONLocked(c))
}

// interactionCallback serves POST /interactions/{id}/{token}/callback:
// the one answer an interaction gets (type 4 a message, 5 a deferred
// message, 6 a deferred update of a component's message).
func (s *Server) interactionCallback(w http.ResponseWriter, r *http.Request) {
	body := mustBody(s.t, r)
	id := r.PathValue("id")
	cb := Callback{Interaction: id, Type: int(num(body["type"]))}
	if d, ok := body["data"].(map[string]any); ok {
		cb.Content, _ = d["content"].(string)
		cb.Flags = int(num(d["flags"]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if known, ok := s.tokens[r.PathValue("token")]; !ok || known != id {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown interaction", "code": codeUnknownInteraction})
		return
	}
	if s.answered[id] {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Interaction has already been acknowledged.", "code": codeAlreadyAcknowledged})
		return
	}
	if !slices.Contains([]int{4, 5, 6}, cb.Type) {
		s.t.Errorf("fakediscord: interaction %s answered with type %d, want 4, 5 or 6", id, cb.Type)
	}
	s.answered[id] = true
	s.callbacks = append(s.callbacks, cb)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request) {
	body := mustBody(s.t, r)
	cb := Callback{Interaction: r.PathValue("token"), Flags: int(num(body["flags"]))}
	cb.Content, _ = body["content"].(string)
	s.mu.Lock()
	s.followups = append(s.followups, cb)
	id := s.newIDLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "channel_id": Agents, "content": cb.Content, "author": userJSON(s.User(BotID))})
}

// writeFailure answers with an injected failure, after holding the request
// for its Hang (a client that gives up first ends it sooner).
func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, fail Failure) {
	if fail.Hang > 0 {
		t := time.NewTimer(fail.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	if fail.Status == http.StatusTooManyRequests {
		secs := fail.RetryAfter.Seconds()
		w.Header().Set("Retry-After", strconv.Itoa(int(secs+0.999)))
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
		w.Header().Set("X-RateLimit-Bucket", "fakebucket")
		w.Header().Set("X-RateLimit-Scope", "user")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": false})
		return
	}
	status := fail.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg, ok := errorMessages[fail.Code]
	if !ok {
		msg = http.StatusText(status)
	}
	writeJSON(w, status, map[string]any{"message": msg, "code": fail.Code})
}

func recordSent(method, ch string, body map[string]any) Sent {
	x := Sent{Method: method, Channel: ch}
	x.Content, _ = body["content"].(string)
	x.Nonce, _ = body["nonce"].(string)
	x.EnforceNonce, _ = body["enforce_nonce"].(bool)
	x.AllowedMentions, x.HasAllowedMentions = body["allowed_mentions"].(map[string]any)
	x.Components, _ = body["components"].([]any)
	x.MessageReference, _ = body["message_reference"].(map[string]any)
	return x
}

func (s *Server) find(ch, id string) *message {
	for _, m := range s.history[ch] {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// compareSnowflakes orders two ids as the numbers they are.
func compareSnowflakes(x, y string) int {
	if len(x) != len(y) {
		return len(x) - len(y)
	}
	return strings.Compare(x, y)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func mustBody(t testing.TB, r *http.Request) map[string]any {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("fakediscord: read body: %v", err)
	}
	body := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			t.Errorf("fakediscord: %s %s: body is not JSON: %v: %s", r.Method, r.URL.Path, err, data)
		}
	}
	return body
}

// mustBodyArray reads a JSON array body, as bulk overwrites send.
func mustBodyArray(t testing.TB, r *http.Request) []any {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("fakediscord: read body: %v", err)
	}
	var body []any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Errorf("fakediscord: %s %s: body is not a JSON array: %v: %s", r.Method, r.URL.Path, err, data)
	}
	return body
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

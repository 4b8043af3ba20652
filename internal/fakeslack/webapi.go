package fakeslack

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// answer is a Web API answer: an HTTP status and a JSON body.
type answer struct {
	status int
	body   any
}

func ok(body map[string]any) answer {
	body["ok"] = true
	return answer{http.StatusOK, body}
}

func fail(code string) answer {
	return answer{http.StatusOK, map[string]any{"ok": false, "error": code}}
}

// api serves the Web API methods the adapter calls, as Slack does: form
// bodies with the token in them (or a bearer token), JSON answers with ok.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.PostForm
	if len(form) == 0 {
		form = r.Form
	}
	token := form.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	want := BotToken
	if method == "apps.connections.open" {
		want = AppToken
	}
	s.mu.Lock()
	s.calls[method]++
	hook, latency := s.hook, s.latency
	var injected *Reply
	// The assistant.threads methods name their channel channel_id.
	fk := method + " " + cmp.Or(form.Get("channel"), form.Get("channel_id"))
	if q := s.failures[fk]; len(q) > 0 {
		if q[0].After > 0 {
			q[0].After--
		} else {
			injected = &q[0]
			s.failures[fk] = q[1:]
		}
	}
	s.mu.Unlock()
	if token != want {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	if injected == nil && hook != nil {
		injected = hook(method, form)
	}
	if injected != nil {
		if injected.AfterPost {
			s.call(method, form)
		}
		s.writeReply(w, r, *injected)
		return
	}
	a := s.call(method, form)
	if latency > 0 && !s.hold(r, latency) {
		return
	}
	writeJSON(w, a.status, a.body)
}

// hold holds a request for d; it reports false when the client gave up or
// the server is closing meanwhile.
func (s *Server) hold(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// writeReply answers with a canned reply, after holding the request for
// its Hang (a client that gives up first ends it sooner).
func (s *Server) writeReply(w http.ResponseWriter, r *http.Request, rep Reply) {
	if rep.Hang > 0 && !s.hold(r, rep.Hang) {
		return
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.Body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(rep.Body))
}

// call carries out one Web API call.
func (s *Server) call(method string, form url.Values) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "auth.test":
		return ok(map[string]any{"url": "https://test.slack.com/", "team": "Test", "user": "firstline",
			"team_id": Team, "user_id": BotUser, "bot_id": BotID, "is_enterprise_install": false})
	case "users.info":
		id := form.Get("user")
		u, found := s.users[id]
		if !found {
			return fail("user_not_found")
		}
		team := u.Team
		if team == "" {
			team = Team
		}
		return ok(map[string]any{"user": map[string]any{
			"id": id, "team_id": team, "name": u.Handle, "real_name": u.RealName, "deleted": false, "is_bot": false,
			"is_restricted": u.Guest, "is_ultra_restricted": false, "is_stranger": team != Team,
			"is_email_confirmed": !u.EmailUnconfirmed, "locale": cmp.Or(u.Locale, "en-US"),
			"profile": map[string]any{"display_name": u.Display, "real_name": u.RealName, "email": u.Email},
		}})
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		return s.postLocked(method, form)
	case "reactions.add":
		s.reactions = append(s.reactions, Reaction{form.Get("name"), form.Get("channel"), form.Get("timestamp")})
		return ok(map[string]any{})
	case "conversations.history":
		return s.historyLocked(form)
	case "conversations.replies":
		return s.repliesLocked(form)
	case "usergroups.users.list":
		return s.groupUsersLocked(form)
	case "conversations.members":
		return s.membersLocked(form)
	case "conversations.info":
		return s.infoLocked(form)
	case SetStatus, SetSuggestedPrompts, SetTitle:
		return s.assistantLocked(method, form)
	case "apps.connections.open":
		return ok(map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=fake-ticket"})
	}
	return fail("unknown_method")
}

// postLocked records a post and keeps it in the channel's history.
func (s *Server) postLocked(method string, form url.Values) answer {
	p := Post{Method: method, Channel: form.Get("channel"), ThreadTS: form.Get("thread_ts"), User: form.Get("user"),
		Text: form.Get("text"), Parse: form.Get("parse"), LinkNames: form.Get("link_names")}
	blocks := form.Get("blocks")
	if blocks != "" {
		if err := json.Unmarshal([]byte(blocks), &p.Blocks); err != nil {
			return fail("invalid_blocks")
		}
	}
	if md := form.Get("metadata"); md != "" {
		p.Metadata = &Metadata{}
		if err := json.Unmarshal([]byte(md), p.Metadata); err != nil || p.Metadata.EventType == "" {
			return fail("invalid_metadata_format")
		}
	}
	if p.Channel == "" {
		return fail("channel_not_found")
	}
	switch method {
	case "chat.update":
		p.TS = form.Get("ts")
		m := s.findLocked(p.Channel, p.TS)
		if m == nil {
			return fail("message_not_found")
		}
		m.Text, m.Blocks = p.Text, json.RawMessage(blocks)
		if p.Metadata != nil {
			m.Metadata = p.Metadata
		}
	case "chat.postEphemeral":
		p.TS = s.newTSLocked()
	default:
		p.TS = s.newTSLocked()
		s.history[p.Channel] = append(s.history[p.Channel], &msg{TS: p.TS, ThreadTS: p.ThreadTS, User: BotUser, BotID: BotID,
			Text: p.Text, Blocks: json.RawMessage(blocks), Metadata: p.Metadata})
	}
	s.posts = append(s.posts, p)
	if method == "chat.postEphemeral" {
		return ok(map[string]any{"message_ts": p.TS})
	}
	return ok(map[string]any{"channel": p.Channel, "ts": p.TS, "text": p.Text,
		"message": map[string]any{"type": "message", "text": p.Text, "user": BotUser, "bot_id": BotID, "ts": p.TS}})
}

// addLocked keeps a person's message in a channel's history.
func (s *Server) addLocked(channel, user, text, thread string) string {
	ts := s.newTSLocked()
	s.history[channel] = append(s.history[channel], &msg{TS: ts, ThreadTS: thread, User: user, Text: text})
	return ts
}

func (s *Server) findLocked(channel, ts string) *msg {
	for _, m := range s.history[channel] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// historyLocked serves conversations.history: a channel's top-level
// messages (thread replies are not), newest first, within oldest and
// latest, a page at a time.
func (s *Server) historyLocked(form url.Values) answer {
	var top []*msg
	for _, m := range s.history[form.Get("channel")] {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			top = append(top, m)
		}
	}
	window := inWindow(top, form)
	newestFirst := make([]*msg, len(window))
	for i, m := range window {
		newestFirst[len(window)-1-i] = m
	}
	return s.page(newestFirst, form, "")
}

// repliesLocked serves conversations.replies: a thread's parent and its
// replies, oldest first, within oldest and latest, a page at a time.
func (s *Server) repliesLocked(form url.Values) answer {
	parent := form.Get("ts")
	if s.findLocked(form.Get("channel"), parent) == nil {
		return fail("thread_not_found")
	}
	var thread []*msg
	for _, m := range s.history[form.Get("channel")] {
		if m.TS == parent || m.ThreadTS == parent {
			thread = append(thread, m)
		}
	}
	return s.page(inWindow(thread, form), form, parent)
}

// inWindow keeps the messages after oldest and before latest (inclusive
// when asked).
func inWindow(msgs []*msg, form url.Values) []*msg {
	oldest, latest := form.Get("oldest"), form.Get("latest")
	incl := form.Get("inclusive") == "1" || form.Get("inclusive") == "true"
	var out []*msg
	for _, m := range msgs {
		if oldest != "" && (compareTS(m.TS, oldest) < 0 || (!incl && compareTS(m.TS, oldest) == 0)) {
			continue
		}
		if latest != "" && (compareTS(m.TS, latest) > 0 || (!incl && compareTS(m.TS, latest) == 0)) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// page answers with one page of msgs, as the cursor and limit say. The
// messages are shaped as in Slack's conversations.history and
// conversations.replies answers: type, ts, user, text, and thread_ts,
// subtype and bot_id when they have them; a thread's parent (the message
// parent, for replies) carries thread_ts too, its own ts.
func (s *Server) page(msgs []*msg, form url.Values, parent string) answer {
	limit, _ := strconv.Atoi(form.Get("limit"))
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	start := 0
	if c := form.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "page:"))
		if err != nil || n < 0 || n > len(msgs) {
			return fail("invalid_cursor")
		}
		start = n
	}
	end := min(start+limit, len(msgs))
	withMeta := form.Get("include_all_metadata") == "1" || form.Get("include_all_metadata") == "true"
	out := make([]map[string]any, 0, end-start)
	for _, m := range msgs[start:end] {
		j := map[string]any{"type": "message", "ts": m.TS, "user": m.User, "text": m.Text}
		if m.BotID != "" {
			j["bot_id"] = m.BotID
		}
		if m.ThreadTS != "" {
			j["thread_ts"] = m.ThreadTS
		} else if parent != "" && m.TS == parent {
			j["thread_ts"] = parent
		}
		if m.Subtype != "" {
			j["subtype"] = m.Subtype
		}
		if len(m.Blocks) > 0 {
			j["blocks"] = m.Blocks
		}
		if withMeta && m.Metadata != nil {
			j["metadata"] = m.Metadata
		}
		out = append(out, j)
	}
	body := map[string]any{"messages": out, "has_more": end < len(msgs)}
	if end < len(msgs) {
		body["response_metadata"] = map[string]any{"next_cursor": "page:" + strconv.Itoa(end)}
	}
	return ok(body)
}

// compareTS orders two message ts as the numbers they are.
func compareTS(x, y string) int {
	xs, xf, _ := strings.Cut(x, ".")
	ys, yf, _ := strings.Cut(y, ".")
	if len(xs) != len(ys) {
		return len(xs) - len(ys)
	}
	if c := strings.Compare(xs, ys); c != 0 {
		return c
	}
	for len(xf) < len(yf) {
		xf += "0"
	}
	for len(yf) < len(xf) {
		yf += "0"
	}
	return strings.Compare(xf, yf)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

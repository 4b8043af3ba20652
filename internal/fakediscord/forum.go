package fakediscord

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// Forum channels (type 15), as Discord's documentation describes them
// (resources/channel: start thread in forum or media channel, modify
// channel, forum tag object):
//
//   - A forum takes no message of its own: POST /channels/{forum}/messages
//     answers 400 (50008). A post is a thread started with POST
//     /channels/{forum}/threads and a "message" (content, components,
//     allowed_mentions): the thread has the first message's id, and
//     applied_tags (at most 5) must be tags of the forum.
//   - PATCH /channels/{forum} with available_tags (at most 20) replaces the
//     forum's tags: tags sent with an id keep it, new ones get one. It
//     needs Manage Channels.
//   - PATCH /channels/{thread} with applied_tags replaces a post's tags.
//   - GET /guilds/{guild}/threads/active lists the active threads.

const codeNonTextChannel = 50008

// forumTag is a forum tag object.
type forumTag struct {
	ID, Name string
}

// SetForumTags gives a forum (added with AddChannel, Type 15) tags, as its
// admins made them.
func (s *Server) SetForumTags(forum string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var tags []forumTag
	for _, n := range names {
		tags = append(tags, forumTag{ID: s.newIDLocked(), Name: n})
	}
	s.forumTags[forum] = tags
}

// ForumTags returns the names of a forum's tags.
func (s *Server) ForumTags(forum string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, t := range s.forumTags[forum] {
		out = append(out, t.Name)
	}
	return out
}

// DenyManageChannels takes Manage Channels from the bot on a channel: it
// cannot change the forum's tags.
func (s *Server) DenyManageChannels(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noManage[channel] = true
}

// PostTags returns the names of the tags applied to a forum post, and the
// earlier sets in order (each change of its tags).
func (s *Server) PostTags(post string) (now []string, history [][]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ids := range s.tagHistory[post] {
		history = append(history, s.tagNamesLocked(s.channels[post].ParentID, ids))
	}
	return s.tagNamesLocked(s.channels[post].ParentID, s.appliedTags[post]), history
}

func (s *Server) tagNamesLocked(forum string, ids []string) []string {
	out := []string{}
	for _, id := range ids {
		for _, t := range s.forumTags[forum] {
			if t.ID == id {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

func (s *Server) forumTagsJSONLocked(forum string) []any {
	out := []any{}
	for _, t := range s.forumTags[forum] {
		out = append(out, map[string]any{"id": t.ID, "name": t.Name, "moderated": false, "emoji_id": nil, "emoji_name": nil})
	}
	return out
}

// startPostLocked serves POST /channels/{forum}/threads: a forum post.
func (s *Server) startPostLocked(w http.ResponseWriter, parent Channel, body map[string]any) {
	name, _ := body["name"].(string)
	msg, ok := body["message"].(map[string]any)
	content, _ := msg["content"].(string)
	if !ok || name == "" || utf8.RuneCountInString(name) > 100 || content == "" || utf8.RuneCountInString(content) > maxMessageLen {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
		return
	}
	var applied []string
	raw, _ := body["applied_tags"].([]any)
	for _, r := range raw {
		id, _ := r.(string)
		if !slices.ContainsFunc(s.forumTags[parent.ID], func(t forumTag) bool { return t.ID == id }) || len(raw) > 5 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
			return
		}
		applied = append(applied, id)
	}
	id := s.newIDLocked()
	c := Channel{ID: id, GuildID: parent.GuildID, ParentID: parent.ID, Type: 11, Name: name}
	s.channels[id] = c
	s.appliedTags[id] = applied
	s.tagHistory[id] = [][]string{slices.Clone(applied)}
	s.created = append(s.created, PrivateThread{ID: id, Parent: parent.ID, Name: name, Type: 11})
	// The first message has the post's id.
	x := recordSent(http.MethodPost, id, msg)
	x.ID, x.ForumStarter = id, true
	s.sends = append(s.sends, x)
	m := &message{ID: id, ChannelID: id, AuthorID: BotID, Content: content, Body: msg}
	s.history[id] = append(s.history[id], m)
	out := s.channelJSONLocked(c)
	out["message"] = s.messageJSON(m, false)
	writeJSON(w, http.StatusCreated, out)
}

// modifyChannel serves PATCH /channels/{id}: a forum's available_tags, or
// a post's applied_tags (and archived).
func (s *Server) modifyChannel(w http.ResponseWriter, r *http.Request) {
	ch := r.PathValue("ch")
	body := mustBody(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[ch]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	if raw, ok := body["available_tags"].([]any); ok {
		if c.Type != 15 || s.noManage[ch] {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": errorMessages[codeMissingPermissions], "code": codeMissingPermissions})
			return
		}
		if len(raw) > 20 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
			return
		}
		var tags []forumTag
		for _, rt := range raw {
			t, _ := rt.(map[string]any)
			id, _ := t["id"].(string)
			name, _ := t["name"].(string)
			if name == "" || utf8.RuneCountInString(name) > 20 {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
				return
			}
			if id == "" {
				id = s.newIDLocked()
			}
			tags = append(tags, forumTag{ID: id, Name: name})
		}
		s.forumTags[ch] = tags
	}
	if raw, ok := body["applied_tags"].([]any); ok {
		parent := s.channels[c.ParentID]
		if parent.Type != 15 || len(raw) > 5 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
			return
		}
		var applied []string
		for _, rt := range raw {
			id, _ := rt.(string)
			if !slices.ContainsFunc(s.forumTags[parent.ID], func(t forumTag) bool { return t.ID == id }) {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
				return
			}
			applied = append(applied, id)
		}
		s.appliedTags[ch] = applied
		s.tagHistory[ch] = append(s.tagHistory[ch], slices.Clone(applied))
	}
	writeJSON(w, http.StatusOK, s.channelJSONLocked(c))
}

// activeThreads serves GET /guilds/{guild}/threads/active.
func (s *Server) activeThreads(w http.ResponseWriter, r *http.Request) {
	guild := r.PathValue("guild")
	s.mu.Lock()
	defer s.mu.Unlock()
	threads := []any{}
	for _, c := range s.channels {
		if c.GuildID == guild && (c.Type == 11 || c.Type == 12) {
			threads = append(threads, s.channelJSONLocked(c))
		}
	}
	slices.SortFunc(threads, func(x, y any) int {
		return strings.Compare(x.(map[string]any)["id"].(string), y.(map[string]any)["id"].(string))
	})
	writeJSON(w, http.StatusOK, map[string]any{"threads": threads, "members": []any{}})
}

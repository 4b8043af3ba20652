package fakediscord

import "strings"

// MsgOpt changes a message a person writes.
type MsgOpt func(m *message)

// WithoutMember leaves member data out of the MESSAGE_CREATE event, of
// its author and of the users it mentions, as Discord does for messages
// fetched over REST.
func WithoutMember() MsgOpt {
	return func(m *message) { m.NoMember = true }
}

// WithAttachment attaches a file to the message.
func WithAttachment(name, url string) MsgOpt {
	return func(m *message) {
		m.Attachments = append(m.Attachments, map[string]any{
			"id": "1500000000000000001", "filename": name, "size": 1234, "url": url,
			"proxy_url": url, "content_type": "image/png", "width": 10, "height": 10,
		})
	}
}

// ReplyTo makes the message a reply to message id of the same channel (a
// message_reference, with the referenced message in the event), as
// Discord's Reply does.
func ReplyTo(id string) MsgOpt {
	return func(m *message) { m.RefID = id }
}

// Say stores a message by user in a channel's history and dispatches
// MESSAGE_CREATE for it. It returns the message's id.
func (s *Server) Say(channel, user, content string, opts ...MsgOpt) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.addLocked(channel, user, content, opts...)
	s.dispatchLocked("MESSAGE_CREATE", s.messageJSON(m, true))
	return m.ID
}

// SayOffline stores a message without any event: written while the bot
// was disconnected, to be found only by fetching history.
func (s *Server) SayOffline(channel, user, content string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(channel, user, content).ID
}

// Redeliver dispatches MESSAGE_CREATE again for a message sent before.
func (s *Server) Redeliver(channel, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatchLocked("MESSAGE_CREATE", s.messageJSON(s.find(channel, id), true))
}

func (s *Server) addLocked(channel, user, content string, opts ...MsgOpt) *message {
	if _, ok := s.channels[channel]; !ok {
		s.t.Fatalf("fakediscord: no channel %s", channel)
	}
	if !s.mayWriteLocked(channel, user) {
		s.t.Fatalf("fakediscord: %s writes in private thread %s without being its member", user, channel)
	}
	m := &message{ID: s.newIDLocked(), ChannelID: channel, AuthorID: user, Content: content}
	for _, o := range opts {
		o(m)
	}
	s.history[channel] = append(s.history[channel], m)
	return m
}

// Click dispatches INTERACTION_CREATE for a button on a message the bot
// sent, pressed by user. It returns the interaction's id.
func (s *Server) Click(channel, messageID, customID, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msg map[string]any
	if m := s.find(channel, messageID); m != nil {
		msg = s.messageJSON(m, false)
	}
	return s.interactionLocked(3, channel, user, map[string]any{"custom_id": customID, "component_type": 2}, msg)
}

// ---- JSON shapes ----

func userJSON(u User) map[string]any {
	var global any
	if u.GlobalName != "" {
		global = u.GlobalName
	}
	return map[string]any{
		"id": u.ID, "username": u.Username, "global_name": global, "discriminator": "0",
		"avatar": nil, "bot": u.Bot, "public_flags": 0,
	}
}

func memberJSON(u User, withUser bool) map[string]any {
	var nick any
	if u.Nick != "" {
		nick = u.Nick
	}
	roles := []string{}
	roles = append(roles, u.Roles...)
	m := map[string]any{
		"nick": nick, "roles": roles, "joined_at": "2025-01-02T03:04:05.000000+00:00",
		"deaf": false, "mute": false, "flags": 0, "pending": false, "avatar": nil,
	}
	if withUser {
		m["user"] = userJSON(u)
		m["permissions"] = "2248473465835073"
	}
	return m
}

func (s *Server) channelJSONLocked(c Channel) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type, "flags": 0}
	switch c.Type {
	case 1:
		out["recipients"] = []any{userJSON(s.users[c.Recipient])}
		out["last_message_id"] = nil
	case 11, 12:
		name := c.Name
		if name == "" {
			name = "thread"
		}
		out["guild_id"], out["parent_id"], out["name"] = c.GuildID, c.ParentID, name
		out["owner_id"] = BotID
		meta := map[string]any{"archived": false, "auto_archive_duration": 1440, "locked": false, "archive_timestamp": "2026-01-01T00:00:00.000000+00:00"}
		if c.Type == 12 {
			meta["invitable"] = c.Invitable
		}
		out["thread_metadata"] = meta
		out["member_count"] = len(s.threadMembers[c.ID])
		if s.channels[c.ParentID].Type == 15 {
			out["applied_tags"] = append([]string{}, s.appliedTags[c.ID]...)
		}
	case 15:
		out["guild_id"], out["name"], out["position"] = c.GuildID, "support-forum", 0
		out["available_tags"] = s.forumTagsJSONLocked(c.ID)
		out["default_reaction_emoji"], out["default_sort_order"], out["default_forum_layout"] = nil, nil, 1
	default:
		out["guild_id"], out["name"], out["position"] = c.GuildID, "general", 0
	}
	return out
}

// messageJSON is a message object; a gateway MESSAGE_CREATE adds guild_id
// and member in a server, and a partial member (no user) to each user in
// mentions, as Discord does; REST messages have neither. The bot's
// messages carry the nonce they were created with.
func (s *Server) messageJSON(m *message, event bool) map[string]any {
	author := s.users[m.AuthorID]
	mentions := []any{}
	for id, u := range s.users {
		if strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">") {
			mj := userJSON(u)
			if c := s.channels[m.ChannelID]; event && !m.NoMember && c.GuildID != "" {
				mj["member"] = memberJSON(u, false)
			}
			mentions = append(mentions, mj)
		}
	}
	attachments := []any{}
	for _, a := range m.Attachments {
		attachments = append(attachments, a)
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "author": userJSON(author), "content": m.Content,
		"timestamp": "2026-11-02T10:00:00.000000+00:00", "edited_timestamp": nil, "tts": false,
		"mention_everyone": false, "mentions": mentions, "mention_roles": []any{},
		"attachments": attachments, "embeds": []any{}, "pinned": false, "type": 0, "flags": 0,
		"components": []any{},
	}
	if m.Nonce != "" {
		out["nonce"] = m.Nonce
	}
	if m.RefID != "" {
		// A reply: type 19, and the message it replies to.
		out["type"] = 19
		ref := map[string]any{"type": 0, "message_id": m.RefID, "channel_id": m.ChannelID}
		if c := s.channels[m.ChannelID]; c.GuildID != "" {
			ref["guild_id"] = c.GuildID
		}
		out["message_reference"] = ref
		if r := s.find(m.ChannelID, m.RefID); r != nil && r != m {
			// One level deep, as Discord sends it.
			rc := *r
			rc.RefID = ""
			out["referenced_message"] = s.messageJSON(&rc, false)
		} else {
			out["referenced_message"] = nil // deleted
		}
	}
	if m.Body != nil {
		if cs, ok := m.Body["components"]; ok {
			out["components"] = cs
		}
	}
	if c := s.channels[m.ChannelID]; event && c.GuildID != "" {
		out["guild_id"] = c.GuildID
		if !m.NoMember {
			out["member"] = memberJSON(author, false)
		}
	}
	return out
}

// Edit changes the content of user's message id in channel and dispatches
// MESSAGE_UPDATE with edited_timestamp set, as Discord does for an edit.
// With at empty it is an embed update instead: no edited_timestamp, the
// content unchanged.
func (s *Server) Edit(channel, id, content, at string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(channel, id)
	if m == nil {
		s.t.Fatalf("fakediscord: no message %s in %s", id, channel)
	}
	if at != "" {
		m.Content = content
	}
	d := s.messageJSON(m, true)
	if at != "" {
		d["edited_timestamp"] = at
	}
	s.dispatchLocked("MESSAGE_UPDATE", d)
}

// Delete removes message id from channel and dispatches MESSAGE_DELETE,
// which names only the message.
func (s *Server) Delete(channel, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.history[channel]
	for i, m := range h {
		if m.ID == id {
			s.history[channel] = append(h[:i:i], h[i+1:]...)
			break
		}
	}
	d := map[string]any{"id": id, "channel_id": channel}
	if c := s.channels[channel]; c.GuildID != "" {
		d["guild_id"] = c.GuildID
	}
	s.dispatchLocked("MESSAGE_DELETE", d)
}

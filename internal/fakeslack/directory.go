package fakeslack

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// AgentChannel is the fake workspace's agent channel (testkit's): a private
// channel whose members are the bot and the agents U-alex and U-sam, so that
// an adapter that finds its agents among the channel's members finds them.
const AgentChannel = "CAGENTS"

// The workspace's directory: user groups, channel members, and which
// channels are private. The answers are shaped as Slack's
// usergroups.users.list, conversations.members and conversations.info.

// SetGroup makes the user group id (S…) have exactly users; no users
// leaves it empty. usergroups.users.list of an unknown group answers
// no_such_subteam.
func (s *Server) SetGroup(id string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(users)
}

// SetChannelMembers makes channel have exactly users as members
// (conversations.members).
func (s *Server) SetChannelMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[channel] = slices.Clone(users)
}

// SetPrivate makes channel private or public (conversations.info's
// is_private). Channels are public unless set private, except AgentChannel.
func (s *Server) SetPrivate(channel string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.private[channel] = private
}

// groupUsersLocked serves usergroups.users.list.
func (s *Server) groupUsersLocked(form url.Values) answer {
	users, found := s.groups[form.Get("usergroup")]
	if !found {
		return fail("no_such_subteam")
	}
	return ok(map[string]any{"users": append([]string{}, users...)})
}

// membersLocked serves conversations.members: user ids, a page at a time
// (limit, default 100; cursor from response_metadata.next_cursor).
func (s *Server) membersLocked(form url.Values) answer {
	members, found := s.members[form.Get("channel")]
	if !found {
		return fail("channel_not_found")
	}
	limit, _ := strconv.Atoi(form.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start := 0
	if c := form.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "members:"))
		if err != nil || n < 0 || n > len(members) {
			return fail("invalid_cursor")
		}
		start = n
	}
	end := min(start+limit, len(members))
	next := ""
	if end < len(members) {
		next = "members:" + strconv.Itoa(end)
	}
	return ok(map[string]any{
		"members":           append([]string{}, members[start:end]...),
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

// infoLocked serves conversations.info: the conversation object, with
// is_private as SetPrivate says. Direct message channels (D…) are ims.
func (s *Server) infoLocked(form url.Values) answer {
	id := form.Get("channel")
	if id == "" {
		return fail("channel_not_found")
	}
	if strings.HasPrefix(id, "D") {
		return ok(map[string]any{"channel": map[string]any{
			"id": id, "is_im": true, "is_channel": false, "is_group": false, "is_mpim": false,
			"is_private": true, "created": 1449252889, "is_archived": false, "is_org_shared": false,
			"context_team_id": Team, "user": "U" + strings.TrimPrefix(id, "D"),
		}})
	}
	private := s.private[id]
	_, member := s.members[id]
	return ok(map[string]any{"channel": map[string]any{
		"id": id, "name": strings.ToLower(id), "name_normalized": strings.ToLower(id),
		"is_channel": true, "is_group": false, "is_im": false, "is_mpim": false,
		"is_private": private, "created": 1449252889, "is_archived": false, "is_general": false,
		"unlinked": 0, "is_shared": false, "is_ext_shared": false, "is_org_shared": false,
		"is_pending_ext_shared": false, "pending_shared": []string{}, "context_team_id": Team,
		"shared_team_ids": []string{Team}, "is_member": member && slices.Contains(s.members[id], BotUser),
		"creator": "U-alex",
		"topic":   map[string]any{"value": "", "creator": "", "last_set": 0},
		"purpose": map[string]any{"value": "", "creator": "", "last_set": 0},
	}})
}

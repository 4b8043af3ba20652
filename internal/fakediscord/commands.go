package fakediscord

import (
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Application commands, as Discord's documentation describes them
// (interactions/application-commands, interactions/receiving-and-responding):
//
//   - PUT /applications/{app}/guilds/{guild}/commands replaces a guild's
//     commands with the array sent (a bulk overwrite): a command of the
//     same name and type keeps its id, one left out is deleted. The answer
//     is the array of application command objects.
//   - A person using a command is an INTERACTION_CREATE of type 2
//     (APPLICATION_COMMAND) whose data names the command (id, name, type 1
//     for CHAT_INPUT, guild_id) and the options given ({name, type,
//     value}); options not given are absent.
//   - The bot answers once (POST /interactions/{id}/{token}/callback): type
//     4 with a message, or 5 (deferred, the person sees "thinking…"), and
//     then edits that answer (PATCH
//     /webhooks/{app}/{token}/messages/@original).

// Discord's JSON error codes for commands and interactions.
const (
	codeUnknownGuild        = 10004
	codeUnknownWebhook      = 10015
	codeUnknownInteraction  = 10062
	codeAlreadyAcknowledged = 40060
)

// Command is an application command registered in a guild.
type Command struct {
	ID, Name, Description string
	Type                  int
	// Options are the command's options as registered (name, type,
	// description, required, …).
	Options []map[string]any
	Version string
}

// OptionNames returns the names of the command's options, in order.
func (c Command) OptionNames() []string {
	var out []string
	for _, o := range c.Options {
		name, _ := o["name"].(string)
		out = append(out, name)
	}
	return out
}

// commandName is what Discord accepts as a CHAT_INPUT command's or an
// option's name: lower case, 1–32 characters.
var commandName = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

// AddGuild adds a server the bot is in: READY lists it.
func (s *Server) AddGuild(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.guilds, id) {
		s.guilds = append(s.guilds, id)
	}
}

// SetCommands registers commands in a guild as an earlier version of the
// bot did (each with a description and no options).
func (s *Server) SetCommands(guild string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cmds []Command
	for _, n := range names {
		cmds = append(cmds, Command{ID: s.newIDLocked(), Name: n, Description: n, Type: 1, Version: s.newIDLocked()})
	}
	s.commands[guild] = cmds
}

// Commands returns the commands registered in a guild.
func (s *Server) Commands(guild string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[guild])
}

// CommandOverwrites counts the bulk overwrites of a guild's commands.
func (s *Server) CommandOverwrites(guild string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overwrites[guild]
}

// overwriteCommands serves PUT /applications/{app}/guilds/{guild}/commands.
func (s *Server) overwriteCommands(w http.ResponseWriter, r *http.Request) {
	app, guild := r.PathValue("app"), r.PathValue("guild")
	body := mustBodyArray(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if app != BotID {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": errorMessages[codeMissingAccess], "code": codeMissingAccess})
		return
	}
	if !slices.Contains(s.guilds, guild) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Guild", "code": codeUnknownGuild})
		return
	}
	if s.noCommands[guild] {
		// The bot was added without the applications.commands scope.
		writeJSON(w, http.StatusForbidden, map[string]any{"message": errorMessages[codeMissingAccess], "code": codeMissingAccess})
		return
	}
	if len(body) > 100 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
		return
	}
	old := s.commands[guild]
	var next []Command
	seen := map[string]bool{}
	for _, raw := range body {
		c, problem := parseCommand(raw)
		if problem == "" && seen[c.Name] {
			problem = "duplicate command name " + c.Name
		}
		if problem != "" {
			s.t.Errorf("fakediscord: bulk overwrite of guild %s: %s: %v", guild, problem, raw)
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
			return
		}
		seen[c.Name] = true
		c.ID, c.Version = s.newIDLocked(), s.newIDLocked()
		for _, o := range old {
			if o.Name == c.Name && o.Type == c.Type {
				c.ID = o.ID // the same command: its id stays
				if o.Description == c.Description && reflect.DeepEqual(o.Options, c.Options) {
					c.Version = o.Version
				}
			}
		}
		next = append(next, c)
	}
	s.commands[guild] = next
	s.overwrites[guild]++
	out := make([]any, 0, len(next))
	for _, c := range next {
		out = append(out, commandJSON(c, guild))
	}
	writeJSON(w, http.StatusOK, out)
}

// getCommands serves GET /applications/{app}/guilds/{guild}/commands.
func (s *Server) getCommands(w http.ResponseWriter, r *http.Request) {
	guild := r.PathValue("guild")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, c := range s.commands[guild] {
		out = append(out, commandJSON(c, guild))
	}
	writeJSON(w, http.StatusOK, out)
}

// parseCommand checks a command object as Discord validates it and reads
// it; problem says what Discord would refuse.
func parseCommand(raw any) (c Command, problem string) {
	m, ok := raw.(map[string]any)
	if !ok {
		return c, "not an object"
	}
	c.Name, _ = m["name"].(string)
	c.Description, _ = m["description"].(string)
	c.Type = 1 // CHAT_INPUT by default
	if t, ok := m["type"]; ok {
		c.Type = int(num(t))
	}
	switch {
	case c.Type != 1:
		return c, "only CHAT_INPUT (1) commands are expected"
	case !commandName.MatchString(c.Name):
		return c, "invalid name"
	case c.Description == "" || utf8.RuneCountInString(c.Description) > 100:
		return c, "a CHAT_INPUT command needs a description of 1–100 characters"
	}
	opts, _ := m["options"].([]any)
	if len(opts) > 25 {
		return c, "more than 25 options"
	}
	optional := false
	for _, ro := range opts {
		o, ok := ro.(map[string]any)
		if !ok {
			return c, "an option is not an object"
		}
		name, _ := o["name"].(string)
		desc, _ := o["description"].(string)
		typ := int(num(o["type"]))
		required, _ := o["required"].(bool)
		switch {
		case !commandName.MatchString(name):
			return c, "invalid option name " + name
		case desc == "" || utf8.RuneCountInString(desc) > 100:
			return c, "option " + name + " needs a description of 1–100 characters"
		case typ < 3 || typ > 11:
			return c, "option " + name + " has no value type (3–11)"
		case required && optional:
			return c, "required option " + name + " after an optional one"
		}
		if !required {
			optional = true
		}
		if ml, ok := o["max_length"]; ok && (typ != 3 || num(ml) < 1 || num(ml) > 6000) {
			return c, "option " + name + ": max_length is for strings, 1–6000"
		}
		if _, ok := o["min_value"]; ok && typ != 4 && typ != 10 {
			return c, "option " + name + ": min_value is for numbers"
		}
		c.Options = append(c.Options, o)
	}
	return c, ""
}

func commandJSON(c Command, guild string) map[string]any {
	opts := []any{}
	for _, o := range c.Options {
		opts = append(opts, o)
	}
	return map[string]any{
		"id": c.ID, "application_id": BotID, "guild_id": guild, "version": c.Version, "type": c.Type,
		"name": c.Name, "description": c.Description, "options": opts,
		"default_member_permissions": nil, "nsfw": false,
	}
}

// DenyCommands makes the bulk overwrite in a guild answer 403 Missing
// Access, as for a bot added without the applications.commands scope.
func (s *Server) DenyCommands(guild string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noCommands[guild] = true
}

// Use dispatches INTERACTION_CREATE for user using the command name in a
// channel, with options (name → value: a string or an int). The command
// must be registered in the channel's guild, and the options must be its
// own, as Discord only offers those. It returns the interaction's id.
func (s *Server) Use(channel, user, name string, options map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channel]
	if !ok || c.GuildID == "" {
		s.t.Fatalf("fakediscord: /%s in %s: guild commands are used in a server channel", name, channel)
	}
	var cmd *Command
	for i, x := range s.commands[c.GuildID] {
		if x.Name == name {
			cmd = &s.commands[c.GuildID][i]
		}
	}
	if cmd == nil {
		s.t.Fatalf("fakediscord: /%s is not registered in guild %s", name, c.GuildID)
		return ""
	}
	opts := []any{}
	for _, o := range cmd.Options { // in the command's order
		oname, _ := o["name"].(string)
		v, given := options[oname]
		if !given {
			continue
		}
		switch x := v.(type) {
		case int:
			v = float64(x)
		case int64:
			v = float64(x)
		}
		opts = append(opts, map[string]any{"name": oname, "type": int(num(o["type"])), "value": v})
	}
	for k := range options {
		if !slices.Contains(cmd.OptionNames(), k) {
			s.t.Fatalf("fakediscord: /%s has no option %s", name, k)
		}
	}
	data := map[string]any{"id": cmd.ID, "name": cmd.Name, "type": 1, "guild_id": c.GuildID}
	if len(opts) > 0 {
		data["options"] = opts
	}
	return s.interactionLocked(2, channel, user, data, nil)
}

// interactionLocked dispatches INTERACTION_CREATE of a type with its data
// (and the message of a component) and returns the interaction's id.
func (s *Server) interactionLocked(typ int, channel, user string, data, msg map[string]any) string {
	c := s.channels[channel]
	id := s.newIDLocked()
	u := s.users[user]
	token := "interaction-token-" + id
	d := map[string]any{
		"id":                             id,
		"application_id":                 BotID,
		"type":                           typ,
		"data":                           data,
		"channel_id":                     channel,
		"channel":                        s.channelJSONLocked(c),
		"token":                          token,
		"version":                        1,
		"locale":                         "en-US",
		"app_permissions":                "2248473465835073",
		"entitlements":                   []any{},
		"authorizing_integration_owners": map[string]any{"0": Guild},
		"context":                        0,
	}
	if msg != nil {
		d["message"] = msg
	}
	if c.GuildID != "" {
		d["guild_id"] = c.GuildID
		d["guild_locale"] = "en-US"
		d["member"] = memberJSON(u, true)
	} else {
		d["user"] = userJSON(u)
		d["context"] = 1
	}
	s.tokens[token] = id
	s.dispatchLocked("INTERACTION_CREATE", d)
	return id
}

// Original returns the interaction's response as it stands now: its
// callback, with the content of the last edit of @original; false when the
// interaction was not answered.
func (s *Server) Original(interaction string) (Callback, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cb Callback
	found := false
	for _, c := range s.callbacks {
		if c.Interaction == interaction {
			cb, found = c, true
		}
	}
	if e, ok := s.originals[interaction]; ok && found {
		cb.Content = e.Content
	}
	return cb, found
}

// OriginalEdits returns the edits of an interaction's response, in order.
func (s *Server) OriginalEdits(interaction string) []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Callback
	for _, e := range s.originalEdits {
		if e.Interaction == interaction {
			out = append(out, e)
		}
	}
	return out
}

// editOriginal serves PATCH /webhooks/{app}/{token}/messages/@original:
// the bot edits its answer to an interaction, which must have been
// answered first (a deferred answer is a message to edit).
func (s *Server) editOriginal(w http.ResponseWriter, r *http.Request) {
	body := mustBody(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.tokens[r.PathValue("token")]
	if r.PathValue("app") != BotID || !ok || !s.answered[id] {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Webhook", "code": codeUnknownWebhook})
		return
	}
	e := Callback{Interaction: id, Flags: int(num(body["flags"]))}
	e.Content, _ = body["content"].(string)
	if _, ok := body["allowed_mentions"].(map[string]any); !ok {
		s.t.Errorf("fakediscord: edit of @original without allowed_mentions: %v", body)
	}
	if utf8.RuneCountInString(e.Content) > maxMessageLen {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
		return
	}
	s.originals[id] = e
	s.originalEdits = append(s.originalEdits, e)
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.newIDLocked(), "type": 20, "content": e.Content, "flags": 64, "author": userJSON(s.users[BotID]),
		"application_id": BotID, "webhook_id": BotID, "interaction_metadata": map[string]any{"id": id, "type": 2},
	})
}

// ThreadMembers returns the members of a thread, the bot included.
func (s *Server) ThreadMembers(thread string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.threadMembers[thread])
}

// PrivateThread is a thread the bot started without a message.
type PrivateThread struct {
	ID, Parent, Name string
	Type             int // 12 private, 11 public
	Invitable        bool
}

// CreatedThreads returns the threads the bot started without a message.
func (s *Server) CreatedThreads() []PrivateThread {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// DenyPrivateThreads takes Create Private Threads from the bot in a
// channel: a private thread there answers 403 Missing Permissions.
func (s *Server) DenyPrivateThreads(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noPrivate[channel] = true
}

// createThread serves POST /channels/{id}/threads (start thread without
// message): type 12 (the default in API v9) is a private thread, 11 a
// public one. The bot, its creator, is its first member.
func (s *Server) createThread(w http.ResponseWriter, r *http.Request) {
	ch := r.PathValue("ch")
	body := mustBody(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ok := s.channels[ch]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	if parent.Type == 15 {
		s.startPostLocked(w, parent, body)
		return
	}
	typ := 12
	if t, ok := body["type"]; ok {
		typ = int(num(t))
	}
	name, _ := body["name"].(string)
	invitable := true
	if v, ok := body["invitable"].(bool); ok {
		invitable = v
	}
	switch {
	case parent.Type != 0:
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Cannot execute action on this channel type", "code": 50024})
		return
	case typ != 11 && typ != 12, name == "", utf8.RuneCountInString(name) > 100:
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
		return
	case typ == 12 && s.noPrivate[ch], typ == 11 && s.noThreads[ch]:
		writeJSON(w, http.StatusForbidden, map[string]any{"message": errorMessages[codeMissingPermissions], "code": codeMissingPermissions})
		return
	}
	if d, ok := body["auto_archive_duration"]; ok && !slices.Contains([]float64{60, 1440, 4320, 10080}, num(d)) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": codeInvalidFormBody})
		return
	}
	c := Channel{ID: s.newIDLocked(), GuildID: parent.GuildID, ParentID: ch, Type: typ, Name: name, Invitable: invitable}
	s.channels[c.ID] = c
	s.threadMembers[c.ID] = []string{BotID}
	s.created = append(s.created, PrivateThread{ID: c.ID, Parent: ch, Name: name, Type: typ, Invitable: invitable})
	writeJSON(w, http.StatusCreated, s.channelJSONLocked(c))
}

// addThreadMember serves PUT /channels/{id}/thread-members/{user}.
func (s *Server) addThreadMember(w http.ResponseWriter, r *http.Request) {
	ch, user := r.PathValue("ch"), r.PathValue("user")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[ch]
	if !ok || (c.Type != 11 && c.Type != 12) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": codeUnknownChannel})
		return
	}
	u, ok := s.users[user]
	if !ok || u.NotMember {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Member", "code": codeUnknownMember})
		return
	}
	if !slices.Contains(s.threadMembers[ch], user) {
		s.threadMembers[ch] = append(s.threadMembers[ch], user)
	}
	w.WriteHeader(http.StatusNoContent)
}

// mayWriteLocked reports whether user may write in a channel: in a
// private thread only its members can.
func (s *Server) mayWriteLocked(channel, user string) bool {
	c := s.channels[channel]
	return c.Type != 12 || slices.Contains(s.threadMembers[channel], user)
}

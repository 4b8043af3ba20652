package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
)

// A forum channel as the agent channel.
//
// DISCORD_AGENT_CHANNEL may be a forum (channel type 15), as many Discord
// support teams work. Then each handoff is a forum post: its title names
// the handoff's number, the customer and the reason; its first message is
// the card, with Claim and Resolve; the post's thread is the handoff's
// thread (a post's id is its first message's, as for a thread started
// from a card). The post carries one of the tags waiting, claimed or
// resolved, which follow the card: the adapter creates the tags the forum
// lacks (this needs Manage Channels on the forum; without it, create them
// by hand), and moves the tag when the card changes.
//
// A forum takes no message of its own, so what the handoff flow posts in
// the agent channel itself (the re-ping digest, notices to agents) goes to
// one post the adapter keeps for them, "Firstline: queue and notices".

// The tags of a forum agent channel, one per state of a handoff.
const (
	tagWaiting  = "waiting"
	tagClaimed  = "claimed"
	tagResolved = "resolved"
	// noticesTitle is the post that takes the agent channel's own posts.
	noticesTitle = "Firstline: queue and notices"
	noticesFirst = "Firstline posts the queue of waiting handoffs and notices for agents in this post."
)

var stateTags = []string{tagWaiting, tagClaimed, tagResolved}

// forumState is what the adapter learnt of a forum agent channel.
type forumState struct {
	mu      sync.Mutex
	tags    map[string]string // tag name → id; nil until looked up
	notices string            // the notices post; "" until found or made
}

// agentForum reports whether the agent channel is a forum.
func (a *Adapter) agentForum(ctx context.Context) (bool, error) {
	if a.cfg.AgentChannel == "" {
		return false, nil
	}
	info, err := a.channel(ctx, a.cfg.AgentChannel)
	return info.forum, err
}

// forumTags returns the forum's state tags by name, creating those it
// lacks the first time. Tags it cannot create are left out (logged): posts
// then go without them.
func (a *Adapter) forumTags(ctx context.Context) (map[string]string, error) {
	a.forum.mu.Lock()
	defer a.forum.mu.Unlock()
	if a.forum.tags != nil {
		return a.forum.tags, nil
	}
	ch, err := a.session.Channel(a.cfg.AgentChannel, discordgo.WithContext(ctx))
	if err != nil {
		return nil, a.wrap(classify(err), "look up the forum's tags")
	}
	tags, missing := tagIDs(ch.AvailableTags)
	if len(missing) > 0 {
		all := slices.Clone(ch.AvailableTags)
		for _, name := range missing {
			all = append(all, discordgo.ForumTag{Name: name})
		}
		endpoint := discordgo.EndpointChannel(a.cfg.AgentChannel)
		resp, err := a.request(ctx, http.MethodPatch, endpoint, endpoint, map[string]any{"available_tags": all})
		var updated discordgo.Channel
		if err == nil {
			err = json.Unmarshal(resp, &updated)
		}
		if err != nil {
			a.log.WarnContext(ctx, "discord: cannot create the forum's tags; create them in the forum (or give the bot Manage Channels there)",
				"tags", strings.Join(missing, ", "), "err", a.redact(err))
		} else {
			tags, _ = tagIDs(updated.AvailableTags)
		}
	}
	a.forum.tags = tags
	return tags, nil
}

// tagIDs finds the state tags among a forum's tags (by name, ignoring
// case) and names those missing.
func tagIDs(available []discordgo.ForumTag) (map[string]string, []string) {
	tags := map[string]string{}
	for _, t := range available {
		name := strings.ToLower(strings.TrimSpace(t.Name))
		if slices.Contains(stateTags, name) && t.ID != "" {
			tags[name] = t.ID
		}
	}
	var missing []string
	for _, name := range stateTags {
		if tags[name] == "" {
			missing = append(missing, name)
		}
	}
	return tags, missing
}

// stateOf reads a card's state from its buttons, as the handoff flow sets
// them: Claim while waiting, Resolve alone once claimed, none when
// resolved.
func stateOf(buttons []bot.Button) string {
	switch {
	case slices.ContainsFunc(buttons, func(b bot.Button) bool { return b.Action == bot.ActionClaim }):
		return tagWaiting
	case slices.ContainsFunc(buttons, func(b bot.Button) bool { return b.Action == bot.ActionResolve }):
		return tagClaimed
	}
	return tagResolved
}

// forumTitle is a handoff post's title: its number, then the card's first
// two lines (the default card: who, on which platform; the reason),
// without markdown, within Discord's 100 characters.
func forumTitle(m bot.Outgoing) string {
	prefix := "#" + strconv.FormatInt(m.HandoffID, 10) + " "
	var parts []string
	for _, line := range strings.Split(m.Text, "\n") {
		line = strings.NewReplacer("**", "", "__", "", "`", "").Replace(strings.TrimSpace(line))
		line = strings.TrimPrefix(line, "Handoff #"+strconv.FormatInt(m.HandoffID, 10))
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), ":"))
		line = strings.TrimSpace(strings.TrimPrefix(line, "Reason:"))
		if line != "" {
			parts = append(parts, line)
		}
		if len(parts) == 2 {
			break
		}
	}
	return threadName(prefix + strings.Join(parts, ": "))
}

// forumThread is a thread as the forum endpoints answer with it.
type forumThread struct {
	ID       string   `json:"id"`
	ParentID string   `json:"parent_id"`
	Name     string   `json:"name"`
	Tags     []string `json:"applied_tags"`
}

// announceForum posts a handoff card as a forum post tagged waiting, and
// returns the post's id, which is also its first message's.
func (a *Adapter) announceForum(ctx context.Context, m bot.Outgoing) (string, error) {
	tags, err := a.forumTags(ctx)
	if err != nil {
		return "", err
	}
	title := forumTitle(m)
	if m.MaybeSent {
		// A forum post's message takes no nonce: look for the post an
		// earlier attempt made, by its number.
		if id, err := a.findPost(ctx, "#"+strconv.FormatInt(m.HandoffID, 10)+" "); err != nil || id != "" {
			return id, err
		}
	}
	text, roles := a.withRoleMention(m)
	msg := messageBody{
		Content:         fitOne(toDiscord(text), MaxMessageLen),
		AllowedMentions: allowedMentions{Parse: []string{}, Roles: roles},
	}
	if rows := a.components(ctx, m.Buttons); len(rows) > 0 {
		msg.Components = &rows
	}
	applied := []string{}
	if id := tags[tagWaiting]; id != "" {
		applied = append(applied, id)
	}
	id, err := a.startPost(ctx, title, msg, applied)
	if err != nil {
		return "", a.wrap(err, "post handoff %d in the forum", m.HandoffID)
	}
	a.rememberHandoffThread(id)
	return id, nil
}

// startPost starts a forum post and returns its id.
func (a *Adapter) startPost(ctx context.Context, title string, msg messageBody, tags []string) (string, error) {
	endpoint := discordgo.EndpointChannelThreads(a.cfg.AgentChannel)
	body := map[string]any{
		"name":                  threadName(title),
		"auto_archive_duration": threadArchiveMinutes,
		"applied_tags":          tags,
		"message":               msg,
	}
	resp, err := a.request(ctx, http.MethodPost, endpoint, endpoint, body)
	if err != nil {
		return "", err
	}
	var th forumThread
	if err := json.Unmarshal(resp, &th); err != nil || th.ID == "" {
		return "", fmt.Errorf("read the created post: %v", err)
	}
	return th.ID, nil
}

// findPost returns the active post of the forum whose title starts with
// prefix, "" when there is none.
func (a *Adapter) findPost(ctx context.Context, prefix string) (string, error) {
	guild, err := a.agentGuild(ctx)
	if err != nil {
		return "", err
	}
	endpoint := discordgo.EndpointGuildActiveThreads(guild)
	resp, err := a.request(ctx, http.MethodGet, endpoint, endpoint, nil)
	if err != nil {
		return "", a.wrap(err, "list the forum's posts")
	}
	var list struct {
		Threads []forumThread `json:"threads"`
	}
	if err := json.Unmarshal(resp, &list); err != nil {
		return "", fmt.Errorf("discord: read the forum's posts: %w", err)
	}
	for _, th := range list.Threads {
		if th.ParentID == a.cfg.AgentChannel && strings.HasPrefix(th.Name, prefix) {
			return th.ID, nil
		}
	}
	return "", nil
}

// updateForum edits a handoff post's card and moves its state tag; other
// tags agents applied stay. A tag that cannot be set is logged: the card
// says the state all the same.
func (a *Adapter) updateForum(ctx context.Context, m bot.Outgoing) (string, error) {
	post := m.ParentRef
	rows := a.components(ctx, m.Buttons)
	body := messageBody{
		Content:         fitOne(toDiscord(m.Text), MaxMessageLen),
		Components:      &rows,
		AllowedMentions: noMentions(),
	}
	endpoint := discordgo.EndpointChannelMessage(post, post)
	if _, err := a.request(ctx, http.MethodPatch, endpoint, discordgo.EndpointChannelMessage(post, ""), body); err != nil {
		return "", a.wrap(err, "update handoff card %d", m.HandoffID)
	}
	if err := a.tagPost(ctx, post, stateOf(m.Buttons)); err != nil {
		a.log.WarnContext(ctx, "discord: cannot set the tag of a handoff's post", "handoff", m.HandoffID, "err", a.redact(err))
	}
	return post, nil
}

// tagPost gives a post the tag of state in place of the other state tags.
func (a *Adapter) tagPost(ctx context.Context, post, state string) error {
	tags, err := a.forumTags(ctx)
	if err != nil {
		return err
	}
	if tags[state] == "" {
		return nil // the forum has no such tag
	}
	ch, err := a.session.Channel(post, discordgo.WithContext(ctx))
	if err != nil {
		return a.wrap(err, "look up post %s", post)
	}
	next := []string{tags[state]}
	for _, id := range ch.AppliedTags {
		if id != tags[state] && !slices.ContainsFunc(stateTags, func(s string) bool { return tags[s] == id }) {
			next = append(next, id)
		}
	}
	if slices.Equal(next, ch.AppliedTags) {
		return nil
	}
	endpoint := discordgo.EndpointChannel(post)
	// An archived post is opened again to change its tags.
	_, err = a.request(ctx, http.MethodPatch, endpoint, endpoint, map[string]any{"applied_tags": next[:min(len(next), 5)], "archived": false})
	return err
}

// noticesPost returns the post that takes the agent channel's own posts,
// finding it among the forum's active posts or starting it.
func (a *Adapter) noticesPost(ctx context.Context) (string, error) {
	a.forum.mu.Lock()
	id := a.forum.notices
	a.forum.mu.Unlock()
	if id != "" {
		return id, nil
	}
	id, err := a.findPost(ctx, noticesTitle)
	if err != nil {
		return "", err
	}
	if id == "" {
		if id, err = a.startPost(ctx, noticesTitle, messageBody{Content: noticesFirst, AllowedMentions: noMentions()}, []string{}); err != nil {
			return "", a.wrap(err, "start the notices post")
		}
	}
	a.forum.mu.Lock()
	a.forum.notices = id
	a.forum.mu.Unlock()
	return id, nil
}

// forumChannel is where a post for the agent channel itself goes when it
// is a forum: the notices post. Other channels stay as they are.
func (a *Adapter) forumChannel(ctx context.Context, channel string) (string, error) {
	if channel != a.cfg.AgentChannel {
		return channel, nil
	}
	forum, err := a.agentForum(ctx)
	if err != nil {
		return "", err
	}
	if !forum {
		return channel, nil
	}
	return a.noticesPost(ctx)
}

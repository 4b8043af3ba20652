package discord

import (
	"context"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// channelCacheSize bounds the channels remembered; a thread never moves to
// another parent, so entries never go stale, only the map grows.
const channelCacheSize = 50_000

// channelInfo is what the adapter needs to know of a server channel.
type channelInfo struct {
	thread bool
	parent string // the channel a thread belongs to
	guild  string // the server; "" when not looked up
	// private: a private thread; owner: who started the thread.
	private bool
	owner   string
	forum   bool // a forum channel (forum.go)
}

// channelCache remembers channels looked up, and the threads the adapter
// created, so that telling a handoff thread from a customer's channel costs
// one REST call per channel at most.
type channelCache struct {
	mu  sync.Mutex
	max int
	m   map[string]channelInfo
}

func newChannelCache(max int) *channelCache {
	return &channelCache{max: max, m: map[string]channelInfo{}}
}

func (c *channelCache) get(id string) (channelInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.m[id]
	return info, ok
}

func (c *channelCache) put(id string, info channelInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Forgetting everything is crude but rare, and the cost is one
		// lookup per channel again.
		clear(c.m)
	}
	c.m[id] = info
}

// channel returns whether a server channel is a thread and, if so, its
// parent, asking Discord (GET /channels/{id}) the first time. The bot only
// asks for message intents, so no thread events keep a cache current.
func (a *Adapter) channel(ctx context.Context, id string) (channelInfo, error) {
	if info, ok := a.channels.get(id); ok {
		return info, nil
	}
	ch, err := a.session.Channel(id, discordgo.WithContext(ctx))
	if err != nil {
		if isPermanent(err) {
			// Unknown or not visible: not a thread the bot works in.
			a.channels.put(id, channelInfo{})
			return channelInfo{}, nil
		}
		return channelInfo{}, a.wrap(err, "look up channel %s", id)
	}
	info := channelInfo{thread: ch.IsThread(), parent: ch.ParentID, guild: ch.GuildID,
		private: ch.Type == discordgo.ChannelTypeGuildPrivateThread, owner: ch.OwnerID,
		forum: ch.Type == discordgo.ChannelTypeGuildForum}
	a.channels.put(id, info)
	return info, nil
}

// isHandoffThread reports whether a channel is a thread under the agent
// channel: a handoff's thread (or a thread agents opened themselves, which
// the handoff flow ignores).
func (a *Adapter) isHandoffThread(ctx context.Context, id string) (bool, error) {
	if a.cfg.AgentChannel == "" {
		return false, nil
	}
	info, err := a.channel(ctx, id)
	if err != nil {
		return false, err
	}
	return info.thread && info.parent == a.cfg.AgentChannel, nil
}

// rememberHandoffThread records a handoff thread the adapter started or
// learnt about from the handoff flow.
func (a *Adapter) rememberHandoffThread(id string) {
	a.channels.put(id, channelInfo{thread: true, parent: a.cfg.AgentChannel})
}

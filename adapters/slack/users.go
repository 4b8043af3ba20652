package slack

import (
	"cmp"
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

// How long users.info answers are kept: names change rarely, and every
// lookup sits in front of an acknowledgement. A failed lookup is retried
// sooner.
const (
	userTTL       = time.Hour
	userRetry     = time.Minute
	userCacheSize = 10000
	// maxMentionLookups bounds the users.info calls one message can cause.
	maxMentionLookups = 5
)

// user is what the adapter knows of a Slack user.
type user struct {
	ID     string
	Name   string // display name, else real name, else handle; "" unknown
	Handle string // the @handle, one word
	// email is used to link customers (SLACK_LINK_BY_EMAIL) and is never
	// logged.
	email string
	// team is the user's own workspace: another than the one the message
	// came from means a Slack Connect user from another organization.
	team string
	// guest, stranger and emailConfirmed say whether Slack vouches for
	// the email: a guest's, an outsider's or an unconfirmed address is
	// anyone's to type.
	guest, stranger, emailConfirmed bool
	// locale is the user's Slack language ("sv-SE"), "" unknown.
	locale string
}

// emailProfile is what the user's profile says for SLACK_LINK_BY_EMAIL in
// workspace team, with the reason Slack's word is not enough, if any.
func (u user) emailProfile(team string) bot.EmailProfile {
	p := bot.EmailProfile{Email: u.email}
	switch {
	case u.guest:
		p.Refused = "guest"
	case u.stranger || (u.team != "" && u.team != team):
		p.Refused = "external_workspace"
	case !u.emailConfirmed:
		p.Refused = "email_unconfirmed"
	}
	return p
}

// display is the user's name for people, or their id.
func (u user) display() string { return cmp.Or(u.Name, u.Handle, u.ID) }

// word is the user's name as one word, for mentions in text: agents' commands
// such as "transfer @sam" are read word by word.
func (u user) word() string {
	if u.Handle != "" {
		return u.Handle
	}
	if n := strings.Join(strings.Fields(u.Name), ""); n != "" {
		return n
	}
	return u.ID
}

type cachedUser struct {
	user      user
	ok        bool // false: the lookup failed
	linkTried bool // SLACK_LINK_BY_EMAIL was tried for this user
	at        time.Time
}

// userCache keeps users.info answers.
type userCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*cachedUser
}

func newUserCache(now func() time.Time) *userCache {
	return &userCache{now: now, m: map[string]*cachedUser{}}
}

func (c *userCache) get(id string) (cachedUser, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return cachedUser{}, false
	}
	ttl := userTTL
	if !e.ok {
		ttl = userRetry
	}
	if c.now().Sub(e.at) > ttl {
		delete(c.m, id)
		return cachedUser{}, false
	}
	return *e, true
}

func (c *userCache) put(e cachedUser) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= userCacheSize {
		clear(c.m) // crude, but bounded; the next lookups refill it
	}
	e.at = c.now()
	c.m[e.user.ID] = &e
}

func (c *userCache) markLinkTried(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		e.linkTried = true
	}
}

// user returns what Slack says of a user, from the cache or users.info. It
// never fails: without an answer the user is known by id only.
func (a *Adapter) user(ctx context.Context, id string) user {
	if e, ok := a.users.get(id); ok {
		return e.user
	}
	return a.lookup(ctx, id).user
}

func (a *Adapter) lookup(ctx context.Context, id string) cachedUser {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	info, err := a.api.GetUserInfoContext(ctx, id)
	if err != nil {
		a.log.WarnContext(ctx, "slack users.info failed; using the user id as name", "user", id, "err", a.wrap("users.info", err))
		e := cachedUser{user: user{ID: id}}
		a.users.put(e)
		return e
	}
	e := cachedUser{ok: true, user: user{
		ID:             id,
		Name:           cmp.Or(info.Profile.DisplayName, info.Profile.RealName, info.RealName),
		Handle:         info.Name,
		email:          info.Profile.Email,
		team:           info.TeamID,
		guest:          info.IsRestricted || info.IsUltraRestricted,
		stranger:       info.IsStranger,
		emailConfirmed: info.IsEmailConfirmed,
		locale:         info.Locale,
	}}
	a.users.put(e)
	return e
}

// linkByEmail links a customer's Slack identity to the customer with their
// profile email, once per cached lookup, before their message is accepted.
func (a *Adapter) linkByEmail(ctx context.Context, team, id string) {
	e, ok := a.users.get(id)
	if !ok {
		e = a.lookup(ctx, id)
	}
	if e.linkTried || !e.ok {
		return
	}
	if e.user.email == "" {
		a.users.markLinkTried(id)
		return
	}
	// The directory may be the company's API, and this is in front of
	// Slack's acknowledgement: a slow answer links the user next time.
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	linked, err := a.cfg.Engine.LinkByEmail(lctx, bot.NewIdentity(bot.Slack, team, id), e.user.emailProfile(team))
	if err != nil {
		// Not fatal: the customer gets general help until the next try.
		a.log.WarnContext(ctx, "slack link by email failed", "user", id, "err", err)
		return
	}
	a.users.markLinkTried(id)
	if linked {
		a.log.InfoContext(ctx, "slack user linked to a customer by profile email", "user", id)
	}
}

// mentionRe finds user mentions in Slack text: <@U123> or <@U123|name>.
var mentionRe = regexp.MustCompile(`<@([A-Za-z0-9_-]+)(?:\|[^<>]*)?>`)

// lookupAll fetches the users a message involves (its author and those it
// mentions, at most maxMentionLookups of them) at once, within one
// lookupTimeout: they sit in front of Slack's three-second acknowledgement.
// It returns the namer fromSlack needs; users it could not look up are
// named by id.
func (a *Adapter) lookupAll(ctx context.Context, author, text, botUser string) func(id string) string {
	ids := []string{author}
	seen := map[string]bool{author: true, botUser: true}
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		if id := m[1]; !seen[id] && len(ids) <= maxMentionLookups {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	users := make([]user, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { users[i] = a.user(ctx, id) })
	}
	wg.Wait()
	words := make(map[string]string, len(ids))
	for _, u := range users {
		words[u.ID] = u.word()
	}
	return func(id string) string { return cmp.Or(words[id], id) }
}

// mentionedAgents returns the users a message mentions, other than the bot,
// as handoff agents with their roles (for "transfer @agent": only to an
// agent).
func (a *Adapter) mentionedAgents(ctx context.Context, text, botUser string) []handoff.Agent {
	var out []handoff.Agent
	seen := map[string]bool{}
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		id := m[1]
		if id == botUser || seen[id] {
			continue
		}
		seen[id] = true
		if len(out) >= maxMentionLookups {
			break
		}
		u := a.user(ctx, id) // looked up by lookupAll already
		out = append(out, a.agent(ctx, id, u.display()))
	}
	return out
}

// stripMention removes the bot's own mention from text.
func stripMention(text, botUser string) string {
	if botUser == "" {
		return strings.TrimSpace(text)
	}
	out := mentionRe.ReplaceAllStringFunc(text, func(m string) string {
		if mentionRe.FindStringSubmatch(m)[1] == botUser {
			return ""
		}
		return m
	})
	return strings.TrimSpace(strings.ReplaceAll(out, "  ", " "))
}

// mentions reports whether text mentions the bot.
func mentions(text, botUser string) bool {
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		if m[1] == botUser {
			return true
		}
	}
	return false
}

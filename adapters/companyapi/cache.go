package companyapi

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// DefaultCacheTTL is how long NewCachedDirectory keeps an answer when
// given no ttl: long enough to spare the API the lookups of one
// conversation, short enough that a customer the company deletes or
// re-addresses is seen soon.
const DefaultCacheTTL = 30 * time.Second

// CacheSize bounds the answers a cached directory holds.
const CacheSize = 10_000

// NewCachedDirectory returns d behind a cache of its answers. Found
// customers and not-found answers are kept for ttl (DefaultCacheTTL when
// ttl <= 0), counted from when the question was asked; errors are never
// kept, so a directory that is down is asked again the next time and its
// callers fail closed rather than read an old answer. Questions are cached
// as asked, not normalized: an email in another case is another entry.
// now is the clock (time.Now when nil). The result is safe for concurrent
// use; d is asked outside the cache's lock, so concurrent misses for one
// key each ask d.
func NewCachedDirectory(d bot.Directory, ttl time.Duration, now func() time.Time) bot.Directory {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &cachedDirectory{
		dir: d, ttl: ttl, now: now,
		byID:    make(map[string]cachedCustomer),
		byEmail: make(map[string]cachedList),
	}
}

// cachedDirectory is a bot.Directory with a cache in front.
type cachedDirectory struct {
	dir bot.Directory
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	byID    map[string]cachedCustomer // by id, as asked
	byEmail map[string]cachedList     // by email, as asked
}

// cachedCustomer is the answer to Customer(id): the customer, or err
// wrapping bot.ErrNotFound.
type cachedCustomer struct {
	customer bot.Customer
	err      error
	expires  time.Time
}

// cachedList is the answer to CustomersByEmail(email). Its slice is never
// handed out, only copies.
type cachedList struct {
	customers []bot.Customer
	expires   time.Time
}

func (c *cachedDirectory) Customer(ctx context.Context, id string) (bot.Customer, error) {
	asked := c.now()
	c.mu.Lock()
	e, ok := c.byID[id]
	c.mu.Unlock()
	if ok && asked.Before(e.expires) {
		return e.customer, e.err
	}
	cu, err := c.dir.Customer(ctx, id)
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		return bot.Customer{}, err // the directory is down: ask again next time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.makeRoom(asked)
	c.byID[id] = cachedCustomer{customer: cu, err: err, expires: asked.Add(c.ttl)}
	return cu, err
}

func (c *cachedDirectory) CustomersByEmail(ctx context.Context, email string) ([]bot.Customer, error) {
	asked := c.now()
	c.mu.Lock()
	e, ok := c.byEmail[email]
	c.mu.Unlock()
	if ok && asked.Before(e.expires) {
		return slices.Clone(e.customers), nil
	}
	cs, err := c.dir.CustomersByEmail(ctx, email)
	if err != nil {
		return nil, err // the directory is down: ask again next time
	}
	if cs == nil {
		cs = []bot.Customer{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.makeRoom(asked)
	c.byEmail[email] = cachedList{customers: slices.Clone(cs), expires: asked.Add(c.ttl)}
	return cs, nil
}

// makeRoom makes sure one more entry fits, crudely: when the cache is full
// it drops what has expired, and if that is not enough, any quarter of it
// (Go's map order is as good a choice as any for a 30-second cache). The
// caller holds c.mu.
func (c *cachedDirectory) makeRoom(now time.Time) {
	if len(c.byID)+len(c.byEmail) < CacheSize {
		return
	}
	for k, e := range c.byID {
		if !now.Before(e.expires) {
			delete(c.byID, k)
		}
	}
	for k, e := range c.byEmail {
		if !now.Before(e.expires) {
			delete(c.byEmail, k)
		}
	}
	for k := range c.byID {
		if len(c.byID)+len(c.byEmail) <= CacheSize*3/4 {
			return
		}
		delete(c.byID, k)
	}
	for k := range c.byEmail {
		if len(c.byID)+len(c.byEmail) <= CacheSize*3/4 {
			return
		}
		delete(c.byEmail, k)
	}
}

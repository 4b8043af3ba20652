package companyapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firstlinehq/firstline/bot"
)

// fakeDirectory is a bot.Directory answering with its function fields and
// counting the questions.
type fakeDirectory struct {
	customer func(ctx context.Context, id string) (bot.Customer, error)
	byEmail  func(ctx context.Context, email string) ([]bot.Customer, error)

	customerCalls, emailCalls atomic.Int32
}

var _ bot.Directory = (*fakeDirectory)(nil)

func (f *fakeDirectory) Customer(ctx context.Context, id string) (bot.Customer, error) {
	f.customerCalls.Add(1)
	return f.customer(ctx, id)
}

func (f *fakeDirectory) CustomersByEmail(ctx context.Context, email string) ([]bot.Customer, error) {
	f.emailCalls.Add(1)
	return f.byEmail(ctx, email)
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// errDown is what a directory that cannot answer returns.
var errDown = errors.New("customers: GET /customers/C-1: HTTP 503")

var (
	cacheAda   = bot.Customer{ID: "C-1", Name: "Ada", Email: "ada@example.com"}
	cacheGrace = bot.Customer{ID: "C-2", Name: "Grace", Email: "grace@example.com"}
)

// directoryOf answers from a fixed set of customers, and with errDown while
// *down is true.
func directoryOf(down *atomic.Bool, cs ...bot.Customer) *fakeDirectory {
	return &fakeDirectory{
		customer: func(_ context.Context, id string) (bot.Customer, error) {
			if down.Load() {
				return bot.Customer{}, errDown
			}
			for _, c := range cs {
				if c.ID == id {
					return c, nil
				}
			}
			return bot.Customer{}, fmt.Errorf("customers: GET /customers/%s: HTTP 404: %w", id, bot.ErrNotFound)
		},
		byEmail: func(_ context.Context, email string) ([]bot.Customer, error) {
			if down.Load() {
				return nil, errDown
			}
			out := []bot.Customer{}
			for _, c := range cs {
				if c.Email == email {
					out = append(out, c)
				}
			}
			return out, nil
		},
	}
}

func TestCacheCustomer(t *testing.T) {
	var down atomic.Bool
	d := directoryOf(&down, cacheAda)
	clock := newFakeClock()
	c := NewCachedDirectory(d, 10*time.Second, clock.Now)
	ctx := t.Context()

	ask := func(id string, wantCalls int32) (bot.Customer, error) {
		t.Helper()
		cu, err := c.Customer(ctx, id)
		if n := d.customerCalls.Load(); n != wantCalls {
			t.Fatalf("after Customer(%q): the directory was asked %d times, want %d", id, n, wantCalls)
		}
		return cu, err
	}

	if cu, err := ask("C-1", 1); err != nil || cu != cacheAda {
		t.Fatalf("Customer = %+v, %v; want Ada", cu, err)
	}
	clock.Advance(9 * time.Second)
	if cu, err := ask("C-1", 1); err != nil || cu != cacheAda {
		t.Fatalf("cached Customer = %+v, %v; want Ada", cu, err)
	}
	clock.Advance(time.Second) // 10s: expired
	if cu, err := ask("C-1", 2); err != nil || cu != cacheAda {
		t.Fatalf("Customer = %+v, %v; want Ada", cu, err)
	}

	// Not found is an answer, and cached.
	if _, err := ask("C-9", 3); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Customer(C-9) = %v, want not found", err)
	}
	if _, err := ask("C-9", 3); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("cached Customer(C-9) = %v, want not found", err)
	}

	// Errors are not: a directory that is down is asked every time, and
	// what it said before expires as usual.
	clock.Advance(10 * time.Second)
	down.Store(true)
	for want := int32(4); want <= 5; want++ {
		if _, err := ask("C-1", want); !errors.Is(err, errDown) {
			t.Fatalf("Customer while down = %v, want the directory's error", err)
		}
	}
	if _, err := ask("C-9", 6); !errors.Is(err, errDown) || errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Customer(C-9) while down = %v, want the directory's error, not a cached not found", err)
	}
	down.Store(false)
	if cu, err := ask("C-1", 7); err != nil || cu != cacheAda {
		t.Fatalf("Customer after recovery = %+v, %v; want Ada", cu, err)
	}
	if _, err := ask("C-1", 7); err != nil {
		t.Fatal(err)
	}
}

func TestCacheCustomersByEmail(t *testing.T) {
	var down atomic.Bool
	d := directoryOf(&down, cacheAda, cacheGrace)
	clock := newFakeClock()
	c := NewCachedDirectory(d, 10*time.Second, clock.Now)
	ctx := t.Context()

	ask := func(email string, wantCalls int32) ([]bot.Customer, error) {
		t.Helper()
		cs, err := c.CustomersByEmail(ctx, email)
		if n := d.emailCalls.Load(); n != wantCalls {
			t.Fatalf("after CustomersByEmail(%q): the directory was asked %d times, want %d", email, n, wantCalls)
		}
		return cs, err
	}

	cs, err := ask("ada@example.com", 1)
	if diff := cmp.Diff([]bot.Customer{cacheAda}, cs); err != nil || diff != "" {
		t.Fatalf("CustomersByEmail: %v %s", err, diff)
	}
	cs[0].ID = "C-2" // the caller's copy, not the cache's
	cs, err = ask("ada@example.com", 1)
	if diff := cmp.Diff([]bot.Customer{cacheAda}, cs); err != nil || diff != "" {
		t.Fatalf("cached CustomersByEmail: %v %s", err, diff)
	}

	// None is an answer, cached, and an empty list (not nil).
	for range 2 {
		cs, err = ask("nobody@example.com", 2)
		if err != nil || cs == nil || len(cs) != 0 {
			t.Fatalf("CustomersByEmail(nobody) = %#v, %v; want an empty list", cs, err)
		}
	}

	// Questions are cached as asked: another case is asked again.
	if _, err := ask("ADA@example.com", 3); err != nil {
		t.Fatal(err)
	}

	clock.Advance(10 * time.Second)
	down.Store(true)
	for want := int32(4); want <= 5; want++ {
		if cs, err := ask("ada@example.com", want); !errors.Is(err, errDown) || cs != nil {
			t.Fatalf("CustomersByEmail while down = %v, %v; want the directory's error", cs, err)
		}
	}
	down.Store(false)
	if _, err := ask("ada@example.com", 6); err != nil {
		t.Fatal(err)
	}
	if _, err := ask("ada@example.com", 6); err != nil {
		t.Fatal(err)
	}
}

// A directory answering nil for none is still cached and seen as an empty
// list.
func TestCacheNilList(t *testing.T) {
	d := &fakeDirectory{byEmail: func(context.Context, string) ([]bot.Customer, error) { return nil, nil }}
	c := NewCachedDirectory(d, 0, newFakeClock().Now)
	for range 2 {
		if cs, err := c.CustomersByEmail(t.Context(), "a@example.com"); err != nil || cs == nil {
			t.Fatalf("CustomersByEmail = %#v, %v; want an empty list", cs, err)
		}
	}
	if n := d.emailCalls.Load(); n != 1 {
		t.Errorf("asked %d times, want 1", n)
	}
}

// The ttl counts from the question, not the answer: a slow answer is not
// kept longer for being slow.
func TestCacheTTLFromTheQuestion(t *testing.T) {
	clock := newFakeClock()
	d := &fakeDirectory{customer: func(context.Context, string) (bot.Customer, error) {
		clock.Advance(4 * time.Second) // the API takes its time
		return cacheAda, nil
	}}
	c := NewCachedDirectory(d, 10*time.Second, clock.Now)
	if _, err := c.Customer(t.Context(), "C-1"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second) // 9s after the question
	if _, err := c.Customer(t.Context(), "C-1"); err != nil {
		t.Fatal(err)
	}
	if n := d.customerCalls.Load(); n != 1 {
		t.Fatalf("asked %d times 9s after the question, want 1", n)
	}
	clock.Advance(time.Second) // 10s after the question, 6s after the answer
	if _, err := c.Customer(t.Context(), "C-1"); err != nil {
		t.Fatal(err)
	}
	if n := d.customerCalls.Load(); n != 2 {
		t.Fatalf("asked %d times 10s after the question, want 2", n)
	}
}

func TestCacheDefaults(t *testing.T) {
	var down atomic.Bool
	d := directoryOf(&down, cacheAda)
	clock := newFakeClock()
	c := NewCachedDirectory(d, 0, clock.Now) // DefaultCacheTTL
	for _, step := range []struct {
		advance time.Duration
		want    int32
	}{{0, 1}, {DefaultCacheTTL - time.Nanosecond, 1}, {time.Nanosecond, 2}} {
		clock.Advance(step.advance)
		if _, err := c.Customer(t.Context(), "C-1"); err != nil {
			t.Fatal(err)
		}
		if n := d.customerCalls.Load(); n != step.want {
			t.Fatalf("asked %d times, want %d", n, step.want)
		}
	}

	// No clock is the real one.
	c = NewCachedDirectory(d, time.Hour, nil)
	for range 2 {
		if _, err := c.Customer(t.Context(), "C-1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.customerCalls.Load(); n != 3 {
		t.Fatalf("asked %d times, want 3", n)
	}
}

func TestCacheIsBounded(t *testing.T) {
	var down atomic.Bool
	d := directoryOf(&down)
	clock := newFakeClock()
	c := NewCachedDirectory(d, time.Minute, clock.Now).(*cachedDirectory)
	size := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.byID) + len(c.byEmail)
	}

	for i := range CacheSize {
		if i%2 == 0 {
			_, _ = c.Customer(t.Context(), fmt.Sprint("C-", i))
		} else {
			_, _ = c.CustomersByEmail(t.Context(), fmt.Sprint(i, "@example.com"))
		}
	}
	if n := size(); n != CacheSize {
		t.Fatalf("%d entries, want %d", n, CacheSize)
	}
	// Full, nothing expired: a quarter goes.
	_, _ = c.Customer(t.Context(), "C-new")
	if n := size(); n > CacheSize*3/4+1 || n < CacheSize/2 {
		t.Fatalf("%d entries after one more, want about %d", n, CacheSize*3/4)
	}
	// The newest answer is kept.
	before := d.customerCalls.Load()
	_, _ = c.Customer(t.Context(), "C-new")
	if d.customerCalls.Load() != before {
		t.Errorf("the newest answer was evicted")
	}
	for i := range 10 * CacheSize {
		_, _ = c.Customer(t.Context(), fmt.Sprint("D-", i))
		if n := size(); n > CacheSize {
			t.Fatalf("%d entries, more than %d", n, CacheSize)
		}
	}
	// Once all have expired, the next eviction drops them all, and only
	// them.
	clock.Advance(time.Minute)
	for i := 0; ; i++ {
		was := size()
		_, _ = c.Customer(t.Context(), fmt.Sprint("E-", i))
		if n := size(); n < was {
			if n != i+1 {
				t.Fatalf("%d entries after evicting the expired ones, want the %d fresh ones", n, i+1)
			}
			break
		}
		if i > CacheSize {
			t.Fatalf("no eviction after %d more entries", i)
		}
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	var down atomic.Bool
	d := directoryOf(&down, cacheAda, cacheGrace)
	clock := newFakeClock()
	c := NewCachedDirectory(d, time.Second, clock.Now)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				switch i % 4 {
				case 0:
					if cu, err := c.Customer(t.Context(), "C-1"); err != nil && !errors.Is(err, errDown) || err == nil && cu != cacheAda {
						t.Errorf("Customer = %+v, %v", cu, err)
					}
				case 1:
					if cs, err := c.CustomersByEmail(t.Context(), "grace@example.com"); err == nil && (len(cs) != 1 || cs[0] != cacheGrace) {
						t.Errorf("CustomersByEmail = %+v", cs)
					} else if err == nil {
						cs[0].Name = "changed by a caller"
					}
				case 2:
					_, _ = c.Customer(t.Context(), fmt.Sprint("C-", g, "-", i))
				case 3:
					clock.Advance(100 * time.Millisecond)
					down.Store(i%8 == 3)
				}
			}
		})
	}
	wg.Wait()
}

// Package outbox delivers the messages the engine and the handoff flow store
// in the outbox: each row goes to the Sender of its own platform, in order
// within its stream, and is marked sent only after the platform took it. A
// row that cannot be delivered stays pending and is retried, so a crash or an
// outage loses nothing.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/prometheus/client_golang/prometheus"
)

// Sender delivers one outgoing message to a platform and returns the
// platform's id for it. Errors are retried unless marked Permanent; a
// RetryAfter error says when to try again.
type Sender interface {
	Send(ctx context.Context, m bot.Outgoing) (string, error)
}

// SendError classifies a delivery failure.
type SendError struct {
	Err error
	// Permanent failures are not retried: the message can never be
	// delivered as it is (channel gone, bot removed, invalid payload).
	Permanent bool
	// RetryAfter, when positive, marks a rate limit (HTTP 429 Retry-After,
	// or the adapter's own shaper): the row waits that long and no attempt
	// is counted.
	RetryAfter time.Duration
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &SendError{Err: err, Permanent: true} }

// RetryAfter marks err as a rate limit: the row is tried again after d, and
// the delay does not count as a failed attempt.
func RetryAfter(err error, d time.Duration) error {
	return &SendError{Err: err, RetryAfter: max(d, time.Millisecond)}
}

// Bell wakes a dispatcher when rows were queued. It exists apart from the
// dispatcher so that what queues rows (the engine, the handoff flow) can be
// built first, and the dispatcher, which needs the platforms' senders, last.
type Bell struct {
	c chan struct{}
	// rung counts rings, so that a send can tell whether the bell rang
	// while it ran (Dispatcher.Deliver).
	rung atomic.Uint64
}

// NewBell returns a bell for one dispatcher.
func NewBell() *Bell { return &Bell{c: make(chan struct{}, 1)} }

// Ring wakes the dispatcher listening to the bell. It never blocks: rings
// before the dispatcher looks are one.
func (b *Bell) Ring() {
	b.rung.Add(1)
	select {
	case b.c <- struct{}{}:
	default:
	}
}

// Config wires a Dispatcher.
type Config struct {
	Store   Store
	Senders map[bot.Platform]Sender
	// Bell wakes the dispatcher; New makes one when it is nil.
	Bell    *Bell
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *Metrics
	// MaxAttempts is how many failed sends make a row dead.
	MaxAttempts int
	// Poll is how often the dispatcher looks for due rows without being
	// notified (retries come due; other replicas queue rows).
	Poll time.Duration
	// BaseBackoff and MaxBackoff bound the exponential back-off.
	BaseBackoff, MaxBackoff time.Duration
	// Lease is how long a claimed row is reserved for this dispatcher; it
	// must exceed the time one send takes. After a crash, rows claimed and
	// not sent wait this long. Default 30s.
	Lease time.Duration
	// Parallel bounds the sends in flight at once, default 8. It is also
	// how many rows one pass claims: a row claimed only to wait for a free
	// slot could see its lease run out and be claimed, and sent, by
	// another replica as well.
	Parallel int
	// OnDead, when set, is told of a row that is given up, with the
	// reason, so that people learn of it: bot/app wires the handoff flow,
	// which tells the agents of the handoff the row concerns. It is
	// called before the row is marked dead, so that a crash in between
	// repeats the call rather than losing it; its error is logged and the
	// row is marked dead regardless.
	OnDead func(ctx context.Context, m bot.Outgoing, reason string) error
}

// recordTimeout bounds the store call that records a send's outcome. The
// outcome is recorded even when the dispatcher is stopping: a message that
// reached the platform and is not recorded as sent would be sent again.
const recordTimeout = 5 * time.Second

// Dispatcher delivers outbox rows.
type Dispatcher struct {
	cfg Config
	// direct holds a slot per row in flight from Deliver, and sending
	// counts them, so that Flush can wait for them.
	direct  chan struct{}
	sending counter
}

// counter counts sends in flight and lets Flush wait until none is. Not a
// sync.WaitGroup: Deliver adds while a Flush may be waiting, which a
// WaitGroup forbids once its count reached zero.
type counter struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // made when n leaves 0, closed when it is back
}

func (c *counter) add(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 && d > 0 {
		c.idle = make(chan struct{})
	}
	c.n += d
	if c.n == 0 {
		close(c.idle)
	}
}

// wait returns a channel closed once no send is in flight.
func (c *counter) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return c.idle
}

// New returns a Dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("outbox: dispatcher needs a store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Bell == nil {
		cfg.Bell = NewBell()
	}
	return &Dispatcher{cfg: cfg, direct: make(chan struct{}, directSlotsPer*cfg.Parallel)}, nil
}

var _ bot.Courier = (*Dispatcher)(nil)

// directSlotsPer is how many rows Deliver may have in flight per slot of
// a pass (Config.Parallel): turns finish faster than one pass sends.
const directSlotsPer = 4

// Lease implements bot.Courier: a row claimed for Deliver is leased as
// long as one a pass claims.
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Lease }

// Deliver implements bot.Courier: it sends rows claimed by the
// transaction that queued them, each at once on a goroutine of its own,
// with ctx, and records the outcome as a pass would. When too many are in
// flight already, a row is handed back to the passes (released and the
// bell rung) rather than held, claimed, waiting for a slot.
func (d *Dispatcher) Deliver(ctx context.Context, rows []bot.Outgoing) {
	for _, m := range rows {
		select {
		case d.direct <- struct{}{}:
		default:
			d.release(m)
			d.Notify()
			continue
		}
		d.sending.add(1)
		rung := d.cfg.Bell.rung.Load()
		go func() {
			defer d.sending.add(-1)
			defer func() { <-d.direct }()
			if _, err := d.deliver(ctx, m); err != nil {
				d.cfg.Logger.ErrorContext(ctx, "outbox send failed", "outbox", m.ID, "err", err)
			}
			// A row queued behind this one in its stream rang the bell
			// while this one was in flight, and the pass it woke found
			// it not yet due: wake another now that it is.
			if d.cfg.Bell.rung.Load() != rung {
				d.Notify()
			}
		}()
	}
}

// Notify wakes the dispatcher: rows were queued. It never blocks.
func (d *Dispatcher) Notify() { d.cfg.Bell.Ring() }

// Run delivers rows as they come due until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := d.pass(ctx); err != nil && ctx.Err() == nil {
			d.cfg.Logger.ErrorContext(ctx, "outbox pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.cfg.Bell.c:
		case <-t.C:
		}
	}
}

// Flush delivers every row that is due, pass after pass, until none is left
// (rows that fail are rescheduled and stop counting as due). It returns how
// many rows were sent. The rows of one pass are heads of different streams,
// so they are sent concurrently (up to Config.Parallel): a slow channel
// does not hold back the others.
//
// Rows in flight from Deliver are waited for first: they are not due (they
// are claimed), and whoever flushes (shutdown, the terminal chat after a
// line) means every row queued so far.
func (d *Dispatcher) Flush(ctx context.Context) (int, error) {
	select {
	case <-d.sending.wait():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return d.pass(ctx)
}

// pass delivers every row that is due, as Flush does, without waiting for
// Deliver's rows: Run's passes go on while those are in flight.
func (d *Dispatcher) pass(ctx context.Context) (int, error) {
	sent := 0
	for {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		rows, err := d.cfg.Store.Claim(ctx, d.cfg.Now(), d.cfg.Parallel, d.cfg.Lease)
		if err != nil {
			return sent, fmt.Errorf("outbox: claim due rows: %w", err)
		}
		if len(rows) == 0 {
			return sent, nil
		}
		n, err := d.deliverAll(ctx, rows)
		sent += n
		if err != nil {
			return sent, err
		}
	}
}

// deliverAll sends a claimed batch. Rows it did not get to (the context
// ended) are released at once rather than left leased, so the next start
// (or shutdown's last flush) sends them without waiting for the lease to
// run out; a row whose send the context interrupted is released by
// deliver, marked as maybe sent.
func (d *Dispatcher) deliverAll(ctx context.Context, rows []bot.Outgoing) (int, error) {
	var (
		mu       sync.Mutex
		sent     int
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, d.cfg.Parallel)
	)
	for _, m := range rows {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			d.release(m)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			ok, err := d.deliver(ctx, m)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sent++
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return sent, firstErr
}

// postpone reschedules a row without counting an attempt. A row that may
// have been sent by an earlier claim stays marked so: whether its message
// is on the platform is still to be looked up.
func (d *Dispatcher) postpone(ctx context.Context, m bot.Outgoing, next time.Time) error {
	if m.MaybeSent {
		return d.cfg.Store.MarkUnsure(ctx, m.ID, "", next, false)
	}
	return d.cfg.Store.Defer(ctx, m.ID, next)
}

// release makes a claimed row due again now.
func (d *Dispatcher) release(m bot.Outgoing) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := d.postpone(ctx, m, d.cfg.Now()); err != nil {
		d.cfg.Logger.Warn("outbox: could not release a claimed row; it is sent when its lease ends", "outbox", m.ID, "err", err)
	}
}

// deliver sends one row and records the outcome. It reports whether the row
// was sent; the error is only for failures to record.
func (d *Dispatcher) deliver(ctx context.Context, m bot.Outgoing) (bool, error) {
	log := d.cfg.Logger.With("outbox", m.ID, "platform", m.Platform, "kind", m.Kind)
	sender, ok := d.cfg.Senders[m.Platform]
	var platformID string
	var err error
	start := d.cfg.Now()
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if !ok {
		// Not this message's fault: the platform is not configured on this
		// replica (a token removed for a while, replicas configured
		// differently). Kept, without counting an attempt, for a replica
		// or a restart that has the adapter; never given up.
		next := d.cfg.Now().Add(d.cfg.MaxBackoff)
		if err := d.postpone(rec, m, next); err != nil {
			return false, fmt.Errorf("outbox: defer row %d: %w", m.ID, err)
		}
		log.WarnContext(ctx, "no adapter for this platform is running; message kept for later", "until", next)
		return false, nil
	}
	platformID, err = sender.Send(ctx, m)
	if err == nil {
		if err := d.cfg.Store.MarkSent(rec, m.ID, platformID, d.cfg.Now()); err != nil {
			return false, fmt.Errorf("outbox: mark row %d sent: %w", m.ID, err)
		}
		d.cfg.Metrics.sent(m.Platform, d.cfg.Now().Sub(start))
		return true, nil
	}
	if ok && ctx.Err() != nil {
		// Stopped mid-send: the platform may have the message. The row is
		// due again at once, and the next send looks before it posts.
		if err := d.cfg.Store.MarkUnsure(rec, m.ID, "", d.cfg.Now(), false); err != nil {
			return false, fmt.Errorf("outbox: release row %d: %w", m.ID, err)
		}
		return false, nil
	}
	var se *SendError
	if errors.As(err, &se) && !se.Permanent && se.RetryAfter > 0 {
		// The platform asked to slow down (HTTP 429, or our own per-channel
		// shaper): not a failure, and no attempt is counted.
		next := d.cfg.Now().Add(se.RetryAfter)
		if err := d.postpone(rec, m, next); err != nil {
			return false, fmt.Errorf("outbox: defer row %d: %w", m.ID, err)
		}
		d.cfg.Metrics.throttled(m.Platform)
		log.DebugContext(ctx, "outgoing message deferred by rate limit", "until", next)
		return false, nil
	}
	attempts := m.Attempts + 1
	permanent := se != nil && se.Permanent
	if permanent || attempts >= d.cfg.MaxAttempts {
		return false, d.giveUp(rec, log, m, attempts, err)
	}
	next := d.cfg.Now().Add(d.backoff(attempts))
	var recErr error
	if ok {
		// A failure that is not a refusal (a timeout, a dropped
		// connection, a 5xx) may have reached the platform: the retry
		// looks before it posts again.
		recErr = d.cfg.Store.MarkUnsure(rec, m.ID, err.Error(), next, true)
	} else {
		recErr = d.cfg.Store.MarkRetry(rec, m.ID, err.Error(), next)
	}
	if recErr != nil {
		return false, fmt.Errorf("outbox: reschedule row %d: %w", m.ID, recErr)
	}
	d.cfg.Metrics.failed(m.Platform)
	log.WarnContext(ctx, "outgoing message failed, will retry", "attempts", attempts, "next", next, "err", err)
	return false, nil
}

// giveUp marks a row dead, after telling OnDead: counted, and logged once.
func (d *Dispatcher) giveUp(ctx context.Context, log *slog.Logger, m bot.Outgoing, attempts int, cause error) error {
	if d.cfg.OnDead != nil {
		if err := d.cfg.OnDead(ctx, m, cause.Error()); err != nil {
			log.ErrorContext(ctx, "outbox: could not report an undeliverable message", "err", err)
		}
	}
	if err := d.cfg.Store.MarkDead(ctx, m.ID, cause.Error()); err != nil {
		return fmt.Errorf("outbox: mark row %d dead: %w", m.ID, err)
	}
	d.cfg.Metrics.dead(m.Platform)
	log.ErrorContext(ctx, "outgoing message given up", "attempts", attempts, "err", cause)
	return nil
}

// backoff is exponential with jitter: half the ceiling, plus a random part.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	ceil := d.cfg.BaseBackoff << min(attempts-1, 20)
	if ceil > d.cfg.MaxBackoff || ceil <= 0 {
		ceil = d.cfg.MaxBackoff
	}
	wait := ceil/2 + rand.N(ceil/2+1)
	return wait
}

// Metrics are the dispatcher's Prometheus collectors; nil records nothing.
type Metrics struct {
	sentTotal   *prometheus.CounterVec
	failedTotal *prometheus.CounterVec
	deadTotal   *prometheus.CounterVec
	throttledC  *prometheus.CounterVec
	sendSeconds *prometheus.HistogramVec
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sentTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "outbox_sent_total",
			Help: "Outgoing messages delivered, by platform.",
		}, []string{"platform"}),
		failedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "outbox_failed_total",
			Help: "Failed delivery attempts that will be retried, by platform.",
		}, []string{"platform"}),
		deadTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "outbox_dead_total",
			Help: "Outgoing messages given up after repeated failures, by platform.",
		}, []string{"platform"}),
		throttledC: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firstline", Name: "outbox_throttled_total",
			Help: "Sends deferred by a platform rate limit or the per-channel shaper, by platform.",
		}, []string{"platform"}),
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "firstline", Name: "outbox_send_duration_seconds",
			Help:    "Time a platform took to accept a message.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 8),
		}, []string{"platform"}),
	}
	reg.MustRegister(m.sentTotal, m.failedTotal, m.deadTotal, m.throttledC, m.sendSeconds)
	return m
}

func (m *Metrics) sent(p bot.Platform, d time.Duration) {
	if m != nil {
		m.sentTotal.WithLabelValues(string(p)).Inc()
		m.sendSeconds.WithLabelValues(string(p)).Observe(d.Seconds())
	}
}

func (m *Metrics) failed(p bot.Platform) {
	if m != nil {
		m.failedTotal.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) dead(p bot.Platform) {
	if m != nil {
		m.deadTotal.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) throttled(p bot.Platform) {
	if m != nil {
		m.throttledC.WithLabelValues(string(p)).Inc()
	}
}

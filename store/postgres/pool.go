package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// connPool is a small, bounded pool of pgx connections.
//
// It exists because github.com/jackc/pgx/v5/pgxpool needs
// github.com/jackc/puddle/v2, which the module does not require yet; it
// keeps pgxpool's shape (Acquire, Release, Close; a ping before reusing a
// connection that sat idle) so that moving to pgxpool later touches this
// file and little else.
//
// The pool never holds more than its size in connections: one is dialled
// only when no idle one is left, by a caller holding one of size tokens.
// Connections are checked when they come back and dropped, not reused, if
// they are closed, busy or inside a transaction, so a failed or cancelled
// operation can never hand a broken session to the next caller.
type connPool struct {
	dial func(ctx context.Context) (*pgx.Conn, error)
	// tokens has one slot per connection in use; acquiring a connection
	// means sending into it, so callers beyond the pool's size wait (or give
	// up with their context).
	tokens chan struct{}
	// done is closed by Close, to turn away callers waiting for a token.
	done chan struct{}

	mu     sync.Mutex
	idle   []idleConn // most recently used last
	closed bool
}

// idleConn is a connection waiting in the pool.
type idleConn struct {
	conn     *pgx.Conn
	created  time.Time
	released time.Time
}

const (
	// pingAfterIdle: a connection idle longer than this is pinged before it
	// is handed out, so a server restart or a proxy's idle cut costs a
	// reconnect rather than a failed statement (pgxpool uses the same 1s).
	pingAfterIdle = time.Second
	// maxConnLifetime bounds how long a connection is reused, so that load
	// spreads again after a failover or when replicas are added behind a
	// proxy.
	maxConnLifetime = time.Hour
	// closeTimeout bounds the polite goodbye to the server when a
	// connection is dropped.
	closeTimeout = 5 * time.Second
)

// errPoolClosed is returned by Acquire after Close.
var errPoolClosed = errors.New("connection pool is closed")

// newConnPool returns a pool of at most size connections opened with dial.
func newConnPool(size int, dial func(ctx context.Context) (*pgx.Conn, error)) *connPool {
	return &connPool{dial: dial, tokens: make(chan struct{}, size), done: make(chan struct{})}
}

// pooledConn is a connection lent by the pool; Release gives it back.
type pooledConn struct {
	pool    *connPool
	conn    *pgx.Conn
	created time.Time
}

// Conn returns the underlying connection. It must not be used after Release.
func (c *pooledConn) Conn() *pgx.Conn { return c.conn }

// Acquire lends a connection, reusing an idle one or dialling a new one. It
// waits while all the pool's connections are in use.
func (p *connPool) Acquire(ctx context.Context) (*pooledConn, error) {
	select {
	case p.tokens <- struct{}{}:
	case <-p.done:
		return nil, errPoolClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		ic, ok, err := p.popIdle()
		if err != nil {
			<-p.tokens
			return nil, err
		}
		if !ok {
			break
		}
		if time.Since(ic.created) > maxConnLifetime {
			closeConn(ic.conn)
			continue
		}
		if time.Since(ic.released) > pingAfterIdle {
			if err := ic.conn.Ping(ctx); err != nil {
				closeConn(ic.conn)
				if ctx.Err() != nil {
					<-p.tokens
					return nil, ctx.Err()
				}
				continue
			}
		}
		return &pooledConn{pool: p, conn: ic.conn, created: ic.created}, nil
	}
	conn, err := p.dial(ctx)
	if err != nil {
		<-p.tokens
		return nil, err
	}
	return &pooledConn{pool: p, conn: conn, created: time.Now()}, nil
}

// popIdle takes the most recently used idle connection, if any.
func (p *connPool) popIdle() (idleConn, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return idleConn{}, false, errPoolClosed
	}
	if len(p.idle) == 0 {
		return idleConn{}, false, nil
	}
	ic := p.idle[len(p.idle)-1]
	p.idle[len(p.idle)-1] = idleConn{}
	p.idle = p.idle[:len(p.idle)-1]
	return ic, true, nil
}

// Release returns the connection to the pool, or closes it when it is not
// in a clean state: closed by an error or a cancelled context, still busy
// with a result, or inside a transaction nobody ended.
func (c *pooledConn) Release() {
	p, conn := c.pool, c.conn
	if conn == nil {
		return // released already
	}
	c.conn = nil
	defer func() { <-p.tokens }()

	pg := conn.PgConn()
	reusable := !conn.IsClosed() && !pg.IsBusy() && pg.TxStatus() == 'I' &&
		time.Since(c.created) < maxConnLifetime
	if reusable {
		p.mu.Lock()
		if !p.closed {
			p.idle = append(p.idle, idleConn{conn: conn, created: c.created, released: time.Now()})
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	closeConn(conn)
}

// Close closes the idle connections, makes further Acquires fail, and waits
// until every lent connection is released (and then closed).
func (p *connPool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	close(p.done)

	for _, ic := range idle {
		closeConn(ic.conn)
	}
	// Holding every token means no connection is lent any more. An
	// Acquire that wins a token from this loop sees closed and gives it
	// back.
	for range cap(p.tokens) {
		p.tokens <- struct{}{}
	}
}

// closeConn closes conn, telling the server goodbye when it still listens.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx) // the connection is gone either way
}

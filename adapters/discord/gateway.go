package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

const (
	// handshakeTimeout bounds connecting to the gateway: dial, WebSocket
	// upgrade, Hello, and READY or RESUMED. discordgo reads without a
	// deadline; a gateway that accepts and then says nothing would
	// otherwise hang Run.
	handshakeTimeout = 30 * time.Second
	dialTimeout      = 15 * time.Second
	// maxReconnectWait caps the pause between connection attempts.
	maxReconnectWait = 2 * time.Minute
	// stableConnection is how long a connection must last for the next
	// drop to be retried at once rather than after a growing pause.
	stableConnection = time.Minute
)

// Application flags that say the Message Content intent is enabled (the
// second for bots in fewer than 100 servers that are not verified).
const (
	appFlagGatewayMessageContent        = 1 << 18
	appFlagGatewayMessageContentLimited = 1 << 19
)

// fatalError is a configuration error that retrying cannot fix.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

// Run checks the token, opens the gateway session, and handles events until
// ctx is done; then it closes the session and waits for the work events
// started. When the connection drops it reconnects, resuming the session
// where Discord allows and fetching back what was missed where not (see
// backfill.go). It returns an error only for what retrying cannot fix: a
// rejected token, or the Message Content intent not enabled.
func (a *Adapter) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("discord: Run called twice")
	}
	a.setRunContext(ctx)
	defer func() {
		a.lanes.wait()
		a.bg.Wait()
	}()
	if err := a.preflight(ctx); err != nil || ctx.Err() != nil {
		return err
	}
	// Closing the connection being set up is the only way to stop a
	// handshake discordgo blocks in.
	defer context.AfterFunc(ctx, a.dialer.abort)()

	var wait time.Duration
	for {
		err := a.session.Open()
		if ctx.Err() != nil {
			a.closeSession()
			return nil
		}
		if err != nil && !errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			wait = nextWait(wait)
			a.log.WarnContext(ctx, "discord: cannot connect to the gateway; retrying", "err", a.redact(err), "in", wait.String())
			if !sleep(ctx, wait) {
				a.closeSession()
				return nil
			}
			continue
		}
		a.dialer.connected()
		since := time.Now()
		select {
		case <-ctx.Done():
			a.closeSession()
			return nil
		case <-a.dropped:
		}
		if time.Since(since) >= stableConnection {
			wait = 0 // a long-lived connection dropping is routine: at once
		}
		a.log.InfoContext(ctx, "discord: gateway connection lost; reconnecting", "in", wait.String())
		if !sleep(ctx, wait) {
			a.closeSession()
			return nil
		}
		wait = nextWait(wait)
	}
}

// nextWait doubles a reconnect pause, from one second up to the cap.
func nextWait(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return min(2*d, maxReconnectWait)
}

// sleep waits d with ±10% jitter, or until ctx is done; false if ctx is.
func sleep(ctx context.Context, d time.Duration) bool {
	if d > 0 {
		d += time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// closeSession closes the gateway connection (discordgo sends a close frame
// and waits a second for it to leave).
func (a *Adapter) closeSession() {
	a.ready.Store(false)
	_ = a.session.Close()
}

// preflight checks the token and the Message Content intent over REST
// before connecting: the gateway reports both only by closing the
// connection (4004, 4014), which discordgo does not surface.
func (a *Adapter) preflight(ctx context.Context) error {
	var wait time.Duration
	for {
		err := a.checkApplication(ctx)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return err
		}
		wait = nextWait(wait)
		a.log.WarnContext(ctx, "discord: cannot reach the REST API; retrying", "err", err, "in", wait.String())
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// apiURL is the REST base in use, without any password, for messages.
func (a *Adapter) apiURL() string {
	if a.api == nil {
		return strings.TrimRight(discordgo.EndpointAPI, "/")
	}
	return a.api.Redacted()
}

func (a *Adapter) checkApplication(ctx context.Context) error {
	me, err := a.session.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		status, _, ok := apiCode(err)
		switch {
		case ok && status == http.StatusUnauthorized:
			return &fatalError{"discord: DISCORD_BOT_TOKEN was rejected (HTTP 401): copy the bot's token again from the developer portal (Bot → Reset Token)"}
		case ok && status == http.StatusNotFound:
			// No such route: the base URL, not the token.
			return &fatalError{fmt.Sprintf("discord: the REST API at %s answered HTTP 404 for /users/@me: DISCORD_API_URL is wrong; give the proxy's host (https://proxy.internal) or a URL ending in /api/v%s", a.apiURL(), discordgo.APIVersion)}
		}
		return a.wrap(err, "reach the REST API at %s", a.apiURL())
	}
	if !me.Bot {
		return &fatalError{"discord: DISCORD_BOT_TOKEN is not a bot's token"}
	}
	id := me.ID
	a.botID.Store(&id)

	endpoint := discordgo.EndpointAPI + "applications/@me"
	body, err := a.session.RequestWithBucketID(http.MethodGet, endpoint, nil, endpoint, discordgo.WithContext(ctx))
	if err != nil {
		// Only a convenience check: the gateway is the judge.
		a.log.WarnContext(ctx, "discord: cannot read the application's settings; not checking the Message Content intent", "err", a.redact(err))
		return nil
	}
	var app struct {
		Flags int64 `json:"flags"`
	}
	if err := json.Unmarshal(body, &app); err != nil {
		a.log.WarnContext(ctx, "discord: cannot read the application's settings; not checking the Message Content intent", "err", err)
		return nil
	}
	if app.Flags&(appFlagGatewayMessageContent|appFlagGatewayMessageContentLimited) == 0 {
		return &fatalError{"discord: the Message Content intent is not enabled: turn on \"Message Content Intent\" under Bot → Privileged Gateway Intents in the developer portal"}
	}
	return nil
}

// onReady starts a new session's work: a READY means a new session (the
// first of the process, or one after Discord refused a resume), and events
// sent meanwhile will not be delivered, so the history of open
// conversations and handoff threads is fetched back.
func (a *Adapter) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.User != nil && r.User.ID != "" {
		id := r.User.ID
		a.botID.Store(&id)
	}
	a.ready.Store(true)
	ctx := a.runContext()
	a.log.InfoContext(ctx, "discord: gateway session ready; fetching back missed messages")
	a.scheduleBackfill(ctx)
	a.registerCommands(ctx, r)
}

// onResumed notes a resumed session: Discord replays what was missed.
func (a *Adapter) onResumed(_ *discordgo.Session, _ *discordgo.Resumed) {
	a.ready.Store(true)
	a.log.InfoContext(a.runContext(), "discord: gateway session resumed")
}

// onDisconnect is called when the session closes, on purpose or not; Run
// reconnects unless it is stopping.
func (a *Adapter) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	a.ready.Store(false)
	select {
	case a.dropped <- struct{}{}:
	default:
	}
}

// gatewayDialer dials the gateway for discordgo's WebSocket dialer. It puts
// a deadline on the whole handshake, and lets Run abort a handshake in
// progress when it stops.
type gatewayDialer struct {
	handshake time.Duration
	ctx       func() context.Context // Run's context

	mu      sync.Mutex
	conn    *handshakeConn // the newest connection
	stopped bool
}

var errStopped = errors.New("discord: adapter stopped")

func (d *gatewayDialer) dial(_ context.Context, network, addr string) (net.Conn, error) {
	raw, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(d.ctx(), network, addr)
	if err != nil {
		return nil, err
	}
	conn := &handshakeConn{Conn: raw, limit: time.Now().Add(d.handshake)}
	_ = raw.SetDeadline(conn.limit)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		raw.Close()
		return nil, errStopped
	}
	d.conn = conn
	return conn, nil
}

// connected lifts the handshake deadline once the session is up.
func (d *gatewayDialer) connected() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.established()
	}
}

// abort refuses further dials and breaks off a handshake in progress; an
// established connection is left for the session to close cleanly.
func (d *gatewayDialer) abort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.conn != nil && !d.conn.isEstablished() {
		d.conn.Close()
	}
}

// handshakeConn keeps a deadline on the connection until the session is
// up. gorilla/websocket lifts deadlines right after the HTTP upgrade, but
// discordgo still waits, without a deadline of its own, for Hello and for
// READY or RESUMED.
type handshakeConn struct {
	net.Conn
	limit time.Time // the handshake's deadline

	mu sync.Mutex
	up bool
}

func (c *handshakeConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up && (t.IsZero() || t.After(c.limit)) {
		t = c.limit
	}
	return c.Conn.SetDeadline(t)
}

func (c *handshakeConn) established() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up {
		c.up = true
		_ = c.Conn.SetDeadline(time.Time{})
	}
}

func (c *handshakeConn) isEstablished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

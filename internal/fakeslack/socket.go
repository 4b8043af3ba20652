package fakeslack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode delivery. Every envelope waits in a queue until it is
// acknowledged: it is written to a live connection (round robin when there
// are several, as Slack spreads envelopes over an app's connections), and
// when that connection dies first, an events_api envelope is written again
// on the next one with retry_attempt counted. Slack does not deliver a
// button press again (the person presses again), so an interactive
// envelope lost with its connection is dropped.

// Envelope types.
const (
	EventsAPI   = "events_api"
	Interactive = "interactive"
)

// EnvelopeStatus is where one envelope stands.
type EnvelopeStatus struct {
	ID, Type string
	// Deliveries counts the writes to a connection; Acks the
	// acknowledgements read.
	Deliveries, Acks int
	// Dropped is true for an interactive envelope whose connection died
	// before it was acknowledged.
	Dropped bool
}

type envelope struct {
	id, typ    string
	payload    json.RawMessage
	retry      int
	reason     string
	on         *sconn // the connection it was last written to
	pin        *sconn // written to this connection while it lives (PressTogether)
	sentAt     time.Time
	deliveries int
	acks       int
	dropped    bool
}

// sconn is one Socket Mode connection.
type sconn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	alive   bool // guarded by Server.mu
}

func (c *sconn) write(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// socketState is the Socket Mode part of the Server, guarded by its mu.
type socketState struct {
	conns      []*sconn
	next       int // round robin
	opened     int
	queue      []*envelope
	byID       map[string]*envelope
	seq        int
	ackTimeout time.Duration
	wake       chan struct{}
}

func (st *socketState) init() {
	st.byID = map[string]*envelope{}
	st.wake = make(chan struct{}, 1)
}

// SetAckTimeout makes an events_api envelope not acknowledged within d be
// delivered again (Slack retries after a few seconds); 0, the default,
// waits for its connection to die.
func (s *Server) SetAckTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socket.ackTimeout = d
}

// Deliver queues an envelope of type typ (EventsAPI or Interactive) with
// payload and returns its id. It is written to a connection as soon as
// there is one.
func (s *Server) Deliver(typ string, payload []byte) string {
	return s.DeliverRetry(typ, payload, 0)
}

// DeliverRetry is Deliver for Slack's own redelivery of an event it sent
// before: a new envelope with retry_attempt set.
func (s *Server) DeliverRetry(typ string, payload []byte, retry int) string {
	s.mu.Lock()
	st := &s.socket
	st.seq++
	e := &envelope{id: fmt.Sprintf("env-%d", st.seq), typ: typ, payload: payload, retry: retry}
	if retry > 0 {
		e.reason = "timeout"
	}
	st.queue = append(st.queue, e)
	st.byID[e.id] = e
	s.mu.Unlock()
	s.kick()
	return e.id
}

// Acked returns how many times an envelope was acknowledged.
func (s *Server) Acked(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.socket.byID[id]; e != nil {
		return e.acks
	}
	return 0
}

// Envelopes returns every envelope delivered so far, in order.
func (s *Server) Envelopes() []EnvelopeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EnvelopeStatus, 0, len(s.socket.queue))
	for _, e := range s.socket.queue {
		out = append(out, EnvelopeStatus{ID: e.id, Type: e.typ, Deliveries: e.deliveries, Acks: e.acks, Dropped: e.dropped})
	}
	return out
}

// Connections counts the Socket Mode connections opened so far; Live
// those open now.
func (s *Server) Connections() (opened, live int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.socket.conns {
		if c.alive {
			live++
		}
	}
	return s.socket.opened, live
}

// DropConnections breaks every Socket Mode connection the way a network
// failure does: no close frame.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*sconn(nil), s.socket.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.UnderlyingConn().Close()
		s.lost(c)
	}
}

func (s *Server) kick() {
	select {
	case s.socket.wake <- struct{}{}:
	default:
	}
}

// serveSocket is the Socket Mode endpoint: it says hello, pings, and reads
// acknowledgements; the delivery loop writes the envelopes.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &sconn{ws: ws}
	hello := map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A1"}}
	// Registered before hello, as with Slack: a client that has read hello
	// may count on events reaching it. Holding the write lock across keeps
	// the delivery loop from writing an envelope ahead of hello.
	c.writeMu.Lock()
	s.mu.Lock()
	c.alive = true
	s.socket.opened++
	// Forget connections that are gone, so the list stays short.
	live := s.socket.conns[:0]
	for _, old := range s.socket.conns {
		if old.alive {
			live = append(live, old)
		}
	}
	s.socket.conns = append(live, c)
	s.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err = ws.WriteJSON(hello)
	c.writeMu.Unlock()
	if err != nil {
		s.lost(c)
		return
	}
	s.kick()
	// The handler returns at once: httptest.Server.Close waits for
	// handlers, and this connection lives until the bot or the test
	// closes it.
	go s.ping(c)
	go s.readAcks(c)
}

// ping keeps the connection alive as Slack does; slack-go reconnects when
// pings stop.
func (s *Server) ping(c *sconn) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			c.writeMu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			c.writeMu.Unlock()
			if err != nil {
				s.lost(c)
				return
			}
		}
	}
}

// readAcks records the acknowledgements the bot sends.
func (s *Server) readAcks(c *sconn) {
	defer s.lost(c)
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := c.ws.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		if e := s.socket.byID[ack.EnvelopeID]; e != nil {
			e.acks++
		}
		s.mu.Unlock()
	}
}

// lost marks a connection dead; what it held unacknowledged goes to the
// next one.
func (s *Server) lost(c *sconn) {
	s.mu.Lock()
	was := c.alive
	c.alive = false
	s.mu.Unlock()
	if was {
		c.ws.Close()
		s.kick()
	}
}

// deliverLoop writes queued envelopes to live connections until the
// server closes.
func (s *Server) deliverLoop() {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-s.socket.wake:
		case <-t.C:
		}
		s.deliverDue()
	}
}

type write struct {
	c *sconn
	v map[string]any
}

// deliverDue writes every envelope that waits for a connection: never
// written, written to a connection that died, or (with an ack timeout)
// not acknowledged in time.
func (s *Server) deliverDue() {
	s.mu.Lock()
	st := &s.socket
	now := time.Now()
	var writes []write
	for _, e := range st.queue {
		if e.acks > 0 || e.dropped {
			continue
		}
		again := e.on != nil
		if again {
			gone := !e.on.alive
			late := st.ackTimeout > 0 && now.Sub(e.sentAt) > st.ackTimeout
			if !gone && (!late || e.typ != EventsAPI) {
				continue // outstanding on a live connection
			}
			if e.typ != EventsAPI {
				e.dropped = true
				continue
			}
		}
		c := st.pickFor(e)
		if e.dropped {
			continue
		}
		if c == nil {
			break
		}
		if again {
			e.retry++
			e.reason = "timeout"
		}
		e.on, e.sentAt = c, now
		e.deliveries++
		writes = append(writes, write{c, map[string]any{"envelope_id": e.id, "payload": e.payload, "type": e.typ,
			"accepts_response_payload": e.typ == Interactive, "retry_attempt": e.retry, "retry_reason": e.reason}})
	}
	s.mu.Unlock()
	for _, w := range writes {
		if err := w.c.write(w.v); err != nil {
			s.lost(w.c)
		}
	}
}

// pickLocked returns the next live connection, round robin, or nil.
func (st *socketState) pickLocked() *sconn {
	n := len(st.conns)
	for i := range n {
		c := st.conns[(st.next+i)%n]
		if c.alive {
			st.next = (st.next + i + 1) % n
			return c
		}
	}
	return nil
}

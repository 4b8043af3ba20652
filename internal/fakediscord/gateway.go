package fakediscord

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// frame is a gateway payload.
type frame struct {
	Op int    `json:"op"`
	S  *int64 `json:"s"`
	T  string `json:"t,omitempty"`
	D  any    `json:"d"`
}

// conn is one gateway connection.
type conn struct {
	ws    *websocket.Conn
	mu    sync.Mutex
	ready bool // identified or resumed: dispatches are sent
}

func (c *conn) send(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(v)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveGateway speaks the gateway protocol on one connection: Hello;
// Heartbeat → Heartbeat ACK; Identify → READY; Resume → the missed events
// and RESUMED, or Invalid Session.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	c := &conn{ws: ws}
	s.mu.Lock()
	s.conn = c
	silent := s.silent
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.conn == c {
			s.conn = nil
		}
		s.mu.Unlock()
	}()
	if silent {
		// Accept the connection and say nothing, not even Hello.
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}
	if c.send(frame{Op: 10, D: map[string]any{"heartbeat_interval": 1000, "_trace": []string{"fake-gateway"}}}) != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &p) != nil {
			s.t.Errorf("fakediscord: gateway: client sent invalid JSON: %s", data)
			return
		}
		switch p.Op {
		case 1:
			s.mu.Lock()
			s.heartbeats++
			s.mu.Unlock()
			_ = c.send(frame{Op: 11})
		case 2:
			s.identify(c, p.D)
		case 6:
			s.resume(c, p.D)
		}
	}
}

func (s *Server) identify(c *conn, raw json.RawMessage) {
	var d struct {
		Token   string `json:"token"`
		Intents int64  `json:"intents"`
	}
	_ = json.Unmarshal(raw, &d)
	if strings.TrimPrefix(d.Token, "Bot ") != Token {
		_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
		c.ws.Close()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identifies++
	s.sessions++
	s.intents = d.Intents
	s.sessionID = fmt.Sprintf("session-%d", s.sessions)
	s.seq, s.events = 0, nil
	c.ready = true
	s.dispatchLocked("READY", map[string]any{
		"v":                  10,
		"user":               userJSON(s.users[BotID]),
		"guilds":             s.readyGuildsLocked(),
		"session_id":         s.sessionID,
		"resume_gateway_url": "ws" + strings.TrimPrefix(s.gw.URL, "http"),
		"shard":              []int{0, 1},
		"application":        map[string]any{"id": BotID, "flags": s.appFlags},
		"private_channels":   []any{},
		"_trace":             []string{"fake-gateway"},
	})
}

// readyGuildsLocked are READY's guilds: unavailable guild objects, which
// GUILD_CREATE events would fill in.
func (s *Server) readyGuildsLocked() []any {
	out := []any{}
	for _, g := range s.guilds {
		out = append(out, map[string]any{"id": g, "unavailable": true})
	}
	return out
}

func (s *Server) resume(c *conn, raw json.RawMessage) {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	_ = json.Unmarshal(raw, &d)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resumes++
	if s.invalidResume || d.SessionID != s.sessionID || strings.TrimPrefix(d.Token, "Bot ") != Token {
		s.invalidResume = false
		_ = c.send(frame{Op: 9, D: false})
		return
	}
	c.ready = true
	for _, e := range s.events {
		if *e.S > d.Seq {
			_ = c.send(e)
		}
	}
	s.dispatchLocked("RESUMED", map[string]any{"_trace": []string{"fake-gateway"}})
}

// Dispatch sends an event (op 0) in the current session; while the bot is
// disconnected it is only kept, for a Resume to replay.
func (s *Server) Dispatch(t string, d any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatchLocked(t, d)
}

func (s *Server) dispatchLocked(t string, d any) {
	s.seq++
	n := s.seq
	e := frame{Op: 0, S: &n, T: t, D: d}
	s.events = append(s.events, e)
	if s.conn != nil && s.conn.ready {
		_ = s.conn.send(e)
	}
}

// Drop breaks the connection the way a network failure does: no close
// frame. With invalid set, Discord will not resume the session.
func (s *Server) Drop(invalid bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidResume = invalid
	if s.conn != nil {
		s.conn.ready = false
		s.conn.ws.UnderlyingConn().Close()
		s.conn = nil
	}
}

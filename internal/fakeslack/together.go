package fakeslack

import "fmt"

// Pressed is one button press of PressTogether.
type Pressed struct {
	User, Channel, TS string
	Button            Button
}

// PressTogether is several people pressing buttons at the same moment. The
// envelopes are queued at once, each for a different live Socket Mode
// connection (round robin from the next one in turn, as Slack spreads an
// app's events over its connections), so that with replicas connected once
// each, the presses reach different replicas at the same time. An envelope
// whose connection dies first is dropped, as Slack drops interactions.
// With fewer live connections than presses, some share one; with none, they
// wait for the next connection. It returns the envelopes' ids in the order
// of presses.
func (s *Server) PressTogether(presses ...Pressed) []string {
	s.mu.Lock()
	st := &s.socket
	var live []*sconn
	for range st.conns {
		c := st.pickLocked()
		if c == nil || (len(live) > 0 && c == live[0]) {
			break
		}
		live = append(live, c)
	}
	ids := make([]string, len(presses))
	for i, p := range presses {
		st.seq++
		e := &envelope{id: fmt.Sprintf("env-%d", st.seq), typ: Interactive,
			payload: BlockActions(p.User, p.Channel, p.TS, p.Button)}
		if len(live) > 0 {
			e.pin = live[i%len(live)]
		}
		st.queue = append(st.queue, e)
		st.byID[e.id] = e
		ids[i] = e.id
	}
	s.mu.Unlock()
	s.kick()
	return ids
}

// pickFor returns the connection to write e to: its pinned one while that
// lives, else the next live one, round robin; nil when none is live.
func (st *socketState) pickFor(e *envelope) *sconn {
	if e.pin != nil {
		if e.pin.alive {
			return e.pin
		}
		if e.typ == Interactive {
			e.dropped = true // its connection died: Slack does not redeliver an interaction
			return nil
		}
	}
	return st.pickLocked()
}

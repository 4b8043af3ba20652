package fakeslack

import (
	"testing"
	"time"
)

// TestPressTogether: presses made together go out on different live
// connections, one each.
func TestPressTogether(t *testing.T) {
	s := New(t)
	a, b := connect(t, s), connect(t, s)
	claim := Button{ActionID: "firstline_claim", Value: "7"}
	ids := s.PressTogether(
		Pressed{User: "U-alex", Channel: "CAGENTS", TS: "1.2", Button: claim},
		Pressed{User: "U-sam", Channel: "CAGENTS", TS: "1.2", Button: claim},
	)
	got := map[string]bool{read(t, a).EnvelopeID: true, read(t, b).EnvelopeID: true}
	if !got[ids[0]] || !got[ids[1]] {
		t.Fatalf("the connections read %v, want one each of %v", got, ids)
	}

	b.UnderlyingConn().Close()
	deadline := time.Now().Add(10 * time.Second)
	for _, live := s.Connections(); live != 1; _, live = s.Connections() {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection is still live")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := connect(t, s)
	ids = s.PressTogether(
		Pressed{User: "U-alex", Channel: "CAGENTS", TS: "1.2", Button: claim},
		Pressed{User: "U-sam", Channel: "CAGENTS", TS: "1.2", Button: claim},
	)
	got = map[string]bool{read(t, a).EnvelopeID: true, read(t, c).EnvelopeID: true}
	if !got[ids[0]] || !got[ids[1]] {
		t.Fatalf("after a reconnect the connections read %v, want one each of %v", got, ids)
	}
}

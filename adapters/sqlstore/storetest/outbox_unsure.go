package storetest

import (
	"testing"
	"time"
)

// A row rescheduled as maybe sent (a send timed out, or stopped midway)
// comes back MaybeSent, with the attempt counted or not as asked; a row
// no longer pending is not rescheduled.
func testOutboxUnsure(t *testing.T, s Store) {
	m := mustEnqueue(t, s, reply("conv:1", at(0)))
	claim := func(now time.Time) []outgoingRow {
		t.Helper()
		rows, err := s.Claim(t.Context(), now, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]outgoingRow, len(rows))
		for i, r := range rows {
			out[i] = outgoingRow{r.ID, r.Attempts, r.LastError, r.MaybeSent}
		}
		return out
	}
	claim(at(time.Second))
	if err := s.MarkUnsure(t.Context(), m.ID, "timeout", at(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if ids := due(t, s, at(30*time.Second), 10); len(ids) != 0 {
		t.Errorf("rescheduled row due early: %v", ids)
	}
	want := outgoingRow{m.ID, 1, "timeout", true}
	if rows := claim(at(time.Minute)); len(rows) != 1 || rows[0] != want {
		t.Fatalf("after an unsure attempt: %+v; want %+v", rows, want)
	}
	// Stopped mid-send: rescheduled at once, no attempt counted.
	if err := s.MarkUnsure(t.Context(), m.ID, "", at(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if rows := claim(at(time.Minute)); len(rows) != 1 || rows[0] != want {
		t.Fatalf("after an unsure release: %+v; want %+v", rows, want)
	}
	if err := s.MarkSent(t.Context(), m.ID, "ts-1", at(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "reschedule a sent row", s.MarkUnsure(t.Context(), m.ID, "", at(3*time.Minute), false))
	wantNotFound(t, "reschedule an unknown row", s.MarkUnsure(t.Context(), 9999, "", at(0), true))
}

// outgoingRow is what testOutboxUnsure compares of a claimed row.
type outgoingRow struct {
	ID        int64
	Attempts  int
	LastError string
	MaybeSent bool
}

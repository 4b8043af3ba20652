package prompts

import (
	"strings"
	"testing"
	"time"
)

// hours.yaml and escalation.yaml reload like the other files: a valid edit
// goes live, an invalid one is rejected with file:line and the last good
// version stays.
func TestWatcherReloadsHoursAndEscalation(t *testing.T) {
	w, rec, _ := newTestWatcher(t, WatchConfig{})
	saturday := time.Date(2026, 11, 7, 12, 0, 0, 0, time.UTC)
	if w.Current().Hours().Open(saturday) {
		t.Fatal("the default hours are open on Saturday")
	}

	mustReplace(t, w.cfg.Dir, FileHours, "always_open: true\n")
	mustReplace(t, w.cfg.Dir, FileEscalation, "offers: 0\n")
	if err := w.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if cur := w.Current(); !cur.Hours().Open(saturday) || cur.Escalation.Offers != 0 {
		t.Errorf("after the edit: open on Saturday %v, offers %d; want true, 0", cur.Hours().Open(saturday), cur.Escalation.Offers)
	}

	mustReplace(t, w.cfg.Dir, FileHours, "time_zone: Europe/Nowhere\nweek:\n  monday: 09:00-17:00\n")
	err := w.Reload()
	if err == nil || !strings.Contains(err.Error(), "hours.yaml:1: unknown time zone") {
		t.Errorf("Reload of a bad zone = %v, want hours.yaml:1: unknown time zone", err)
	}
	if !w.Current().Hours().Open(saturday) {
		t.Error("the rejected edit went live")
	}
	if reloads, rejects := rec.counts(); reloads != 1 || rejects != 1 {
		t.Errorf("reloads, rejects = %d, %d; want 1, 1", reloads, rejects)
	}
}

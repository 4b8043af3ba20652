package eval

import (
	"testing"
	"time"

	"github.com/firstlinehq/firstline/prompts"
)

// Scenarios run in business hours whenever the suite runs, so its results
// do not depend on the time of day.
func TestStartTimeInBusinessHours(t *testing.T) {
	set := prompts.Default()
	h := set.Hours()
	for _, now := range []time.Time{
		time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC),  // Saturday night
		time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC), // a weekday evening
		time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), // a weekday morning
	} {
		start := startTime(set, now)
		if !h.IsAlwaysOpen() && !h.Open(start) {
			t.Errorf("startTime(%v) = %v, outside business hours", now, start)
		}
		if start.Before(now.Truncate(time.Second)) {
			t.Errorf("startTime(%v) = %v, in the past", now, start)
		}
	}
}

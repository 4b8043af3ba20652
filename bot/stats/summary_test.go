package stats

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "–"}, {300 * time.Microsecond, "1ms"}, {3 * time.Millisecond, "3ms"}, {1500 * time.Millisecond, "1.5s"},
		{2*time.Minute + 5*time.Second, "2m05s"}, {90 * time.Minute, "1h30m"}, {50 * time.Hour, "2d02h"},
	} {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

package prompts

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func mustHours(t *testing.T, yaml string) Hours {
	t.Helper()
	s, err := Load(fstest.MapFS{FileHours: {Data: []byte(yaml)}})
	if err != nil {
		t.Fatalf("Load hours.yaml:\n%s\n%v", yaml, err)
	}
	return s.Hours()
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The embedded default: Monday to Friday, 09:00 to 17:00 in Stockholm.
func TestDefaultHours(t *testing.T) {
	h := Default().Hours()
	sto := mustZone(t, "Europe/Stockholm")
	tests := []struct {
		name     string
		at       time.Time
		open     bool
		nextOpen time.Time
		closes   time.Time // zero when closed
	}{
		{"Monday morning", time.Date(2026, 11, 2, 10, 0, 0, 0, sto), true,
			time.Date(2026, 11, 2, 10, 0, 0, 0, sto), time.Date(2026, 11, 2, 17, 0, 0, 0, sto)},
		{"opening instant", time.Date(2026, 11, 2, 9, 0, 0, 0, sto), true,
			time.Date(2026, 11, 2, 9, 0, 0, 0, sto), time.Date(2026, 11, 2, 17, 0, 0, 0, sto)},
		{"closing instant is closed", time.Date(2026, 11, 2, 17, 0, 0, 0, sto), false,
			time.Date(2026, 11, 3, 9, 0, 0, 0, sto), time.Time{}},
		{"before opening", time.Date(2026, 11, 3, 7, 30, 0, 0, sto), false,
			time.Date(2026, 11, 3, 9, 0, 0, 0, sto), time.Time{}},
		{"Friday evening to Monday", time.Date(2026, 11, 6, 18, 0, 0, 0, sto), false,
			time.Date(2026, 11, 9, 9, 0, 0, 0, sto), time.Time{}},
		{"Saturday", time.Date(2026, 11, 7, 12, 0, 0, 0, sto), false,
			time.Date(2026, 11, 9, 9, 0, 0, 0, sto), time.Time{}},
		// 08:30 UTC is 09:30 in Stockholm in winter (CET, UTC+1).
		{"instant in another zone", time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC), true,
			time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC), time.Date(2026, 11, 2, 17, 0, 0, 0, sto)},
		// In summer (CEST, UTC+2) 07:30 UTC is 09:30 too.
		{"summer time", time.Date(2026, 6, 1, 7, 30, 0, 0, time.UTC), true,
			time.Date(2026, 6, 1, 7, 30, 0, 0, time.UTC), time.Date(2026, 6, 1, 17, 0, 0, 0, sto)},
		{"summer time, before opening", time.Date(2026, 6, 1, 6, 30, 0, 0, time.UTC), false,
			time.Date(2026, 6, 1, 9, 0, 0, 0, sto), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.open)
			}
			if got, ok := h.NextOpen(tt.at); !ok || !got.Equal(tt.nextOpen) {
				t.Errorf("NextOpen(%s) = %s, %v; want %s", tt.at, got, ok, tt.nextOpen)
			}
			got, ok := h.NextClose(tt.at)
			if ok != !tt.closes.IsZero() || !got.Equal(tt.closes) {
				t.Errorf("NextClose(%s) = %s, %v; want %s", tt.at, got, ok, tt.closes)
			}
		})
	}
}

func TestHolidaysAndSplitDays(t *testing.T) {
	h := mustHours(t, `
time_zone: America/New_York
week:
  monday: ["08:00-12:00", "13:00-17:30"]
  tuesday: 08:00-12:00
  wednesday: "00:00-24:00"
  thursday: "00:00-06:00"
holidays:
  - 2026-11-03   # a Tuesday
  - 12-25        # every year
`)
	ny := mustZone(t, "America/New_York")
	d := func(month time.Month, day, hh, mm int) time.Time {
		return time.Date(2026, month, day, hh, mm, 0, 0, ny)
	}
	tests := []struct {
		name     string
		at       time.Time
		open     bool
		nextOpen time.Time
		closes   time.Time
	}{
		{"lunch break", d(11, 2, 12, 30), false, d(11, 2, 13, 0), time.Time{}},
		{"afternoon", d(11, 2, 17, 0), true, d(11, 2, 17, 0), d(11, 2, 17, 30)},
		{"a dated holiday skips to Wednesday", d(11, 2, 18, 0), false, d(11, 4, 0, 0), time.Time{}},
		{"on the holiday", d(11, 3, 9, 0), false, d(11, 4, 0, 0), time.Time{}},
		// Wednesday 00:00-24:00 runs on into Thursday 00:00-06:00.
		{"through midnight", d(11, 4, 22, 0), true, d(11, 4, 22, 0), d(11, 5, 6, 0)},
		{"yearly holiday", d(12, 25, 10, 0), false, d(12, 28, 8, 0), time.Time{}},
		{"yearly holiday, next year", time.Date(2028, 12, 25, 10, 0, 0, 0, ny), false, time.Date(2028, 12, 26, 8, 0, 0, 0, ny), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.open)
			}
			if got, ok := h.NextOpen(tt.at); !ok || !got.Equal(tt.nextOpen) {
				t.Errorf("NextOpen(%s) = %s, %v; want %s", tt.at, got, ok, tt.nextOpen)
			}
			got, ok := h.NextClose(tt.at)
			if ok != !tt.closes.IsZero() || !got.Equal(tt.closes) {
				t.Errorf("NextClose(%s) = %s, %v; want %s", tt.at, got, ok, tt.closes)
			}
		})
	}
}

// On the nights the clocks change, 09:00 is still 09:00 on the wall.
func TestHoursAcrossClockChanges(t *testing.T) {
	h := Default().Hours()
	sto := mustZone(t, "Europe/Stockholm")
	// Summer time ends on Sunday 2026-10-25 at 03:00 (back to 02:00).
	next, ok := h.NextOpen(time.Date(2026, 10, 24, 12, 0, 0, 0, sto))
	want := time.Date(2026, 10, 26, 9, 0, 0, 0, sto)
	if !ok || !next.Equal(want) || next.UTC().Hour() != 8 {
		t.Errorf("NextOpen across the change = %s (%s UTC), want %s", next, next.UTC(), want)
	}
	// It begins on Sunday 2026-03-29 at 02:00 (on to 03:00).
	next, ok = h.NextOpen(time.Date(2026, 3, 28, 12, 0, 0, 0, sto))
	if want := time.Date(2026, 3, 30, 9, 0, 0, 0, sto); !ok || !next.Equal(want) || next.UTC().Hour() != 7 {
		t.Errorf("NextOpen across the change = %s (%s UTC), want %s", next, next.UTC(), want)
	}
}

func TestAlwaysOpen(t *testing.T) {
	for _, h := range []Hours{AlwaysOpen(), mustHours(t, "always_open: true\n")} {
		at := time.Date(2026, 12, 25, 3, 0, 0, 0, time.UTC)
		if !h.Open(at) || !h.IsAlwaysOpen() {
			t.Errorf("%+v: not open on Christmas night", h)
		}
		if next, ok := h.NextOpen(at); !ok || !next.Equal(at) {
			t.Errorf("NextOpen = %s, %v; want now", next, ok)
		}
		if _, ok := h.NextClose(at); ok {
			t.Error("NextClose of hours that are always open says they close")
		}
	}
	// The zero value is never open: a Set always has hours from its file.
	var never Hours
	if never.Open(time.Now()) {
		t.Error("the zero Hours are open")
	}
	if _, ok := never.NextOpen(time.Now()); ok {
		t.Error("the zero Hours open some day")
	}
}

func TestHoursErrors(t *testing.T) {
	tests := []struct {
		name, file string
		line       int
		msg        string
	}{
		{"unknown zone", "time_zone: Mars/Olympus\nweek:\n  monday: 09:00-17:00\n", 1, `unknown time zone "Mars/Olympus"`},
		{"missing zone", "week:\n  monday: 09:00-17:00\n", 1, "missing time_zone"},
		{"no hours at all", "time_zone: UTC\nweek:\n  monday: closed\n", 2, "week has no opening hours"},
		{"unknown day", "time_zone: UTC\nweek:\n  monday: 09:00-17:00\n  funday: 09:00-17:00\n", 4, `unknown day "funday"`},
		{"day twice", "time_zone: UTC\nweek:\n  monday: 09:00-17:00\n  Monday: 10:00-11:00\n", 4, "given twice"},
		{"hours without minutes", "time_zone: UTC\nweek:\n  monday: 9-17\n", 3, `"9" is not a time of day`},
		{"end before start", "time_zone: UTC\nweek:\n  monday: 17:00-09:00\n", 3, "the end must come after the start"},
		{"past 24:00", "time_zone: UTC\nweek:\n  monday: 09:00-24:30\n", 3, `"24:30" is not a time of day`},
		{"overlap", "time_zone: UTC\nweek:\n  tuesday:\n    - 09:00-12:00\n    - 11:00-13:00\n", 5, "11:00-13:00 overlaps 09:00-12:00"},
		{"bad holiday", "time_zone: UTC\nweek:\n  monday: 09:00-17:00\nholidays:\n  - 2026-02-30\n", 5, `holiday "2026-02-30"`},
		{"holidays not a list", "time_zone: UTC\nweek:\n  monday: 09:00-17:00\nholidays: 2026-12-24\n", 4, "holidays must be a list"},
		{"always_open not a bool", "always_open: sometimes\n", 1, "always_open must be true or false"},
		{"unknown key", "always_open: true\nopen: yes\n", 2, `unknown key "open"`},
		{"holidays of a team always there", "always_open: true\nholidays: [12-25]\n", 2, "holidays do not apply with always_open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{FileHours: {Data: []byte(tt.file)}})
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("Load = %v, want Errors", err)
			}
			e := es[0]
			if e.File != FileHours || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error = %s; want %s:%d: …%s…", e, FileHours, tt.line, tt.msg)
			}
		})
	}
}

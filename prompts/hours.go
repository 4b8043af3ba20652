package prompts

import (
	"time"
	// The time zone database is embedded so that hours.yaml's time_zone
	// works in minimal container images that ship no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Hours are the support team's business hours, from hours.yaml: weekly
// opening times in one IANA time zone, minus holidays. The zero value is
// never open; use AlwaysOpen for a team that is always there. Hours is
// immutable and safe for concurrent use.
type Hours struct {
	always bool
	loc    *time.Location
	// week holds, per time.Weekday, the day's openings: minutes since
	// midnight in loc, sorted, not overlapping, end ≤ 24:00.
	week [7][]Span
	// holidays are whole days closed: dates (2026-12-24) and yearly dates
	// (12-25, stored with year 0).
	holidays map[date]bool
}

// Span is one opening on a weekday, in minutes since midnight; End may be
// 24*60 (the end of the day).
type Span struct{ Start, End int }

type date struct {
	year  int // 0: every year
	month time.Month
	day   int
}

// AlwaysOpen returns hours that are open at every instant.
func AlwaysOpen() Hours { return Hours{always: true} }

// IsAlwaysOpen reports whether the team is there at every instant.
func (h Hours) IsAlwaysOpen() bool { return h.always }

// Location is the time zone the hours are in; UTC for hours that are
// always open and name no zone.
func (h Hours) Location() *time.Location {
	if h.loc == nil {
		return time.UTC
	}
	return h.loc
}

// Week returns the openings of a weekday, in minutes since midnight.
func (h Hours) Week(d time.Weekday) []Span { return append([]Span(nil), h.week[d]...) }

// Open reports whether the team is there at t.
func (h Hours) Open(t time.Time) bool {
	if h.always {
		return true
	}
	_, ok := h.spanAt(t)
	return ok
}

// searchDays bounds how far NextOpen and NextClose look: a little over a
// year, so that a holiday list cannot make them loop, and any real week
// finds its next opening.
const searchDays = 400

// NextOpen returns the first instant at or after t when the team is there:
// t itself when it is open at t. It returns false when no opening comes
// within a year (a schedule that validation rejects, or holidays that
// cover a whole year).
func (h Hours) NextOpen(t time.Time) (time.Time, bool) {
	if h.always {
		return t, true
	}
	if _, ok := h.spanAt(t); ok {
		return t, true
	}
	lt := t.In(h.Location())
	y, m, d := lt.Date()
	for i := range searchDays {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, lt.Location())
		if h.holiday(day) {
			continue
		}
		for _, sp := range h.week[day.Weekday()] {
			start := at(day, sp.Start)
			if start.After(t) {
				return start, true
			}
		}
	}
	return time.Time{}, false
}

// NextClose returns when the opening that t falls in ends (following
// openings that start right where the previous one ends, as 24:00 and
// 00:00 do). It returns false when the team is not there at t, or is
// always there.
func (h Hours) NextClose(t time.Time) (time.Time, bool) {
	if h.always {
		return time.Time{}, false
	}
	end, ok := h.spanAt(t)
	if !ok {
		return time.Time{}, false
	}
	for range searchDays * 2 {
		next, ok := h.spanAt(end)
		if !ok {
			return end, true
		}
		end = next
	}
	return time.Time{}, false
}

// spanAt returns the end of the opening that t falls in.
func (h Hours) spanAt(t time.Time) (time.Time, bool) {
	lt := t.In(h.Location())
	if h.holiday(lt) {
		return time.Time{}, false
	}
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, lt.Location())
	for _, sp := range h.week[lt.Weekday()] {
		// Compared as instants, not as clock readings: on the days the
		// clocks change, 02:30 may not exist or may happen twice.
		if !t.Before(at(midnight, sp.Start)) && t.Before(at(midnight, sp.End)) {
			return at(midnight, sp.End), true
		}
	}
	return time.Time{}, false
}

// holiday reports whether the day of t (in t's location) is a holiday.
func (h Hours) holiday(t time.Time) bool {
	if len(h.holidays) == 0 {
		return false
	}
	y, m, d := t.Date()
	return h.holidays[date{y, m, d}] || h.holidays[date{0, m, d}]
}

// at returns the instant minutes after the midnight that starts day, as
// the wall clock reads it (so 09:00 stays 09:00 on the days the clocks
// change).
func at(day time.Time, minutes int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), minutes/60, minutes%60, 0, 0, day.Location())
}

package prompts

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FileHours is the business hours file.
const FileHours = "hours.yaml"

// weekdays maps the day names hours.yaml uses to time.Weekday, in the
// order an error message lists them.
var weekdays = []struct {
	name string
	day  time.Weekday
}{
	{"monday", time.Monday}, {"tuesday", time.Tuesday}, {"wednesday", time.Wednesday},
	{"thursday", time.Thursday}, {"friday", time.Friday}, {"saturday", time.Saturday}, {"sunday", time.Sunday},
}

const weekdayNames = "monday, tuesday, wednesday, thursday, friday, saturday, sunday"

// parseHours reads hours.yaml. Every problem is reported with its line.
func parseHours(b []byte) (Hours, error) {
	root, err := parseYAML(FileHours, b)
	if err != nil {
		return Hours{}, err
	}
	kvs, errs := uniquePairs(FileHours, root, "key", false)
	var h Hours
	var zone, week *yaml.Node
	weekLine, holidaysLine := 0, 0
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "always_open":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				errs = append(errs, Error{File: FileHours, Line: v.Line, Msg: "always_open must be true or false"})
				continue
			}
			h.always, _ = strconv.ParseBool(v.Value)
		case "time_zone":
			zone = v
		case "week":
			week, weekLine = v, k.Line
		case "holidays":
			holidaysLine = k.Line
			var herrs Errors
			h.holidays, herrs = parseHolidays(v)
			errs = append(errs, herrs...)
		default:
			errs = append(errs, Error{File: FileHours, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (expected time_zone, week, holidays, always_open)", k.Value)})
		}
	}
	if zone != nil {
		name, ok := scalarText(zone)
		loc, err := time.LoadLocation(strings.TrimSpace(name))
		switch {
		case !ok || strings.TrimSpace(name) == "":
			errs = append(errs, Error{File: FileHours, Line: zone.Line, Msg: "time_zone must name an IANA time zone, such as Europe/Stockholm"})
		case err != nil:
			errs = append(errs, Error{File: FileHours, Line: zone.Line, Msg: fmt.Sprintf("unknown time zone %q (use an IANA name such as Europe/Stockholm or America/New_York)", name)})
		default:
			h.loc = loc
		}
	}
	if week != nil {
		var werrs Errors
		h.week, werrs = parseWeek(week)
		errs = append(errs, werrs...)
	}
	if h.always && len(h.holidays) > 0 {
		errs = append(errs, Error{File: FileHours, Line: holidaysLine, Msg: `holidays do not apply with always_open: true (for a 24/7 team with holidays, give every day "00:00-24:00" instead)`})
	}
	if !h.always && len(errs) == 0 {
		// Without these, customers would be told nobody ever comes.
		switch {
		case zone == nil:
			errs = append(errs, Error{File: FileHours, Line: root.Line, Msg: "missing time_zone (or write always_open: true)"})
		case week == nil:
			errs = append(errs, Error{File: FileHours, Line: root.Line, Msg: "missing week (or write always_open: true)"})
		case h.never():
			errs = append(errs, Error{File: FileHours, Line: weekLine, Msg: "week has no opening hours: customers would never reach a person (or write always_open: true)"})
		}
	}
	if len(errs) > 0 {
		return Hours{}, errs
	}
	return h, nil
}

// never reports whether the week has no opening at all.
func (h Hours) never() bool {
	for _, spans := range h.week {
		if len(spans) > 0 {
			return false
		}
	}
	return true
}

// parseWeek reads the week mapping: a day is "09:00-17:00", a list of such
// ranges, or "closed"; a day left out is closed.
func parseWeek(n *yaml.Node) ([7][]Span, Errors) {
	var week [7][]Span
	if n.Kind != yaml.MappingNode {
		return week, Errors{{File: FileHours, Line: n.Line, Msg: "week must map days (" + weekdayNames + ") to hours such as 09:00-17:00"}}
	}
	kvs, errs := uniquePairs(FileHours, n, "day", true)
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		day, ok := weekdayOf(k.Value)
		if !ok {
			errs = append(errs, Error{File: FileHours, Line: k.Line, Msg: fmt.Sprintf("unknown day %q (expected %s)", k.Value, weekdayNames)})
			continue
		}
		var items []*yaml.Node
		switch v.Kind {
		case yaml.ScalarNode:
			items = []*yaml.Node{v}
		case yaml.SequenceNode:
			items = v.Content
		default:
			errs = append(errs, Error{File: FileHours, Line: v.Line, Msg: k.Value + ": expected hours such as 09:00-17:00, a list of them, or closed"})
			continue
		}
		var spans []Span
		for _, item := range items {
			s, ok := scalarText(item)
			s = strings.TrimSpace(s)
			if ok && strings.EqualFold(s, "closed") && len(items) == 1 {
				continue
			}
			sp, err := parseSpan(s)
			if !ok || err != nil {
				msg := "expected hours such as 09:00-17:00"
				if err != nil {
					msg = err.Error()
				}
				errs = append(errs, Error{File: FileHours, Line: item.Line, Msg: k.Value + ": " + msg})
				continue
			}
			for _, prev := range spans {
				if sp.Start < prev.End && prev.Start < sp.End {
					errs = append(errs, Error{File: FileHours, Line: item.Line, Msg: fmt.Sprintf("%s: %s overlaps %s", k.Value, formatSpan(sp), formatSpan(prev))})
				}
			}
			spans = append(spans, sp)
		}
		sortSpans(spans)
		week[day] = spans
	}
	return week, errs
}

func weekdayOf(name string) (time.Weekday, bool) {
	for _, w := range weekdays {
		if strings.EqualFold(strings.TrimSpace(name), w.name) {
			return w.day, true
		}
	}
	return 0, false
}

// parseSpan reads "09:00-17:00"; the end may be 24:00.
func parseSpan(s string) (Span, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("%q: expected hours such as 09:00-17:00", s)
	}
	start, err := parseClock(strings.TrimSpace(from))
	if err != nil {
		return Span{}, err
	}
	end, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return Span{}, err
	}
	if start >= 24*60 {
		return Span{}, fmt.Errorf("%q: a day's hours start before 24:00", s)
	}
	if end <= start {
		return Span{}, fmt.Errorf("%q: the end must come after the start (for hours past midnight, give the next day its own range from 00:00)", s)
	}
	return Span{Start: start, End: end}, nil
}

// parseClock reads "HH:MM", 00:00 to 24:00, in minutes.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day (write HH:MM, 00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}

func formatSpan(sp Span) string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", sp.Start/60, sp.Start%60, sp.End/60, sp.End%60)
}

func sortSpans(spans []Span) {
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].Start < spans[j-1].Start; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
}

// parseHolidays reads the holiday list: dates (2026-12-24) and dates that
// recur every year (12-25).
func parseHolidays(n *yaml.Node) (map[date]bool, Errors) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, Errors{{File: FileHours, Line: n.Line, Msg: "holidays must be a list of dates (2026-12-24, or 12-25 for every year)"}}
	}
	var errs Errors
	out := make(map[date]bool, len(n.Content))
	for _, item := range n.Content {
		s, _ := scalarText(item)
		d, err := parseHoliday(strings.TrimSpace(s))
		if item.Kind != yaml.ScalarNode || err != nil {
			errs = append(errs, Error{File: FileHours, Line: item.Line, Msg: fmt.Sprintf("holiday %q: expected a date such as 2026-12-24, or 12-25 for every year", s)})
			continue
		}
		out[d] = true
	}
	return out, errs
}

func parseHoliday(s string) (date, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return date{t.Year(), t.Month(), t.Day()}, nil
	}
	// Yearly: checked against a leap year, so 02-29 is allowed.
	t, err := time.Parse("2006-01-02", "2024-"+s)
	if err != nil || len(s) != len("01-02") {
		return date{}, fmt.Errorf("not a date: %q", s)
	}
	return date{0, t.Month(), t.Day()}, nil
}

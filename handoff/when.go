package handoff

import (
	"fmt"
	"strings"
	"time"
)

// This file words times for people: when the support team is back, in the
// customer's language (the out_of_hours message's variables), and how long
// a handoff has waited, for agents.

// weekdayNames are the names of the days, Sunday first as time.Weekday
// counts, in the languages the default messages file has.
var weekdayNames = map[string][7]string{
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	"sv": {"söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"},
	"de": {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
	"es": {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
	"fr": {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
}

// whenPhrases say "today at …", "tomorrow at …", "on Monday at …" and "on
// (date) at …" in each language: %[1]s is the weekday, %[2]s the time,
// %[3]s the zone, %[4]s the date.
var whenPhrases = map[string][4]string{
	"en": {"today at %[2]s (%[3]s)", "tomorrow at %[2]s (%[3]s)", "on %[1]s at %[2]s (%[3]s)", "on %[4]s at %[2]s (%[3]s)"},
	"sv": {"i dag kl. %[2]s (%[3]s)", "i morgon kl. %[2]s (%[3]s)", "på %[1]s kl. %[2]s (%[3]s)", "den %[4]s kl. %[2]s (%[3]s)"},
	"de": {"heute um %[2]s Uhr (%[3]s)", "morgen um %[2]s Uhr (%[3]s)", "am %[1]s um %[2]s Uhr (%[3]s)", "am %[4]s um %[2]s Uhr (%[3]s)"},
	"es": {"hoy a las %[2]s (%[3]s)", "mañana a las %[2]s (%[3]s)", "el %[1]s a las %[2]s (%[3]s)", "el %[4]s a las %[2]s (%[3]s)"},
	"fr": {"aujourd'hui à %[2]s (%[3]s)", "demain à %[2]s (%[3]s)", "%[1]s à %[2]s (%[3]s)", "le %[4]s à %[2]s (%[3]s)"},
}

// dateLayouts write a date as each language does.
var dateLayouts = map[string]string{
	"en": "2006-01-02", "sv": "2006-01-02", "de": "02.01.2006", "es": "02/01/2006", "fr": "02/01/2006",
}

// baseLang reduces "en-GB" to "en", and a language the tables lack to "en".
func baseLang(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if _, ok := whenPhrases[l]; ok {
		return l
	}
	return "en"
}

// untilVars are the out_of_hours message's variables for when the team is
// back (next), seen from now, in the hours' time zone loc.
func untilVars(next, now time.Time, loc *time.Location, lang string) map[string]any {
	l := baseLang(lang)
	next, now = next.In(loc), now.In(loc)
	days := calendarDays(now, next)
	clock, zone := next.Format("15:04"), next.Format("MST")
	weekday := weekdayNames[l][next.Weekday()]
	phrase := whenPhrases[l][min(days, 2)]
	if days >= 7 {
		phrase = whenPhrases[l][3]
	}
	return map[string]any{
		"Until":   fmt.Sprintf(phrase, weekday, clock, zone, next.Format(dateLayouts[l])),
		"Weekday": weekday,
		"Date":    next.Format(time.DateOnly),
		"Time":    clock,
		"Zone":    zone,
		"Days":    days,
	}
}

// calendarDays counts the midnights between a and b (both in one zone).
func calendarDays(a, b time.Time) int {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	// Noon UTC on both dates: whole days apart whatever the clocks did.
	return int(time.Date(yb, mb, db, 12, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 12, 0, 0, 0, time.UTC)).Hours() / 24)
}

// clockIn writes an instant as "17:00 (CET)" in loc.
func clockIn(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return t.Format("15:04") + " (" + t.Format("MST") + ")"
}

// age words how long something has waited, for agents: "just now",
// "4 min", "1 h 05 min", "2 d 3 h".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d d %d h", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

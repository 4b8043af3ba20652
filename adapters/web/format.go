package web

import (
	"fmt"
	"html/template"
	"time"

	"github.com/firstlinehq/firstline/bot/stats"
)

// How the page prints its figures: as `firstline stats` does. A figure with
// nothing to compute it from (a rate whose denominator is zero, a median
// without samples, an average without ratings) reads "–", never a 0 that
// looks measured: "0% automation rate" on a day nothing has closed yet
// would say the bot automated nothing. Durations are stats.FormatDuration's,
// in the unit that fits: 7ms, 2.5s, 4m05s, 3h20m, 2d04h.

// noData is what a figure without data reads.
const noData = "–"

var funcs = template.FuncMap{
	// rate prints a fraction of n (its denominator) as a percentage.
	"rate": rate,
	// votes is how many feedback votes a report counts.
	"votes": func(r stats.Report) int { return r.Helpful + r.NotHelpful },
	// perClosed prints a per-conversation average over n closed ones.
	"perClosed": perClosed,
	"dur":       stats.FormatDuration,
	"age":       func(now, since time.Time) string { return stats.FormatDuration(now.Sub(since)) },
	"csat":      csat,
	"date":      func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}

// rate prints f, a fraction whose denominator is n, as a whole percentage;
// "–" when n is zero.
func rate(f float64, n int) string {
	if n == 0 {
		return noData
	}
	return fmt.Sprintf("%.0f%%", f*100)
}

// perClosed prints an average over n closed conversations; "–" when n is
// zero.
func perClosed(f float64, n int) string {
	if n == 0 {
		return noData
	}
	return fmt.Sprintf("%.0f", f)
}

// csat prints the average of n ratings; "–" without ratings.
func csat(avg float64, n int) string {
	if n == 0 {
		return noData
	}
	return fmt.Sprintf("%.1f / 5", avg)
}

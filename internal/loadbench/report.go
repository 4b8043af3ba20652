package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

func printHeader(w io.Writer, o options) {
	store := "SQLite"
	if o.pg != "" {
		store = "PostgreSQL"
	}
	fmt.Fprintf(w, "firstline serve under load: %d customers × %d messages, %d in flight, %s, %d run(s), GOMAXPROCS %d\n",
		o.customers, o.messages, o.inflight, store, o.runs, runtime.GOMAXPROCS(0))
}

func printRun(w io.Writer, n int, r result) {
	fmt.Fprintf(w, "run %d: %d/%d answers (%d missing, %d duplicated; %d greetings), %d model calls, %d server log lines at warn+\n",
		n, r.tally.answers, r.expected, r.tally.missing, r.tally.duplicated, r.tally.others, r.modelCalls, r.logLines)
	fmt.Fprintf(w, "       %.1f replies/s, DM→reply p50 %s p99 %s, RSS %s (peak %s), SQLite %.0f commits/s (replies/s ÷ commits/s = %.3f)",
		r.perSec, ms(r.p50), ms(r.p99), mib(r.mem.rss), mib(r.mem.peak), r.sqliteCommits, ratio(r.perSec, r.sqliteCommits))
	if r.pgCommits > 0 {
		fmt.Fprintf(w, ", PostgreSQL %.0f commits/s (ratio %.3f)", r.pgCommits, ratio(r.perSec, r.pgCommits))
	}
	fmt.Fprintln(w)
	for _, f := range r.failures {
		fmt.Fprintf(w, "       gave up: %s\n", f)
	}
	if r.failed > len(r.failures) {
		fmt.Fprintf(w, "       … %d customers gave up in all\n", r.failed)
	}
	for _, p := range r.profiles {
		fmt.Fprintf(w, "       profile: %s\n", p)
	}
	if r.serverLog != "" {
		fmt.Fprintln(w, indent(r.serverLog, "       "))
	}
}

// printMedians prints the median of each figure over the runs.
func printMedians(w io.Writer, rs []result) {
	fig := func(f func(result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	dur := func(f func(result) time.Duration) time.Duration {
		return time.Duration(fig(func(r result) float64 { return float64(f(r)) }))
	}
	fmt.Fprintf(w, "median of %d run(s):\n", len(rs))
	fmt.Fprintf(w, "  replies/s                 %.1f\n", fig(func(r result) float64 { return r.perSec }))
	fmt.Fprintf(w, "  DM→reply p50              %s\n", ms(dur(func(r result) time.Duration { return r.p50 })))
	fmt.Fprintf(w, "  DM→reply p99              %s\n", ms(dur(func(r result) time.Duration { return r.p99 })))
	fmt.Fprintf(w, "  answers                   %.0f of %d expected\n", fig(func(r result) float64 { return float64(r.tally.answers) }), rs[0].expected)
	fmt.Fprintf(w, "  server RSS after the run  %s (peak %s)\n", mib(int64(fig(func(r result) float64 { return float64(r.mem.rss) }))),
		mib(int64(fig(func(r result) float64 { return float64(r.mem.peak) }))))
	fmt.Fprintf(w, "  SQLite commits/s          %.0f (WAL, synchronous=FULL, single-row INSERT transactions)\n",
		fig(func(r result) float64 { return r.sqliteCommits }))
	fmt.Fprintf(w, "  replies/s ÷ commits/s     %.3f\n", fig(func(r result) float64 { return ratio(r.perSec, r.sqliteCommits) }))
	if rs[0].pgCommits > 0 {
		fmt.Fprintf(w, "  PostgreSQL commits/s      %.0f\n", fig(func(r result) float64 { return r.pgCommits }))
		fmt.Fprintf(w, "  replies/s ÷ PG commits/s  %.3f\n", fig(func(r result) float64 { return ratio(r.perSec, r.pgCommits) }))
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

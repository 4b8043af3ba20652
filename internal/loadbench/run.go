package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// result is the figures of one run.
type result struct {
	expected   int // answers expected: customers × messages
	received   int // answers customers waited for and got
	tally      tally
	failures   []string
	failed     int // customers who gave up
	modelCalls int64
	logLines   int // warnings and errors the server logged

	perSec   float64 // answers per second
	p50, p99 time.Duration
	mem      memory

	sqliteCommits float64 // SQLite commits per second
	pgCommits     float64 // PostgreSQL commits per second, with -pg
	profiles      []string
	serverLog     string // the tail of the server's log, for failures
}

// check fails a run in which an answer is missing or duplicated.
func (r result) check() error {
	if r.tally.missing == 0 && r.tally.duplicated == 0 && r.tally.answers == r.expected {
		return nil
	}
	return fmt.Errorf("%d answers for %d messages: %d missing, %d duplicated",
		r.tally.answers, r.expected, r.tally.missing, r.tally.duplicated)
}

// runOnce is one run: fresh folder, database, fakes and server; the load;
// the server's memory; the server stopped; then the raw commit rates.
func runOnce(ctx context.Context, o options, bin string, profile bool) (r result, err error) {
	dir, err := os.MkdirTemp("", "loadbench-run-")
	if err != nil {
		return r, fmt.Errorf("make the run's folder: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := freshDatabase(ctx, o.pg, dir)
	if err != nil {
		return r, err
	}
	defer func() {
		err = errors.Join(err, db.drop(context.WithoutCancel(ctx)))
	}()
	slack := newSlackSide(o.customers, o.messages)
	defer slack.Close()
	m := newModel()
	defer m.Close()

	srv, err := startServer(ctx, bin, dir, db.dsn, slack, m, profile)
	if err != nil {
		return r, err
	}
	r, loadErr := measureLoad(ctx, o, srv, slack, profile)
	r.modelCalls = m.calls.Load()
	if err := errors.Join(loadErr, srv.stop()); err != nil {
		return r, fmt.Errorf("%w\n%s", err, srv.logTail(20))
	}
	r.logLines = srv.logLines()
	if r.check() != nil {
		r.serverLog = srv.logTail(20)
	}
	if r.sqliteCommits, err = sqliteCommitRate(ctx, dir, o.commits); err != nil {
		return r, err
	}
	if o.pg != "" {
		if r.pgCommits, err = pgCommitRate(ctx, db.dsn, o.commits); err != nil {
			return r, err
		}
	}
	return r, nil
}

// startServer starts `firstline serve` on free loopback ports.
func startServer(ctx context.Context, bin, dir, db string, slack *slackSide, m *model, profile bool) (*child, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr := ""
	if profile {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	return startChild(ctx, bin, dir, serverEnv(dir, db, httpAddr, pprofAddr, slack, m), httpAddr, pprofAddr)
}

// measureLoad drives the customers (profiling meanwhile when asked), waits
// for late duplicates, and reads the figures.
func measureLoad(ctx context.Context, o options, srv *child, slack *slackSide, profile bool) (result, error) {
	r := result{expected: o.customers * o.messages}
	var prof *profiler
	if profile {
		if err := waitPprof(ctx, srv.pprofURL); err != nil {
			return r, err
		}
		prof = startProfiles(ctx, srv.pprofURL, o.profile)
	}
	l := newDriver(srv.url, slack, o).drive(ctx, o.customers, o.inflight)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	// Answers posted twice come close after the first, if at all.
	time.Sleep(o.settle)
	r.tally = slack.tally(o.customers, o.messages)
	r.received, r.failures, r.failed = len(l.latencies), l.failures, l.failed
	if l.elapsed > 0 {
		r.perSec = float64(len(l.latencies)) / l.elapsed.Seconds()
	}
	r.p50, r.p99 = percentile(l.latencies, 50), percentile(l.latencies, 99)
	var err error
	if r.mem, err = srv.memory(); err != nil {
		return r, err
	}
	if prof != nil {
		r.profiles, err = prof.wait()
	}
	return r, err
}

// percentile is the nearest-rank p-th percentile of ds, 0 for none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 × n)
	return s[max(rank, 1)-1]
}

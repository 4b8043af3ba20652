// Command loadbench measures the real `firstline serve` binary under load,
// end to end over HTTP, on this machine's disk:
//
//	go run ./internal/loadbench                       # 1,000 customers × 2 messages, 50 in flight, SQLite
//	go run ./internal/loadbench -runs 3               # the same three times; medians of each figure
//	go run ./internal/loadbench -pg 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./internal/loadbench -conversations 10000  # RSS after 10,000 conversations (-customers 10000 -messages 1)
//	go run ./internal/loadbench -pprof                # also saves CPU, block and mutex profiles of the server
//
// It builds the binary from the module root (or takes -bin), and for each
// run starts, on a fresh temporary folder and database:
//
//   - the fake Slack Web API of internal/fakeslack, in process, knowing every
//     customer (users.info) and a private agent channel;
//   - a zero-latency OpenAI-compatible endpoint (POST /v1/chat/completions)
//     that answers every turn at once with the same short plain-text answer;
//   - `firstline serve` as a child process, Slack over HTTP (the Events API)
//     pointing at the fake, the model pointing at the endpoint, logging at
//     warn. The rate limits per user and per workspace are off: a thousand
//     customers of one workspace would trip the workspace's default of
//     600/1m, and the benchmark measures the bot, not its limiter.
//
// Customers write in their own direct-message channel (so no channel comes
// near Slack's per-channel rate), each message a signed Events API request
// (X-Slack-Signature, v0 HMAC-SHA256) to POST /slack/events; a customer
// writes the next message only once the answer to the previous one reached
// Slack, as a person chatting does, and -inflight customers chat at once.
//
// The figures, per run and as medians over -runs:
//
//   - replies/s: model answers that reached the fake Slack (chat.postMessage
//     to the customer's DM) per second, from the first event sent to the
//     last answer received. Slack and the model cost nothing here, so this
//     is the bot's own ceiling: signature checks, store transactions, the
//     turn, the outbox.
//   - DM→reply p50 and p99: from sending a customer's event to the fake
//     Slack receiving the answer's chat.postMessage.
//   - replies vs expected: every message must be answered exactly once. A
//     missing answer (after -timeout) or a duplicated one fails the run:
//     exit status 1.
//   - RSS: the server's VmRSS after the run (and VmHWM, its peak), from
//     /proc/PID/status.
//   - SQLite commits/s: single-row INSERT transactions per second with
//     journal_mode=WAL and synchronous=FULL (as the store opens SQLite),
//     measured after the server stopped, in the same folder on the same
//     disk. It is the disk's fsync-bound ceiling for durable commits.
//   - replies/s ÷ commits/s: how much of that ceiling one reply costs; its
//     inverse is the number of raw commits a reply takes the time of. With
//     -pg, PostgreSQL's commit rate on the run's schema is measured and
//     compared too.
//
// With -pprof the server also serves net/http/pprof (FIRSTLINE_PPROF_ADDR)
// and the first run saves a CPU profile, and block and mutex profiles of
// the same window (-profile, 10s from the start of the load), to the
// working folder; read them with `go tool pprof -top FILE`. Make the load
// last longer than the window (-customers) for a profile of load only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
		}
		os.Exit(1)
	}
}

// options are the flags.
type options struct {
	customers int
	messages  int
	inflight  int
	runs      int
	pg        string
	bin       string
	pprof     bool
	// profile is how long the profiles of -pprof cover.
	profile time.Duration
	// commits is how many transactions the raw commit rate is taken over.
	commits int
	// timeout is how long a customer waits for an answer before it counts
	// as missing.
	timeout time.Duration
	// settle is how long after the last answer posts are still watched
	// for duplicates.
	settle time.Duration
}

// defaults are the options without flags.
func defaults() options {
	return options{customers: 1000, messages: 2, inflight: 50, runs: 1, profile: 10 * time.Second,
		commits: 2000, timeout: 60 * time.Second, settle: 2 * time.Second}
}

// run parses the flags and runs the benchmark, printing to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	return bench(ctx, o, out)
}

func parseFlags(args []string, out io.Writer) (options, error) {
	o := defaults()
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.customers, "customers", o.customers, "customers, each in their own DM channel")
	fs.IntVar(&o.messages, "messages", o.messages, "messages per customer, each sent once the previous one is answered")
	conversations := fs.Int("conversations", 0, "shorthand for -customers N -messages 1 (RSS after N conversations)")
	fs.IntVar(&o.inflight, "inflight", o.inflight, "customers chatting at once")
	fs.IntVar(&o.runs, "runs", o.runs, "runs, each on a fresh database and server; figures are their medians")
	fs.StringVar(&o.pg, "pg", o.pg, "PostgreSQL URL: each run gets a fresh schema there, dropped afterwards (default SQLite)")
	fs.StringVar(&o.bin, "bin", o.bin, "firstline binary to run (default: go build the module)")
	fs.BoolVar(&o.pprof, "pprof", o.pprof, "save CPU, block and mutex profiles of the server during the first run")
	fs.DurationVar(&o.profile, "profile", o.profile, "window of the -pprof profiles, from the start of the load")
	fs.IntVar(&o.commits, "commits", o.commits, "transactions of the raw commit-rate measurement")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "how long a customer waits for an answer before it counts as missing")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *conversations > 0 {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["customers"] || set["messages"] {
			return o, errors.New("-conversations is -customers N -messages 1: give one or the other")
		}
		o.customers, o.messages = *conversations, 1
	}
	return o, o.validate()
}

func (o options) validate() error {
	switch {
	case o.customers < 1:
		return fmt.Errorf("-customers: want at least 1, got %d", o.customers)
	case o.messages < 1:
		return fmt.Errorf("-messages: want at least 1, got %d", o.messages)
	case o.inflight < 1:
		return fmt.Errorf("-inflight: want at least 1, got %d", o.inflight)
	case o.runs < 1:
		return fmt.Errorf("-runs: want at least 1, got %d", o.runs)
	case o.commits < 1:
		return fmt.Errorf("-commits: want at least 1, got %d", o.commits)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout: want a positive duration, got %s", o.timeout)
	case o.pprof && o.profile < time.Second:
		return fmt.Errorf("-profile: want at least 1s, got %s", o.profile)
	}
	return nil
}

// bench runs the benchmark -runs times and prints each run and the
// medians. A run with a missing or duplicated answer is an error.
func bench(ctx context.Context, o options, out io.Writer) error {
	bin, cleanup, err := binary(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	printHeader(out, o)
	var results []result
	for i := range o.runs {
		r, err := runOnce(ctx, o, bin, o.pprof && i == 0)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		printRun(out, i+1, r)
		if err := r.check(); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		results = append(results, r)
	}
	printMedians(out, results)
	return nil
}

// Command firstline is a first-line customer-support bot for Slack and
// Discord: it answers routine questions through a model that calls tools
// into the company's data, and hands the conversation to a human agent
// whenever the customer asks for one. See README.md.
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// stdio is the process's outside world, injected so that commands can be
// run end to end in tests.
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
	// onListen, when set, receives the HTTP server's address once it
	// listens (tests use FIRSTLINE_HTTP_ADDR=127.0.0.1:0).
	onListen func(addr string)
	// interactive forces the terminal prompt on or off; nil detects it.
	interactive *bool
}

const usage = `firstline: a first-line customer-support bot for Slack and Discord.

Usage:
  firstline <command> [flags]

Commands:
  serve     run the configured adapters, the HTTP server and the handoff timers
  chat      a local customer conversation in the terminal (zero configuration)
  eval      runs conversation scenarios against the model and prompts (exit 1 on failures);
            "eval --retrieval" measures help-center search (recall@1, recall@3, MRR)
  link      link a chat identity to a customer; --list, --unlink
  customers "customers import FILE", "customers list", "customers remove" (the customers table)
  prompts   "prompts check [DIR]" validates the prompt files (exit 1 on errors)
  knowledge "knowledge import DIR" turns a help-center export (HTML, Markdown) into articles
  discord   "discord invite" prints the URL that adds the bot to a Discord server
  migrate   applies the database migrations ahead of a deploy
  forget    "forget --customer ID" erases everything stored about a customer
  export    "export --customer ID" writes everything stored about a customer as JSON
  audit     prints the audit log of account-data access, link changes and erasures
  stats     support figures over a period: automation, handoffs, response times, CSAT, repeats

Run "firstline <command> -h" for a command's flags. Configuration comes from
the environment (see README.md); flags override it.
`

// errUsage marks errors that are the caller's: bad flags or arguments.
var errUsage = errors.New("usage")

// run executes one command and returns the process exit code. Errors are
// printed as one line.
func run(ctx context.Context, args []string, sys stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(sys.out, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], sys)
	case "chat":
		err = cmdChat(ctx, args[1:], sys)
	case "link":
		err = cmdLink(ctx, args[1:], sys)
	case "customers":
		err = cmdCustomers(ctx, args[1:], sys)
	case "prompts":
		err = cmdPrompts(ctx, args[1:], sys)
	case "knowledge":
		err = cmdKnowledge(ctx, args[1:], sys)
	case "discord":
		err = cmdDiscord(ctx, args[1:], sys)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], sys)
	case "eval":
		err = cmdEval(ctx, args[1:], sys)
	case "forget":
		err = cmdForget(ctx, args[1:], sys)
	case "export":
		err = cmdExport(ctx, args[1:], sys)
	case "audit":
		err = cmdAudit(ctx, args[1:], sys)
	case "stats":
		err = cmdStats(ctx, args[1:], sys)
	default:
		fmt.Fprintf(sys.err, "firstline: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(sys.err, "firstline %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(sys.err, "firstline %s: %v\n", args[0], oneLine(err))
		return 1
	}
}

// oneLine joins a multi-error's lines with "; " so that every failure is a
// single line on the terminal.
func oneLine(err error) string {
	s := err.Error()
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' {
			out = append(out, ';', ' ')
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to sys.err.
func newFlagSet(name, synopsis string, sys stdio) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(sys.err)
	fs.Usage = func() {
		fmt.Fprintf(sys.err, "Usage: firstline %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping bad flags to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// parseArgs parses args that mix flags and positional arguments ("import
// FILE --skip-invalid"): Go's flag package stops at the first positional
// one, so parsing resumes after each. It returns the positional arguments,
// and a usage error unless there are exactly n.
func parseArgs(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageOrHelp(err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != n {
		return nil, fmt.Errorf("%w: want %d argument(s), got %d", errUsage, n, len(pos))
	}
	return pos, nil
}

// usageOrHelp maps a flag parsing error to errUsage, keeping -h as is.
func usageOrHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/adapters/console"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/eval"
	"github.com/firstlinehq/firstline/bot/knowledge"
	"github.com/firstlinehq/firstline/bot/outbox"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/prompts"
)

func cmdChat(ctx context.Context, args []string, sys stdio) error {
	cfg, as, err := chatConfig(args, sys)
	if err != nil {
		return err
	}
	log := newLogger(sys.err, cfg.LogLevel, false)
	p, err := openProduct(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.Close()
	seeded, err := bot.SeedDemo(ctx, p.store, time.Now())
	if err != nil {
		return err
	}
	dir, where, err := directory(cfg, p.store)
	if err != nil {
		return err
	}
	who, err := linkConsole(ctx, p.store, dir, where, as)
	if err != nil {
		return err
	}
	var con *console.Console
	agents := app.Agents{Platform: bot.Console, Workspace: console.Workspace, Channel: console.AgentChannel}
	terminal := func(parts app.Parts) (map[bot.Platform]outbox.Sender, error) {
		var err error
		con, err = console.New(console.Config{
			Engine:   parts.Engine,
			Handoffs: parts.Handoffs,
			Out:      sys.out,
			UserName: who,
			Agent:    handoff.Agent{ID: "demo-agent", Name: "Alex", Role: handoff.RoleAgent},
			RunID:    strconv.FormatInt(time.Now().UnixNano(), 36),
			Terminal: isTerminal(sys.out),
		})
		return map[bot.Platform]outbox.Sender{bot.Console: con}, err
	}
	// One send at a time: a terminal shows messages in the order they were
	// queued, which is the order a reader expects.
	sequential := func(c *outbox.Config) { c.Parallel = 1 }
	a, err := p.assemble(agents, terminal, sequential)
	if err != nil {
		return err
	}
	if p.watcher != nil {
		// Prompt edits are live in the chat too, which is how admins try them.
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go p.watcher.Run(watchCtx)
	}

	fmt.Fprintf(sys.err, "Firstline chat: %s; database %s%s; %s.\n", modelLine(p), dbForLog(cfg.DB), seededNote(seeded), whoLine(as, who))
	prompt := ""
	if interactive(sys) {
		fmt.Fprintln(sys.err, "Type as the customer; /help lists the agent commands; Ctrl-D leaves.")
		prompt = "you> "
	}
	// Messages left from an earlier run that crashed are answered first.
	if _, err := a.Engine.Recover(ctx); err != nil {
		return err
	}
	if _, err := a.Dispatcher.Flush(ctx); err != nil {
		return err
	}
	err = con.Run(ctx, sys.in, prompt, a.Dispatcher)
	if errors.Is(err, context.Canceled) {
		return nil // Ctrl-C ends a chat; it is not a failure
	}
	return err
}

// chatConfig reads the configuration and the flags of chat, and the demo
// customer to chat as.
func chatConfig(args []string, sys stdio) (Config, string, error) {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return cfg, "", err
	}
	if sys.getenv("FIRSTLINE_DB") == "" {
		cfg.DB = "firstline-demo.db" // the demo never touches a production file by accident
	}
	if sys.getenv("FIRSTLINE_LOG_LEVEL") == "" {
		cfg.LogLevel = "warn" // keep the conversation readable
	}
	fs := newFlagSet("chat", "chat [--db FILE] [--as CUSTOMER_ID] [--prompts DIR]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite file (FIRSTLINE_DB); an empty one is seeded with demo data")
	as := fs.String("as", "C-1001", "the demo customer you chat as; \"none\" for a chat user linked to no account")
	promptsDir := fs.String("prompts", "", "prompt folder (FIRSTLINE_PROMPTS_DIR)")
	if err := parseFlags(fs, args); err != nil {
		return cfg, "", err
	}
	if *promptsDir != "" {
		cfg.PromptsDir, cfg.PromptsDirSet = *promptsDir, true
	}
	return cfg, *as, cfg.Validate()
}

// linkConsole links the console user to the customer chosen with --as,
// checked in the directory the engine uses (the demo customers in the
// customers table, unless a company API is configured), and returns the
// name to chat under.
func linkConsole(ctx context.Context, st app.Store, dir bot.Directory, where, as string) (string, error) {
	id := bot.NewIdentity(bot.Console, console.Workspace, console.User)
	if as == "none" || as == "" {
		if err := st.Unlink(ctx, id); err != nil && !errors.Is(err, bot.ErrNotFound) {
			return "", err
		}
		return "Guest", nil
	}
	c, err := dir.Customer(ctx, as)
	if errors.Is(err, bot.ErrNotFound) {
		return "", fmt.Errorf("%w: --as %s: no such customer in %s (the demo has C-1001 and C-1002)", errUsage, as, where)
	}
	if err != nil {
		return "", fmt.Errorf("--as %s: could not check the customer in %s: %w", as, where, err)
	}
	if err := st.Link(ctx, bot.Link{Identity: id, CustomerID: c.ID, CreatedAt: time.Now()}); err != nil {
		return "", err
	}
	return c.Name, nil
}

func modelLine(p *product) string {
	if p.cfg.UsesLLM() {
		return "model " + p.model.Name()
	}
	return "the offline rules model (set OPENAI_BASE_URL or OPENAI_API_KEY for an LLM)"
}

func seededNote(seeded bool) string {
	if seeded {
		return " (new, seeded with demo customers C-1001 and C-1002)"
	}
	return ""
}

func whoLine(as, name string) string {
	if as == "none" || as == "" {
		return "you are a chat user linked to no customer"
	}
	return fmt.Sprintf("you are customer %s (%s)", as, name)
}

// interactive reports whether stdin is a terminal, so the prompt is shown
// to people and not to scripts.
func interactive(sys stdio) bool {
	if sys.interactive != nil {
		return *sys.interactive
	}
	return isTerminal(sys.in)
}

// isTerminal reports whether v is a file on a terminal (a character
// device): the chat shows bold text there, and plain text in pipes and
// files.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func cmdEval(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	flags := newFlagSet("eval", "eval [--json] [--parallel N] [--repeat K] [--prompts DIR] [FILES or FOLDERS]\n"+
		"       firstline eval --retrieval [--cases FILE] [--min-recall3 R] [--prompts DIR]\n\n"+
		"Runs conversation scenarios (YAML, default: the evals folder of the prompt files) against the\n"+
		"configured model and prompt files, each on a fresh demo database. Prints a\n"+
		"pass/fail table; exit 1 when any scenario fails.\n\n"+
		"With --retrieval, searches the help center (the knowledge folder of the prompt files) for\n"+
		"the questions of the retrieval cases (default: evals/retrieval/cases.yaml of the prompt\n"+
		"folder) and prints recall@1, recall@3 and MRR, overall and per language, and the misses;\n"+
		"exit 1 when recall@3 is below --min-recall3.", sys)
	asJSON := flags.Bool("json", false, "print the report as JSON (for CI)")
	parallel := flags.Int("parallel", eval.DefaultParallel, "scenarios run at once")
	promptsDir := flags.String("prompts", "", "prompt folder (FIRSTLINE_PROMPTS_DIR)")
	retrieval := flags.Bool("retrieval", false, "measure help-center retrieval instead of running conversations")
	casesFile := flags.String("cases", "", "with --retrieval: the retrieval cases (default: evals/retrieval/cases.yaml in the prompt folder)")
	minRecall3 := flags.Float64("min-recall3", 0.9, "with --retrieval: the lowest recall@3 that passes")
	repeat := flags.Int("repeat", 1, "run each scenario K times; a scenario passes when every run does (pass^k)")
	if err := flags.Parse(args); err != nil {
		return usageOrHelp(err)
	}
	if *promptsDir != "" {
		cfg.PromptsDir, cfg.PromptsDirSet = *promptsDir, true
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *retrieval {
		if *asJSON || flags.NArg() > 0 {
			return fmt.Errorf("%w: --retrieval takes no --json and no FILES (name the cases with --cases)", errUsage)
		}
		if *minRecall3 < 0 || *minRecall3 > 1 {
			return fmt.Errorf("%w: --min-recall3 %g: want a share from 0 to 1", errUsage, *minRecall3)
		}
		return evalRetrieval(ctx, cfg, *casesFile, *minRecall3, sys)
	}
	if *repeat < 1 || *repeat > 100 {
		return fmt.Errorf("%w: --repeat %d: want 1 to 100", errUsage, *repeat)
	}
	if *casesFile != "" || flagSet(flags, "min-recall3") {
		return fmt.Errorf("%w: --cases and --min-recall3 go with --retrieval", errUsage)
	}
	paths := flags.Args()
	if len(paths) == 0 {
		// The scenarios live beside the prompt files they test.
		dir := filepath.Join(cfg.PromptsDir, "evals")
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no scenarios at %s (the evals folder of FIRSTLINE_PROMPTS_DIR); name FILES or FOLDERS to run others", dir)
		}
		paths = []string{dir}
	}
	scenarios, err := eval.LoadFiles(paths...)
	if err != nil {
		return fmt.Errorf("load scenarios: %w", err)
	}
	log := newLogger(sys.err, "error", false)
	current, _, err := loadPrompts(cfg, log, newPromptMetrics(noRegistry{}))
	if err != nil {
		return err
	}
	model, err := newModel(cfg, current, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(sys.err, "Running %d scenarios against %s.\n", len(scenarios), modelName(cfg, model))
	report := eval.Run(ctx, eval.Config{
		NewModel: func(p func() *prompts.Set) (bot.Model, error) { return newModel(cfg, p, log) },
		OpenStore: func(ctx context.Context, path string) (app.Store, error) {
			return openStore(ctx, path)
		},
		Prompts:  current,
		Parallel: *parallel,
		TempDir:  fastTempDir(),
		Logger:   slog.New(slog.DiscardHandler),
		Repeat:   *repeat,
	}, scenarios)
	if *asJSON {
		err = report.WriteJSON(sys.out)
	} else {
		err = report.WriteTable(sys.out)
	}
	if err != nil {
		return err
	}
	if !report.OK() {
		return errEvalFailed
	}
	return nil
}

var errEvalFailed = fmt.Errorf("scenarios failed (see the table above)")

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// evalRetrieval runs the retrieval cases in file (default: those of the
// prompt folder) against the help center of the configured prompt files,
// prints the figures and the misses, and fails below minRecall3.
func evalRetrieval(ctx context.Context, cfg Config, file string, minRecall3 float64, sys stdio) error {
	if file == "" {
		file = filepath.Join(cfg.PromptsDir, "evals", "retrieval", "cases.yaml")
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no retrieval cases at %s (in the evals folder of FIRSTLINE_PROMPTS_DIR); name a file with --cases", file)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("retrieval cases: %w", err)
	}
	cases, err := knowledge.ParseCases(file, data)
	if err != nil {
		return fmt.Errorf("retrieval cases: %w", err)
	}
	if len(cases) == 0 {
		return fmt.Errorf("retrieval cases: %s has no cases", file)
	}
	current, _, err := loadPrompts(cfg, newLogger(sys.err, "error", false), newPromptMetrics(noRegistry{}))
	if err != nil {
		return err
	}
	set := current()
	idx, err := set.Knowledge()
	if err != nil {
		return fmt.Errorf("help center: %w", err)
	}
	if idx == nil {
		return fmt.Errorf("the prompt folder has no help center: no articles in its %s folder", prompts.FolderKnowledge)
	}
	// A case naming an article the help center does not have can never
	// pass: say so, since the cases may have been written for another one.
	known := map[string]bool{}
	for _, u := range set.KnowledgeURLs() {
		known[strings.TrimSuffix(strings.ToLower(u), "/")] = true
	}
	for _, c := range cases {
		for _, u := range c.URLs {
			if !known[strings.TrimSuffix(strings.ToLower(u), "/")] {
				fmt.Fprintf(sys.err, "%s:%d: %s is not an article of the help center\n", file, c.Line, u)
			}
		}
	}
	fmt.Fprintf(sys.err, "Searching %d questions in %d articles (%d passages).\n", len(cases), idx.Articles(), idx.Len())
	r, err := knowledge.Evaluate(ctx, idx, cases)
	// The set closes its index once it is unreachable (a cleanup in package
	// prompts): it must outlive the searches.
	runtime.KeepAlive(set)
	if err != nil {
		return err
	}
	fmt.Fprint(sys.out, r)
	if r.Overall.RecallAt3 < minRecall3 {
		return fmt.Errorf("recall@3 is %.3f, below --min-recall3 %.3f (the misses are listed above)", r.Overall.RecallAt3, minRecall3)
	}
	fmt.Fprintf(sys.out, "recall@3 %.3f >= %.3f: ok\n", r.Overall.RecallAt3, minRecall3)
	return nil
}

func modelName(cfg Config, m bot.Model) string {
	if cfg.UsesLLM() {
		return "model " + m.Name()
	}
	return "the offline rules model"
}

// fastTempDir puts the throwaway scenario databases in memory where Linux
// offers it: fsync dominates a scenario's time on disk.
func fastTempDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return ""
}

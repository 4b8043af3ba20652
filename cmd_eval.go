package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/eval"
	"github.com/firstlinehq/firstline/prompts"
)

func cmdEval(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	flags := newFlagSet("eval", "eval [--json] [--parallel N] [--prompts DIR] [FILES or FOLDERS]\n\nRuns conversation scenarios (YAML, default: the evals folder) against the\nconfigured model and prompt files, each on a fresh demo database. Prints a\npass/fail table; exit 1 when any scenario fails.", sys)
	asJSON := flags.Bool("json", false, "print the report as JSON (for CI)")
	parallel := flags.Int("parallel", eval.DefaultParallel, "scenarios run at once")
	promptsDir := flags.String("prompts", "", "prompt folder (FIRSTLINE_PROMPTS_DIR)")
	if err := flags.Parse(args); err != nil {
		return usageOrHelp(err)
	}
	if *promptsDir != "" {
		cfg.PromptsDir, cfg.PromptsDirSet = *promptsDir, true
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	paths := flags.Args()
	if len(paths) == 0 {
		paths = []string{"evals"}
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
		Prompts:  current,
		Parallel: *parallel,
		TempDir:  fastTempDir(),
		Logger:   slog.New(slog.DiscardHandler),
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

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/firstlinehq/firstline/prompts"
)

func cmdPrompts(_ context.Context, args []string, sys stdio) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(sys.err, "Usage: firstline prompts check [DIR]")
			return nil
		}
		return fmt.Errorf("%w: want \"prompts check [DIR]\"", errUsage)
	}
	flags := newFlagSet("prompts check", "prompts check [DIR]\n\nValidates the prompt files in DIR (default: FIRSTLINE_PROMPTS_DIR, else ./prompts).\nPrints every problem as file:line and exits 1 when there is any.", sys)
	if err := flags.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if flags.NArg() > 1 {
		return fmt.Errorf("%w: at most one folder", errUsage)
	}
	dir := sys.getenv("FIRSTLINE_PROMPTS_DIR")
	if dir == "" {
		dir = "prompts"
	}
	if flags.NArg() == 1 {
		dir = flags.Arg(0)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("prompt folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("prompt folder: %s is not a folder", dir)
	}
	set, err := prompts.Load(os.DirFS(dir))
	if err == nil {
		err = checkPrompts(set)
	}
	if err != nil {
		var errs prompts.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				e.File = filepath.Join(dir, e.File)
				fmt.Fprintln(sys.out, e.Error())
			}
		} else {
			fmt.Fprintln(sys.out, err)
		}
		return errPromptsInvalid
	}
	fmt.Fprintf(sys.out, "%s: ok (version %s)\n", dir, set.Version)
	for _, name := range prompts.Files {
		fmt.Fprintf(sys.out, "  %-14s %s\n", name, set.Source(name))
	}
	return nil
}

// errPromptsInvalid is returned after the problems were printed.
var errPromptsInvalid = errors.New("the prompt files have errors (listed above)")

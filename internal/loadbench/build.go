package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// binary returns the firstline binary to run: bin when given, else one
// built from the module root into a temporary folder that cleanup removes.
func binary(ctx context.Context, bin string) (path string, cleanup func(), err error) {
	if bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", nil, fmt.Errorf("-bin: %w", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", nil, fmt.Errorf("-bin: %w", err)
		}
		return abs, func() {}, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "loadbench-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("build firstline: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "firstline")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build firstline in %s: %w", root, err)
	}
	return path, cleanup, nil
}

// moduleRoot is the nearest folder, from the working folder up, that holds
// a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find the module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the module root: no go.mod in the working folder or above it (run from the firstline checkout, or give -bin)")
		}
		dir = parent
	}
}

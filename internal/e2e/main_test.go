// Package e2e holds the end-to-end tests of the real firstline binary. Its
// tests build the binary once (go build -o),
// run `firstline serve` in Socket Mode against internal/fakeslack and a
// fake OpenAI-compatible model on a SQLite file, kill it (kill -9) and
// stop it (SIGTERM) at awkward moments, and check what the fake platform
// saw against what the database holds. See docs/reliability.md.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the firstline binary under test, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "firstline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temporary folder:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "firstline")
	if out, err := exec.Command("go", "build", "-o", binary, "../..").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "e2e: build firstline:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

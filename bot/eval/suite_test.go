package eval

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/prompts"
)

// suiteDir is the shipped scenario suite, relative to this package.
const suiteDir = "../../prompts/evals"

// TestShippedSuite runs prompts/evals/ against the offline rules model and the
// embedded prompts: the suite admins run after an edit must itself be green.
func TestShippedSuite(t *testing.T) {
	scenarios, err := LoadFiles(suiteDir)
	if err != nil {
		t.Fatalf("load the shipped suite:\n%v", err)
	}
	if len(scenarios) < 40 {
		t.Errorf("the shipped suite has %d scenarios, want at least 40", len(scenarios))
	}
	tmp := mustScratchDir(t)
	start := time.Now()
	report := Run(context.Background(), Config{OpenStore: openSQLite, TempDir: tmp}, scenarios)
	t.Logf("%d scenarios in %s", len(scenarios), time.Since(start).Round(time.Millisecond))

	if !report.OK() || report.Passed != len(scenarios) {
		var b bytes.Buffer
		if err := report.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		t.Fatalf("the shipped suite fails against the offline model:\n%s", b.String())
	}
	// Every scenario database is removed after its scenario.
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("scenario databases left behind in TempDir: %v", left)
	}
}

// mustScratchDir returns an empty folder for scenario databases, removed
// after the test. It prefers memory-backed /dev/shm where there is one: the
// databases are thrown away, and the fsyncs SQLite makes on every commit
// are most of the suite's time on a disk (about 3x on CI machines).
func mustScratchDir(t *testing.T) string {
	t.Helper()
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "firstline-eval-test-*"); err == nil {
			t.Cleanup(func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Error(err)
				}
			})
			return dir
		}
	}
	return t.TempDir()
}

// TestShippedSuiteCoverage guards what the suite is for: each area the
// issue lists keeps scenarios, so a clean-up cannot quietly drop one.
func TestShippedSuiteCoverage(t *testing.T) {
	scenarios, err := LoadFiles(suiteDir)
	if err != nil {
		t.Fatal(err)
	}
	var (
		langs                                 = map[string]bool{}
		channel, unlinked, rating, agentSay   bool
		injections, sameWording, noForeignOff int
		handoffPhrases                        int
	)
	for _, s := range scenarios {
		if !s.NoForeignData {
			noForeignOff++
		}
		channel = channel || s.Place == PlaceChannel
		unlinked = unlinked || s.Customer == CustomerNone
		if strings.HasPrefix(s.Name, "injection:") {
			injections++
		}
		for _, turn := range s.Turns {
			e := turn.Expect
			if e.Handoff != nil && *e.Handoff && e.NoToolAll && turn.Kind == TurnSay {
				handoffPhrases++
				if e.Lang != "" {
					langs[e.Lang] = true
				}
			}
			if e.SameReplyAs > 0 {
				sameWording++
			}
			rating = rating || turn.Kind == TurnSay && turn.Text == "5"
			agentSay = agentSay || e.Relay != nil
		}
	}
	for _, entry := range prompts.Default().FAQ {
		covered := false
		for _, s := range scenarios {
			covered = covered || strings.HasPrefix(s.Name, "FAQ "+entry.ID+":")
		}
		if !covered {
			t.Errorf("no scenario \"FAQ %s: ...\" for the FAQ entry %s", entry.ID, entry.ID)
		}
	}
	for _, l := range []string{"en", "sv", "de", "es", "fr"} {
		if !langs[l] {
			t.Errorf("no person request in language %s", l)
		}
	}
	checks := []struct {
		ok   bool
		what string
	}{
		{noForeignOff == 0, "every scenario checks for other customers' data"},
		{channel, "a channel-thread scenario"},
		{unlinked, "an unlinked chat user"},
		{rating && agentSay, "a return to the bot after a resolved handoff"},
		{injections >= 3, "prompt-injection scenarios"},
		{sameWording > 0, "another customer's reference worded like an unknown one"},
		{handoffPhrases >= 5, "requests for a person"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("the shipped suite lacks %s", c.what)
		}
	}
}

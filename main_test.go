package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the firstline binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "firstline-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "firstline")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		panic("build firstline: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is an environment with nothing of Firstline's or OpenAI's set:
// the zero-configuration case.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FIRSTLINE_") || strings.HasPrefix(k, "OPENAI_") || strings.HasPrefix(k, "SLACK_") || strings.HasPrefix(k, "DISCORD_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func runBinary(t *testing.T, dir, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runBinaryEnv(t, dir, nil, stdin, args...)
}

func runBinaryEnv(t *testing.T, dir string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// The "done when", on the built binary with zero configuration.
func TestChatEndToEnd(t *testing.T) {
	dir := t.TempDir()
	script := strings.Join([]string{
		"what's the status of my payments?",
		"status of PAY-1002",
		"and PAY-2001?",
		"I want to talk to a human",
		"/claim",
		"/agent hi, Alex here",
		"my payment is stuck",
		"/note checking the ledger",
		"/resolve",
		"5",
		"status of PAY-1001",
	}, "\n") + "\n"
	out, errOut, code := runBinary(t, dir, script, "chat")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "offline rules model") {
		t.Errorf("start-up does not say which model is in use: %q", errOut)
	}
	for _, want := range []string{
		"bot> Hi! I'm the AI support assistant",
		"Here are your recent payments:",
		"• PAY-1002: 49.90 EUR to Nordic Rail",
		"is pending",
		"bot> I couldn't find a payment PAY-2001 on your account.",
		"[agents] @here Handoff #1: Ada Lovelace on console (customer C-1001)",
		"[agents] Reason: The customer asked for a person.",
		"bot> I've asked a person from our support team to join. You are number 1 in the queue.",
		"bot> Alex from our support team has joined the conversation.",
		"agent Alex> hi, Alex here",
		"[agents] #1 Ada Lovelace:\n[agents] #1 > my payment is stuck",
		"bot> Our support team has marked this conversation as resolved.",
		"bot> Thank you for the rating (5/5)!",
		"is settled",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "checking the ledger") && strings.Contains(out, "agent Alex> checking") {
		t.Error("an internal note reached the customer")
	}
	// Standard output is a pipe here: the markdown prints as plain text.
	if strings.Contains(out, "**") || strings.ContainsRune(out, '\x1b') {
		t.Error("markdown markers or escape codes in output that is not a terminal")
	}
	if strings.Contains(out, "Compiler Supplies") || strings.Contains(out, "300.00") {
		t.Error("another customer's payment was shown")
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "firstline-demo.db")); err != nil {
		t.Errorf("chat did not use its own demo database: %v", err)
	}

	// A second run on the same database continues, without seeding again.
	out, errOut, code = runBinary(t, dir, "status of PAY-1003\n", "chat")
	if code != 0 || !strings.Contains(out, "is failed.") || strings.Contains(errOut, "seeded") {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// A handoff left open by one run is the one the next run's agent commands
// act on.
func TestChatRestartKeepsTheHandoff(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runBinary(t, dir, "I want to talk to a human\n", "chat")
	if code != 0 || !strings.Contains(out, "@here Handoff #1:") {
		t.Fatalf("first run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	out, errOut, code = runBinary(t, dir, "/claim\n/agent hello again\nthanks\nstill there?\n/resolve\n", "chat")
	if code != 0 {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"a handoff from an earlier run is open",
		"bot> Alex from our support team has joined the conversation.",
		"agent Alex> hello again",
		"[agents] #1 > thanks",
		"[agents] #1 > still there?",
		"bot> Our support team has marked this conversation as resolved.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("second run's output lacks %q", want)
		}
	}
	if strings.Contains(out, "no handoff yet") {
		t.Error("the second run did not find the open handoff")
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestChatAsUnlinkedUser(t *testing.T) {
	out, _, code := runBinary(t, t.TempDir(), "status of my payments\n", "chat", "--as", "none")
	if code != 0 || !strings.Contains(out, "can't see any account linked") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"bad flag", []string{"chat", "--nope"}, 2, "flag provided but not defined"},
		{"unknown customer", []string{"chat", "--as", "C-404"}, 2, "no such customer"},
		{"help", []string{"chat", "-h"}, 0, "Usage: firstline chat"},
		{"link without platform", []string{"link", "--user", "U1", "--customer", "C-1001"}, 2, "--platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runBinary(t, t.TempDir(), "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.inStderr)
			}
			if strings.Contains(errOut, "goroutine ") {
				t.Errorf("stack trace printed: %s", errOut)
			}
		})
	}
}

func TestLinkCommand(t *testing.T) {
	dir := t.TempDir()
	// Seed the demo customers through a chat run on the same file.
	db := filepath.Join(dir, "f.db")
	if _, e, code := runBinary(t, dir, "", "chat", "--db", db); code != 0 {
		t.Fatalf("seed: %s", e)
	}
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"link", "--db", db, "--platform", "slack", "--team", "T1", "--user", "U1", "--customer", "C-1002"}, 0, "linked slack user U1 to customer C-1002"},
		{[]string{"link", "--db", db, "--platform", "discord", "--user", "42", "--customer", "C-1001"}, 0, "linked discord user 42"},
		{[]string{"link", "--db", db, "--platform", "slack", "--team", "T1", "--user", "U2", "--customer", "C-404"}, 1, ""},
		{[]string{"link", "--db", db, "--list"}, 0, "slack     T1"},
		{[]string{"link", "--db", db, "--unlink", "--platform", "slack", "--team", "T1", "--user", "U1"}, 0, "unlinked"},
		{[]string{"link", "--db", db, "--unlink", "--platform", "slack", "--team", "T1", "--user", "U1"}, 1, ""},
	}
	for _, s := range steps {
		out, errOut, code := runBinary(t, dir, "", s.args...)
		if code != s.code || !strings.Contains(out, s.out) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", s.args, code, out, errOut, s.code, s.out)
		}
	}
}

func TestServeHealthAndMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	env := map[string]string{
		"FIRSTLINE_DB":        filepath.Join(dir, "serve.db"),
		"FIRSTLINE_HTTP_ADDR": "127.0.0.1:0",
	}
	addr := make(chan string, 1)
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, stdio{
			in: strings.NewReader(""), out: io.Discard, err: &stderr,
			getenv:   func(k string) string { return env[k] },
			onListen: func(a string) { addr <- a },
		})
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": "firstline_model_failures_total",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %q; want 200 with %q", path, resp.StatusCode, body, want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after shutdown: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

// Shadow mode in the terminal: the bot's answer is a draft for the agent,
// sent to the customer only by /send, once.
func TestChatShadowMode(t *testing.T) {
	out, errOut, code := runBinaryEnv(t, t.TempDir(), []string{"FIRSTLINE_SHADOW=true"},
		"status of PAY-1002\n/claim\n/send\n/send\n", "chat")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	draft := strings.Index(out, "Draft answer (not sent)")
	sent := strings.Index(out, "bot> Payment PAY-1002:")
	if draft < 0 || sent < draft {
		t.Errorf("want the draft in the agent thread, then the answer after /send:\n%s", out)
	}
	if strings.Count(out, "bot> Payment PAY-1002:") != 1 || !strings.Contains(out, "sent already") {
		t.Errorf("the draft was not sent exactly once:\n%s", out)
	}
}

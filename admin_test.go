package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
)

// runCmd runs a command in process with FIRSTLINE_DB set to db and returns
// its exit code and outputs.
func runCmd(t *testing.T, db, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	no := false
	env := map[string]string{"FIRSTLINE_DB": db, "USER": "dpo"}
	sys := stdio{in: strings.NewReader(stdin), out: &out, err: &errb, getenv: func(k string) string { return env[k] }, interactive: &no}
	code = run(context.Background(), args, sys)
	return code, out.String(), errb.String()
}

// mustChat plays a scripted chat as the default demo customer (C-1001).
func mustChat(t *testing.T, db string, lines ...string) {
	t.Helper()
	if code, _, errOut := runCmd(t, db, strings.Join(lines, "\n")+"\n", "chat"); code != 0 {
		t.Fatalf("chat: exit %d: %s", code, errOut)
	}
}

func mustExport(t *testing.T, db, customer string) bot.Export {
	t.Helper()
	code, out, errOut := runCmd(t, db, "", "export", "--customer", customer)
	if code != 0 {
		t.Fatalf("export %s: exit %d: %s", customer, code, errOut)
	}
	var doc bot.Export
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("export %s is not JSON: %v\n%s", customer, err, out)
	}
	return doc
}

func mustAudit(t *testing.T, db string, args ...string) []bot.ExportAudit {
	t.Helper()
	code, out, errOut := runCmd(t, db, "", append([]string{"audit", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, errOut)
	}
	var entries []bot.ExportAudit
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("audit --json is not JSON: %v\n%s", err, out)
	}
	return entries
}

func findAudit(entries []bot.ExportAudit, action, customer, outcome, reason string) bool {
	for _, e := range entries {
		if e.Action == action && e.CustomerID == customer && e.Outcome == outcome && e.Reason == reason {
			return true
		}
	}
	return false
}

// Access, export, erasure and the audit log, through the commands an admin
// runs.
func TestPrivacyCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	mustChat(t, db, "what's the status of my payments?", "status of PAY-2001", "I want to talk to a human")
	if code, _, errOut := runCmd(t, db, "", "link", "--platform", "slack", "--team", "T1", "--user", "U1", "--customer", "C-1001"); code != 0 {
		t.Fatalf("link: %s", errOut)
	}

	// Every access by the tool is in the audit log, the refused one with
	// whose record it was; so is the link.
	entries := mustAudit(t, db, "--since", "1h")
	for _, want := range []struct{ action, customer, outcome, reason string }{
		{"payment_list", "C-1001", "allowed", ""},
		{"payment_lookup", "C-1002", "refused", "not_yours"},
		{"link", "C-1001", "allowed", ""},
	} {
		if !findAudit(entries, want.action, want.customer, want.outcome, want.reason) {
			t.Errorf("audit log lacks %+v:\n%+v", want, entries)
		}
	}
	for _, e := range entries {
		if e.Action == "link" && e.Actor != "admin:dpo" {
			t.Errorf("link entry actor = %q, want admin:dpo", e.Actor)
		}
	}
	if code, out, _ := runCmd(t, db, "", "audit", "--customer", "C-1002"); code != 0 || !strings.Contains(out, "not_yours") || !strings.Contains(out, "asked by C-1001") {
		t.Errorf("audit --customer C-1002 table: exit %d:\n%s", code, out)
	}

	doc := mustExport(t, db, "C-1001")
	if doc.Format != bot.ExportFormat || doc.Customer.ID != "C-1001" || doc.Customer.Email == "" {
		t.Errorf("export header = %q, customer %+v", doc.Format, doc.Customer)
	}
	if len(doc.Conversations) != 1 || len(doc.Identities) != 2 || len(doc.Payments) == 0 {
		t.Fatalf("export: %d conversations, %d identities, %d payments; want 1, 2 (console and Slack), some",
			len(doc.Conversations), len(doc.Identities), len(doc.Payments))
	}
	c := doc.Conversations[0]
	if len(c.Messages) < 6 || len(c.Handoffs) != 1 || !strings.Contains(c.Messages[1].Text+c.Messages[2].Text, "status of my payments") {
		t.Errorf("exported conversation: %d messages, %d handoffs: %+v", len(c.Messages), len(c.Handoffs), c.Messages)
	}
	if !findAudit(mustAudit(t, db), "export", "C-1001", "allowed", "") {
		t.Error("the export is not in the audit log")
	}

	out := filepath.Join(t.TempDir(), "c1001.json")
	if code, _, errOut := runCmd(t, db, "", "export", "--customer", "C-1001", "--out", out); code != 0 {
		t.Fatalf("export --out: %s", errOut)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	before := mustExport(t, db, "C-1002")
	code, stdout, errOut := runCmd(t, db, "", "forget", "--customer", "C-1001", "--by", "Dana (DPO)")
	if code != 0 || !strings.Contains(stdout, "erased customer C-1001: the customer record, 2 identity links, 1 conversation") ||
		!strings.Contains(stdout, "out of reach") {
		t.Fatalf("forget: exit %d, stdout %q, stderr %q", code, stdout, errOut)
	}
	after := mustExport(t, db, "C-1001")
	if after.Customer.Email != "" || len(after.Conversations)+len(after.Identities)+len(after.Payments) != 0 {
		t.Errorf("after forget, export still holds data: %+v", after)
	}
	erase := false
	for _, e := range after.Audit {
		erase = erase || (e.Action == "erase" && e.Actor == "admin:Dana (DPO)")
	}
	if !erase {
		t.Errorf("the erasure is not in the audit log: %+v", after.Audit)
	}
	// The other customer's data is untouched (their export grew by one
	// audit entry: the export above).
	if got := mustExport(t, db, "C-1002"); len(got.Payments) != len(before.Payments) || got.Customer != before.Customer {
		t.Errorf("C-1002 changed by C-1001's erasure: %+v", got)
	}

	if code, stdout, _ := runCmd(t, db, "", "forget", "--customer", "C-1001"); code != 0 || !strings.Contains(stdout, "nothing was stored") {
		t.Errorf("forget again: exit %d, %q", code, stdout)
	}
	if code, _, errOut := runCmd(t, db, "", "export", "--customer", "C-404"); code != 1 || !strings.Contains(errOut, "nothing is stored about customer C-404") {
		t.Errorf("export of an unknown customer: exit %d, %q", code, errOut)
	}
}

func TestPrivacyCommandErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"forget"}, "--customer is required"},
		{[]string{"export"}, "--customer is required"},
		{[]string{"audit", "--since", "yesterday"}, "--since"},
		{[]string{"audit", "--limit", "-1"}, "--limit"},
	}
	for _, tt := range tests {
		code, _, errOut := runCmd(t, db, "", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to write from serve's goroutines while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `firstline serve` runs the retention job: at start, the words of a
// conversation older than FIRSTLINE_RETENTION go, its rows stay.
func TestServeRunsRetention(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	st, err := sqlstore.OpenSQLite(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	c := bot.Conversation{Key: bot.ConversationKey{Platform: bot.Slack, Workspace: "T1", Channel: "D1"},
		State: bot.StateBot, User: "U1", UserName: "Ada", OpenedAt: old, LastMessageAt: old}
	err = st.WithTx(t.Context(), func(tx bot.Tx) error {
		if err := tx.CreateConversation(t.Context(), &c); err != nil {
			return err
		}
		_, err := tx.AddMessage(t.Context(), &bot.Message{ConversationID: c.ID, Role: bot.RoleCustomer, Text: "my address is 1 Main St", Processed: true, CreatedAt: old})
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"FIRSTLINE_DB": db, "FIRSTLINE_HTTP_ADDR": "127.0.0.1:0", "FIRSTLINE_RETENTION": "30d"}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, stdio{in: strings.NewReader(""), out: io.Discard, err: &stderr,
			getenv: func(k string) string { return env[k] }})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "retention: deleted old texts") {
		if time.Now().After(deadline) {
			t.Fatalf("no retention run within 20s; serve said:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}

	st, err = sqlstore.OpenSQLite(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var msgs []bot.Message
	_ = st.WithTx(t.Context(), func(tx bot.Tx) error {
		msgs, err = tx.RecentMessages(t.Context(), c.ID, 10)
		return err
	})
	if err != nil || len(msgs) != 1 || msgs[0].Text != "" {
		t.Errorf("after serve: messages %+v, %v; want the row kept without its words", msgs, err)
	}
}

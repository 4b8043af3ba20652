package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/outbox"
)

type sink struct {
	mu   sync.Mutex
	msgs []bot.Outgoing
}

func (s *sink) Send(_ context.Context, m bot.Outgoing) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return "id", nil
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An admin's edit reaches the running engine without a restart, and an
// invalid edit leaves the last good version live.
func TestPromptEditsAreLive(t *testing.T) {
	dir := t.TempDir()
	promptsDir := filepath.Join(dir, "prompts")
	if err := os.Mkdir(promptsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	msgs := filepath.Join(promptsDir, "messages.yaml")
	mustWrite(t, msgs, "greeting:\n  en: \"Version one. I'm an AI assistant; say human for a person.\"\n")
	cfg, err := LoadConfig(envOf(map[string]string{
		"FIRSTLINE_DB":          filepath.Join(dir, "t.db"),
		"FIRSTLINE_PROMPTS_DIR": promptsDir,
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var logs bytes.Buffer
	p, err := openProduct(ctx, cfg, newLogger(&logs, "info", false))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := &sink{}
	a, err := p.assemble(app.Agents{Platform: bot.Console, Channel: "agents"}, func(app.Parts) (map[bot.Platform]outbox.Sender, error) {
		return map[bot.Platform]outbox.Sender{bot.Console: out}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	greet := func() string {
		t.Helper()
		n++
		id := string(rune('a' + n))
		_, err := a.Engine.Handle(ctx, bot.Incoming{
			Key:  bot.ConversationKey{Platform: bot.Console, Workspace: "w", Channel: "c" + id},
			User: "u" + id, Text: "hi", MessageID: id, Private: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatcher.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		out.mu.Lock()
		defer out.mu.Unlock()
		for _, m := range out.msgs {
			if m.ConversationID != 0 && strings.Contains(m.Text, "assistant") && m.Channel == "c"+id {
				return m.Text
			}
		}
		return ""
	}
	if g := greet(); !strings.Contains(g, "Version one") {
		t.Fatalf("greeting = %q; want the folder's version", g)
	}

	mustWrite(t, msgs, "greeting:\n  en: \"Version two. I'm an AI assistant; say human for a person.\"\n")
	if err := p.watcher.Reload(); err != nil {
		t.Fatal(err)
	}
	if g := greet(); !strings.Contains(g, "Version two") {
		t.Fatalf("greeting after a valid edit = %q", g)
	}

	mustWrite(t, msgs, "greeting:\n  en: \"Version three {{.Nmae}}\"\n")
	err = p.watcher.Reload()
	if err == nil || !strings.Contains(err.Error(), "messages.yaml:2") {
		t.Fatalf("invalid edit: error %v; want one at messages.yaml:2", err)
	}
	if g := greet(); !strings.Contains(g, "Version two") {
		t.Fatalf("greeting after an invalid edit = %q; want the last good version", g)
	}
	if !strings.Contains(logs.String(), "messages.yaml:2") {
		t.Errorf("the rejected edit was not logged with file:line: %s", logs.String())
	}
}

func TestPromptsCheckCommand(t *testing.T) {
	good := t.TempDir()
	mustWrite(t, filepath.Join(good, "faq.yaml"), "entries:\n  - id: a\n    question: Q?\n    keywords: [q]\n    answer: A.\n")
	bad := t.TempDir()
	mustWrite(t, filepath.Join(bad, "messages.yaml"), "greeting:\n  en: \"hello {{.Nobody}}\"\nhandoff_ack:\n  en: \"{{if}}\"\n")
	empty := t.TempDir()
	mustWrite(t, filepath.Join(empty, "phrases.yaml"), "languages:\n  en:\n    phrases: []\n    alone: []\n")

	tests := []struct {
		name string
		dir  string
		code int
		want []string
	}{
		{"good", good, 0, []string{"ok (version", "faq.yaml       folder", "system.md      default"}},
		{"bad templates", bad, 1, []string{filepath.Join(bad, "messages.yaml") + ":2:", filepath.Join(bad, "messages.yaml") + ":4:"}},
		{"emptied phrase list", empty, 1, []string{"phrases.yaml:2:"}},
		{"missing folder", filepath.Join(good, "nope"), 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runBinary(t, t.TempDir(), "", "prompts", "check", tt.dir)
			if code != tt.code {
				t.Fatalf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestModelSelection(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", nil, "offline rules model"},
		{"base URL alone", map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "FIRSTLINE_MODEL": "qwen2.5"}, "qwen2.5 at http://127.0.0.1:11434/v1"},
		{"key alone", map[string]string{"OPENAI_API_KEY": "sk-test-secret"}, DefaultModel + " at "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			m, err := newModel(cfg, nil, newLogger(&bytes.Buffer{}, "info", false))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Name(), tt.want) || strings.Contains(m.Name(), "sk-test-secret") {
				t.Errorf("model %q; want %q and no key", m.Name(), tt.want)
			}
		})
	}
}

func TestDBForLog(t *testing.T) {
	tests := []struct{ db, want string }{
		{"firstline.db", "firstline.db"},
		{"postgres://firstline@db:5432/fl?sslmode=require", "postgres://firstline@db:5432/fl?sslmode=require"},
		{"postgres://firstline:hunter2secret@db:5432/fl", "postgres://firstline:xxxxx@db:5432/fl"},
		{"postgresql://db/fl?password=hunter2secret&sslmode=disable", "postgresql://db/fl?password=xxxxx&sslmode=disable"},
		{"postgres://db/fl?sslpassword=hunter2secret", "postgres://db/fl?sslpassword=xxxxx"},
		{"postgres://firstline:hunter2secret@db:5432/fl\x7f", "postgres://firstline:xxxxx@db:5432/fl\x7f"},
	}
	for _, tt := range tests {
		got := dbForLog(tt.db)
		if got != tt.want || strings.Contains(got, "hunter2secret") {
			t.Errorf("dbForLog(%q) = %q, want %q", tt.db, got, tt.want)
		}
	}
}

package prompts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// greetingFile is a messages.yaml that overrides the greeting with text.
func greetingFile(text string) string {
	return fmt.Sprintf("greeting:\n  en: %q\n", text)
}

// badFile is a messages.yaml with an unknown variable on line 2.
const badFile = "greeting:\n  en: \"Hi {{.Nmae}}\"\n"

func mustWrite(t testing.TB, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustReplace replaces a file in one step, as editors that save by rename do.
func mustReplace(t testing.TB, dir, name, text string) {
	t.Helper()
	mustWrite(t, dir, name+".tmp", text)
	if err := os.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log sink that a test can read while a Watcher writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// recorder counts a Watcher's callbacks.
type recorder struct {
	mu       sync.Mutex
	reloads  []string // versions
	rejected []error
}

func (r *recorder) onReload(s *Set) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reloads = append(r.reloads, s.Version)
}

func (r *recorder) onReject(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected = append(r.rejected, err)
}

func (r *recorder) counts() (reloads, rejects int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reloads), len(r.rejected)
}

func (r *recorder) lastReject() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rejected) == 0 {
		return nil
	}
	return r.rejected[len(r.rejected)-1]
}

// newTestWatcher returns a watcher of a new folder holding messages.yaml
// with greeting text "v1", its callbacks and its log.
func newTestWatcher(t *testing.T, cfg WatchConfig) (*Watcher, *recorder, *syncBuffer) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
		mustWrite(t, cfg.Dir, FileMessages, greetingFile("v1"))
	}
	rec := &recorder{}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.OnReload = rec.onReload
	cfg.OnReject = rec.onReject
	w, err := NewWatcher(cfg)
	if err != nil {
		t.Fatalf("NewWatcher: %v", err)
	}
	return w, rec, logs
}

func greeting(t testing.TB, s *Set) string {
	t.Helper()
	g, err := s.Message("greeting", "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNewWatcherFailsFast(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	notDir := filepath.Join(t.TempDir(), "file")
	mustWrite(t, filepath.Dir(notDir), "file", "x")
	invalid := t.TempDir()
	mustWrite(t, invalid, FileMessages, badFile)
	valid := t.TempDir()

	tests := []struct {
		name string
		cfg  WatchConfig
		want string
	}{
		{"no folder", WatchConfig{}, "no folder"},
		{"missing folder", WatchConfig{Dir: missing}, "prompt folder is missing"},
		{"not a folder", WatchConfig{Dir: notDir}, "is not a folder"},
		{"invalid files", WatchConfig{Dir: invalid}, "messages.yaml:2: greeting.en: unknown variable .Nmae"},
		{"check fails", WatchConfig{Dir: valid, Check: func(*Set) error { return errors.New("matcher says no") }}, "matcher says no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWatcher(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewWatcher = %v, %v; want an error containing %q", w, err, tt.want)
			}
		})
	}
}

func TestWatcherReload(t *testing.T) {
	w, rec, logs := newTestWatcher(t, WatchConfig{})
	dir := w.cfg.Dir
	v1 := w.Current()
	if got := greeting(t, v1); got != "v1" {
		t.Fatalf("greeting = %q, want v1", got)
	}
	if v1.Source(FileMessages) != "folder" || v1.Source(FileFAQ) != "default" {
		t.Errorf("sources: messages %s, faq %s; want folder, default", v1.Source(FileMessages), v1.Source(FileFAQ))
	}

	// Nothing changed: nothing happens.
	if err := w.Reload(); err != nil || w.Current() != v1 {
		t.Fatalf("Reload of an unchanged folder = %v, set changed %v", err, w.Current() != v1)
	}
	// The same content written again: still nothing.
	mustWrite(t, dir, FileMessages, greetingFile("v1"))
	if err := w.Reload(); err != nil || w.Current() != v1 {
		t.Fatalf("Reload of rewritten content = %v, set changed %v", err, w.Current() != v1)
	}

	// A valid change goes live.
	mustWrite(t, dir, FileMessages, greetingFile("v2"))
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	v2 := w.Current()
	if got := greeting(t, v2); got != "v2" || v2.Version == v1.Version {
		t.Fatalf("after a change: greeting %q version %s, want v2 and a new version", got, v2.Version)
	}
	if reloads, rejects := rec.counts(); reloads != 1 || rejects != 0 {
		t.Errorf("callbacks: %d reloads, %d rejects; want 1, 0", reloads, rejects)
	}

	// An invalid change is rejected with file:line, logged, and v2 stays.
	mustWrite(t, dir, FileMessages, badFile)
	err := w.Reload()
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Error() != "messages.yaml:2: greeting.en: unknown variable .Nmae (known: none)" {
		t.Fatalf("Reload of an invalid file = %v, want the error at messages.yaml:2", err)
	}
	if w.Current() != v2 {
		t.Error("an invalid change replaced the live set")
	}
	if _, rejects := rec.counts(); rejects != 1 {
		t.Errorf("%d rejects, want 1", rejects)
	}
	if l := logs.String(); !strings.Contains(l, "prompt files rejected") || !strings.Contains(l, "messages.yaml:2: greeting.en: unknown variable .Nmae") {
		t.Errorf("log lacks the rejection and its file:line:\n%s", l)
	}
	// Asking again reports the same problem without calling OnReject again.
	if err := w.Reload(); err == nil {
		t.Error("second Reload of the invalid file: no error")
	}
	if _, rejects := rec.counts(); rejects != 1 {
		t.Errorf("%d rejects after asking twice, want 1", rejects)
	}

	// Undoing the bad edit: the folder is the live version again.
	mustWrite(t, dir, FileMessages, greetingFile("v2"))
	if err := w.Reload(); err != nil || w.Current() != v2 {
		t.Fatalf("Reload after undo = %v, set changed %v", err, w.Current() != v2)
	}
	if reloads, _ := rec.counts(); reloads != 1 {
		t.Errorf("%d reloads after undo, want still 1", reloads)
	}

	// A file removed from the folder falls back to its default.
	if err := os.Remove(filepath.Join(dir, FileMessages)); err != nil {
		t.Fatal(err)
	}
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := w.Current().Version; got != Default().Version {
		t.Errorf("empty folder: version %s, want the defaults' %s", got, Default().Version)
	}
}

func TestWatcherCheck(t *testing.T) {
	w, rec, _ := newTestWatcher(t, WatchConfig{Check: func(s *Set) error {
		if greeting, _ := s.Message("greeting", "en", nil); greeting == "forbidden" {
			return errors.New("the check rejects this greeting")
		}
		return nil
	}})
	live := w.Current()
	mustWrite(t, w.cfg.Dir, FileMessages, greetingFile("forbidden"))
	if err := w.Reload(); err == nil || !strings.Contains(err.Error(), "the check rejects") {
		t.Fatalf("Reload = %v, want the check's error", err)
	}
	if w.Current() != live {
		t.Error("a set the check rejected went live")
	}
	if err := rec.lastReject(); err == nil {
		t.Error("OnReject not called")
	}
}

func TestWatcherFolderRemoved(t *testing.T) {
	w, rec, logs := newTestWatcher(t, WatchConfig{})
	dir := w.cfg.Dir
	live := w.Current()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// Without the check, an absent folder would read as the defaults.
	if err := w.Reload(); !errors.Is(err, ErrFolderMissing) {
		t.Fatalf("Reload = %v, want ErrFolderMissing", err)
	}
	if w.Current() != live {
		t.Fatal("a removed folder replaced the live set")
	}
	if !errors.Is(rec.lastReject(), ErrFolderMissing) {
		t.Errorf("OnReject got %v, want ErrFolderMissing", rec.lastReject())
	}
	if !strings.Contains(logs.String(), "prompt folder is missing") {
		t.Errorf("log lacks the missing folder:\n%s", logs)
	}
	_ = w.Reload()
	if _, rejects := rec.counts(); rejects != 1 {
		t.Errorf("%d rejects for one removal, want 1", rejects)
	}

	// The folder is back, with new content.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, dir, FileMessages, greetingFile("back"))
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := greeting(t, w.Current()); got != "back" {
		t.Errorf("greeting = %q, want back", got)
	}
}

// Readers see a whole set at all times while reloads swap it.
func TestWatcherConcurrentReads(t *testing.T) {
	w, _, _ := newTestWatcher(t, WatchConfig{})
	dir := w.cfg.Dir
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				s := w.Current()
				g, err := s.Message("greeting", "en", nil)
				if err != nil || !strings.HasPrefix(g, "v") {
					t.Errorf("greeting = %q, %v", g, err)
					return
				}
				if _, err := s.System(SystemData{FAQ: s.FAQ}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 20 {
		text := greetingFile(fmt.Sprintf("v%d", i))
		if i%5 == 4 {
			text = badFile
		}
		mustWrite(t, dir, FileMessages, text)
		_ = w.Reload()
	}
	cancel()
	wg.Wait()
	if got := greeting(t, w.Current()); got != "v18" {
		t.Errorf("greeting = %q, want v18 (v19 is invalid)", got)
	}
}

// waitFor polls cond for up to 10 seconds: generous, since it covers file
// system events on a loaded machine; a pass takes milliseconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run starts w.Run and returns a function that stops it and checks that it
// returned nil promptly.
func run(t *testing.T, w *Watcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
}

func TestWatcherRunFsnotify(t *testing.T) {
	w, rec, logs := newTestWatcher(t, WatchConfig{Debounce: 10 * time.Millisecond, Poll: 20 * time.Millisecond})
	dir := w.cfg.Dir
	v1 := w.Current().Version
	stop := run(t, w)
	defer stop()

	// Editors write a file in several steps; the last one is what counts.
	// A rename over the file, as editors and ConfigMaps do it, is seen too.
	mustWrite(t, dir, FileMessages, "greeting:\n")
	mustReplace(t, dir, FileMessages, greetingFile("v2"))
	waitFor(t, "the new version", func() bool { return w.Current().Version != v1 })
	if got := greeting(t, w.Current()); got != "v2" {
		t.Errorf("greeting = %q, want v2", got)
	}

	// An invalid edit is rejected; the live set stays.
	live := w.Current()
	_, before := rec.counts()
	mustWrite(t, dir, FileMessages, badFile)
	waitFor(t, "the rejection", func() bool {
		_, n := rec.counts()
		return n > before && strings.Contains(rec.lastReject().Error(), "messages.yaml:2:")
	})
	if w.Current() != live {
		t.Error("an invalid edit replaced the live set")
	}

	// The folder is removed: the last good set stays; it is noticed when it
	// comes back, watched again.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the missing folder", func() bool { return errors.Is(rec.lastReject(), ErrFolderMissing) })
	if w.Current() != live {
		t.Error("removing the folder replaced the live set")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, dir, FileMessages, greetingFile("v3"))
	waitFor(t, "the recreated folder", func() bool { return greeting(t, w.Current()) == "v3" })
	waitFor(t, "watching again", func() bool { return strings.Contains(logs.String(), "watching the prompt folder again") })
	mustWrite(t, dir, FileMessages, greetingFile("v4"))
	waitFor(t, "a change after watching again", func() bool { return greeting(t, w.Current()) == "v4" })
}

func TestWatcherRunPolling(t *testing.T) {
	w, rec, logs := newTestWatcher(t, WatchConfig{Poll: time.Millisecond})
	var polls atomic.Int64 // Run tries to watch again at each poll
	w.notify = func(string) (*fsnotify.Watcher, error) {
		polls.Add(1)
		return nil, errors.New("no inotify here")
	}
	stop := run(t, w)
	defer stop()

	// Files are replaced whole (written aside, renamed over), so that the
	// counts below do not depend on a poll reading a half-written file.
	mustReplace(t, w.cfg.Dir, FileMessages, greetingFile("v2"))
	waitFor(t, "the new version", func() bool { return greeting(t, w.Current()) == "v2" })
	mustReplace(t, w.cfg.Dir, FileMessages, badFile)
	waitFor(t, "the rejection", func() bool { return rec.lastReject() != nil })
	if got := greeting(t, w.Current()); got != "v2" {
		t.Errorf("greeting = %q after an invalid edit, want v2", got)
	}
	// Polling compares content: a bad file read a thousand times is one
	// rejection, and the fallback is logged once.
	after := polls.Load()
	waitFor(t, "more polls", func() bool { return polls.Load() >= after+10 })
	if reloads, rejects := rec.counts(); reloads != 1 || rejects != 1 {
		t.Errorf("%d reloads, %d rejects; want 1, 1", reloads, rejects)
	}
	if n := strings.Count(logs.String(), "polling it instead"); n != 1 {
		t.Errorf("fallback logged %d times, want once:\n%s", n, logs)
	}
}

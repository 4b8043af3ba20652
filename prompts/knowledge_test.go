package prompts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestKnowledgeFolder(t *testing.T) {
	article := func(title, url, body string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("---\ntitle: " + title + "\nurl: " + url + "\nlanguage: en\n---\n" + body + "\n")}
	}
	t.Run("embedded example", func(t *testing.T) {
		s, err := Load(nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.KnowledgeArticles() < 25 || s.Source(FolderKnowledge) != "default" {
			t.Fatalf("%d articles from %q, want the shipped example", s.KnowledgeArticles(), s.Source(FolderKnowledge))
		}
		idx, err := s.Knowledge()
		if err != nil {
			t.Fatal(err)
		}
		hits, err := idx.Search(context.Background(), "how long does a refund take", "en", 3)
		if err != nil || len(hits) == 0 || !strings.Contains(hits[0].Passage.URL, "refund") {
			t.Errorf("search = %+v, %v; want a refund article first", hits, err)
		}
	})
	t.Run("the folder's own replaces the example", func(t *testing.T) {
		s, err := Load(fstest.MapFS{"knowledge/a.md": article("Opening hours", "https://help.acme.test/hours", "We are open 9 to 5.")})
		if err != nil {
			t.Fatal(err)
		}
		if s.KnowledgeArticles() != 1 || s.Source(FolderKnowledge) != "folder" || s.KnowledgeURLs()[0] != "https://help.acme.test/hours" {
			t.Errorf("%d articles from %q: %v", s.KnowledgeArticles(), s.Source(FolderKnowledge), s.KnowledgeURLs())
		}
	})
	t.Run("an empty folder means no help center", func(t *testing.T) {
		s, err := Load(fstest.MapFS{"knowledge/.keep": &fstest.MapFile{}})
		if err != nil {
			t.Fatal(err)
		}
		if idx, err := s.Knowledge(); idx != nil || err != nil || s.KnowledgeArticles() != 0 {
			t.Errorf("empty folder: %v, %v, %d articles", idx, err, s.KnowledgeArticles())
		}
	})
	t.Run("errors name the article's file and line", func(t *testing.T) {
		_, err := Load(fstest.MapFS{
			"knowledge/en/ok.md":  article("Fees", "https://help.acme.test/fees", "No fees."),
			"knowledge/en/dup.md": article("Fees again", "https://help.acme.test/fees", "Still none."),
			"knowledge/sv/bad.md": &fstest.MapFile{Data: []byte("---\nurl: https://help.acme.test/sv\n---\ntext\n")},
		})
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"knowledge/sv/bad.md:1: missing title", "knowledge/en/dup.md", "knowledge/en/ok.md:3:"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
	t.Run("an article's change is a new version", func(t *testing.T) {
		a, _ := Load(fstest.MapFS{"knowledge/a.md": article("Hours", "https://help.acme.test/h", "9 to 5.")})
		b, _ := Load(fstest.MapFS{"knowledge/a.md": article("Hours", "https://help.acme.test/h", "9 to 6.")})
		if a == nil || b == nil || a.Version == b.Version {
			t.Error("editing an article did not change the version")
		}
	})
}

// An article edited in a sub-folder of the help center goes live without a
// restart, seen by fsnotify; an invalid edit keeps the last good index.
func TestWatcherKnowledgeArticle(t *testing.T) {
	w, rec, _ := newTestWatcher(t, WatchConfig{Debounce: 10 * time.Millisecond, Poll: 20 * time.Millisecond})
	dir := w.cfg.Dir
	if err := os.MkdirAll(filepath.Join(dir, FolderKnowledge, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(body string) {
		t.Helper()
		mustWrite(t, filepath.Join(dir, FolderKnowledge, "en"), "hours.md",
			"---\ntitle: Opening hours\nurl: https://help.acme.test/hours\n---\n"+body+"\n")
	}
	write("We answer from 9 to 5.")
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	find := func(s *Set, q string) bool {
		idx, err := s.Knowledge()
		if err != nil || idx == nil {
			return false
		}
		hits, err := idx.Search(context.Background(), q, "en", 1)
		return err == nil && len(hits) > 0 && strings.Contains(hits[0].Passage.Text, q)
	}
	if !find(w.Current(), "9 to 5") || w.Current().KnowledgeArticles() != 1 {
		t.Fatalf("the folder's article is not the help center: %d articles", w.Current().KnowledgeArticles())
	}
	stop := run(t, w)
	defer stop()
	write("We answer from 8 to 6 now.")
	waitFor(t, "the edited article", func() bool { return find(w.Current(), "8 to 6") })

	live := w.Current()
	_, before := rec.counts()
	mustWrite(t, filepath.Join(dir, FolderKnowledge, "en"), "hours.md", "---\nurl: https://help.acme.test/hours\n---\nno title\n")
	waitFor(t, "the rejection", func() bool {
		_, n := rec.counts()
		return n > before && strings.Contains(rec.lastReject().Error(), "knowledge/en/hours.md:1:")
	})
	if w.Current() != live || !find(w.Current(), "8 to 6") {
		t.Error("an invalid article replaced the live help center")
	}
}

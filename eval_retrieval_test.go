package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustWriteFiles writes files (path: content) under dir.
func mustWriteFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The shipped retrieval suite on the shipped help center, from the
// repository: the figures of every language, and the goal met.
func TestEvalRetrievalShipped(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runBinary(t, wd, "", "eval", "--retrieval")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"recall@1", "recall@3", "MRR", "\nde ", "\nen ", "\nes ", "\nfr ", "\nsv ", "\nall ", "recall@3 0.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Searching 79 questions") {
		t.Errorf("stderr: %s", errOut)
	}

	// Above the figure reached, the command fails, the misses listed.
	out, errOut, code = runBinary(t, wd, "", "eval", "--retrieval", "--min-recall3", "1")
	if code != 1 || !strings.Contains(errOut, "below --min-recall3 1.000") || !strings.Contains(out, "miss (") {
		t.Errorf("--min-recall3 1: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// A cases file of one's own, on the help center built into the binary (no
// prompt folder): a right case, a miss, and a URL the help center lacks.
func TestEvalRetrievalCasesFile(t *testing.T) {
	dir := t.TempDir()
	mustWriteFiles(t, dir, map[string]string{"cases.yaml": `cases:
  - q: "how long does a refund take"
    lang: en
    urls: [https://help.example.com/en/articles/refund-times]
  - q: "how long does a refund take"
    lang: en
    urls: [https://help.example.com/en/articles/no-such-article]
`})
	out, errOut, code := runBinary(t, dir, "", "eval", "--retrieval", "--cases", "cases.yaml", "--min-recall3", "0.5")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "all          2     0.500     0.500  0.500") {
		t.Errorf("figures:\n%s", out)
	}
	if !strings.Contains(out, `miss (not in top 10) line 5 [en] "how long does a refund take": want https://help.example.com/en/articles/no-such-article`) {
		t.Errorf("the miss is not listed:\n%s", out)
	}
	if !strings.Contains(errOut, "cases.yaml:5: https://help.example.com/en/articles/no-such-article is not an article of the help center") {
		t.Errorf("stderr does not name the unknown article:\n%s", errOut)
	}
}

func TestEvalRetrievalErrors(t *testing.T) {
	dir := t.TempDir()
	mustWriteFiles(t, dir, map[string]string{"bad.yaml": "cases:\n  - q: hi\n    lang: xx\n    urls: [u]\n"})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no cases in the prompt folder", []string{"eval", "--retrieval"}, 1, "no retrieval cases at prompts/evals/retrieval/cases.yaml"},
		{"invalid cases", []string{"eval", "--retrieval", "--cases", "bad.yaml"}, 1, `bad.yaml:2: unknown lang "xx"`},
		{"missing cases file", []string{"eval", "--retrieval", "--cases", "none.yaml"}, 1, "none.yaml"},
		{"files with --retrieval", []string{"eval", "--retrieval", "x.yaml"}, 2, "--retrieval takes no --json and no FILES"},
		{"--cases without --retrieval", []string{"eval", "--cases", "bad.yaml"}, 2, "go with --retrieval"},
		{"--min-recall3 out of range", []string{"eval", "--retrieval", "--min-recall3", "90"}, 2, "want a share from 0 to 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runBinary(t, dir, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant %q", code, tt.code, errOut, tt.want)
			}
		})
	}
}

// An export imported into an empty prompt folder: the articles written,
// every skipped file named with its reason, nothing replaced without
// --force, and the imported help center loaded and searched by the bot.
func TestKnowledgeImport(t *testing.T) {
	dir := t.TempDir()
	mustWriteFiles(t, dir, map[string]string{
		"export/cards/lost.html": `<!doctype html><html lang="en"><head><title>Lost card | Help</title>
<link rel="canonical" href="https://help.acme.example/cards/lost-card"><script>x()</script></head>
<body><nav>Home</nav><main><h1>Lost or stolen card</h1><p>Freeze the card in the app under <b>Cards</b>.</p>
<h2>A new card</h2><ul><li>Order it in the app.</li><li>It arrives in 5 days.</li></ul></main></body></html>`,
		"export/sv/avgifter.html": `<html lang="sv"><h1>Avgifter</h1><p>Uttag i automat kostar 2 %.</p></html>`,
		"export/pin.md":           "# Your PIN\n\nSee your PIN in the app under Cards, then PIN.\n",
		"export/lost-again.html":  `<link rel="canonical" href="https://help.acme.example/cards/lost-card/"><h1>Lost card (old)</h1><p>Old text.</p>`,
		"export/empty.html":       `<h1>Coming soon</h1>`,
		"export/untitled.html":    `<p>No title here.</p>`,
		"export/logo.png":         "\x89PNG",
	})
	prompts := filepath.Join(dir, "myprompts")
	args := []string{"knowledge", "import", "export", "--out", filepath.Join(prompts, "knowledge"), "--base-url", "https://help.acme.example/articles"}
	out, errOut, code := runBinary(t, dir, "", args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"export/empty.html: skipped: no text",
		"export/logo.png: skipped: not an HTML or Markdown page",
		"export/untitled.html: skipped: no title",
		"export/lost-again.html: skipped: duplicate url https://help.acme.example/cards/lost-card/: export/cards/lost.html has it too",
	} {
		if !strings.Contains(errOut, filepath.FromSlash(want)) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "imported 3 articles into "+filepath.Join(prompts, "knowledge")+", skipped 4 files") {
		t.Errorf("stdout:\n%s", out)
	}
	lost, err := os.ReadFile(filepath.Join(prompts, "knowledge", "en", "lost-card.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "---\ntitle: Lost or stolen card\nurl: https://help.acme.example/cards/lost-card\nlanguage: en\n---\n" +
		"Freeze the card in the app under **Cards**.\n\n## A new card\n\n- Order it in the app.\n- It arrives in 5 days.\n"
	if string(lost) != want {
		t.Errorf("en/lost-card.md:\n%s\nwant:\n%s", lost, want)
	}
	sv, err := os.ReadFile(filepath.Join(prompts, "knowledge", "sv", "avgifter.md"))
	if err != nil || !strings.Contains(string(sv), "url: https://help.acme.example/articles/sv/avgifter\nlanguage: sv\n") {
		t.Errorf("sv/avgifter.md: %v\n%s", err, sv)
	}

	// Again: nothing is replaced, and with nothing imported the command fails.
	_, errOut, code = runBinary(t, dir, "", args...)
	if code != 1 || !strings.Contains(errOut, "lost-card.md exists (--force replaces it)") || !strings.Contains(errOut, "nothing imported") {
		t.Errorf("second import: exit %d\n%s", code, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(prompts, "knowledge", "en", "lost-card.md")); string(got) != want {
		t.Errorf("the article was changed without --force")
	}
	if _, errOut, code = runBinary(t, dir, "", append(args, "--force")...); code != 0 {
		t.Errorf("--force: exit %d\n%s", code, errOut)
	}

	// The prompt folder with the imported help center is valid, and the
	// articles are found.
	if out, _, code := runBinary(t, dir, "", "prompts", "check", prompts); code != 0 {
		t.Errorf("prompts check: exit %d\n%s", code, out)
	}
	mustWriteFiles(t, prompts, map[string]string{"evals/retrieval/cases.yaml": `cases:
  - {q: "I lost my card", lang: en, urls: [https://help.acme.example/cards/lost-card]}
  - {q: "vad kostar uttag i automat", lang: sv, urls: [https://help.acme.example/articles/sv/avgifter]}
  - {q: "where do I see my PIN", lang: en, urls: [https://help.acme.example/articles/pin]}
`})
	out, errOut, code = runBinary(t, dir, "", "eval", "--retrieval", "--prompts", prompts, "--min-recall3", "1")
	if code != 0 || !strings.Contains(out, "all          3     1.000     1.000  1.000") {
		t.Errorf("retrieval on the imported help center: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestKnowledgeImportUsage(t *testing.T) {
	dir := t.TempDir()
	mustWriteFiles(t, dir, map[string]string{"export/a.md": "# A\n\ntext\n", "file.txt": "x"})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"knowledge"}, 2, "knowledge import DIR"},
		{"unknown subcommand", []string{"knowledge", "export"}, 2, `unknown knowledge command "export"`},
		{"no folder", []string{"knowledge", "import"}, 2, "want 1 argument(s)"},
		{"bad language", []string{"knowledge", "import", "export", "--lang", "it"}, 2, `--lang "it"`},
		{"relative base URL", []string{"knowledge", "import", "export", "--base-url", "/articles"}, 2, "--base-url"},
		{"not a folder", []string{"knowledge", "import", "file.txt"}, 1, "file.txt is not a folder"},
		{"no url for a page", []string{"knowledge", "import", "export", "--out", "kb"}, 1, "a.md: skipped: no url (no canonical link or og:url): give a base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runBinary(t, dir, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant %q", code, tt.code, errOut, tt.want)
			}
		})
	}
}

package prompts

import (
	"errors"
	"testing"
	"testing/fstest"
)

// FuzzLoadFiles feeds arbitrary content to each of the other prompt files
// (the system prompt and summary templates, the FAQ and the phrases): Load
// must never panic or hang, its errors must name the file and a line in it,
// and a set it accepts must render its templates with sample data.
func FuzzLoadFiles(f *testing.F) {
	files := []string{FileSystem, FileSummary, FileFAQ, FilePhrases}
	for i, name := range files {
		f.Add(uint8(i), []byte(mustReadDefault(f, name)))
	}
	for _, seed := range []struct {
		file uint8
		text string
	}{
		{0, "{{if .Linked}}linked{{else}}{{range .FAQ}}{{.Question}}{{end}}{{end}}"},
		{0, "{{.Nope}}"},
		{0, "{{range .Today}}x{{end}}"},
		{1, "{{.ID}} {{range .Messages}}{{.Role}}: {{.Text}}{{end}}"},
		{2, "entries:\n  - id: a\n    question: q\n    keywords: [k]\n    answer: a\n  - id: a\n"},
		{3, "en:\n  phrases: [human]\n  alone: []\n"},
		{3, "en: {phrases: [\"\"]}\n"},
	} {
		f.Add(seed.file, []byte(seed.text))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		if len(data) > 16<<10 {
			return // prompt files are a few kilobytes
		}
		name := files[int(which)%len(files)]
		s, err := Load(fstest.MapFS{name: {Data: data}})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Load error %T %v, want Errors", err, err)
			}
			lines := countLines(data)
			for _, e := range errs {
				if e.File != name || e.Line < 0 || e.Line > lines {
					t.Fatalf("error %q: want %s at a line in 1..%d (or 0)", e.Error(), name, lines)
				}
			}
			return
		}
		if _, err := s.System(systemSample().(SystemData)); err != nil {
			t.Fatalf("System: %v", err)
		}
		if _, err := s.Summary(summarySample().(map[string]any)); err != nil {
			t.Fatalf("Summary: %v", err)
		}
	})
}

package prompts

import (
	"errors"
	"testing"
	"testing/fstest"
)

// FuzzLoadMessages feeds arbitrary messages.yaml content to Load. It must
// never panic or hang; an error must be an Errors about messages.yaml at
// lines of the file; and a nil error means every message renders in every
// language with its sample data, so that a set that went live cannot fail
// to render a documented message.
func FuzzLoadMessages(f *testing.F) {
	f.Add([]byte(mustReadDefault(f, FileMessages)))
	for _, seed := range []string{
		"greeting:\n  en: \"Hi {{if .X} there\"\n",
		"agent_joined:\n  en: \"{{.Agent}} from our\n    support {{.Nmae}}\"\n",
		"payments:\n  en: |-\n    {{range .Payments}}- {{.Reference}}\n    {{end}}\n",
		"payment:\n  en: >\n    {{with .Payment}}{{.Amount}}\n\n    {{.Status}}{{end}}\n",
		"handoff_ack:\n  en: 'It''s {{if .Position}}#{{.Position}}{{else}}soon{{end}}'\n  sv: \"a\\n\\\"{{.Position}}\\\"\\x41\"\n",
		"greeting:\n\ten: hi\n",
		"greeting: {}\nresolved:\n  sv: x\n",
		"greeting:\n  en: &a hi\nfallback:\n  en: *a\n",
		"greeting:\n  en: \"{{define \\\"x\\\"}}{{end}}{{template \\\"x\\\"}}\"\n",
		"rating_thanks:\n  en: \"{{printf \\\"%5d\\\" .Rating}} {{len \\\"abc\\\"}} {{index .Rating}}\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load(fstest.MapFS{FileMessages: {Data: data}})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Load error %T %v, want Errors", err, err)
			}
			lines := countLines(data)
			for _, e := range errs {
				if e.File != FileMessages || e.Line < 0 || e.Line > lines {
					t.Fatalf("error %q: want %s at a line in 1..%d (or 0)", e.Error(), FileMessages, lines)
				}
			}
			return
		}
		for _, name := range MessageNames() {
			langs := s.Languages(name)
			if len(langs) == 0 {
				t.Fatalf("message %s has no language", name)
			}
			for _, lang := range append(langs, "zz") {
				if _, err := s.Message(name, lang, MessageSample(name)); err != nil {
					t.Fatalf("Message(%s, %s): %v", name, lang, err)
				}
			}
		}
	})
}

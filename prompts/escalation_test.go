package prompts

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultEscalation(t *testing.T) {
	e := Default().Escalation
	if e.Offers != 1 || !e.CannotHelp || e.Repeats != (Repeats{Times: 3, Similarity: 0.8, MinLength: 10}) || e.Frustration.Times != 1 {
		t.Errorf("defaults = %+v", e)
	}
	codes := map[string]bool{}
	for _, l := range e.Frustration.Languages {
		codes[l.Code] = len(l.Phrases) > 0
	}
	for _, code := range []string{"en", "sv", "de", "es", "fr"} {
		if !codes[code] {
			t.Errorf("no frustration phrases in %s", code)
		}
	}
}

// A key left out keeps its default, so a file may hold only what it changes.
func TestEscalationPartialFile(t *testing.T) {
	s, err := Load(fstest.MapFS{FileEscalation: {Data: []byte("offers: 0\nfrustration:\n  times: 0\n")}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := defaultEscalation()
	if err != nil {
		t.Fatal(err)
	}
	want.Offers, want.Frustration.Times = 0, 0
	if diff := cmp.Diff(want, s.Escalation); diff != "" {
		t.Errorf("escalation (-want +got):\n%s", diff)
	}
}

func TestEscalationErrors(t *testing.T) {
	tests := []struct {
		name, file string
		line       int
		msg        string
	}{
		{"offers too many", "offers: 9\n", 1, "offers: want a whole number from 0 to 5"},
		{"repeats once", "repeats:\n  times: 1\n", 2, "repeats.times: 1 would count every question"},
		{"similarity too low", "repeats:\n  similarity: 0.2\n", 2, "repeats.similarity: want a number from 0.5 to 1"},
		{"cannot_help not a bool", "cannot_help: maybe\n", 1, "cannot_help must be true or false"},
		{"empty phrase", "frustration:\n  languages:\n    en:\n      phrases: [useless, '']\n", 4, "empty item"},
		{"punctuation only", "frustration:\n  languages:\n    en:\n      phrases:\n        - useless\n        - '!!!'\n", 6, "has no words, only punctuation"},
		{"negation of two words", "frustration:\n  languages:\n    en:\n      phrases: [useless]\n      negations: [not at all]\n", 5, "must be a single word"},
		{"language without phrases", "frustration:\n  languages:\n    en:\n      negations: [not]\n", 3, `frustration language "en" has no phrases`},
		{"unknown key", "offer: 1\n", 1, `unknown key "offer"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{FileEscalation: {Data: []byte(tt.file)}})
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("Load = %v, want Errors", err)
			}
			e := es[0]
			if e.File != FileEscalation || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error = %s; want %s:%d: …%s…", e, FileEscalation, tt.line, tt.msg)
			}
		})
	}
}

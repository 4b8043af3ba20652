package knowledge

import (
	"context"
	"os"
	"strings"
	"testing"
)

// mustLoadShipped indexes the shipped help center, prompts/knowledge.
func mustLoadShipped(t testing.TB) *Index {
	t.Helper()
	articles, err := LoadDir(os.DirFS("../.."), "prompts/knowledge")
	if err != nil {
		t.Fatalf("the shipped help center is invalid:\n%v", err)
	}
	idx, err := Build(articles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

// shippedCases is the shipped retrieval suite: it lives with the prompt
// files, so that "firstline eval --retrieval" finds it there.
const shippedCases = "../../prompts/evals/retrieval/cases.yaml"

func mustLoadCases(t testing.TB) []Case {
	t.Helper()
	data, err := os.ReadFile(shippedCases)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ParseCases(shippedCases, data)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestRetrievalQuality is the retrieval eval on the shipped help center:
// recall@3 must stay at 0.9 or above.
func TestRetrievalQuality(t *testing.T) {
	idx := mustLoadShipped(t)
	cases := mustLoadCases(t)
	if len(cases) < 60 {
		t.Errorf("%d retrieval cases, want at least 60", len(cases))
	}
	urls := map[string]bool{}
	for _, u := range idx.URLs() {
		urls[u] = true
	}
	for _, c := range cases {
		for _, u := range c.URLs {
			if !urls[u] {
				t.Errorf("%s:%d: %s is not a shipped article", shippedCases, c.Line, u)
			}
		}
	}
	r, err := Evaluate(context.Background(), idx, cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d articles, %d passages\n%s", idx.Articles(), idx.Len(), r)
	for _, l := range languages {
		if r.ByLang[l].Cases < 10 {
			t.Errorf("%s: %d cases, want at least 10", l, r.ByLang[l].Cases)
		}
	}
	if r.Overall.RecallAt3 < 0.9 {
		t.Errorf("recall@3 = %.3f, want >= 0.9", r.Overall.RecallAt3)
	}
}

type fakeSearcher struct {
	search func(q, lang string) []Hit
}

func (f *fakeSearcher) Search(_ context.Context, q, lang string, k int) ([]Hit, error) {
	return f.search(q, lang), nil
}

var _ Searcher = (*fakeSearcher)(nil)

func TestEvaluateMetrics(t *testing.T) {
	hit := func(url string) Hit { return Hit{Passage: Passage{URL: url}} }
	results := map[string][]Hit{
		"first":  {hit("a"), hit("b")},
		"second": {hit("b"), hit("b"), hit("a")}, // b's passages count once: a is 2nd
		"fourth": {hit("x"), hit("y"), hit("z"), hit("a")},
		"none":   {hit("x")},
	}
	f := &fakeSearcher{search: func(q, _ string) []Hit { return results[q] }}
	cases := []Case{
		{Question: "first", Lang: "en", URLs: []string{"a"}},
		{Question: "second", Lang: "en", URLs: []string{"a"}},
		{Question: "fourth", Lang: "sv", URLs: []string{"q", "a"}},
		{Question: "none", Lang: "sv", URLs: []string{"a"}},
	}
	r, err := Evaluate(context.Background(), f, cases)
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{Cases: 4, RecallAt1: 0.25, RecallAt3: 0.5, MRR: (1 + 0.5 + 0.25) / 4}
	if r.Overall != want {
		t.Errorf("overall = %+v, want %+v", r.Overall, want)
	}
	if got, want := r.ByLang["sv"], (Metrics{Cases: 2, MRR: 0.125}); got != want {
		t.Errorf("sv = %+v, want %+v", got, want)
	}
	if len(r.Misses) != 3 || r.Misses[2].Rank != 0 || r.Misses[1].Rank != 4 {
		t.Errorf("misses = %+v", r.Misses)
	}
	if s := r.String(); !strings.Contains(s, "not in top 10") || !strings.Contains(s, "all") {
		t.Errorf("report:\n%s", s)
	}
}

func TestParseCasesErrors(t *testing.T) {
	_, err := ParseCases("r.yaml", []byte("cases:\n  - q: hi\n    lang: xx\n    urls: [u]\n  - q: ''\n    lang: en\n"))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:2: unknown lang") || !strings.Contains(err.Error(), "r.yaml:5: no question") {
		t.Errorf("err = %v", err)
	}
}

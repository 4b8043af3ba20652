package human

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// tableCase is one line of testdata/requests.tsv.
type tableCase struct {
	line        int
	lang, text  string
	wantHandoff bool
}

func mustLoadTable(tb testing.TB, path string) []tableCase {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []tableCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.SplitN(line, "\t", 3)
		if len(cols) != 3 || (cols[1] != "person" && cols[1] != "other") {
			tb.Fatalf("%s:%d: want lang<TAB>person|other<TAB>text, got %q", path, n, line)
		}
		out = append(out, tableCase{line: n, lang: cols[0], text: cols[2], wantHandoff: cols[1] == "person"})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// tableBounds is, per language, the least recall on the table's explicit
// requests and the most false handoffs on its other questions that
// TestRequestTable accepts. The goal (issue 17, item 6) is recall ≥ 0.98
// with no more false handoffs than the matcher had before; the floors here
// are what the shipped phrase file reaches today, so that they can only be
// raised. The one false handoff left is English "no human please": phrases
// and Except entries ignore punctuation, so neither "no" as a negation nor an
// Except "no human" can tell it from "No. Human please." / "No I want a
// human", which must stay requests.
var tableBounds = map[string]struct {
	minRecall float64
	maxFalse  int
}{
	"en": {0.98, 1}, // "no human please": see above
	"sv": {0.98, 0},
	"de": {0.98, 0},
	"es": {0.98, 0},
	"fr": {0.98, 0},
}

// TestRequestTable runs the matcher with the shipped phrase file over
// testdata/requests.tsv and checks recall and false handoffs per language.
// Run with -v to see the numbers and every miss.
func TestRequestTable(t *testing.T) {
	m := mustDefaultMatcher(t)
	type tally struct{ persons, hits, others, falses int }
	got := make(map[string]*tally)
	for _, c := range mustLoadTable(t, "testdata/requests.tsv") {
		tl := got[c.lang]
		if tl == nil {
			tl = new(tally)
			got[c.lang] = tl
		}
		_, ok := m.Match(c.text)
		switch {
		case c.wantHandoff:
			tl.persons++
			if ok {
				tl.hits++
			} else {
				t.Logf("miss  %s:%d %q", c.lang, c.line, c.text)
			}
		default:
			tl.others++
			if ok {
				tl.falses++
				t.Logf("false %s:%d %q", c.lang, c.line, c.text)
			}
		}
	}
	for lang, b := range tableBounds {
		tl := got[lang]
		if tl == nil || tl.persons == 0 || tl.others == 0 {
			t.Errorf("%s: no cases of both kinds in the table", lang)
			continue
		}
		recall := float64(tl.hits) / float64(tl.persons)
		t.Logf("%s: recall %d/%d = %.2f, false handoffs %d/%d", lang, tl.hits, tl.persons, recall, tl.falses, tl.others)
		if recall < b.minRecall {
			t.Errorf("%s: recall %.3f, want at least %.3f", lang, recall, b.minRecall)
		}
		if tl.falses > b.maxFalse {
			t.Errorf("%s: %d false handoffs, want at most %d", lang, tl.falses, b.maxFalse)
		}
	}
}

package human

import (
	"bufio"
	"maps"
	"os"
	"slices"
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
// with no more false handoffs than before; the false-handoff bounds are what
// the shipped phrase file reaches today, so that a regression fails. The two
// left are questions that read word for word as requests ("¿tengo que hablar
// con alguien para cerrar mi cuenta?" is "I have to talk to someone …"
// apart from its "¿"), where handing off is the safe side.
//
// The table was written for the matcher, and phrases were added until it
// passed, so it measures regressions, not how well the matcher does on
// phrasings nobody has seen: a set of 80 requests and 30 other questions
// written afterwards, before any phrase for it was added, found 73–75% of
// the requests per language and handed off on one other question in each
// (the last block of the table; phrases for it were added since).
var tableBounds = map[string]struct {
	minRecall float64
	maxFalse  int
}{
	"en": {0.98, 0},
	"sv": {0.98, 0},
	"de": {0.98, 0},
	"es": {0.98, 1}, // "¿tengo que hablar con alguien para cerrar mi cuenta?"
	"fr": {0.98, 1}, // "je dois parler à quelqu'un pour fermer mon compte ?"
}

// tableMinCases is how many rows of each kind each language keeps in the
// table (issue 17, item 6), so that trimming it fails too.
const tableMinRequests, tableMinOthers = 120, 80

// TestRequestTable runs the matcher with the shipped phrase file over
// testdata/requests.tsv and checks recall and false handoffs per language.
// Run with -v to see the numbers and every miss.
func TestRequestTable(t *testing.T) {
	got := mustTally(t, mustDefaultMatcher(t), "testdata/requests.tsv")
	checkTally(t, got, tableBounds, tableMinRequests, tableMinOthers)
}

// devBounds is, per language, what TestDevSet accepts on testdata/dev.tsv:
// a development set of phrasings written before the reach-and-target rule
// (see reach.go), to make the matcher generalize rather than learn phrases.
// Before that rule the phrase file found 69–80% of its requests per
// language (en 53/66, sv 50/64, de 45/65, es 50/65, fr 52/65), with no false
// handoff; with it, all of them, still with none.
var devBounds = map[string]struct {
	minRecall float64
	maxFalse  int
}{
	"en": {0.98, 0},
	"sv": {0.98, 0},
	"de": {0.98, 0},
	"es": {0.98, 0},
	"fr": {0.98, 0},
}

// TestDevSet runs the matcher over testdata/dev.tsv, like TestRequestTable.
func TestDevSet(t *testing.T) {
	got := mustTally(t, mustDefaultMatcher(t), "testdata/dev.tsv")
	checkTally(t, got, devBounds, 60, 60)
}

// tally counts one language's rows and how the matcher did on them.
type tally struct{ persons, hits, others, falses int }

// mustTally runs m over the table at path, logging every miss and false
// handoff, and returns the counts by language.
func mustTally(t *testing.T, m *Matcher, path string) map[string]*tally {
	t.Helper()
	got := make(map[string]*tally)
	for _, c := range mustLoadTable(t, path) {
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
	return got
}

// checkTally checks got against bounds and the least rows of each kind.
func checkTally(t *testing.T, got map[string]*tally, bounds map[string]struct {
	minRecall float64
	maxFalse  int
}, minRequests, minOthers int) {
	t.Helper()
	for _, lang := range slices.Sorted(maps.Keys(bounds)) {
		b, tl := bounds[lang], got[lang]
		if tl == nil || tl.persons == 0 || tl.others == 0 {
			t.Errorf("%s: no cases of both kinds in the table", lang)
			continue
		}
		if tl.persons < minRequests || tl.others < minOthers {
			t.Errorf("%s: %d requests and %d other questions in the table, want at least %d and %d",
				lang, tl.persons, tl.others, minRequests, minOthers)
		}
		recall := float64(tl.hits) / float64(tl.persons)
		t.Logf("%s: recall %d/%d = %.3f, false handoffs %d/%d", lang, tl.hits, tl.persons, recall, tl.falses, tl.others)
		if recall < b.minRecall {
			t.Errorf("%s: recall %.3f, want at least %.3f", lang, recall, b.minRecall)
		}
		if tl.falses > b.maxFalse {
			t.Errorf("%s: %d false handoffs, want at most %d", lang, tl.falses, b.maxFalse)
		}
	}
}

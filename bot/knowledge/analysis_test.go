package knowledge

import (
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/google/go-cmp/cmp"
)

func termsOf(ts analysis.TokenStream) []string {
	var out []string
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}

func TestWordTokenizer(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ,. ", nil},
		{"Refunds take 5 business-days.", []string{"Refunds", "take", "5", "business", "days"}},
		{"l'argent d’abord", []string{"l'argent", "d’abord"}},
		{"före\uFFFDefter", []string{"före", "efter"}}, // bleve's character tokenizer stops at U+FFFD
		{"1.5% €10", []string{"1", "5", "10"}},
		{"Ru\u0308ck", []string{"Ru\u0308ck"}},
	}
	for _, tt := range tests {
		ts := wordTokenizer{}.Tokenize([]byte(tt.in))
		if diff := cmp.Diff(tt.want, termsOf(ts)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
		for i, tok := range ts {
			if string(tt.in[tok.Start:tok.End]) != string(tok.Term) || tok.Position != i+1 {
				t.Errorf("%q: token %d %+v: bad offsets or position", tt.in, i, tok)
			}
		}
	}
}

func TestFoldAnalyzer(t *testing.T) {
	idx := mustBuild(t)
	an := idx.bleve.Mapping().AnalyzerNamed(analyzerName("fold"))
	got := termsOf(an.Analyze([]byte("Die Rückerstattung für l'œuvre: Återbetalning, straße, CAFÉ, the card")))
	want := []string{"ruckerstattung", "oeuvre", "aterbetalning", "strasse", "cafe", "card"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

package knowledge

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
)

// The analysis of the index. Each language's analyzer has the token filters
// of bleve's analyzer for it (analysis/lang/en, sv, de, es, fr), with the
// Snowball stemmer of the language in place of the lighter ones bleve's de,
// es and fr analyzers use (and of Porter's for en): on the eval questions
// Snowball found the right article first for 0.77 of the Spanish and French
// questions, the light stemmers for 0.54 and 0.69. The tokenizer is cheaper
// than bleve's: words are runs of letters, digits and apostrophes. bleve's
// Unicode (UAX #29) tokenizer and its ASCII-folding character filter
// allocate for every field, and took about half of the time to index.
const (
	wordsTokenizer = "firstline_words"
	foldFilter     = "firstline_fold"
)

func init() {
	registry.RegisterTokenizer(wordsTokenizer, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return wordTokenizer{}, nil
	})
	registry.RegisterTokenFilter(foldFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldTokens{}, nil
	})
}

// wordTokenizer cuts text into runs of word runes. bleve's own character
// tokenizer allocates room for 1,024 tokens per field, and stops at the first
// U+FFFD.
type wordTokenizer struct{}

func (wordTokenizer) Tokenize(input []byte) analysis.TokenStream {
	n := 0
	for i, in := 0, false; i < len(input); {
		r, size := utf8.DecodeRune(input[i:])
		w := isWordRune(r)
		if w && !in {
			n++
		}
		in = w
		i += size
	}
	if n == 0 {
		return nil
	}
	tokens := make([]analysis.Token, n)
	rv := make(analysis.TokenStream, n)
	k, start := 0, -1
	for i := 0; i <= len(input); {
		r, size := utf8.RuneError, 1
		if i < len(input) {
			r, size = utf8.DecodeRune(input[i:])
		}
		w := i < len(input) && isWordRune(r)
		switch {
		case w && start < 0:
			start = i
		case !w && start >= 0:
			tokens[k] = analysis.Token{Term: input[start:i], Start: start, End: i, Position: k + 1, Type: analysis.AlphaNumeric}
			rv[k] = &tokens[k]
			k++
			start = -1
		}
		i += size
	}
	return rv
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || r == '\'' || r == '’' || unicode.Is(unicode.Mn, r)
}

// analyzers maps each language, and "fold" for the language-neutral fields,
// to its analyzer's token filters, in order.
var analyzers = map[string][]string{
	"en":   {en.PossessiveName, lowercase.Name, en.StopName, en.SnowballStemmerName},
	"sv":   {lowercase.Name, sv.StopName, sv.SnowballStemmerName},
	"de":   {lowercase.Name, de.StopName, de.NormalizeName, de.SnowballStemmerName},
	"es":   {lowercase.Name, es.NormalizeName, es.StopName, es.SnowballStemmerName},
	"fr":   {fr.ElisionName, lowercase.Name, fr.StopName, fr.SnowballStemmerName},
	"fold": {fr.ElisionName, lowercase.Name, en.StopName, sv.StopName, de.StopName, es.StopName, fr.StopName, foldFilter},
}

func analyzerName(lang string) string { return "firstline_" + lang }

func addAnalyzers(m *mapping.IndexMappingImpl) error {
	for lang, filters := range analyzers {
		if err := m.AddCustomAnalyzer(analyzerName(lang), map[string]any{
			"type":          custom.Name,
			"tokenizer":     wordsTokenizer,
			"token_filters": filters,
		}); err != nil {
			return err
		}
	}
	return nil
}

// foldTokens replaces accented Latin letters by their base letters (å → a,
// ü → u, ß → ss, œ → oe), and drops apostrophes, so that the
// language-neutral fields match whatever accents a customer types.
type foldTokens struct{}

func (foldTokens) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		ascii := true
		for _, b := range t.Term {
			if b >= utf8.RuneSelf || b == '\'' {
				ascii = false
				break
			}
		}
		if ascii {
			continue
		}
		out := make([]byte, 0, len(t.Term))
		for _, r := range string(t.Term) {
			switch {
			case r < utf8.RuneSelf:
				if r != '\'' {
					out = append(out, byte(r))
				}
			case r == '’' || unicode.Is(unicode.Mn, r):
			default:
				if s, ok := folds[r]; ok {
					out = append(out, s...)
				} else {
					out = utf8.AppendRune(out, r)
				}
			}
		}
		t.Term = out
	}
	return in
}

// folds are the letters of the five languages (and their neighbours) that
// fold to ASCII, lower case only: the fold analyzer lowercases first.
var folds = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a",
	'æ': "ae", 'ç': "c", 'č': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ñ': "n", 'ń': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ő': "o",
	'œ': "oe", 'ß': "ss", 'š': "s", 'ś': "s",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ű': "u",
	'ý': "y", 'ÿ': "y", 'ž': "z", 'ź': "z", 'ż': "z", 'ł': "l", 'đ': "d",
}

package knowledge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"golang.org/x/text/unicode/norm"
)

// MaxQuery is the longest query searched, in bytes, once repeated words are
// dropped; a longer one is cut.
const MaxQuery = 1000

// MaxHits is the most hits one search returns.
const MaxHits = 50

// The weights of the parts of a passage, and of the fields, in a search.
// They were chosen on prompts/evals/retrieval/cases.yaml, where recall@3 stayed between
// 0.91 and 0.95 for any reasonable choice; the structure (per-language fields,
// a folded field, typo matching, the heading searched with the text rather
// than in a field of its own) mattered more than the numbers.
const (
	weightTitle = 2.0 // the article's title and tags
	weightBody  = 1.0 // the passage's heading and text

	weightOwnLanguage = 1.0 // fields analyzed for the customer's language
	weightFolded      = 0.7 // the language-neutral fields
	weightFuzzy       = 0.3 // for a word not in the help center: the words one typo away, in the language-neutral field

	// fuzzyMinLen is the shortest word (in runes) also matched with one
	// typo: shorter words have too many neighbours.
	fuzzyMinLen = 5
	// maxFuzzy bounds the words looked up with a typo in one query: each
	// costs a Levenshtein automaton.
	maxFuzzy = 4
)

// An Index searches the passages of a help center. It is safe for
// concurrent use and does not change once built. To replace it (a reload),
// swap in the new one, then Close the old: Close waits for the searches in
// flight.
type Index struct {
	mu       sync.RWMutex // held for reading by searches, for writing by Close
	closed   bool
	bleve    bleve.Index
	passages []Passage
	urls     []string
	words    map[string]bool // the terms of the folded field
}

// A Hit is a passage found by a search.
type Hit struct {
	Passage Passage
	Score   float64 // BM25, higher is better; comparable only within one search
}

// Build indexes the passages of articles in memory. Articles with the same
// URL are an error.
func Build(articles []Article) (*Index, error) {
	seen := make(map[string]string, len(articles))
	x := &Index{}
	for _, a := range articles {
		key := normalURL(a.URL)
		if f, ok := seen[key]; ok {
			return nil, fmt.Errorf("knowledge: build index: %s and %s have the same url %s", f, a.File, a.URL)
		}
		seen[key] = a.File
		x.urls = append(x.urls, a.URL)
		x.passages = append(x.passages, a.Passages...)
	}
	slices.Sort(x.urls)

	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("knowledge: build index: %w", err)
	}
	// bleve.NewMemOnly would use the upsidedown index type, which has no
	// BM25; a scorch index without a path lives in memory.
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("knowledge: build index: %w", err)
	}
	b := idx.NewBatch()
	for i, p := range x.passages {
		if err := b.Index(strconv.Itoa(i), document(p)); err != nil {
			idx.Close()
			return nil, fmt.Errorf("knowledge: index %s:%d: %w", p.File, p.Line, err)
		}
	}
	if err := idx.Batch(b); err != nil {
		idx.Close()
		return nil, fmt.Errorf("knowledge: build index: %w", err)
	}
	x.bleve = idx
	if x.words, err = terms(idx, "text_fold"); err != nil {
		idx.Close()
		return nil, fmt.Errorf("knowledge: build index: %w", err)
	}
	return x, nil
}

// terms lists the terms of an indexed field.
func terms(idx bleve.Index, field string) (map[string]bool, error) {
	d, err := idx.FieldDict(field)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	words := map[string]bool{}
	for {
		e, err := d.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			return words, nil
		}
		words[e.Term] = true
	}
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	if err := addAnalyzers(m); err != nil {
		return nil, err
	}
	doc := bleve.NewDocumentStaticMapping()
	field := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, false
		return f
	}
	for _, l := range languages {
		for _, part := range []string{"title", "body"} {
			doc.AddFieldMappingsAt(part+"_"+l, field(analyzerName(l)))
		}
	}
	doc.AddFieldMappingsAt("text_fold", field(analyzerName("fold")))
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	m.DefaultMapping = doc
	return m, nil
}

// document is what bleve indexes of a passage: its parts twice, in the
// fields of its language and in the folded ones.
func document(p Passage) map[string]any {
	title := p.Title
	if len(p.Tags) > 0 {
		title += "\n" + strings.Join(p.Tags, "\n")
	}
	lang := p.Language
	if !slices.Contains(languages, lang) {
		lang = DefaultLanguage
	}
	return map[string]any{
		"title_" + lang: title,
		"body_" + lang:  p.Heading + "\n" + p.Text,
		"text_fold":     title + "\n" + p.Heading + "\n" + p.Text,
	}
}

// Search returns the k passages that answer q best, best first. lang is the
// customer's language: passages in it weigh more, but the others are found
// too ("" or an unknown language weighs all alike). k is capped at MaxHits.
func (x *Index) Search(ctx context.Context, q, lang string, k int) ([]Hit, error) {
	if x == nil || x.bleve == nil {
		return nil, errors.New("knowledge: search: no index")
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, errors.New("knowledge: search: index closed")
	}
	if k <= 0 {
		return nil, nil
	}
	k = min(k, MaxHits)
	q = norm.NFC.String(truncate(uniqueWords(strings.ToValidUTF8(q, " ")), MaxQuery))
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	known := slices.Contains(languages, lang)
	var qs []query.Query
	add := func(suffix string, w float64) {
		for _, f := range []struct {
			part string
			w    float64
		}{{"title", weightTitle}, {"body", weightBody}} {
			mq := bleve.NewMatchQuery(q)
			mq.SetField(f.part + "_" + suffix)
			mq.SetBoost(w * f.w)
			qs = append(qs, mq)
		}
	}
	// The fields of the other languages are not searched: the folded field
	// finds their passages, and searching them too (at 0.2 to 0.4 of the
	// weight) gained less than 0.01 of MRR for twice the time.
	for _, l := range languages {
		if !known || l == lang {
			add(l, weightOwnLanguage)
		}
	}
	mq := bleve.NewMatchQuery(q)
	mq.SetField("text_fold")
	mq.SetBoost(weightFolded)
	qs = append(qs, mq)
	if an := x.bleve.Mapping().AnalyzerNamed(analyzerName("fold")); an != nil {
		seen := map[string]bool{}
		for _, tok := range an.Analyze([]byte(q)) {
			term := string(tok.Term)
			// Only a word the help center does not have is looked up
			// with a typo.
			if len(seen) == maxFuzzy {
				break
			}
			if seen[term] || x.words[term] || utf8.RuneCountInString(term) < fuzzyMinLen {
				continue
			}
			seen[term] = true
			fq := bleve.NewFuzzyQuery(term)
			fq.SetFuzziness(1)
			fq.SetPrefix(1)
			fq.SetField("text_fold")
			fq.SetBoost(weightFuzzy)
			qs = append(qs, fq)
		}
	}

	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), k, 0, false)
	res, err := x.bleve.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("knowledge: search: %w", err)
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		i, err := strconv.Atoi(h.ID)
		if err != nil || i < 0 || i >= len(x.passages) {
			return nil, fmt.Errorf("knowledge: search: unknown document %q", h.ID)
		}
		p := x.passages[i]
		p.Tags = slices.Clone(p.Tags)
		hits = append(hits, Hit{Passage: p, Score: h.Score})
	}
	return hits, nil
}

// uniqueWords drops the words of s seen before (in any case).
func uniqueWords(s string) string {
	words := strings.Fields(s)
	seen := make(map[string]bool, len(words))
	out := words[:0]
	for _, w := range words {
		if k := strings.ToLower(w); !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// URLs are the URLs of the indexed articles, sorted: the links the bot may
// show.
func (x *Index) URLs() []string { return slices.Clone(x.urls) }

// Len is the number of passages indexed.
func (x *Index) Len() int { return len(x.passages) }

// Articles is the number of articles indexed.
func (x *Index) Articles() int { return len(x.urls) }

// Close releases the index, once the searches in flight are done. Searches
// after Close fail; closing twice is harmless.
func (x *Index) Close() error {
	if x == nil || x.bleve == nil {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	return x.bleve.Close()
}

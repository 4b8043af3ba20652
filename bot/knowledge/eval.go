package knowledge

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Case is a retrieval eval: a customer's question and the URLs of the
// articles that answer it (any one of them is a right answer).
type Case struct {
	Question string   `yaml:"q"`
	Lang     string   `yaml:"lang"`
	URLs     []string `yaml:"urls"`
	Line     int      `yaml:"-"` // where the case is in its file
}

// ParseCases reads retrieval cases from YAML: a list under "cases" of
// {q, lang, urls}. file names it in errors.
func ParseCases(file string, data []byte) ([]Case, error) {
	var doc struct {
		Cases []yaml.Node `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var (
		cases []Case
		errs  Errors
	)
	for _, n := range doc.Cases {
		var c Case
		if err := n.Decode(&c); err != nil {
			errs = append(errs, Error{File: file, Line: n.Line, Msg: err.Error()})
			continue
		}
		c.Line = n.Line
		switch {
		case strings.TrimSpace(c.Question) == "":
			errs = append(errs, Error{File: file, Line: n.Line, Msg: "no question (q)"})
		case !slices.Contains(languages, c.Lang):
			errs = append(errs, Error{File: file, Line: n.Line, Msg: fmt.Sprintf("unknown lang %q", c.Lang)})
		case len(c.URLs) == 0:
			errs = append(errs, Error{File: file, Line: n.Line, Msg: "no urls"})
		default:
			cases = append(cases, c)
		}
	}
	if len(errs) > 0 {
		return cases, errs
	}
	return cases, nil
}

// Searcher is what Evaluate needs of an index.
type Searcher interface {
	Search(ctx context.Context, q, lang string, k int) ([]Hit, error)
}

var _ Searcher = (*Index)(nil)

// Metrics are retrieval figures over a set of cases. Ranks count articles,
// not passages: the passages of one article count once, at the rank of the
// best.
type Metrics struct {
	Cases     int
	RecallAt1 float64 // share of cases with a right article first
	RecallAt3 float64 // share of cases with a right article in the top 3
	MRR       float64 // mean of 1/rank of the first right article (0 beyond rank 10)
}

// A Miss is a case whose right article was not first.
type Miss struct {
	Case Case
	Rank int      // rank of the first right article, 0 when not in the top 10
	Got  []string // the top 3 articles' URLs
}

// A Report is the result of Evaluate.
type Report struct {
	Overall Metrics
	ByLang  map[string]Metrics
	Misses  []Miss
}

// evalDepth is how many articles Evaluate looks at per case.
const evalDepth = 10

// Evaluate searches every case's question in its language and measures how
// high the right articles rank.
func Evaluate(ctx context.Context, idx Searcher, cases []Case) (Report, error) {
	type sums struct {
		n, at1, at3 int
		rr          float64
	}
	all := sums{}
	byLang := map[string]*sums{}
	var misses []Miss
	for _, c := range cases {
		hits, err := idx.Search(ctx, c.Question, c.Lang, MaxHits)
		if err != nil {
			return Report{}, fmt.Errorf("knowledge: evaluate %q: %w", c.Question, err)
		}
		urls := rankedURLs(hits, evalDepth)
		rank := 0
		for i, u := range urls {
			if slices.ContainsFunc(c.URLs, func(want string) bool { return normalURL(want) == normalURL(u) }) {
				rank = i + 1
				break
			}
		}
		s := byLang[c.Lang]
		if s == nil {
			s = &sums{}
			byLang[c.Lang] = s
		}
		for _, s := range []*sums{&all, s} {
			s.n++
			if rank == 1 {
				s.at1++
			}
			if rank >= 1 && rank <= 3 {
				s.at3++
			}
			if rank > 0 {
				s.rr += 1 / float64(rank)
			}
		}
		if rank != 1 {
			misses = append(misses, Miss{Case: c, Rank: rank, Got: urls[:min(3, len(urls))]})
		}
	}
	metrics := func(s sums) Metrics {
		if s.n == 0 {
			return Metrics{}
		}
		n := float64(s.n)
		return Metrics{Cases: s.n, RecallAt1: float64(s.at1) / n, RecallAt3: float64(s.at3) / n, MRR: s.rr / n}
	}
	r := Report{Overall: metrics(all), ByLang: map[string]Metrics{}, Misses: misses}
	for l, s := range byLang {
		r.ByLang[l] = metrics(*s)
	}
	return r, nil
}

// rankedURLs lists the distinct articles of hits, best first, at most n.
func rankedURLs(hits []Hit, n int) []string {
	var urls []string
	for _, h := range hits {
		if len(urls) == n {
			break
		}
		if !slices.Contains(urls, h.Passage.URL) {
			urls = append(urls, h.Passage.URL)
		}
	}
	return urls
}

// String formats the report as a table, the misses after it.
func (r Report) String() string {
	var b strings.Builder
	row := func(name string, m Metrics) {
		fmt.Fprintf(&b, "%-8s %5d %9.3f %9.3f %6.3f\n", name, m.Cases, m.RecallAt1, m.RecallAt3, m.MRR)
	}
	fmt.Fprintf(&b, "%-8s %5s %9s %9s %6s\n", "lang", "cases", "recall@1", "recall@3", "MRR")
	langs := make([]string, 0, len(r.ByLang))
	for l := range r.ByLang {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		row(l, r.ByLang[l])
	}
	row("all", r.Overall)
	for _, m := range r.Misses {
		rank := "not in top 10"
		if m.Rank > 0 {
			rank = fmt.Sprintf("rank %d", m.Rank)
		}
		fmt.Fprintf(&b, "miss (%s) line %d [%s] %q: want %s; got %s\n",
			rank, m.Case.Line, m.Case.Lang, m.Case.Question, strings.Join(m.Case.URLs, " "), strings.Join(m.Got, " "))
	}
	return b.String()
}

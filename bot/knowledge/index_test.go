package knowledge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustArticle(t testing.TB, lang, slug, title, body string) Article {
	t.Helper()
	src := fmt.Sprintf("---\ntitle: %s\nurl: https://help.example.com/%s/articles/%s\nlanguage: %s\n---\n%s\n", title, lang, slug, lang, body)
	a, err := ParseArticle(lang+"/"+slug+".md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustBuild(t testing.TB, articles ...Article) *Index {
	t.Helper()
	idx, err := Build(articles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func urlsOf(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Passage.URL)
	}
	return out
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	idx := mustBuild(t,
		mustArticle(t, "en", "refunds", "How long does a refund take?", "Refunds are sent back within 5 business days."),
		mustArticle(t, "sv", "refunds", "Hur lång tid tar en återbetalning?", "Återbetalningar skickas tillbaka inom 5 bankdagar."),
		mustArticle(t, "de", "refunds", "Wie lange dauert eine Rückerstattung?", "Rückerstattungen dauern 5 Werktage."),
		mustArticle(t, "en", "cards", "Lost card", "Freeze the card in the app.\n\n## Apple Pay\nAdd the card to Apple Pay under Cards."),
		mustArticle(t, "en", "fees", "Fees", "Payments in other currencies cost 1.5%. Refunds are free."),
	)
	if got, want := idx.Len(), 6; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	want := []string{
		"https://help.example.com/de/articles/refunds", "https://help.example.com/en/articles/cards",
		"https://help.example.com/en/articles/fees", "https://help.example.com/en/articles/refunds",
		"https://help.example.com/sv/articles/refunds",
	}
	if diff := cmp.Diff(want, idx.URLs()); diff != "" {
		t.Errorf("URLs (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, q, lang string
		first         string // URL of the first hit; "" for no hit
	}{
		{"English, stemmed", "refunded?", "en", "https://help.example.com/en/articles/refunds"},
		{"Swedish, stemmed", "återbetalningen", "sv", "https://help.example.com/sv/articles/refunds"},
		{"German, folded", "ruckerstattung", "de", "https://help.example.com/de/articles/refunds"},
		{"the title weighs more than the body", "refund", "en", "https://help.example.com/en/articles/refunds"},
		{"a heading is found", "apple pay", "en", "https://help.example.com/en/articles/cards"},
		{"other languages are found too", "apple pay", "sv", "https://help.example.com/en/articles/cards"},
		{"a typo", "freez the crad", "en", "https://help.example.com/en/articles/cards"},
		{"unknown language", "återbetalning", "xx", "https://help.example.com/sv/articles/refunds"},
		{"no language", "Rückerstattung", "", "https://help.example.com/de/articles/refunds"},
		{"decomposed accents", "Ru\u0308ckerstattungen", "de", "https://help.example.com/de/articles/refunds"},
		{"nothing matches", "zebra crossing", "en", ""},
		{"only stop words", "the and of", "en", ""},
		{"empty", "   ", "en", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := idx.Search(ctx, tt.q, tt.lang, 3)
			if err != nil {
				t.Fatal(err)
			}
			if tt.first == "" {
				if len(hits) > 0 {
					t.Errorf("hits %v, want none", urlsOf(hits))
				}
				return
			}
			if len(hits) == 0 || hits[0].Passage.URL != tt.first {
				t.Errorf("hits %v, want %s first", urlsOf(hits), tt.first)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Errorf("hit %d scores more than hit %d", i, i-1)
				}
			}
		})
	}

	t.Run("the customer's language first, the others after", func(t *testing.T) {
		hits, err := idx.Search(ctx, "5", "sv", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) < 3 || hits[0].Passage.Language != "sv" {
			t.Errorf("hits %v, want the Swedish article first and others after", urlsOf(hits))
		}
	})
	t.Run("k bounds the hits", func(t *testing.T) {
		for _, k := range []int{-1, 0, 1, 1000} {
			hits, err := idx.Search(ctx, "refunds 5 card", "en", k)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) > max(k, 0) || len(hits) > MaxHits {
				t.Errorf("k=%d: %d hits", k, len(hits))
			}
		}
	})
	t.Run("hostile queries", func(t *testing.T) {
		for _, q := range []string{
			strings.Repeat("refund ", 10000), "\xff\xfe refund", `refund* AND "card~2 +-:^()`,
			strings.Repeat("ö", MaxQuery), "\x00refund",
		} {
			if _, err := idx.Search(ctx, q, "en", 5); err != nil {
				t.Errorf("%.40q: %v", q, err)
			}
		}
	})
	t.Run("a cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := idx.Search(ctx, "refund", "en", 5); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestBuildDuplicateURL(t *testing.T) {
	a := mustArticle(t, "en", "a", "A", "Text.")
	b := a
	b.File = "other.md"
	if _, err := Build([]Article{a, b}); err == nil || !strings.Contains(err.Error(), "en/a.md and other.md") {
		t.Errorf("err = %v, want both files named", err)
	}
}

func TestBuildEmpty(t *testing.T) {
	idx := mustBuild(t)
	hits, err := idx.Search(context.Background(), "refund", "en", 5)
	if err != nil || len(hits) != 0 || idx.Len() != 0 || len(idx.URLs()) != 0 {
		t.Errorf("empty index: hits %v, err %v, Len %d", hits, err, idx.Len())
	}
}

func TestSearchClosed(t *testing.T) {
	idx, err := Build([]Article{mustArticle(t, "en", "a", "A", "Text.")})
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := idx.Search(context.Background(), "text", "en", 5); err == nil {
		t.Error("search after Close: no error")
	}
	if err := idx.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var nilIdx *Index
	if _, err := nilIdx.Search(context.Background(), "text", "en", 5); err == nil {
		t.Error("search on a nil index: no error")
	}
}

// Searches run concurrently, and Close waits for them: each search either
// completes or reports the index closed.
func TestSearchConcurrent(t *testing.T) {
	idx := mustLoadShipped(t)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			_, err := idx.Search(context.Background(), "how long does a refund take", languages[i%len(languages)], 5)
			errs <- err
		}()
		if i == 12 {
			go idx.Close()
		}
	}
	for range 16 {
		if err := <-errs; err != nil && !strings.Contains(err.Error(), "index closed") {
			t.Error(err)
		}
	}
}

// generated returns n articles of generated text, in all languages, with
// several sections each: words drawn from a vocabulary of help-center words
// and 5,000 made-up ones, with Zipf frequencies as in real text.
func generated(tb testing.TB, n int) []Article {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	vocab := strings.Fields("the a to of and your you is in for card payment refund account " +
		"pending fee transfer delivery security password återbetalning kort betalning avgift konto " +
		"Rückerstattung Karte Zahlung Gebühr reembolso tarjeta pago comisión remboursement carte " +
		"paiement frais business days approval merchant bank app settings limit freeze block " +
		"replacement express tracking currency exchange abroad phone login code identity")
	syllables := strings.Fields("ka lo mi ra te su no vi de ba ri po la me tu sa ke ro ni fa")
	for len(vocab) < 5000 {
		var w strings.Builder
		for range 2 + r.IntN(3) {
			w.WriteString(syllables[r.IntN(len(syllables))])
		}
		vocab = append(vocab, w.String())
	}
	zipf := rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))
	text := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[zipf.Uint64()])
		}
		return b.String()
	}
	out := make([]Article, n)
	for i := range out {
		lang := languages[i%len(languages)]
		var body strings.Builder
		body.WriteString(text(40))
		for range 3 {
			fmt.Fprintf(&body, "\n\n## %s\n%s.\n\n%s.", text(3), text(50), text(30))
		}
		out[i] = mustArticle(tb, lang, fmt.Sprintf("article-%d", i), text(5), body.String())
	}
	return out
}

func BenchmarkBuild1000(b *testing.B) {
	articles := generated(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		idx, err := Build(articles)
		if err != nil {
			b.Fatal(err)
		}
		idx.Close()
	}
	b.ReportMetric(float64(len(articles)), "articles")
}

func BenchmarkSearch(b *testing.B) {
	idx := mustBuild(b, generated(b, 1000)...)
	queries := []struct{ q, lang string }{
		{"how long does a refund take?", "en"},
		{"hur lång tid tar en återbetalning", "sv"},
		{"meine Karte wurde abgelehnt", "de"},
		{"cuánto cuesta la tarjeta", "es"},
		{"frais de paiement à l'étranger", "fr"},
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		if _, err := idx.Search(ctx, q.q, q.lang, 5); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(idx.Len()), "passages")
}

// BenchmarkSearchShipped searches the shipped help center with the eval
// questions.
func BenchmarkSearchShipped(b *testing.B) {
	idx := mustLoadShipped(b)
	cases := mustLoadCases(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		c := cases[i%len(cases)]
		i++
		if _, err := idx.Search(ctx, c.Question, c.Lang, 5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchLongQuery(b *testing.B) {
	idx := mustBuild(b, generated(b, 1000)...)
	q := strings.Repeat("wherever unknownish paymentz refundable kalorimeter ", 40)
	ctx := context.Background()
	for b.Loop() {
		if _, err := idx.Search(ctx, q, "en", 5); err != nil {
			b.Fatal(err)
		}
	}
}

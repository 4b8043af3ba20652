package knowledge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseArticle(f *testing.F) {
	for _, s := range []string{
		fm + "Text.\n",
		fm + "# A\nText.\n## B\n```\n# c\n```\n",
		"\xef\xbb\xbf---\r\ntitle: T\r\nurl: https://h.example/a\r\nlanguage: sv\r\ntags: [a]\r\n---\r\nText\r\n",
		"---\ntitle: [a\n---\n",
		"---\n---\n",
		"---\ntitle: &a x\nurl: *a\n---\nx\n",
		"no front matter",
		fm + strings.Repeat("word ", 400),
		fm + "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArticle("a.md", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v is not a non-empty Errors", err)
			}
			for _, e := range es {
				if e.File != "a.md" || e.Line < 0 || !strings.HasPrefix(e.Error(), "a.md") {
					t.Fatalf("bad error %q", e.Error())
				}
			}
			return
		}
		if a.Title == "" || a.URL == "" || checkURL(a.URL) != "" || len(a.Passages) == 0 {
			t.Fatalf("accepted an article without title, url or text: %+v", a)
		}
		for _, p := range a.Passages {
			if strings.TrimSpace(p.Text) == "" || !utf8.ValidString(p.Text) || len(p.Text) > MaxPassage {
				t.Fatalf("bad passage %q", p.Text)
			}
			if p.Line < 1 {
				t.Fatalf("passage line %d", p.Line)
			}
		}
		idx, err := Build([]Article{a})
		if err != nil {
			t.Fatal(err)
		}
		defer idx.Close()
		if _, err := idx.Search(context.Background(), a.Passages[0].Text, a.Language, 3); err != nil {
			t.Fatal(err)
		}
	})
}

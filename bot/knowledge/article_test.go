package knowledge

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const fm = "---\ntitle: Refunds\nurl: https://help.example.com/en/articles/refunds\n---\n"

func TestParseArticle(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []Passage // only Heading, Text and Line are compared
		wantLang string
		wantTags []string
	}{
		{
			name: "text without headings",
			in:   fm + "Refunds take 5 business days.\n",
			want: []Passage{{Text: "Refunds take 5 business days.", Line: 5}},
		},
		{
			name: "blank lines before the text",
			in:   fm + "\n\nRefunds take 5 business days.\n",
			want: []Passage{{Text: "Refunds take 5 business days.", Line: 7}},
		},
		{
			name: "split at headings of levels 1 to 3, not 4",
			in: fm + "Intro.\n# One\nText one.\n## Two ##\nText two.\n### Three\nText three.\n" +
				"#### Four\nStill three.\n#hashtag is text\n",
			want: []Passage{
				{Text: "Intro.", Line: 5},
				{Heading: "One", Text: "Text one.", Line: 6},
				{Heading: "Two", Text: "Text two.", Line: 8},
				{Heading: "Three", Text: "Text three.\n#### Four\nStill three.\n#hashtag is text", Line: 10},
			},
		},
		{
			name: "headings without text are dropped",
			in:   fm + "# Title\n\n## Empty\n\n## Full\nText.\n",
			want: []Passage{{Heading: "Full", Text: "Text.", Line: 9}},
		},
		{
			name: "a heading inside a code fence does not split",
			in:   fm + "## Setup\n```sh\n# not a heading\n\n## nor this\n```\nAfter.\n~~~\n# tilde\n~~~\n",
			want: []Passage{{Heading: "Setup", Text: "```sh\n# not a heading\n\n## nor this\n```\nAfter.\n~~~\n# tilde\n~~~", Line: 5}},
		},
		{
			name: "an unclosed fence runs to the end",
			in:   fm + "## A\n```\n# inside\n",
			want: []Passage{{Heading: "A", Text: "```\n# inside", Line: 5}},
		},
		{
			name: "CRLF line endings",
			in:   strings.ReplaceAll(fm+"## A\nText a.\n\n## B\nText b.\n", "\n", "\r\n"),
			want: []Passage{{Heading: "A", Text: "Text a.", Line: 5}, {Heading: "B", Text: "Text b.", Line: 8}},
		},
		{
			name: "a byte order mark",
			in:   "\xef\xbb\xbf" + fm + "Text.\n",
			want: []Passage{{Text: "Text.", Line: 5}},
		},
		{
			name:     "language and tags",
			in:       "---\ntitle: Återbetalning\nurl: https://help.example.com/sv/a\nlanguage: SV\ntags: [pengar, retur]\n---\nText.\n",
			want:     []Passage{{Text: "Text.", Line: 7}},
			wantLang: "sv",
			wantTags: []string{"pengar", "retur"},
		},
		{
			name:     "tags as one text",
			in:       "---\ntitle: T\nurl: https://h.example/a\ntags: a, b\n---\nText.\n",
			want:     []Passage{{Text: "Text.", Line: 6}},
			wantTags: []string{"a", "b"},
		},
		{
			name: "lone CR line endings",
			in:   strings.ReplaceAll(fm+"## A\nText a.\n", "\n", "\r"),
			want: []Passage{{Heading: "A", Text: "Text a.", Line: 5}},
		},
		{
			name: "front matter closed with ...",
			in:   "---\ntitle: T\nurl: https://h.example/a\n...\nText.\n",
			want: []Passage{{Text: "Text.", Line: 5}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseArticle("a.md", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []Passage
			for _, p := range a.Passages {
				if p.URL != a.URL || p.Title != a.Title || p.File != "a.md" || p.Language != a.Language {
					t.Errorf("passage %+v does not carry the article's title, url, file and language", p)
				}
				got = append(got, Passage{Heading: p.Heading, Text: p.Text, Line: p.Line})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("passages (-want +got):\n%s", diff)
			}
			lang := tt.wantLang
			if lang == "" {
				lang = "en"
			}
			if a.Language != lang {
				t.Errorf("language = %q, want %q", a.Language, lang)
			}
			if diff := cmp.Diff(tt.wantTags, a.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseArticleErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // every error, in order
	}{
		{
			name: "no front matter",
			in:   "# Refunds\nText.\n",
			want: []string{`a.md:1: no front matter: an article starts with a line "---", then title and url, then "---"`},
		},
		{
			name: "unterminated front matter",
			in:   "---\ntitle: T\nurl: https://h.example/a\nText.\n",
			want: []string{`a.md:1: front matter not closed: no line "---" after it`},
		},
		{
			name: "empty file",
			in:   "",
			want: []string{`a.md:1: no front matter: an article starts with a line "---", then title and url, then "---"`},
		},
		{
			name: "missing title and url",
			in:   "---\nlanguage: en\n---\nText.\n",
			want: []string{"a.md:1: missing title", "a.md:1: missing url"},
		},
		{
			name: "empty front matter",
			in:   "---\n---\nText.\n",
			want: []string{"a.md:1: missing title", "a.md:1: missing url"},
		},
		{
			name: "bad url, unknown language, unknown key, and no text: all reported",
			in:   "---\ntitle: T\nurl: /en/articles/a\nlanguage: nl\ntitel: typo\n---\n\n",
			want: []string{
				`a.md:3: url "/en/articles/a": want an absolute http:// or https:// URL`,
				`a.md:4: unknown language "nl": want one of de, en, es, fr, sv`,
				`a.md:5: unknown key "titel": want title, url, language or tags`,
				"a.md:6: empty article: no text after the front matter",
			},
		},
		{
			name: "ftp url",
			in:   "---\ntitle: T\nurl: ftp://h.example/a\n---\nText.\n",
			want: []string{`a.md:3: url "ftp://h.example/a": want an absolute http:// or https:// URL`},
		},
		{
			name: "url without host",
			in:   "---\ntitle: T\nurl: 'https:///a'\n---\nText.\n",
			want: []string{`a.md:3: url "https:///a": no host`},
		},
		{
			name: "empty title",
			in:   "---\ntitle: ''\nurl: https://h.example/a\n---\nText.\n",
			want: []string{"a.md:2: title is empty"},
		},
		{
			name: "title given twice",
			in:   "---\ntitle: A\ntitle: B\nurl: https://h.example/a\n---\nText.\n",
			want: []string{"a.md:3: title given twice (first on line 2)"},
		},
		{
			name: "bad YAML, with its line",
			in:   "---\ntitle: T\nurl: https://h.example/a\ntags: [a, b\n---\nText.\n",
			// yaml.v3 names the line before the one the list is on.
			want: []string{"a.md:3: front matter: did not find expected ',' or ']'"},
		},
		{
			name: "front matter that is a list",
			in:   "---\n- title\n---\nText.\n",
			want: []string{"a.md:2: front matter: want keys (title: ..., url: ...), not a list"},
		},
		{
			name: "a title that is a list",
			in:   "---\ntitle: [a]\nurl: https://h.example/a\n---\nText.\n",
			want: []string{"a.md:2: title is empty"},
		},
		{
			name: "heading-only article",
			in:   fm + "# Refunds\n## When\n",
			want: []string{"a.md:4: empty article: no text after the front matter"},
		},
		{
			name: "invalid UTF-8, with its line",
			in:   fm + "ok\nbad \xff byte\n",
			want: []string{"a.md:6: not valid UTF-8 text"},
		},
		{
			name: "too large",
			in:   fm + strings.Repeat("a", MaxFileSize),
			want: []string{"a.md: file too large (1048649 bytes): the limit is 1 MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArticle("a.md", []byte(tt.in))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("err = %v, want Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitLongSection(t *testing.T) {
	para := strings.TrimSpace(strings.Repeat("Refunds are sent back within five business days. ", 6)) // ~300 bytes
	body := strings.Repeat(para+"\n\n", 10)
	long := strings.Repeat("ö", 1000) // one 2,000-byte word
	a, err := ParseArticle("a.md", []byte(fm+"## Long\n"+body+"## Word\n"+long+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var joined, word strings.Builder
	for _, p := range a.Passages {
		if len(p.Text) > MaxPassage {
			t.Errorf("passage of %d bytes, want at most %d", len(p.Text), MaxPassage)
		}
		switch p.Heading {
		case "Long":
			if strings.HasPrefix(p.Text, " ") || strings.HasSuffix(p.Text, " ") {
				t.Errorf("passage %q not trimmed", p.Text)
			}
			if joined.Len() > 0 {
				joined.WriteString("\n\n")
			}
			joined.WriteString(p.Text)
		case "Word":
			word.WriteString(p.Text)
		}
	}
	if got := joined.String(); got != strings.TrimSpace(body) {
		t.Errorf("the long section's passages do not add up to the section")
	}
	if word.String() != long {
		t.Errorf("the long word's passages do not add up to the word")
	}
	if n := len(a.Passages); n < 6 {
		t.Errorf("%d passages, want the long section split", n)
	}
}

func TestLoadDir(t *testing.T) {
	art := func(title, url string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("---\ntitle: " + title + "\nurl: " + url + "\n---\nText.\n")}
	}
	fsys := fstest.MapFS{
		"kb/en/a.md":         art("A", "https://h.example/en/a"),
		"kb/en/b.md":         art("B", "https://h.example/en/b"),
		"kb/sv/a.md":         art("A2", "https://H.example/en/a/"), // the same as en/a.md
		"kb/bad.md":          {Data: []byte("no front matter\n")},
		"kb/README.md":       {Data: []byte("# How to write articles\n")},
		"kb/notes.txt":       {Data: []byte("not an article")},
		"kb/_drafts/x.md":    {Data: []byte("draft")},
		"kb/.hidden.md":      {Data: []byte("hidden")},
		"kb/huge.md":         {Data: make([]byte, MaxFileSize+1)},
		"elsewhere/c.md":     art("C", "https://h.example/en/c"),
		"kb/sub/dir/deep.md": art("Deep", "https://h.example/en/deep"),
	}
	articles, err := LoadDir(fsys, "kb")
	var got []string
	for _, a := range articles {
		got = append(got, a.File)
	}
	if diff := cmp.Diff([]string{"kb/en/a.md", "kb/en/b.md", "kb/sub/dir/deep.md"}, got); diff != "" {
		t.Errorf("articles (-want +got):\n%s", diff)
	}
	want := []string{
		`kb/bad.md:1: no front matter: an article starts with a line "---", then title and url, then "---"`,
		"kb/huge.md: file too large (1048577 bytes): the limit is 1 MiB",
		"kb/sv/a.md:3: url https://H.example/en/a/ is also the url of kb/en/a.md",
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v, want Errors", err)
	}
	var gotErrs []string
	for _, e := range es {
		gotErrs = append(gotErrs, e.Error())
	}
	if diff := cmp.Diff(want, gotErrs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}

	if _, err := LoadDir(fsys, "missing"); err == nil {
		t.Error("LoadDir of a missing folder: no error")
	}
}

// The shipped help center must stay valid, with every language present.
func TestShippedHelpCenter(t *testing.T) {
	idx := mustLoadShipped(t)
	if n := idx.Articles(); n < 25 {
		t.Errorf("%d shipped articles, want at least 25", n)
	}
	langs := map[string]int{}
	for _, h := range mustAllPassages(t, idx) {
		langs[h.Language]++
		if !strings.HasPrefix(h.URL, "https://help.example.com/"+h.Language+"/articles/") {
			t.Errorf("%s:%d: url %s does not match language %s", h.File, h.Line, h.URL, h.Language)
		}
	}
	for _, l := range languages {
		if langs[l] == 0 {
			t.Errorf("no shipped article in %s", l)
		}
	}
}

func mustAllPassages(t *testing.T, idx *Index) []Passage {
	t.Helper()
	return idx.passages
}

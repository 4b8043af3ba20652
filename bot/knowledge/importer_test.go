package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

const helpPage = `<!doctype html>
<html lang="sv-SE">
<head>
  <title>Spärra kort – Example Hjälpcenter</title>
  <link rel="canonical" href="https://help.example.com/sv/articles/lost-card">
  <style>body { color: red }</style>
  <script>track("page")</script>
</head>
<body>
  <nav><a href="/">Hem</a> <a href="/sv">Artiklar</a></nav>
  <header>Example</header>
  <main>
    <h1>Tappat eller stulet kort</h1>
    <p>Frys kortet direkt i appen: <strong>Kort → Frys kort</strong>.</p>
    <h2>Beställ ett nytt kort</h2>
    <ol><li>Öppna <em>Kort</em>.</li><li>Välj <a href="/sv/articles/card-delivery">leverans</a>.
      <ul><li>Standard</li><li>Express</li></ul></li></ol>
    <h4>Avgifter</h4>
    <p>Det första kortet<br>är gratis.</p>
    <pre>Kort &gt; Spärra</pre>
    <table><tr><th>Typ</th><th>Pris</th></tr><tr><td>Standard</td><td>0 kr</td></tr></table>
    <button>Var detta till hjälp?</button>
  </main>
  <footer>© Example</footer>
</body>
</html>`

func TestImportPageHTML(t *testing.T) {
	p, err := ImportPage("sv/lost-card.html", []byte(helpPage), ImportOptions{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Tappat eller stulet kort" || p.URL != "https://help.example.com/sv/articles/lost-card" || p.Language != "sv" || p.File != "sv/lost-card.md" {
		t.Errorf("page = %+v", p)
	}
	want := `---
title: Tappat eller stulet kort
url: https://help.example.com/sv/articles/lost-card
language: sv
---
Frys kortet direkt i appen: **Kort → Frys kort**.

## Beställ ett nytt kort

1. Öppna *Kort*.
2. Välj [leverans](https://help.example.com/sv/articles/card-delivery).
  - Standard
  - Express

**Avgifter**

Det första kortet
är gratis.

` + "```\nKort > Spärra\n```" + `

Typ | Pris

Standard | 0 kr
`
	if got := string(p.Data); got != want {
		t.Errorf("article:\n%s\nwant:\n%s", got, want)
	}
	a, err := ParseArticle(p.File, p.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Passages) != 2 || a.Passages[1].Heading != "Beställ ett nytt kort" {
		t.Errorf("passages = %+v", a.Passages)
	}
}

func TestImportPage(t *testing.T) {
	tests := []struct {
		name string
		file string
		page string
		opt  ImportOptions
		// want are substrings of the article file; skip, when set, of the
		// reason the page was skipped.
		want []string
		skip string
	}{
		{
			name: "title from <title> without h1, url from og:url, language from the option",
			file: "a.html",
			page: `<html><head><title> Fees </title><meta property="og:url" content="https://h.example/fees"></head><body><p>No fee.</p></body></html>`,
			opt:  ImportOptions{Lang: "de"},
			want: []string{"title: Fees\n", "url: https://h.example/fees\n", "language: de\n", "---\nNo fee.\n"},
		},
		{
			name: "url from the base URL and the path",
			file: "cards/index.html",
			page: `<h1>Cards</h1><p>All about cards.</p>`,
			opt:  ImportOptions{BaseURL: "https://h.example/articles/"},
			want: []string{"url: https://h.example/articles/cards\n", "language: en\n"},
		},
		{
			name: "a relative canonical link falls back to the base URL",
			file: "x/refund times.htm",
			page: `<link rel="canonical" href="/r"><h1>Refunds</h1><p>Five days.</p>`,
			opt:  ImportOptions{BaseURL: "https://h.example"},
			want: []string{"url: https://h.example/x/refund%20times\n"},
		},
		{
			name: "article element when there is no main; title quoted in YAML",
			file: "a.html",
			page: `<body><div class="menu">Menu</div><article><h1>Card: lost?</h1><p>Freeze it.</p></article></body>`,
			opt:  ImportOptions{BaseURL: "https://h.example"},
			want: []string{`title: 'Card: lost?'`, "Freeze it."},
		},
		{
			name: "Markdown with front matter",
			file: "m.md",
			page: "---\ntitle: Two-factor\nurl: https://h.example/2fa\nlang: fr\ntags: [code, sms]\nauthor: x\n---\n# Ignored heading\n\nTurn it on.\n",
			want: []string{"title: Two-factor\n", "language: fr\n", "tags: [code, sms]\n", "# Ignored heading", "Turn it on."},
		},
		{
			name: "Markdown title from the first heading",
			file: "guides/pin.markdown",
			page: "```\n# not a heading\n```\n# Your PIN\n\nSee it in the app.\n",
			opt:  ImportOptions{BaseURL: "https://h.example/a", Lang: "es"},
			want: []string{"title: Your PIN\n", "url: https://h.example/a/guides/pin\n", "language: es\n", "# not a heading", "See it in the app."},
		},
		{name: "no title", file: "a.html", page: `<p>Text only.</p>`, opt: ImportOptions{BaseURL: "https://h.example"}, skip: "no title"},
		{name: "no text", file: "a.html", page: `<h1>Empty</h1><script>x()</script>`, opt: ImportOptions{BaseURL: "https://h.example"}, skip: "no text"},
		{name: "no url", file: "a.html", page: `<h1>T</h1><p>x</p>`, skip: "no url"},
		{name: "unsupported language", file: "a.html", page: `<html lang="it"><h1>T</h1><p>Ciao</p>`, opt: ImportOptions{BaseURL: "https://h.example"}, skip: `language "it"`},
		{name: "not a page", file: "a.pdf", page: `%PDF`, skip: "not an HTML or Markdown page"},
		{name: "not UTF-8", file: "a.md", page: "# T\n\xff", opt: ImportOptions{BaseURL: "https://h.example"}, skip: "not UTF-8"},
		{name: "front matter not closed", file: "a.md", page: "---\ntitle: T\n", skip: "front matter not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ImportPage(tt.file, []byte(tt.page), tt.opt)
			if tt.skip != "" {
				if err == nil || !strings.Contains(SkipReason(err), tt.skip) {
					t.Fatalf("err = %v, want a skip for %q", err, tt.skip)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(p.Data), w) {
					t.Errorf("article lacks %q:\n%s", w, p.Data)
				}
			}
			if _, err := ParseArticle(p.File, p.Data); err != nil {
				t.Errorf("the article does not parse: %v", err)
			}
		})
	}
}

func TestImport(t *testing.T) {
	fsys := fstest.MapFS{
		"export/en/refunds.html":  {Data: []byte(`<link rel="canonical" href="https://h.example/refunds"><h1>Refunds</h1><p>Five days.</p>`)},
		"export/en/refunds2.html": {Data: []byte(`<link rel="canonical" href="https://h.example/refunds/"><h1>Refunds again</h1><p>Five days.</p>`)},
		"export/sv/refunds.html":  {Data: []byte(`<html lang="sv"><link rel="canonical" href="https://h.example/sv/other/refunds"><h1>Återbetalning</h1><p>Fem dagar.</p>`)},
		"export/sv/refunds2.html": {Data: []byte(`<html lang="sv"><link rel="canonical" href="https://h.example/sv/refunds"><h1>Återbetalning 2</h1><p>Fem dagar.</p>`)},
		"export/logo.png":         {Data: []byte("\x89PNG")},
		"export/empty.html":       {Data: []byte(`<h1>Nothing</h1>`)},
		"export/.git/config":      {Data: []byte("x")},
	}
	pages, skipped, err := Import(fsys, "export", ImportOptions{BaseURL: "https://h.example"})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, p := range pages {
		files = append(files, p.Source+" "+p.File)
	}
	if got, want := strings.Join(files, "\n"), "export/en/refunds.html en/refunds.md\nexport/sv/refunds.html sv/refunds.md\nexport/sv/refunds2.html sv/refunds-2.md"; got != want {
		t.Errorf("imported:\n%s\nwant:\n%s", got, want)
	}
	var reasons []string
	for _, s := range skipped {
		reasons = append(reasons, s.Source+": "+s.Reason)
	}
	want := []string{
		"export/empty.html: no text",
		"export/en/refunds2.html: duplicate url https://h.example/refunds/: export/en/refunds.html has it too",
		"export/logo.png: not an HTML or Markdown page",
	}
	if got := strings.Join(reasons, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// What Import writes is a help center LoadDir accepts.
	out := fstest.MapFS{}
	for _, p := range pages {
		out["knowledge/"+p.File] = &fstest.MapFile{Data: p.Data}
	}
	articles, err := LoadDir(out, "knowledge")
	if err != nil || len(articles) != 3 {
		t.Errorf("LoadDir: %d articles, %v", len(articles), err)
	}
}

func FuzzImportHTML(f *testing.F) {
	for _, s := range []string{
		helpPage,
		`<h1>T</h1><p>x</p>`,
		`<title>T</title><ul><li><ul><li>deep</li></ul></li></ul>`,
		`<h1>#</h1><pre>` + "```" + `</pre><a href="javascript:x">y</a>`,
		`<html lang="xx"><h1>a</h1>b`,
		`<h1>---</h1><p>---</p><p>...</p>`,
		"<h1>\x00</h1><p>\u00a0</p>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ImportPage("dir/page.html", data, ImportOptions{BaseURL: "https://h.example/a"})
		if err != nil {
			if SkipReason(err) == err.Error() {
				t.Fatalf("error %q is not a skip reason", err)
			}
			return
		}
		if !utf8.Valid(p.Data) || p.Title == "" || checkURL(p.URL) != "" {
			t.Fatalf("bad page %+v", p)
		}
		a, err := ParseArticle(p.File, p.Data)
		if err != nil {
			t.Fatalf("the article does not parse: %v\n%s", err, p.Data)
		}
		if a.Title != p.Title || a.URL != p.URL || a.Language != p.Language {
			t.Fatalf("article %q %q %q, page %q %q %q", a.Title, a.URL, a.Language, p.Title, p.URL, p.Language)
		}
	})
}

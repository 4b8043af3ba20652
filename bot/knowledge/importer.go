package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"
)

// MaxImportPage is the largest page Import reads, in bytes: HTML carries
// much markup around its text.
const MaxImportPage = 4 * MaxFileSize

// ImportOptions say how pages that lack something are imported.
type ImportOptions struct {
	// Lang is the language of a page that does not say (no <html lang>, no
	// language in its front matter); "" is DefaultLanguage.
	Lang string
	// BaseURL is the URL a page with no canonical URL is found under: the
	// page's path in the export, without its extension, is added to it
	// ("refunds/times.html" under https://help.example.com/articles/ is
	// https://help.example.com/articles/refunds/times). "" skips such pages.
	BaseURL string
}

// An ImportedPage is a page of a help-center export turned into an article
// file.
type ImportedPage struct {
	Source   string // the page's path in the export
	File     string // where the article goes, relative to the knowledge folder: LANG/NAME.md
	Title    string
	URL      string
	Language string
	Data     []byte // the article file: front matter and Markdown
}

// A SkippedPage is a file of an export that was not imported, and why.
type SkippedPage struct {
	Source string
	Reason string
	// First is, for a page skipped for its URL, the page imported with it.
	First string
}

// errSkip marks the reasons a page is not imported (as opposed to a file
// that could not be read).
var errSkip = errors.New("skipped")

func skip(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errSkip, fmt.Sprintf(format, args...))
}

// SkipReason is why ImportPage did not import a page: its error without
// the "skipped: " prefix.
func SkipReason(err error) string {
	return strings.TrimPrefix(err.Error(), errSkip.Error()+": ")
}

// Import converts every HTML (.html, .htm) and Markdown (.md, .markdown)
// page under dir in fsys into an article, in path order. Other files, and
// pages with no title, no text, no URL, an unsupported language or the URL
// of an earlier page, are returned as skipped with the reason. Two pages
// that would get the same file name get "-2", "-3" added.
func Import(fsys fs.FS, dir string, opt ImportOptions) ([]ImportedPage, []SkippedPage, error) {
	var (
		pages   []ImportedPage
		skipped []SkippedPage
		urls    = map[string]string{} // normalized URL: source
		files   = map[string]bool{}
	)
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			skipped = append(skipped, SkippedPage{Source: p, Reason: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			rel = p
		}
		if pageKind(p) == "" {
			skipped = append(skipped, SkippedPage{Source: p, Reason: "not an HTML or Markdown page"})
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > MaxImportPage {
			skipped = append(skipped, SkippedPage{Source: p, Reason: fmt.Sprintf("too large (%d bytes; the limit is %d)", info.Size(), MaxImportPage)})
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			skipped = append(skipped, SkippedPage{Source: p, Reason: err.Error()})
			return nil
		}
		page, err := ImportPage(rel, data, opt)
		if err != nil {
			skipped = append(skipped, SkippedPage{Source: p, Reason: SkipReason(err)})
			return nil
		}
		page.Source = p
		key := normalURL(page.URL)
		if first, ok := urls[key]; ok {
			skipped = append(skipped, SkippedPage{Source: p, First: first, Reason: fmt.Sprintf("duplicate url %s: %s has it too", page.URL, first)})
			return nil
		}
		urls[key] = p
		base := strings.TrimSuffix(page.File, ".md")
		for n := 2; files[page.File]; n++ {
			page.File = fmt.Sprintf("%s-%d.md", base, n)
		}
		files[page.File] = true
		pages = append(pages, page)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("knowledge: import %s: %w", dir, err)
	}
	return pages, skipped, nil
}

// pageKind is "html" or "md" by name, "" for other files.
func pageKind(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".xhtml":
		return "html"
	case ".md", ".markdown":
		return "md"
	}
	return ""
}

// ImportPage converts one page, HTML or Markdown by the extension of name
// (its path in the export, used for the URL under BaseURL and the file
// name). The error says why the page was skipped (see SkipReason).
func ImportPage(name string, data []byte, opt ImportOptions) (ImportedPage, error) {
	if len(data) > MaxImportPage {
		return ImportedPage{}, skip("too large (%d bytes; the limit is %d)", len(data), MaxImportPage)
	}
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return ImportedPage{}, skip("not UTF-8 text")
	}
	var (
		m   meta
		err error
	)
	switch pageKind(name) {
	case "html":
		m, err = fromHTML(data)
	case "md":
		m, err = fromMarkdown(data)
	default:
		return ImportedPage{}, skip("not an HTML or Markdown page")
	}
	if err != nil {
		return ImportedPage{}, err
	}
	return m.article(name, opt)
}

// meta is what a page says about itself, and its text as Markdown.
type meta struct {
	title, url, lang string
	tags             []string
	body             string
}

func (m meta) article(name string, opt ImportOptions) (ImportedPage, error) {
	title := strings.Join(strings.Fields(m.title), " ")
	if title == "" {
		return ImportedPage{}, skip("no title (no <h1> or <title>, no # heading or title in the front matter)")
	}
	body := strings.TrimSpace(m.body)
	if body == "" || !hasLetters(body) {
		return ImportedPage{}, skip("no text")
	}
	u := strings.TrimSpace(m.url)
	if u != "" && checkURL(u) != "" {
		u = "" // a relative or odd canonical URL: fall back to the base URL
	}
	if u == "" {
		if opt.BaseURL == "" {
			return ImportedPage{}, skip("no url (no canonical link or og:url): give a base URL")
		}
		u = pageURL(opt.BaseURL, name)
		if msg := checkURL(u); msg != "" {
			return ImportedPage{}, skip("url %q: %s", u, msg)
		}
	}
	lang := primaryLang(m.lang)
	if lang == "" {
		lang = primaryLang(opt.Lang)
	}
	if lang == "" {
		lang = DefaultLanguage
	}
	if !slices.Contains(languages, lang) {
		return ImportedPage{}, skip("language %q: want one of %s", m.lang, strings.Join(languages, ", "))
	}
	fm := struct {
		Title    string   `yaml:"title"`
		URL      string   `yaml:"url"`
		Language string   `yaml:"language"`
		Tags     []string `yaml:"tags,omitempty,flow"`
	}{title, u, lang, m.tags}
	front, err := yaml.Marshal(fm)
	if err != nil {
		return ImportedPage{}, skip("front matter: %v", err)
	}
	data := []byte("---\n" + string(front) + "---\n" + body + "\n")
	file := lang + "/" + slug(u, name) + ".md"
	if _, err := ParseArticle(file, data); err != nil {
		return ImportedPage{}, skip("not a valid article: %s", oneLineErr(err))
	}
	return ImportedPage{Source: name, File: file, Title: title, URL: u, Language: lang, Data: data}, nil
}

func oneLineErr(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func hasLetters(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// primaryLang is the language of a tag such as "sv-SE", in lower case.
func primaryLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// pageURL is the URL of the page at name under base: its path without the
// extension ("a/index.html" is "a").
func pageURL(base, name string) string {
	p := strings.TrimSuffix(name, path.Ext(name))
	if path.Base(p) == "index" {
		p = path.Dir(p)
		if p == "." {
			p = ""
		}
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimSuffix(base, "/") + "/" + strings.Join(segs, "/")
}

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

// slug is a file name for the article: the last part of its URL's path, or
// of its name in the export.
func slug(u, name string) string {
	for _, s := range []string{urlBase(u), strings.TrimSuffix(path.Base(name), path.Ext(name))} {
		s = strings.Trim(slugRe.ReplaceAllString(strings.ToLower(fold(s)), "-"), "-")
		if len(s) > 80 {
			s = strings.Trim(s[:80], "-")
		}
		if s != "" && s != "index" {
			return s
		}
	}
	return "article"
}

func urlBase(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	b := path.Base(strings.TrimSuffix(pu.Path, "/"))
	if b == "/" || b == "." {
		return ""
	}
	return strings.TrimSuffix(b, path.Ext(b))
}

// fold drops the accents of s ("å" is "a").
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fromMarkdown reads a Markdown page: its front matter if it has one
// (title, url, language or lang, tags; other keys are dropped), else the
// first # heading as the title.
func fromMarkdown(data []byte) (meta, error) {
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	var m meta
	if rest, ok := strings.CutPrefix(text, "---\n"); ok {
		end := strings.Index(rest, "\n---\n")
		if end < 0 && strings.HasSuffix(rest, "\n---") {
			end = len(rest) - 4
		}
		if end < 0 {
			return meta{}, skip("front matter not closed")
		}
		var fm map[string]any
		if err := yaml.Unmarshal([]byte(rest[:end]), &fm); err != nil {
			return meta{}, skip("front matter is not YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		m.title, m.url = str(fm["title"]), str(fm["url"])
		m.lang = str(fm["language"])
		if m.lang == "" {
			m.lang = str(fm["lang"])
		}
		switch t := fm["tags"].(type) {
		case []any:
			for _, x := range t {
				if s := strings.TrimSpace(str(x)); s != "" {
					m.tags = append(m.tags, s)
				}
			}
		case string:
			for _, x := range strings.Split(t, ",") {
				if s := strings.TrimSpace(x); s != "" {
					m.tags = append(m.tags, s)
				}
			}
		}
		text = strings.TrimPrefix(rest[end:], "\n---")
	}
	if m.title == "" {
		lines := strings.Split(text, "\n")
		fence := false
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "```") || strings.HasPrefix(strings.TrimSpace(l), "~~~") {
				fence = !fence
			}
			if h, ok := strings.CutPrefix(l, "# "); ok && !fence {
				m.title = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(h), "#"))
				text = strings.Join(slices.Delete(lines, i, i+1), "\n")
				break
			}
		}
	}
	m.body = text
	return m, nil
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// dropped are the elements whose content is not article text.
var dropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true,
	atom.Form: true, atom.Button: true, atom.Iframe: true, atom.Svg: true,
	atom.Head: true, atom.Select: true, atom.Object: true, atom.Canvas: true,
}

// fromHTML reads an HTML page: the title from its first <h1> (dropped from
// the text) or else its <title>; the URL from <link rel=canonical> or else
// og:url; the language from <html lang>; the text of <main>, else
// <article>, else <body>, as Markdown.
func fromHTML(data []byte) (meta, error) {
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return meta{}, skip("not HTML: %v", err)
	}
	var m meta
	var main, article, body, h1 *html.Node
	var title string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.Html:
			if m.lang == "" {
				m.lang = attr(n, "lang")
			}
		case atom.Title:
			if title == "" {
				title = textOf(n)
			}
		case atom.Link:
			if m.url == "" && slices.Contains(strings.Fields(strings.ToLower(attr(n, "rel"))), "canonical") {
				m.url = attr(n, "href")
			}
		case atom.Meta:
			if strings.EqualFold(attr(n, "property"), "og:url") && m.url == "" {
				m.url = attr(n, "content")
			}
		case atom.Main:
			if main == nil {
				main = n
			}
		case atom.Article:
			if article == nil {
				article = n
			}
		case atom.Body:
			if body == nil {
				body = n
			}
		}
	}
	root := cmpOr(main, article, body, doc)
	for n := range root.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.H1 && !insideDropped(n, root) {
			h1 = n
			break
		}
	}
	if h1 != nil && strings.TrimSpace(textOf(h1)) != "" {
		m.title = textOf(h1)
	} else {
		m.title, h1 = title, nil
	}
	c := &converter{skip: h1}
	if u, err := url.Parse(m.url); err == nil && checkURL(m.url) == "" {
		c.base = u
	}
	c.blocks(root, 0)
	c.flush()
	m.body = strings.Join(c.out, "\n\n")
	return m, nil
}

func cmpOr(ns ...*html.Node) *html.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

func insideDropped(n, root *html.Node) bool {
	for p := n; p != nil && p != root; p = p.Parent {
		if p.Type == html.ElementNode && dropped[p.DataAtom] {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return strings.TrimSpace(a.Val)
		}
	}
	return ""
}

// textOf is the text inside n, spaces collapsed.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode && !insideDropped(d, n) {
			b.WriteString(d.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// converter writes HTML as simple Markdown: headings, paragraphs, lists,
// links, emphasis, code; other elements as their text.
type converter struct {
	out    []string        // the blocks written
	inline strings.Builder // the paragraph being written
	skip   *html.Node      // the <h1> that is the title
	base   *url.URL        // the page's URL, for relative links; nil when unknown
}

// flush ends the current paragraph.
func (c *converter) flush() {
	if s := collapse(c.inline.String()); s != "" {
		c.out = append(c.out, s)
	}
	c.inline.Reset()
}

func collapse(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// blocks converts the children of n. depth is the list nesting.
func (c *converter) blocks(n *html.Node, depth int) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.block(ch, depth)
	}
}

func (c *converter) block(n *html.Node, depth int) {
	switch n.Type {
	case html.TextNode:
		c.inline.WriteString(n.Data)
		return
	case html.ElementNode:
	default:
		if n.Type == html.DocumentNode {
			c.blocks(n, depth)
		}
		return
	}
	if dropped[n.DataAtom] || n == c.skip {
		return
	}
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		c.flush()
		text := c.inlineText(n)
		if text == "" {
			return
		}
		switch n.DataAtom {
		case atom.H1:
			c.out = append(c.out, "# "+text)
		case atom.H2:
			c.out = append(c.out, "## "+text)
		case atom.H3:
			c.out = append(c.out, "### "+text)
		default: // deeper headings are not passage boundaries
			c.out = append(c.out, "**"+text+"**")
		}
	case atom.Ul, atom.Ol:
		c.flush()
		c.list(n, depth)
	case atom.Pre:
		c.flush()
		code := strings.Trim(rawText(n), "\n")
		if strings.TrimSpace(code) != "" {
			code = strings.ReplaceAll(code, "```", "'''")
			c.out = append(c.out, "```\n"+code+"\n```")
		}
	case atom.Blockquote:
		c.flush()
		sub := &converter{skip: c.skip, base: c.base}
		sub.blocks(n, depth)
		sub.flush()
		for _, b := range sub.out {
			c.out = append(c.out, "> "+strings.ReplaceAll(b, "\n", "\n> "))
		}
	case atom.Tr:
		c.flush()
		var cells []string
		for td := n.FirstChild; td != nil; td = td.NextSibling {
			if td.Type == html.ElementNode && (td.DataAtom == atom.Td || td.DataAtom == atom.Th) {
				if t := c.inlineText(td); t != "" {
					cells = append(cells, t)
				}
			}
		}
		if len(cells) > 0 {
			c.out = append(c.out, strings.Join(cells, " | "))
		}
	case atom.Br:
		c.inline.WriteString("\n")
	case atom.Hr:
		c.flush()
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Body, atom.Html,
		atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Dl, atom.Dd, atom.Dt, atom.Figure,
		atom.Figcaption, atom.Details, atom.Summary, atom.Address, atom.Li, atom.Center:
		c.flush()
		c.blocks(n, depth)
		c.flush()
	default:
		c.inlineNode(&c.inline, n)
	}
}

// list writes the items of a ul or ol, nested lists indented.
func (c *converter) list(n *html.Node, depth int) {
	i := 0
	indent := strings.Repeat("  ", depth)
	var lines []string
	for li := n.FirstChild; li != nil; li = li.NextSibling {
		if li.Type != html.ElementNode || li.DataAtom != atom.Li {
			continue
		}
		i++
		marker := "- "
		if n.DataAtom == atom.Ol {
			marker = fmt.Sprintf("%d. ", i)
		}
		var own strings.Builder
		var nested []string
		for ch := li.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && (ch.DataAtom == atom.Ul || ch.DataAtom == atom.Ol) {
				sub := &converter{skip: c.skip, base: c.base}
				sub.list(ch, depth+1)
				nested = append(nested, sub.out...)
				continue
			}
			if ch.Type == html.ElementNode && dropped[ch.DataAtom] {
				continue
			}
			c.inlineNode(&own, ch)
		}
		if t := strings.Join(strings.Fields(own.String()), " "); t != "" {
			lines = append(lines, indent+marker+t)
		}
		lines = append(lines, nested...)
	}
	if len(lines) > 0 {
		c.out = append(c.out, strings.Join(lines, "\n"))
	}
}

// inlineText is n's content as one line of Markdown: links, emphasis and
// code kept, everything else as its text.
func (c *converter) inlineText(n *html.Node) string {
	var b strings.Builder
	c.inlineInto(&b, n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (c *converter) inlineInto(b *strings.Builder, n *html.Node) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.inlineNode(b, ch)
	}
}

// inlineNode writes one node as inline Markdown.
func (c *converter) inlineNode(b *strings.Builder, ch *html.Node) {
	switch ch.Type {
	case html.TextNode:
		b.WriteString(ch.Data)
		return
	case html.ElementNode:
	default:
		return
	}
	if dropped[ch.DataAtom] || ch == c.skip {
		return
	}
	var inner strings.Builder
	c.inlineInto(&inner, ch)
	text := strings.Join(strings.Fields(inner.String()), " ")
	switch ch.DataAtom {
	case atom.A:
		href := c.resolve(attr(ch, "href"))
		if text != "" && isLink(href) {
			fmt.Fprintf(b, "[%s](%s)", strings.NewReplacer("[", "(", "]", ")").Replace(text), href)
		} else {
			b.WriteString(text)
		}
	case atom.Strong, atom.B:
		if text != "" {
			b.WriteString("**" + text + "**")
		}
	case atom.Em, atom.I:
		if text != "" {
			b.WriteString("*" + text + "*")
		}
	case atom.Code, atom.Kbd:
		if text != "" {
			b.WriteString("`" + strings.ReplaceAll(text, "`", "'") + "`")
		}
	case atom.Img:
		if alt := attr(ch, "alt"); alt != "" {
			b.WriteString(alt)
		}
	case atom.Br:
		b.WriteString(" ")
	default:
		if inlineAtoms[ch.DataAtom] {
			b.WriteString(text)
		} else { // a block inside inline text: keep it apart from its neighbours
			b.WriteString(" " + text + " ")
		}
	}
}

// inlineAtoms are the elements that do not separate words.
var inlineAtoms = map[atom.Atom]bool{
	atom.Span: true, atom.Abbr: true, atom.Small: true, atom.Sub: true, atom.Sup: true,
	atom.U: true, atom.S: true, atom.Mark: true, atom.Q: true, atom.Cite: true, atom.Time: true,
	atom.Var: true, atom.Samp: true, atom.Del: true, atom.Ins: true, atom.Label: true, atom.Font: true,
}

// resolve makes href absolute against the page's URL, when it is known.
func (c *converter) resolve(href string) string {
	if c.base == nil || href == "" || strings.HasPrefix(href, "#") {
		return href
	}
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	return c.base.ResolveReference(u).String()
}

// isLink reports whether href is worth keeping in the article: an absolute
// http(s) or mailto link, without spaces or parentheses that would break
// the Markdown.
func isLink(href string) bool {
	if strings.ContainsAny(href, " \t\n()<>") {
		return false
	}
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" || u.Scheme == "mailto"
}

// rawText is the text inside n as written (for <pre>).
func rawText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

package knowledge

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/firstlinehq/firstline/bot/fileerr"
)

// MaxFileSize is the largest article file read, in bytes.
const MaxFileSize = 1 << 20

// DefaultLanguage is the language of an article whose front matter has none.
const DefaultLanguage = "en"

// languages are the language codes an article may have, sorted.
var languages = []string{"de", "en", "es", "fr", "sv"}

// Languages returns the language codes an article may have: de, en, es, fr
// and sv.
func Languages() []string { return slices.Clone(languages) }

// An Article is one help-center article.
type Article struct {
	File     string // path of the file it was read from
	Title    string
	URL      string
	Language string
	Tags     []string
	Passages []Passage

	lineOfURL int // where the url is, for duplicate-URL errors
}

// A Passage is a part of an article: the text under one heading, or a piece
// of it when the section is long.
type Passage struct {
	Title    string // the article's title
	URL      string // the article's URL
	Heading  string // the heading above the text; "" for the text before the first heading
	Text     string // Markdown
	Language string
	Tags     []string // the article's tags
	File     string
	Line     int // line of the heading (or of the text when there is none)
}

// An Error is a problem in an article file; Errors are all the problems
// found, in file and line order.
type (
	Error  = fileerr.Error
	Errors = fileerr.Errors
)

// LoadDir reads every article under dir in fsys (sub-folders included). It
// returns the articles that are valid and, when some are not, an [Errors]
// naming every problem, a URL used twice included.
func LoadDir(fsys fs.FS, dir string) ([]Article, error) {
	var (
		articles []Article
		errs     Errors
	)
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, Error{File: p, Msg: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if p != dir && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.EqualFold(path.Ext(name), ".md") || strings.EqualFold(name, "README.md") {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > MaxFileSize {
			errs = append(errs, Error{File: p, Msg: errTooLarge(info.Size()).Error()})
			return nil
		}
		data, rerr := readFile(fsys, p)
		if rerr != nil {
			errs = append(errs, Error{File: p, Msg: rerr.Error()})
			return nil
		}
		a, perr := ParseArticle(p, data)
		if perr != nil {
			errs = append(errs, asErrors(p, perr)...)
			return nil
		}
		articles = append(articles, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge: read %s: %w", dir, err)
	}
	articles, dup := dedupe(articles)
	errs = append(errs, dup...)
	if len(errs) > 0 {
		errs.Sort()
		return articles, errs
	}
	return articles, nil
}

// readFile reads a file of at most MaxFileSize bytes.
func readFile(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errTooLarge(-1) // grew since it was listed
	}
	return data, nil
}

// errTooLarge is the error for a file of that many bytes (-1: unknown).
type errTooLarge int64

func (n errTooLarge) Error() string {
	if n < 0 {
		return "file too large: the limit is 1 MiB"
	}
	return fmt.Sprintf("file too large (%d bytes): the limit is 1 MiB", int64(n))
}

func asErrors(file string, err error) Errors {
	if es, ok := err.(Errors); ok {
		return es
	}
	return Errors{{File: file, Msg: err.Error()}}
}

// dedupe drops the articles whose URL an earlier file already uses, with an
// error naming both files.
func dedupe(articles []Article) ([]Article, Errors) {
	var errs Errors
	seen := make(map[string]*Article, len(articles))
	out := articles[:0]
	for i := range articles {
		a := &articles[i]
		key := normalURL(a.URL)
		if first, ok := seen[key]; ok {
			errs = append(errs, Error{File: a.File, Line: a.urlLine(),
				Msg: fmt.Sprintf("url %s is also the url of %s", a.URL, first.File)})
			continue
		}
		seen[key] = a
		out = append(out, *a)
	}
	return out, errs
}

// urlLine is the line of the article's url key (0 when unknown).
func (a *Article) urlLine() int { return a.lineOfURL }

// normalURL is the form URLs are compared in: no fragment, no trailing slash,
// the scheme and host in lower case.
func normalURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Fragment = ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

var bom = []byte("\xef\xbb\xbf")

// ParseArticle parses one article file. file names it in errors. The error,
// when there is one, is an [Errors].
func ParseArticle(file string, data []byte) (Article, error) {
	if len(data) > MaxFileSize {
		return Article{}, Errors{{File: file, Msg: errTooLarge(int64(len(data))).Error()}}
	}
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return Article{}, Errors{{File: file, Line: invalidUTF8Line(data), Msg: "not valid UTF-8 text"}}
	}
	text := norm.NFC.String(strings.ReplaceAll(string(data), "\r\n", "\n"))
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")

	a := Article{File: file}
	var errs Errors
	add := func(line int, format string, args ...any) {
		errs = append(errs, Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if len(lines) == 0 || strings.TrimRight(lines[0], " \t") != "---" {
		add(1, `no front matter: an article starts with a line "---", then title and url, then "---"`)
		return Article{}, errs
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t"); l == "---" || l == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		add(1, `front matter not closed: no line "---" after it`)
		return Article{}, errs
	}
	a.parseFrontMatter(strings.Join(lines[1:end], "\n"), 2, add)
	a.Passages = split(lines[end+1:], end+2)
	if len(a.Passages) == 0 {
		add(end+1, "empty article: no text after the front matter")
	}
	if len(errs) > 0 {
		return Article{}, errs
	}
	for i := range a.Passages {
		p := &a.Passages[i]
		p.Title, p.URL, p.Language, p.Tags, p.File = a.Title, a.URL, a.Language, a.Tags, file
	}
	return a, nil
}

func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFrontMatter reads the front matter src, whose first line is line
// first of the file.
func (a *Article) parseFrontMatter(src string, first int, add func(int, string, ...any)) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		msg := err.Error()
		line := first - 1
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line, msg = first+n-1, m[2]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		add(line, "front matter: %s", msg)
		return
	}
	fmLine := func(n *yaml.Node) int { return first + n.Line - 1 }
	var m *yaml.Node
	switch {
	case len(doc.Content) == 0:
		// empty front matter: title and url are missing
	case doc.Content[0].Kind == yaml.MappingNode:
		m = doc.Content[0]
	default:
		add(fmLine(doc.Content[0]), "front matter: want keys (title: ..., url: ...), not a %s", kindName(doc.Content[0].Kind))
		return
	}
	var titleSeen, urlSeen bool
	seen := map[string]int{}
	if m != nil {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			line := fmLine(k)
			if prev, ok := seen[k.Value]; ok {
				add(line, "%s given twice (first on line %d)", k.Value, prev)
				continue
			}
			seen[k.Value] = line
			switch k.Value {
			case "title":
				titleSeen = true
				s, ok := scalar(v)
				if !ok || strings.TrimSpace(s) == "" {
					add(line, "title is empty")
					continue
				}
				a.Title = strings.Join(strings.Fields(s), " ")
			case "url":
				urlSeen = true
				s, ok := scalar(v)
				s = strings.TrimSpace(s)
				if !ok || s == "" {
					add(line, "url is empty")
					continue
				}
				if msg := checkURL(s); msg != "" {
					add(line, "url %q: %s", s, msg)
					continue
				}
				a.URL = s
				a.lineOfURL = line
			case "language", "lang":
				s, ok := scalar(v)
				s = strings.ToLower(strings.TrimSpace(s))
				if !ok || !slices.Contains(languages, s) {
					add(line, "unknown language %q: want one of %s", v.Value, strings.Join(languages, ", "))
					continue
				}
				a.Language = s
			case "tags":
				switch v.Kind {
				case yaml.SequenceNode:
					for _, t := range v.Content {
						s, ok := scalar(t)
						if !ok {
							add(fmLine(t), "tags: each tag is a text")
							continue
						}
						if s = strings.TrimSpace(s); s != "" {
							a.Tags = append(a.Tags, s)
						}
					}
				case yaml.ScalarNode:
					for _, t := range strings.Split(v.Value, ",") {
						if t = strings.TrimSpace(t); t != "" {
							a.Tags = append(a.Tags, t)
						}
					}
				default:
					add(line, "tags: want a list such as [refund, card]")
				}
			default:
				add(line, "unknown key %q: want title, url, language or tags", k.Value)
			}
		}
	}
	if !titleSeen {
		add(first-1, "missing title")
	}
	if !urlSeen {
		add(first-1, "missing url")
	}
	if a.Language == "" {
		a.Language = DefaultLanguage
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "text"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

func scalar(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "want an absolute http:// or https:// URL"
	case u.Host == "":
		return "no host"
	case strings.ContainsAny(s, " \t<>\""):
		return "spaces and <>\" are not allowed"
	}
	return ""
}

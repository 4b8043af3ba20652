// Package prompts loads the files admins edit to shape the bot: the system
// prompt, the FAQ, the customer-facing messages, the handoff phrases, the
// agent-channel summary, the business hours, the automatic escalation
// rules, the company's data tools (tools.yaml, parsed by bot/datatools)
// and the help center (the knowledge folder, parsed and searched by
// package knowledge). Defaults are embedded in the binary; a folder
// overrides them file by file (the help center as a whole). Every file is
// validated as a whole, and errors carry file:line so an admin can fix
// them. A Watcher keeps the set of a folder live while admins edit it: a
// valid change goes live without a restart, an invalid one is rejected and
// the last good set stays. Of the project it imports only the parsers of
// its own files (bot/datatools, knowledge).
package prompts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing/fstest"
	"text/template"

	"github.com/firstlinehq/firstline/bot/datatools"
	"github.com/firstlinehq/firstline/bot/fileerr"
	"github.com/firstlinehq/firstline/bot/knowledge"
)

//go:embed system.md faq.yaml messages.yaml phrases.yaml summary.md hours.yaml escalation.yaml tools.yaml knowledge
var defaultFiles embed.FS

// The files a prompt folder may hold. A file missing from the folder keeps
// its embedded default.
const (
	FileSystem   = "system.md"
	FileFAQ      = "faq.yaml"
	FileMessages = "messages.yaml"
	FilePhrases  = "phrases.yaml"
	FileSummary  = "summary.md"
	// FileTools declares the company's data tools (bot/datatools); its
	// secrets come from the environment at each load.
	FileTools = "tools.yaml"
	// FolderKnowledge is the help center (package knowledge): one Markdown
	// article per file, in sub-folders as admins like. A prompt folder
	// with its own replaces the embedded example whole; an empty one means
	// no help center.
	FolderKnowledge = "knowledge"
)

// Files lists the prompt files in a stable order.
var Files = []string{FileSystem, FileFAQ, FileMessages, FilePhrases, FileSummary, FileHours, FileEscalation, FileTools}

// Set is one loaded, validated version of the prompt files. It is immutable
// and safe for concurrent use; a reload builds a new Set.
type Set struct {
	// Version is a short hash of the files' contents, recorded with every bot
	// message so that answers can be traced to the prompts that made them.
	Version string
	FAQ     []FAQEntry
	Phrases []PhraseLang
	// Escalation says when the bot offers a person unasked (escalation.yaml).
	Escalation Escalation
	// Tools are the company's data tools (tools.yaml); none by default.
	Tools *datatools.Set
	// help is the help center (the knowledge folder), indexed on first
	// use (Knowledge).
	help *helpCenter

	hours Hours

	system   *template.Template
	summary  *template.Template
	messages map[string]map[string]*template.Template // name → lang → template
	sources  map[string]string                        // file → where it came from
}

// FAQEntry is one FAQ question and its answer.
type FAQEntry struct {
	ID       string   `yaml:"id"`
	Question string   `yaml:"question"`
	Keywords []string `yaml:"keywords"`
	Answer   string   `yaml:"answer"`
}

// PhraseLang is one language's list of phrases that ask for a person.
type PhraseLang struct {
	Code      string   `yaml:"-"`
	Phrases   []string `yaml:"phrases"`
	Alone     []string `yaml:"alone"`
	Fillers   []string `yaml:"fillers"`
	Negations []string `yaml:"negations"`
	Except    []string `yaml:"except"`
	// Disconnect are what a customer says to unlink their chat from their
	// account ("disconnect my account"), matched like Alone phrases with
	// Fillers around them.
	Disconnect []string `yaml:"disconnect"`
}

// SystemData is what the system prompt template sees.
type SystemData struct {
	Linked  bool
	Private bool
	FAQ     []FAQEntry
	// HelpCenter is true when the knowledge folder has articles: the
	// model searches them (search_help_center) instead of reading the FAQ.
	HelpCenter bool
	Today      string
}

// Error is one problem in a prompt file; Errors is every problem found
// in a prompt folder, one per line.
type (
	Error  = fileerr.Error
	Errors = fileerr.Errors
)

// Default returns the embedded prompt files. They are tested to be valid, so
// an error here is a build defect.
func Default() *Set {
	s, err := Load(nil)
	if err != nil {
		panic("prompts: embedded defaults are invalid: " + err.Error())
	}
	return s
}

// Load reads and validates the prompt files in dir; files missing from dir
// (or every file, when dir is nil) come from the embedded defaults. The error,
// when not nil, is an Errors listing every problem with file:line.
func Load(dir fs.FS) (*Set, error) {
	contents, sources, err := readAll(dir)
	if err != nil {
		return nil, err
	}
	return build(contents, sources)
}

// readAll reads every prompt file from dir or the embedded defaults, and
// says where each came from.
func readAll(dir fs.FS) (contents map[string][]byte, sources map[string]string, err error) {
	contents = make(map[string][]byte, len(Files))
	sources = make(map[string]string, len(Files))
	var errs Errors
	for _, name := range Files {
		b, src, err := readFile(dir, name)
		if err != nil {
			errs = append(errs, Error{File: name, Msg: err.Error()})
			continue
		}
		contents[name] = b
		sources[name] = src
	}
	if err := readKnowledge(dir, contents, sources); err != nil {
		errs = append(errs, Error{File: FolderKnowledge, Msg: err.Error()})
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return contents, sources, nil
}

// readKnowledge adds the articles of the knowledge folder to contents, by
// path ("knowledge/en/refunds.md"): the folder's when dir has one, else
// the embedded example.
func readKnowledge(dir fs.FS, contents map[string][]byte, sources map[string]string) error {
	var from fs.FS = defaultFiles
	sources[FolderKnowledge] = "default"
	if dir != nil {
		if info, err := fs.Stat(dir, FolderKnowledge); err == nil && info.IsDir() {
			from, sources[FolderKnowledge] = dir, "folder"
		}
	}
	return fs.WalkDir(from, FolderKnowledge, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(path.Ext(p), ".md") {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > knowledge.MaxFileSize {
			// Read no further: the knowledge package reports the size.
			contents[p] = make([]byte, knowledge.MaxFileSize+1)
			return nil
		}
		b, err := fs.ReadFile(from, p)
		if err != nil {
			return err
		}
		contents[p] = b
		return nil
	})
}

// helpCenter is a set's help center: its articles, checked when the set
// was built, and their index, built on the first search. Most sets are
// never searched (a test's, one an admin replaced at once), and indexing
// costs tens of milliseconds.
type helpCenter struct {
	articles []knowledge.Article
	once     sync.Once
	idx      *knowledge.Index
	err      error
}

// Knowledge returns the help center's index, building it on first use; nil
// when the knowledge folder has no articles. The index is closed once the
// set is unreachable: keep the set alive while using it (runtime.KeepAlive),
// or search with SearchKnowledge.
func (s *Set) Knowledge() (*knowledge.Index, error) {
	h := s.help
	if h == nil {
		return nil, nil
	}
	h.once.Do(func() {
		h.idx, h.err = knowledge.Build(h.articles)
		if h.err == nil {
			// A reload swaps sets while turns may still search the old
			// one: its index is closed once nothing holds the help center.
			runtime.AddCleanup(h, func(x *knowledge.Index) { _ = x.Close() }, h.idx)
		}
	})
	if h.err != nil {
		return nil, fmt.Errorf("prompts: index the help center: %w", h.err)
	}
	return h.idx, nil
}

// SearchKnowledge searches the help center (Knowledge), keeping the set,
// and so its index, alive until the search is done: the index is closed
// once the set is unreachable, which may be mid-search for a caller that
// holds only the index. No help center finds nothing.
func (s *Set) SearchKnowledge(ctx context.Context, q, lang string, k int) ([]knowledge.Hit, error) {
	defer runtime.KeepAlive(s)
	idx, err := s.Knowledge()
	if err != nil || idx == nil {
		return nil, err
	}
	return idx.Search(ctx, q, lang, k)
}

// KnowledgeArticles is how many articles the help center has.
func (s *Set) KnowledgeArticles() int {
	if s.help == nil {
		return 0
	}
	return len(s.help.articles)
}

// KnowledgeURLs are the URLs of the help center's articles, for the link
// allow-list.
func (s *Set) KnowledgeURLs() []string {
	if s.help == nil {
		return nil
	}
	urls := make([]string, len(s.help.articles))
	for i, a := range s.help.articles {
		urls[i] = a.URL
	}
	return urls
}

// loadKnowledge parses the articles readKnowledge read.
func loadKnowledge(contents map[string][]byte) (*helpCenter, Errors) {
	dir := fstest.MapFS{}
	for name, b := range contents {
		if strings.HasPrefix(name, FolderKnowledge+"/") {
			dir[name] = &fstest.MapFile{Data: b}
		}
	}
	if len(dir) == 0 {
		return nil, nil
	}
	articles, err := knowledge.LoadDir(dir, FolderKnowledge)
	if err != nil {
		return nil, appendErr(nil, FolderKnowledge, err)
	}
	if len(articles) == 0 {
		return nil, nil
	}
	return &helpCenter{articles: articles}, nil
}

// build parses and validates the files readAll read.
func build(contents map[string][]byte, sources map[string]string) (*Set, error) {
	s := &Set{Version: version(contents), sources: sources}
	var errs Errors
	var err error
	if s.FAQ, err = parseFAQ(contents[FileFAQ]); err != nil {
		errs = appendErr(errs, FileFAQ, err)
	}
	if s.Phrases, err = parsePhrases(contents[FilePhrases]); err != nil {
		errs = appendErr(errs, FilePhrases, err)
	}
	if s.messages, err = parseMessages(contents[FileMessages], sources[FileMessages] != "default"); err != nil {
		errs = appendErr(errs, FileMessages, err)
	}
	if s.system, err = parseTemplate(FileSystem, contents[FileSystem], systemSample()); err != nil {
		errs = appendErr(errs, FileSystem, err)
	}
	if s.summary, err = parseTemplate(FileSummary, contents[FileSummary], summarySample()); err != nil {
		errs = appendErr(errs, FileSummary, err)
	}
	if s.hours, err = parseHours(contents[FileHours]); err != nil {
		errs = appendErr(errs, FileHours, err)
	}
	if s.Escalation, err = parseEscalation(contents[FileEscalation], sources[FileEscalation] != "default"); err != nil {
		errs = appendErr(errs, FileEscalation, err)
	}
	if s.Tools, err = datatools.Parse(FileTools, contents[FileTools], os.Getenv); err != nil {
		errs = appendErr(errs, FileTools, err)
	}
	var kerrs Errors
	s.help, kerrs = loadKnowledge(contents)
	errs = append(errs, kerrs...)
	if len(errs) > 0 {
		for i, e := range errs {
			// The YAML library puts an empty value at the end of a file that
			// lacks a final line break on the line after the last one.
			errs[i].Line = min(e.Line, countLines(contents[e.File]))
		}
		errs.Sort()
		return nil, errs
	}
	return s, nil
}

// Hours returns the support team's business hours (hours.yaml).
func (s *Set) Hours() Hours { return s.hours }

// Source says where a file of this set came from: "default" or "folder".
func (s *Set) Source(file string) string { return s.sources[file] }

// System renders the system prompt.
func (s *Set) System(d SystemData) (string, error) {
	return execute(s.system, d)
}

// Summary renders the agent-channel card of a handoff; see summary.md for the
// variables.
func (s *Set) Summary(data map[string]any) (string, error) {
	return execute(s.summary, data)
}

// Message renders a canned message in lang, falling back to English when the
// file has no such language. The variables each message takes are listed in
// messages.yaml; a missing one is an error.
func (s *Set) Message(name, lang string, data map[string]any) (string, error) {
	byLang, ok := s.messages[name]
	if !ok {
		return "", fmt.Errorf("prompts: unknown message %q", name)
	}
	t, ok := byLang[lang]
	if !ok {
		t = byLang["en"]
	}
	if data == nil {
		data = map[string]any{}
	}
	return execute(t, data)
}

// Languages lists the languages message name has, sorted; nil for an
// unknown message.
func (s *Set) Languages(name string) []string {
	byLang := s.messages[name]
	if byLang == nil {
		return nil
	}
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	return langs
}

// HasLanguage reports whether the message file has any message in lang.
func (s *Set) HasLanguage(lang string) bool {
	for _, byLang := range s.messages {
		if _, ok := byLang[lang]; ok {
			return true
		}
	}
	return false
}

func execute(t *template.Template, data any) (string, error) {
	if t == nil { // not from Load, which guarantees every template
		return "", errors.New("prompts: no template (use Load or Default)")
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("prompts: render %s: %w", t.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

func readFile(dir fs.FS, name string) ([]byte, string, error) {
	if dir != nil {
		b, err := fs.ReadFile(dir, name)
		if err == nil {
			return b, "folder", nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	b, err := defaultFiles.ReadFile(name)
	if err != nil {
		return nil, "", err
	}
	return b, "default", nil
}

func version(contents map[string][]byte) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(contents)) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(contents[name]))
		h.Write(contents[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// appendErr adds err to errs, keeping file:line details when err has them.
func appendErr(errs Errors, file string, err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return append(errs, es...)
	}
	var e Error
	if errors.As(err, &e) {
		return append(errs, e)
	}
	return append(errs, Error{File: file, Msg: err.Error()})
}

// Package prompts loads the files admins edit to shape the bot: the system
// prompt, the FAQ, the customer-facing messages, the handoff phrases, the
// agent-channel summary, the business hours, the automatic escalation
// rules and the company's data tools (tools.yaml, parsed by bot/datatools). Defaults are embedded in the binary; a folder
// overrides them file by file. Every file is validated as a whole, and errors
// carry file:line so an admin can fix them. A Watcher keeps the set of a
// folder live while admins edit it: a valid change goes live without a
// restart, an invalid one is rejected and the last good set stays. Of the
// project it imports only bot/datatools, which checks tools.yaml.
package prompts

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/template"

	"github.com/firstlinehq/firstline/bot/datatools"
)

//go:embed system.md faq.yaml messages.yaml phrases.yaml summary.md hours.yaml escalation.yaml tools.yaml
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
	Today   string
}

// Error is one problem in a prompt file.
type Error struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in a prompt folder, one per line.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

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
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return contents, sources, nil
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
		var des datatools.Errors
		if errors.As(err, &des) {
			for _, e := range des {
				errs = append(errs, Error(e))
			}
		} else {
			errs = appendErr(errs, FileTools, err)
		}
	}
	if len(errs) > 0 {
		for i, e := range errs {
			// The YAML library puts an empty value at the end of a file that
			// lacks a final line break on the line after the last one.
			errs[i].Line = min(e.Line, countLines(contents[e.File]))
		}
		slices.SortStableFunc(errs, func(a, b Error) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
		})
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
	for _, name := range Files {
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

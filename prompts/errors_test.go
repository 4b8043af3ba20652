package prompts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// file joins lines into a file: line n of the file is argument n, so the
// line numbers in the tests below can be counted on the fingers.
func file(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// wantErr is one expected error: its file and line exactly, and a part of
// its message.
type wantErr struct {
	file string
	line int
	msg  string
}

func (w wantErr) String() string { return fmt.Sprintf("%s:%d: …%s…", w.file, w.line, w.msg) }

func TestInvalidFolders(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []wantErr
	}{
		{
			name: "template syntax error in a quoted scalar",
			files: map[string]string{FileMessages: file(
				"greeting:",
				`  en: "Hello {{if .X} there"`,
			)},
			want: []wantErr{{FileMessages, 2, `greeting.en: bad character U+007D '}'`}},
		},
		{
			name: "template syntax error on the third line of a quoted scalar",
			files: map[string]string{FileMessages: file(
				"# comment",
				"agent_joined:",
				`  en: "{{.Agent}} from our`,
				`    support team has`,
				`    joined {{if}} the chat."`,
			)},
			want: []wantErr{{FileMessages, 5, "agent_joined.en: missing value for if"}},
		},
		{
			name: "template syntax error in a block scalar",
			files: map[string]string{FileMessages: file(
				"payments:",
				"  en: |-",
				"    Here are your payments:",
				"    {{range .Payments}}- {{.Reference}}",
				"    {{end}",
			)},
			want: []wantErr{{FileMessages, 5, "payments.en: bad character U+007D '}'"}},
		},
		{
			name: "template syntax error in a folded block scalar after a blank line",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: >  # folded",
				"    Hello",
				"    there.",
				"",
				"    {{nope}}",
			)},
			want: []wantErr{{FileMessages, 6, `greeting.en: function "nope" not defined`}},
		},
		{
			name: "unknown variable in a block scalar",
			files: map[string]string{FileMessages: file(
				"agent_joined:",
				"  en: |",
				"    Hello,",
				"",
				"    {{.Nmae}} joined.",
			)},
			want: []wantErr{{FileMessages, 5, "agent_joined.en: unknown variable .Nmae (known: .Agent)"}},
		},
		{
			name: "unknown variable after an escaped line break in a quoted scalar",
			files: map[string]string{FileMessages: file(
				"agent_joined:",
				`  en: "Hello,\n\nit's {{.Agent}}\n{{.Nmae}}"`,
			)},
			want: []wantErr{{FileMessages, 2, "unknown variable .Nmae"}},
		},
		{
			name: "unknown variable on the second line of a single-quoted scalar",
			files: map[string]string{FileMessages: file(
				"agent_joined:",
				`  en: 'It''s {{.Agent}}`,
				`    and {{.Nmae}}'`,
			)},
			want: []wantErr{{FileMessages, 3, "unknown variable .Nmae"}},
		},
		{
			name: "unknown variable in a branch the sample data does not take",
			files: map[string]string{FileMessages: file(
				"handoff_ack:",
				`  en: "Asked.{{if .Position}} Number {{.Position}}.{{else}} {{.Positon}}{{end}}"`,
			)},
			want: []wantErr{{FileMessages, 2, "handoff_ack.en: unknown variable .Positon (known: .Position)"}},
		},
		{
			name: "unknown variable inside range",
			files: map[string]string{FileMessages: file(
				"payments:",
				"  en: |-",
				"    {{range .Payments}}",
				"    - {{.Refrence}}",
				"    {{end}}",
			)},
			want: []wantErr{{FileMessages, 4, "unknown variable .Refrence (known: .Amount, .Currency, .Date, .Merchant, .Reference, .Status)"}},
		},
		{
			name: "unknown nested variable",
			files: map[string]string{FileMessages: file(
				"payment:",
				`  en: "{{.Payment.Referense}}"`,
			)},
			want: []wantErr{{FileMessages, 2, "unknown variable .Payment.Referense"}},
		},
		{
			name: "error rendering with the sample data",
			files: map[string]string{FileMessages: file(
				"payments:",
				`  en: "First: {{index .Payments 3}}"`,
			)},
			want: []wantErr{{FileMessages, 2, "payments.en: <index .Payments 3>: error calling index: index out of range: 3"}},
		},
		{
			name: "Windows line ends",
			files: map[string]string{FileMessages: strings.ReplaceAll(file(
				"greeting:",
				"  en: |",
				"    Hello,",
				"    {{.Nmae}}",
				"fallback:",
				"  en: \"What?",
				"    {{.Nmae}}\"",
			), "\n", "\r\n")},
			want: []wantErr{
				{FileMessages, 4, "greeting.en: unknown variable .Nmae"},
				{FileMessages, 7, "fallback.en: unknown variable .Nmae"},
			},
		},
		{
			name:  "old Mac line ends",
			files: map[string]string{FileMessages: "greeting:\r  en: |\r    Hi\r    {{.Nmae}}\r"},
			want:  []wantErr{{FileMessages, 4, "greeting.en: unknown variable .Nmae"}},
		},
		{
			name: "template and define",
			files: map[string]string{FileMessages: file(
				"greeting:",
				`  en: "{{define \"x\"}}hi{{end}}"`,
				"fallback:",
				`  en: "{{template \"x\"}}"`,
			)},
			want: []wantErr{
				{FileMessages, 2, "greeting.en: {{define}} and {{block}} are not supported"},
				{FileMessages, 4, "fallback.en: {{template}} and {{block}} are not supported"},
			},
		},
		{
			name: "range over a number",
			files: map[string]string{FileMessages: file(
				"greeting:",
				`  en: "{{range 1000000000000}}{{end}}hi"`,
			)},
			want: []wantErr{{FileMessages, 2, "range over a number is not supported"}},
		},
		{
			name: "unknown message",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"greetnig:",
				"  en: Hi",
			)},
			want: []wantErr{{FileMessages, 3, `unknown message "greetnig" (known: agent_joined,`}},
		},
		{
			name: "message without en",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"resolved:",
				"  sv: Löst",
				"  de: Gelöst",
			)},
			want: []wantErr{{FileMessages, 3, `message "resolved" has no "en" text`}},
		},
		{
			name:  "message with no languages",
			files: map[string]string{FileMessages: file("resolved: {}")},
			want:  []wantErr{{FileMessages, 1, `message "resolved" has no "en" text`}},
		},
		{
			name: "message given twice",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"greeting:",
				"  en: Hello",
			)},
			want: []wantErr{{FileMessages, 3, `message "greeting" is given twice (first at line 1)`}},
		},
		{
			name: "empty text",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"  sv:",
				"  de: null",
			)},
			want: []wantErr{
				{FileMessages, 3, `message "greeting", language "sv": expected text`},
				{FileMessages, 4, `message "greeting", language "de": expected text`},
			},
		},
		{
			name: "tab indentation",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"fallback:",
				"\ten: What?",
			)},
			want: []wantErr{{FileMessages, 4, "found character that cannot start any token"}},
		},
		{
			name: "tab indentation after spaces",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"\tsv: Hej",
			)},
			want: []wantErr{{FileMessages, 3, "found a tab character that violates indentation"}},
		},
		{
			name: "unclosed quote",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				`  sv: "Hej`,
				"fallback:",
				"  en: What?",
			)},
			want: []wantErr{{FileMessages, 3, "found unexpected end of stream"}},
		},
		{
			name: "wrong indentation",
			files: map[string]string{FileMessages: file(
				"greeting:",
				"  en: Hi",
				"  sv: Hej",
				" de: Hallo",
			)},
			want: []wantErr{{FileMessages, 4, "did not find expected key"}},
		},
		{
			name: "sequence item in a mapping",
			files: map[string]string{FileFAQ: file(
				"entries:",
				"  - id: a",
				"    question: Q?",
				"    keywords: [a]",
				"   answer: A.",
			)},
			want: []wantErr{{FileFAQ, 5, "did not find expected '-' indicator"}},
		},
		{
			name:  "empty file",
			files: map[string]string{FileMessages: "# only a comment\n"},
			want:  []wantErr{{FileMessages, 1, "file is empty"}},
		},
		{
			name: "a language whose lists are emptied",
			files: map[string]string{FilePhrases: file(
				"languages:",
				"  en:",
				"    phrases: [talk to a human]",
				"  sv:",
				"    phrases: []",
				"    alone:",
				"    fillers: [jag]",
			)},
			want: []wantErr{{FilePhrases, 4, `language "sv" has no phrases`}},
		},
		{
			name:  "no languages",
			files: map[string]string{FilePhrases: file("# none", "languages: {}")},
			want:  []wantErr{{FilePhrases, 2, "languages must list at least one language"}},
		},
		{
			name:  "languages empty",
			files: map[string]string{FilePhrases: file("languages:")},
			want:  []wantErr{{FilePhrases, 1, "languages must list at least one language"}},
		},
		{
			name: "phrase entries the matcher cannot read",
			files: map[string]string{FilePhrases: file(
				"languages:",
				"  en:",
				"    phrases:",
				"      - talk to a human",
				`      - "?!"`,
				"      -",
				"    negations: [not, \"don't\", no way]",
				"  EN:",
				"    alone: [human]",
			)},
			want: []wantErr{
				{FilePhrases, 5, `en.phrases: "?!" has no words`},
				{FilePhrases, 6, "en.phrases: empty item"},
				{FilePhrases, 7, `en.negations: "no way" must be a single word`},
				{FilePhrases, 8, `language "EN" is given twice (first at line 2)`},
			},
		},
		{
			name: "FAQ entry without answer",
			files: map[string]string{FileFAQ: file(
				"entries:",
				"  - id: a",
				"    question: Q?",
				"    keywords: [a]",
				"    answer: A.",
				"  - id: b",
				"    question: Q?",
				"    keywords: [b]",
			)},
			want: []wantErr{{FileFAQ, 6, `entry "b" has no answer`}},
		},
		{
			name: "duplicate FAQ ids",
			files: map[string]string{FileFAQ: file(
				"entries:",
				"  - id: a",
				"    question: Q?",
				"    keywords: [a]",
				"    answer: A.",
				"",
				"  - question: Q2?",
				"    id: a",
				"    keywords: [b]",
				"    answer: B.",
			)},
			want: []wantErr{{FileFAQ, 7, `duplicate id "a" (first at line 2)`}},
		},
		{
			name: "unknown variable in system.md",
			files: map[string]string{FileSystem: file(
				"{{/*",
				"  A header comment",
				"  over several lines.",
				"*/ -}}",
				"",
				"You are a bot.",
				"{{if .Linked}}Linked.{{end}} Today is {{.Todya}}.",
			)},
			want: []wantErr{{FileSystem, 7, "unknown variable .Todya (known: .FAQ, .HelpCenter, .Linked, .Private, .Today)"}},
		},
		{
			name: "unknown variable inside range in system.md",
			files: map[string]string{FileSystem: file(
				"{{/* header */ -}}",
				"FAQ:",
				"{{- range .FAQ}}",
				"Q: {{.Qestion}}",
				"{{- end}}",
			)},
			want: []wantErr{{FileSystem, 4, "unknown variable .Qestion (known: .Answer, .ID, .Keywords, .Question)"}},
		},
		{
			name: "syntax error in system.md after the header",
			files: map[string]string{FileSystem: file(
				"{{/*",
				"  header",
				"*/ -}}",
				"You are a bot.",
				"{{if .Linked}}",
				"Linked.",
			)},
			want: []wantErr{{FileSystem, 5, "unexpected end of text: {{if}} has no {{end}}"}},
		},
		{
			name: "unclosed if around a range in a block scalar",
			files: map[string]string{FileMessages: file(
				"payments:",
				"  en: |-",
				"    {{if .Payments}}",
				"    Your payments:",
				"    {{- range .Payments}}",
				"    - {{.Reference}}",
				"    {{end}}",
				"greeting:",
				"  en: Hi",
			)},
			want: []wantErr{{FileMessages, 3, "payments.en: unexpected end of text: {{if}} has no {{end}}"}},
		},
		{
			name: "unclosed header comment in summary.md",
			files: map[string]string{FileSummary: file(
				"{{/*",
				"  header",
				"-}}",
				"Handoff {{.ID}}",
			)},
			want: []wantErr{{FileSummary, 1, "unclosed comment"}},
		},
		{
			name: "unknown variable in summary.md",
			files: map[string]string{FileSummary: file(
				"{{/* header */ -}}",
				"Handoff #{{.ID}} on {{.Platform}}",
				"{{range .Messages}}> {{.Role}}: {{.Txet}}",
				"{{end}}",
			)},
			want: []wantErr{{FileSummary, 3, "unknown variable .Txet (known: .Role, .Text)"}},
		},
		{
			name: "errors in several files, all reported, by file and line",
			files: map[string]string{
				FileSummary: file("{{.Nope}}"),
				FileFAQ:     file("entries:", "  - id: a", "    question: Q?", "    keywords: [a]"),
				FileMessages: file(
					"greeting:",
					"  en: '{{.A}}'",
					"fallback:",
					"  en: '{{.B}}'",
				),
			},
			want: []wantErr{
				{FileFAQ, 2, `entry "a" has no answer`},
				{FileMessages, 2, "unknown variable .A"},
				{FileMessages, 4, "unknown variable .B"},
				{FileSummary, 1, "unknown variable .Nope"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fstest.MapFS{}
			for name, text := range tt.files {
				dir[name] = &fstest.MapFile{Data: []byte(text)}
			}
			checkErrors(t, dir, tt.want)
		})
	}
}

// checkErrors loads dir and checks that it fails with exactly want.
func checkErrors(t *testing.T, dir fstest.MapFS, want []wantErr) {
	t.Helper()
	s, err := Load(dir)
	if err == nil {
		t.Fatalf("Load = version %s, want errors %v", s.Version, want)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error %T %v, want Errors", err, err)
	}
	if len(errs) != len(want) {
		t.Fatalf("Load errors:\n%v\nwant %d: %v", err, len(want), want)
	}
	for i, w := range want {
		if e := errs[i]; e.File != w.file || e.Line != w.line || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("error %d = %q, want %v", i, e.Error(), w)
		}
	}
}

// An admin's typo in the real messages file is reported at its line.
func TestTypoInDefaultMessages(t *testing.T) {
	text := mustReadDefault(t, FileMessages)
	lines := strings.Split(text, "\n")
	var want int
	for i, l := range lines {
		if strings.HasPrefix(l, "  sv:") && strings.Contains(l, "{{.Agent}}") {
			lines[i] = strings.Replace(l, "{{.Agent}}", "{{.Agnet}}", 1)
			want = i + 1
		}
	}
	if want == 0 {
		t.Fatal("no sv message with .Agent in the default messages")
	}
	dir := fstest.MapFS{FileMessages: {Data: []byte(strings.Join(lines, "\n"))}}
	checkErrors(t, dir, []wantErr{{FileMessages, want, "agent_joined.sv: unknown variable .Agnet (known: .Agent)"}})
}

func TestErrorString(t *testing.T) {
	errs := Errors{
		{File: FileMessages, Line: 3, Msg: "bad"},
		{File: FileFAQ, Msg: "unreadable"},
	}
	if got, want := errs.Error(), "messages.yaml:3: bad\nfaq.yaml: unreadable"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
}

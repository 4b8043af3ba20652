package prompts

import (
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func mustLoad(t *testing.T, dir fs.FS) *Set {
	t.Helper()
	s, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func mustReadDefault(t testing.TB, name string) string {
	t.Helper()
	b, err := defaultFiles.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDefaultLoads(t *testing.T) {
	s := Default()
	if len(s.Version) != 12 {
		t.Errorf("Version = %q, want 12 hex digits", s.Version)
	}
	for _, name := range Files {
		if got := s.Source(name); got != "default" {
			t.Errorf("Source(%s) = %q, want default", name, got)
		}
	}
	if len(s.FAQ) == 0 {
		t.Error("no FAQ entries")
	}
	var codes []string
	for _, l := range s.Phrases {
		codes = append(codes, l.Code)
	}
	if !slices.Contains(codes, "en") {
		t.Errorf("phrase languages = %v, want en among them", codes)
	}
}

// Every message renders in every language it has, with the variables its
// documentation lists, and says something.
func TestDefaultMessagesRender(t *testing.T) {
	s := Default()
	for _, name := range MessageNames() {
		langs := s.Languages(name)
		if !slices.Contains(langs, "en") {
			t.Errorf("%s: languages %v, want en among them", name, langs)
		}
		for _, lang := range langs {
			got, err := s.Message(name, lang, MessageSample(name))
			if err != nil {
				t.Errorf("%s.%s: %v", name, lang, err)
				continue
			}
			if got == "" || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
				t.Errorf("%s.%s = %q", name, lang, got)
			}
		}
	}
}

func TestMessageVariables(t *testing.T) {
	s := Default()
	tests := []struct {
		name, lang string
		data       map[string]any
		want       string
	}{
		{"agent_joined", "en", map[string]any{"Agent": "Kim"}, "Kim from our support team has joined the conversation."},
		{"handoff_ack", "en", map[string]any{"Position": 3}, "You are number 3 in the queue."},
		{"handoff_ack", "en", map[string]any{"Position": 0}, "Your messages here will reach them."},
		{"rating_thanks", "de", map[string]any{"Rating": 4}, "(4/5)"},
		{"payment_unknown", "en", map[string]any{"Reference": "PAY-9"}, "PAY-9"},
		{"out_of_hours", "xx", MessageSample("out_of_hours"), "back tomorrow at 09:00"}, // no xx: English
		{"payments", "en", MessageSample("payments"), "**PAY-1001**: 120.00 EUR to Acme, settled (2026-11-01)"},
		{"payment", "en", MessageSample("payment"), "Payment **PAY-1001**"},
		{"greeting", "xx", nil, "AI support assistant"},
	}
	for _, tt := range tests {
		got, err := s.Message(tt.name, tt.lang, tt.data)
		if err != nil {
			t.Errorf("Message(%s, %s): %v", tt.name, tt.lang, err)
			continue
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("Message(%s, %s) = %q, want it to contain %q", tt.name, tt.lang, got, tt.want)
		}
	}
}

func TestMessageErrors(t *testing.T) {
	s := Default()
	if _, err := s.Message("nope", "en", nil); err == nil {
		t.Error("unknown message: no error")
	}
	// A documented variable the caller forgot is an error, not "<no value>".
	if got, err := s.Message("agent_joined", "en", nil); err == nil {
		t.Errorf("agent_joined without .Agent = %q, want an error", got)
	}
	if got := s.Languages("nope"); got != nil {
		t.Errorf("Languages(nope) = %v, want nil", got)
	}
	if !s.HasLanguage("sv") || s.HasLanguage("xx") {
		t.Errorf("HasLanguage(sv), HasLanguage(xx) = %v, %v; want true, false", s.HasLanguage("sv"), s.HasLanguage("xx"))
	}
}

// The headers of the files document the variables; they must match what the
// code checks templates against.
func TestDocumentedVariables(t *testing.T) {
	t.Run("messages.yaml", func(t *testing.T) {
		header := regexp.MustCompile(`(?m)^#   (\w+)\s+(.*)$`)
		field := regexp.MustCompile(`\.([A-Z]\w*)`)
		seen := map[string]bool{}
		for _, m := range header.FindAllStringSubmatch(mustReadDefault(t, FileMessages), -1) {
			name := m[1]
			if _, ok := messageVars[name]; !ok {
				continue
			}
			seen[name] = true
			doc := regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(m[2], "") // nested fields
			var documented []string
			for _, f := range field.FindAllStringSubmatch(doc, -1) {
				documented = append(documented, f[1])
			}
			checked := fieldNames(reflect.ValueOf(messageVars[name]))
			slices.Sort(documented)
			if diff := cmp.Diff(checked, documented, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: documented variables differ from the checked ones (-checked +documented):\n%s", name, diff)
			}
		}
		for _, name := range MessageNames() {
			if !seen[name] {
				t.Errorf("message %s is not documented in the header", name)
			}
		}
	})
	for _, tt := range []struct {
		file   string
		sample any
	}{{FileSystem, systemSample()}, {FileSummary, summarySample()}} {
		t.Run(tt.file, func(t *testing.T) {
			text := mustReadDefault(t, tt.file)
			end := strings.Index(text, "*/")
			if !strings.HasPrefix(text, "{{/*") || end < 0 {
				t.Fatalf("%s does not start with a {{/* */}} header", tt.file)
			}
			var documented []string
			for _, m := range regexp.MustCompile(`(?m)^    \.(\w+)`).FindAllStringSubmatch(text[:end], -1) {
				documented = append(documented, m[1])
			}
			slices.Sort(documented)
			if diff := cmp.Diff(fieldNames(reflect.ValueOf(tt.sample)), documented); diff != "" {
				t.Errorf("documented variables differ from the checked ones (-checked +documented):\n%s", diff)
			}
		})
	}
}

func TestSystemAndSummaryRender(t *testing.T) {
	s := Default()
	sys, err := s.System(SystemData{Linked: false, Private: false, Today: "2026-03-04", FAQ: s.FAQ})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"You are Firstline", "Today is 2026-03-04.", "not linked to a customer account", "shared channel", "Q: " + s.FAQ[0].Question, "A: " + s.FAQ[0].Answer} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
	if strings.Contains(sys, "summary.md") || strings.Contains(sys, "Variables:") {
		t.Error("the header comment leaked into the system prompt")
	}
	sys, err = s.System(SystemData{Linked: true, Private: true, Today: "2026-03-04"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sys, "not linked") || strings.Contains(sys, "shared channel") {
		t.Errorf("linked, private: system prompt has the other cases:\n%s", sys)
	}

	card, err := s.Summary(summarySample().(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	want := "**Handoff #7**: Ada on slack (customer C-1001)\nReason: customer asked for a person\nRecent messages:\n> customer: hello"
	if card != want {
		t.Errorf("Summary =\n%s\nwant\n%s", card, want)
	}
	card, err = s.Summary(map[string]any{"ID": 8, "Customer": "", "User": "", "Platform": "discord", "Reason": "r", "Messages": nil})
	if err != nil {
		t.Fatal(err)
	}
	if want := "**Handoff #8**: a customer on discord (not linked to an account)\nReason: r"; card != want {
		t.Errorf("Summary =\n%s\nwant\n%s", card, want)
	}
}

func TestPartialFolder(t *testing.T) {
	s := mustLoad(t, os.DirFS("testdata/partial"))
	for _, name := range Files {
		want := "default"
		if name == FileMessages || name == FileFAQ {
			want = "folder"
		}
		if got := s.Source(name); got != want {
			t.Errorf("Source(%s) = %q, want %q", name, got, want)
		}
	}
	if len(s.FAQ) != 1 || s.FAQ[0].ID != "shipping" {
		t.Errorf("FAQ = %+v, want the folder's one entry", s.FAQ)
	}
	def := Default()
	tests := []struct{ name, lang, want string }{
		{"greeting", "en", "Hello from ACME support!"},
		{"greeting", "de", "Hallo vom ACME-Support!"},
		{"greeting", "sv", "Hello from ACME support!"}, // the folder's message has no sv: its en
		{"agent_joined", "en", "Alex from ACME is here."},
		{"agent_joined", "sv", "Alex from ACME is here."},
	}
	for _, tt := range tests {
		got, err := s.Message(tt.name, tt.lang, MessageSample(tt.name))
		if err != nil || !strings.HasPrefix(got, tt.want) {
			t.Errorf("Message(%s, %s) = %q, %v; want %q", tt.name, tt.lang, got, err, tt.want)
		}
	}
	// Messages the folder does not have keep their default, in every language.
	for _, name := range []string{"resolved", "talk_to_person"} {
		if got, want := s.Languages(name), def.Languages(name); !slices.Equal(got, want) {
			t.Errorf("Languages(%s) = %v, want the default's %v", name, got, want)
		}
		got, _ := s.Message(name, "sv", nil)
		want, _ := def.Message(name, "sv", nil)
		if got != want {
			t.Errorf("Message(%s, sv) = %q, want the default %q", name, got, want)
		}
	}
	if s.Version == def.Version {
		t.Error("a folder with other files has the defaults' Version")
	}
}

// defaultFolder returns the embedded defaults as a folder to modify.
func defaultFolder(t testing.TB) fstest.MapFS {
	t.Helper()
	dir := fstest.MapFS{}
	for _, name := range Files {
		dir[name] = &fstest.MapFile{Data: []byte(mustReadDefault(t, name))}
	}
	return dir
}

func TestVersion(t *testing.T) {
	def := Default()
	if v := Default().Version; v != def.Version {
		t.Errorf("Version not stable: %s, then %s", def.Version, v)
	}
	// Content, not origin, makes the version: the defaults copied into a
	// folder are the same version.
	if v := mustLoad(t, defaultFolder(t)).Version; v != def.Version {
		t.Errorf("defaults in a folder: Version %s, want %s", v, def.Version)
	}
	if v := mustLoad(t, fstest.MapFS{}).Version; v != def.Version {
		t.Errorf("empty folder: Version %s, want %s", v, def.Version)
	}
	seen := map[string]string{def.Version: "defaults"}
	for _, name := range Files {
		dir := defaultFolder(t)
		dir[name].Data = append(dir[name].Data, "\n"...) // a change that changes nothing else
		s := mustLoad(t, dir)
		if prev, dup := seen[s.Version]; dup {
			t.Errorf("changing %s: Version %s, the same as %s", name, s.Version, prev)
		}
		seen[s.Version] = name
		if again := mustLoad(t, dir).Version; again != s.Version {
			t.Errorf("changing %s: Version %s, then %s", name, s.Version, again)
		}
	}
}

package human

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// defaultsPath is the phrase file shipped in the binary: the tests run against
// it, so an edit to the defaults that breaks a request is caught here.
const defaultsPath = "../prompts/defaults/phrases.yaml"

// mustLoadDefaults reads the default phrase file the way an admin's copy is
// read: languages in file order, Code from each map key.
func mustLoadDefaults(tb testing.TB) []Lang {
	tb.Helper()
	data, err := os.ReadFile(defaultsPath)
	if err != nil {
		tb.Fatal(err)
	}
	// Unknown keys (a misspelt "filers:") must not be silently ignored.
	var strict struct {
		Languages map[string]Lang `yaml:"languages"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&strict); err != nil {
		tb.Fatalf("%s: %v", defaultsPath, err)
	}
	// A yaml.Node keeps the languages in file order, which decides ties.
	var file struct {
		Languages yaml.Node `yaml:"languages"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		tb.Fatalf("%s: %v", defaultsPath, err)
	}
	if file.Languages.Kind != yaml.MappingNode {
		tb.Fatalf("%s: languages is not a map", defaultsPath)
	}
	var langs []Lang
	for i := 0; i+1 < len(file.Languages.Content); i += 2 {
		var l Lang
		if err := file.Languages.Content[i+1].Decode(&l); err != nil {
			tb.Fatalf("%s:%d: %v", defaultsPath, file.Languages.Content[i+1].Line, err)
		}
		l.Code = file.Languages.Content[i].Value
		langs = append(langs, l)
	}
	return langs
}

func mustDefaultMatcher(tb testing.TB) *Matcher {
	tb.Helper()
	m, err := NewMatcher(mustLoadDefaults(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestDefaultsFile(t *testing.T) {
	langs := mustLoadDefaults(t)
	var codes []string
	for _, l := range langs {
		codes = append(codes, l.Code)
		if len(l.Fillers) == 0 || len(l.Negations) == 0 || len(l.Except) == 0 {
			t.Errorf("language %q: every list should be filled in", l.Code)
		}
	}
	if got, want := strings.Join(codes, ","), "en,sv,de,es,fr"; got != want {
		t.Errorf("languages = %s, want %s", got, want)
	}

	// YAML 1.1 reads bare no/yes/y/on as booleans; make sure the words
	// arrive as words.
	for _, l := range langs {
		for _, w := range append(append([]string{}, l.Negations...), l.Fillers...) {
			if w == "true" || w == "false" {
				t.Errorf("language %q: a word decoded as %q: quote it in the file", l.Code, w)
			}
		}
	}

	// A word that is a negation in one language and a filler in another
	// would be treated as a negation everywhere (negations win); keep the
	// file free of such contradictions so it reads as it behaves.
	m := mustDefaultMatcher(t)
	for w, id := range m.vocab.index {
		if v := m.vocab.words[id]; v.filler && v.negation {
			t.Errorf("%q is both a filler and a negation", w)
		}
	}
}

func TestMatchRequests(t *testing.T) {
	m := mustDefaultMatcher(t)
	tests := []struct {
		text, lang string
	}{
		// English.
		{"can i talk to a human??", "en"},
		{"HUMAN", "en"},
		{"human please", "en"},
		{"an agent!!", "en"},
		{"I want a human", "en"},
		{"Agent?", "en"},
		{"i want to speak to a real person", "en"},
		{"get me an agent please", "en"},
		{"tlak to a humna", "en"},
		{"I don't want a bot, I want a human", "en"},
		{"I don’t want a bot I want a human", "en"},
		{"no, I want a human", "en"},
		{"No I want a human", "en"},
		{"No. Human please.", "en"},
		{"Can I speak with someone please?", "en"},
		{"connect me to a live agent", "en"},
		{"Representative", "en"},
		{"operator!!!", "en"},
		{"customer service please", "en"},
		{"My payment failed three times and the app keeps crashing. Can I talk to someone?", "en"},
		{"is there a human I can talk to", "en"},
		{"I need to speak to a human being", "en"},
		{"talk to human", "en"},
		{"transfer me to an agent", "en"},
		{"hmuan plz", "en"},
		{"agnet", "en"},
		{"real person please", "en"},
		{"This is useless. Agent!", "en"},
		{"i dont know can i talk to a human", "en"},
		{"this is not working get me an agent", "en"},
		{"Could you please connect me with a person", "en"},
		{"speak to a representitive", "en"},
		{"human agent pls", "en"},
		{"hi there, could I please talk to a human now, thank you", "en"},
		{"  HUMAN\n", "en"},
		{"Human, please!", "en"},
		{"i need a real person asap", "en"},
		{"<@U0123ABC> can I talk to someone", "en"},
		// Swedish.
		{"jag vill prata med en människa", "sv"},
		{"prata med en manniska", "sv"},
		{"Kan jag få prata med någon?", "sv"},
		{"människa tack", "sv"},
		{"Jag vill prata med en riktig person", "sv"},
		{"koppla mig till en handläggare", "sv"},
		{"jag vill inte prata med en bot, jag vill prata med en människa", "sv"},
		{"MÄNNISKA", "sv"},
		// German.
		{"echter Mensch bitte", "de"},
		{"Ich möchte mit einem Menschen sprechen", "de"},
		{"Mitarbeiter", "de"},
		{"mitarbeiter bitte", "de"},
		{"Kann ich mit einem Mitarbeiter sprechen?", "de"},
		{"ich moechte mit einem menschen reden", "de"},
		{"Verbinden Sie mich bitte mit einem Mitarbeiter", "de"},
		{"Ich will nicht mit einem Bot reden, sondern mit einem Menschen", "de"},
		{"Bitte einen echten Menschen!", "de"},
		{"ECHTER MENSCH", "de"},
		// Spanish.
		{"quiero hablar con una persona", "es"},
		{"Hablar con un agente por favor", "es"},
		{"agente humano", "es"},
		{"¿Puedo hablar con alguien?", "es"},
		{"necesito hablar con un humano", "es"},
		{"humano por favor", "es"},
		{"Pásame con un asesor", "es"},
		{"No, quiero hablar con una persona", "es"},
		// French.
		{"je veux parler à un humain", "fr"},
		{"Je voudrais parler a un conseiller", "fr"},
		{"un conseiller svp", "fr"},
		{"Est-ce que je peux parler à quelqu'un ?", "fr"},
		{"humain s'il vous plaît", "fr"},
		{"je veux parler a un humian", "fr"},
		{"Mettez-moi en relation avec un conseiller", "fr"},
		{"une vraie personne svp", "fr"},
		{"J’aimerais parler à un être humain", "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, ok := m.Match(tt.text)
			if !ok {
				t.Fatalf("Match(%q) = no match, want a %s request", tt.text, tt.lang)
			}
			if got.Lang != tt.lang {
				t.Errorf("Match(%q) = %+v, want language %s", tt.text, got, tt.lang)
			}
		})
	}
}

func TestMatchNearMisses(t *testing.T) {
	m := mustDefaultMatcher(t)
	for _, text := range []string{
		// English.
		"I'm not human",
		"humane society",
		"human resources told me to write",
		"my travel agent booked it",
		"the agent charged me twice", // "agent" is Alone-only: here it is not alone
		"I don't want to talk to a human",
		"I do not want to speak with a person",
		"i dont need an agent",
		"this is a personal account",
		"humanity",
		"what is a human readable id",
		"Are you a real person?",
		"are you human?",
		"I'm a real person, not a bot",
		"I talked to an agent yesterday and they said it was fine",
		"Can I talk to a human resources person about my contract?",
		"Please send the money to a person I know",
		"agenda",
		"Who is my account manager?",
		"I no longer need a human, thanks",
		"",
		"   ?!  ",
		// Swedish.
		"jag vill inte prata med en människa",
		"jag har pratat med någon på banken",
		"är du en människa?",
		// German.
		"Ich möchte nicht mit einem Menschen sprechen",
		"Ich will keinen Menschen, nur die Antwort",
		"Sind Sie ein echter Mensch?",
		// Spanish.
		"no quiero hablar con una persona",
		"hablé con una persona ayer",
		"recursos humanos me dijo que escribiera",
		"¿Es usted humano?",
		// French.
		"je ne veux pas parler à un humain",
		"j'ai parlé à un conseiller hier",
		"Je n'ai pas besoin d'un humain",
		"les ressources humaines m'ont répondu",
		"Est-ce un humain ?",
		"je veux mon argent",
	} {
		t.Run(text, func(t *testing.T) {
			if got, ok := m.Match(text); ok {
				t.Errorf("Match(%q) = %+v, want no match", text, got)
			}
		})
	}
}

func TestMatchPhrase(t *testing.T) {
	m := mustDefaultMatcher(t)
	tests := []struct {
		text string
		want Match
	}{
		{"tlak to a humna", Match{"en", "talk to a human"}},
		{"an agent!!", Match{"en", "agent"}},
		{"jag vill prata med en människa", Match{"sv", "prata med en människa"}},
		// Both en and de have "agent" Alone: the German filler decides.
		{"agent bitte", Match{"de", "agent"}},
		{"agent please", Match{"en", "agent please"}},
	}
	for _, tt := range tests {
		if got, ok := m.Match(tt.text); !ok || got != tt.want {
			t.Errorf("Match(%q) = %+v, %v; want %+v", tt.text, got, ok, tt.want)
		}
	}
}

func TestMatchRules(t *testing.T) {
	m, err := NewMatcher([]Lang{{
		Code:      "en",
		Phrases:   []string{"talk to a human", "real person"},
		Alone:     []string{"human", "agent"},
		Fillers:   []string{"please", "a", "an", "i", "want", "to"},
		Negations: []string{"not", "don't"},
		Except:    []string{"humane", "human resources"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want bool
	}{
		{"talk to a human", true},
		{"TALK TO A HUMAN", true},
		{"talk, to: a human", true},           // punctuation separates words only
		{"talk to a hum\u0061n", true},        // plain
		{"talk to a hu\u00ADman", true},       // soft hyphen inside a word
		{"tlak to a humna", true},             // transpositions, one per word
		{"talk ot a human", false},            // two-letter words must be exact
		{"talk to a hmn", false},              // two edits in a five-letter word
		{"real persn", true},                  // one edit in "person"
		{"i want a human", true},              // Alone with fillers
		{"human human!", true},                // Alone, repeated
		{"human agent", true},                 // Alone phrases in a row
		{"the human", false},                  // "the" is no filler here
		{"humane", false},                     // Except, even though one edit from "human"
		{"talk to a humane person", false},    // Except overlaps the match
		{"talk to a human resources guy", false},
		{"not talk to a human", false},        // negation right before
		{"don't want to talk to a human", false}, // two fillers between
		{"don't want to x talk to a human", true}, // a non-filler ends its reach
		{"dont, talk to a human", true},       // the comma ends the clause
		{"not. human", true},                  // a lone negation is an answer
		{"not human", false},
		{"I want a human. Not a bot", true},
		{"my payment failed. Human please", true}, // Alone as a sentence of its own
	}
	for _, tt := range tests {
		if _, got := m.Match(tt.text); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Don't  STOP", "dont stop"},
		{"I’m here", "im here"},
		{"'quoted'", "quoted"},
		{"Människa Über Straße", "manniska uber strasse"},
		{"àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ", "aaaaaaaeceeeeiiiidnoooooouuuuythy"},
		{"ĀāĂăĄąĆćČčĎďĐđĒēĘęĚěĞğĢģĪīĮįİıĶķĹĺĻļĽľŁłŃńŅņŇňŌōŐőŒœŔŕŘřŚśŞşŠšŢţŤťŪūŮůŰűŲųŸŹźŻżŽžſ",
			"aaaaaaccccddddeeeeeegggglllliiiiiikkllllllllnnnnnnoooooeoerrrrssssssssttttuuuuuuuuyzzzzzzs"},
		{"a\u0308", "a"},            // decomposed diacritic
		{"e-mail,x", "e mail x"},
		{"ПРИВЕТ мир", "привет мир"}, // other scripts: lower-cased only
	}
	for _, tt := range tests {
		var tk tokenizer
		tk.run(tt.in, 0)
		var words []string
		for i := range tk.toks {
			words = append(words, string(tk.word(i)))
		}
		if got := strings.Join(words, " "); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"human", "human", 0},
		{"humna", "human", 1},
		{"tlak", "talk", 1},
		{"humane", "human", 1},
		{"hmn", "human", 2},
		{"ca", "abc", 3},
		{"representitive", "representative", 1},
		{"", "abc", 3},
	}
	for _, tt := range tests {
		if got := distance([]rune(tt.a), []rune(tt.b), 5); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	if got := distance([]rune("abcdef"), []rune("ghijkl"), 1); got != 2 {
		t.Errorf("distance beyond the limit = %d, want limit+1 = 2", got)
	}
}

func TestLongMessages(t *testing.T) {
	m := mustDefaultMatcher(t)
	filler := strings.Repeat("my payment PAY-1001 is still pending since monday and ", 200) // ~10,000 runes
	tests := []struct {
		text string
		want bool
	}{
		{"can I talk to a human? " + filler, true},
		{filler + " can I talk to a human?", true},
		{filler + " human please", true},
		// The middle of a very long message is not read.
		{filler + " can I talk to a human? " + filler, false},
		// A cut never leaves a partial word that is a typo away from a phrase:
		// "talk to a humanitarian" must not become "talk to a human|".
		{strings.Repeat("x", 2*windowRunes+10) + " talk to a humanitarian", false},
	}
	for i, tt := range tests {
		if _, got := m.Match(tt.text); got != tt.want {
			t.Errorf("case %d: Match = %v, want %v", i, got, tt.want)
		}
	}

	// A cut inside a word drops that word rather than reading half of it.
	text := strings.Repeat("a ", windowRunes-3) + "talk to a humanity" + strings.Repeat(" b", windowRunes)
	head, tail := window(text)
	if strings.HasSuffix(head, "human") || !strings.HasSuffix(strings.TrimSpace(head), "a") {
		t.Errorf("head ends %q; want the cut word left out", head[len(head)-20:])
	}
	if tail == "" || len([]rune(tail)) > windowRunes {
		t.Errorf("tail has %d runes, want 1..%d", len([]rune(tail)), windowRunes)
	}
}

func TestNewMatcherErrors(t *testing.T) {
	ok := Lang{Code: "en", Phrases: []string{"talk to a human"}}
	tests := []struct {
		name  string
		langs []Lang
		want  []string // substrings of the error
	}{
		{"nil", nil, []string{"no languages"}},
		{"empty", []Lang{}, []string{"no languages"}},
		{"nothing to match", []Lang{ok, {Code: "sv", Fillers: []string{"tack"}}}, []string{`"sv"`, "no phrases"}},
		{"empty phrase", []Lang{{Code: "en", Phrases: []string{"human", ""}}}, []string{`"en"`, "phrases[1]", "empty"}},
		{"blank phrase", []Lang{{Code: "de", Phrases: []string{"mensch"}, Alone: []string{"mensch", "  \t"}}}, []string{`"de"`, "alone[1]"}},
		{"punctuation only", []Lang{{Code: "fr", Phrases: []string{"?!"}}}, []string{`"fr"`, "phrases[0]", "no words"}},
		{"blank except", []Lang{{Code: "en", Phrases: []string{"human"}, Except: []string{""}}}, []string{`"en"`, "except[0]"}},
		{"blank filler", []Lang{{Code: "en", Alone: []string{"human"}, Fillers: []string{"a", " "}}}, []string{`"en"`, "fillers[1]"}},
		{"multi-word negation", []Lang{{Code: "en", Phrases: []string{"human"}, Negations: []string{"not", "do not"}}}, []string{`"en"`, "negations[1]", "single word"}},
		{"no code", []Lang{{Phrases: []string{"human"}}}, []string{"language 1", "no code"}},
		{"duplicate code", []Lang{ok, {Code: "EN", Alone: []string{"human"}}}, []string{`"EN"`, "twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMatcher(tt.langs)
			if err == nil {
				t.Fatalf("NewMatcher = %v, nil; want an error", m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMatchConcurrent(t *testing.T) {
	m := mustDefaultMatcher(t)
	texts := []string{"can i talk to a human??", "the agent charged me twice", "echter Mensch bitte", strings.Repeat("long text ", 500) + "agent please"}
	want := make([]bool, len(texts))
	for i, s := range texts {
		_, want[i] = m.Match(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				i := (g + n) % len(texts)
				if _, got := m.Match(texts[i]); got != want[i] {
					t.Errorf("Match(%q) = %v concurrently, %v alone", texts[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

func FuzzMatch(f *testing.F) {
	m := mustDefaultMatcher(f)
	for _, s := range []string{
		"can i talk to a human??", "tlak to a humna", "I don't want to talk to a human",
		"No, human please", "humane society", "jag vill prata med en människa",
		"echter Mensch bitte", "je ne veux pas parler à un humain", "¿Puedo hablar con alguien?",
		"a\u0308\u00ad'’", "\xff\xfe human", strings.Repeat("agent ", 900),
	} {
		f.Add(s)
	}
	codes := make(map[string]map[string]bool)
	for _, l := range mustLoadDefaults(f) {
		set := make(map[string]bool)
		for _, p := range append(append([]string{}, l.Phrases...), l.Alone...) {
			set[p] = true
		}
		codes[l.Code] = set
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, ok := m.Match(text)
		again, okAgain := m.Match(text)
		if got != again || ok != okAgain {
			t.Fatalf("Match(%q) not deterministic: %+v,%v then %+v,%v", text, got, ok, again, okAgain)
		}
		if !ok {
			if got != (Match{}) {
				t.Fatalf("Match(%q) = %+v with no match", text, got)
			}
			return
		}
		if !codes[got.Lang][got.Phrase] {
			t.Fatalf("Match(%q) = %+v: not a phrase of that language", text, got)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	m := mustDefaultMatcher(b)
	long := strings.Repeat("My card payment to the shop failed twice, the app says pending. ", 32)[:2000]
	for _, bm := range []struct{ name, text string }{
		{"short", "can i talk to a human??"},
		{"miss", "what is the status of payment PAY-1001?"},
		{"2000chars", long},
		{"2000chars_request_at_end", long[:1970] + " talk to a human"},
		{"100k_chars", strings.Repeat(long, 50)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(bm.text)
			}
		})
	}
}

func ExampleMatcher_Match() {
	m, err := NewMatcher([]Lang{{
		Code:      "en",
		Phrases:   []string{"talk to a human"},
		Alone:     []string{"agent"},
		Fillers:   []string{"an", "please"},
		Negations: []string{"not", "dont"},
		Except:    []string{"humane"},
	}})
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"Can I tlak to a human?", "an agent please", "I don't talk to a human", "the agent charged me twice"} {
		match, ok := m.Match(s)
		fmt.Printf("%q: %v %+v\n", s, ok, match)
	}
	// Output:
	// "Can I tlak to a human?": true {Lang:en Phrase:talk to a human}
	// "an agent please": true {Lang:en Phrase:agent}
	// "I don't talk to a human": false {Lang: Phrase:}
	// "the agent charged me twice": false {Lang: Phrase:}
}

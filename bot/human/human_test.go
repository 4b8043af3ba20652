package human

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// defaultsPath is the phrase file shipped in the binary: the tests run against
// it, so an edit to the defaults that breaks a request is caught here.
const defaultsPath = "../../prompts/phrases.yaml"

// mustLoadDefaults reads the default phrase file the way an admin's copy is
// read: languages in file order, Code from each map key.
func mustLoadDefaults(tb testing.TB) []Lang {
	tb.Helper()
	data, err := os.ReadFile(defaultsPath)
	if err != nil {
		tb.Fatal(err)
	}
	// Unknown keys (a misspelt "filers:") must not be silently ignored.
	// phrases.yaml also holds the disconnect phrases, which the engine
	// matches with a matcher of their own.
	type fileLang struct {
		Lang       `yaml:",inline"`
		Disconnect []string `yaml:"disconnect"`
	}
	var strict struct {
		Languages map[string]fileLang `yaml:"languages"`
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
		var fl fileLang
		if err := file.Languages.Content[i+1].Decode(&fl); err != nil {
			tb.Fatalf("%s:%d: %v", defaultsPath, file.Languages.Content[i+1].Line, err)
		}
		l := fl.Lang
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
		switch l.Code {
		case "es":
			if !slices.Contains(l.Negations, "no") {
				t.Errorf("es negations %q lack \"no\"", l.Negations)
			}
		case "fr":
			if !slices.Contains(l.Fillers, "y") {
				t.Errorf("fr fillers %q lack \"y\"", l.Fillers)
			}
		}
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
		{"i need human help", "en"},
		{"Why can't I talk to a human?", "en"},
		{"Is there someone I can talk to?", "en"},
		// Swedish.
		{"jag vill prata med en människa", "sv"},
		{"prata med en manniska", "sv"},
		{"Kan jag få prata med någon?", "sv"},
		{"människa tack", "sv"},
		{"Jag vill prata med en riktig person", "sv"},
		{"koppla mig till en handläggare", "sv"},
		{"jag vill inte prata med en bot, jag vill prata med en människa", "sv"},
		{"MÄNNISKA", "sv"},
		{"Finns det någon där?", "sv"},
		{"Jag vill ha hjälp av en människa", "sv"},
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
		{"Gibt es hier einen Menschen?", "de"},
		{"Ich hätte gerne einen Menschen", "de"},
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
		{"Il y a quelqu'un ?", "fr"},
		{"parler à l'humain", "fr"},
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
	// A code without a reach table (reach.go): these are the phrase file's
	// rules on their own.
	m, err := NewMatcher([]Lang{{
		Code:      "xx",
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
		{"talk, to: a human", true},        // punctuation separates words only
		{"talk to a hu\u00ADman", true},    // soft hyphen inside a word
		{"tlak to a humna", true},          // transpositions, one per word
		{"talk ot a human", false},         // two-letter words must be exact
		{"talk to a hmn", false},           // two edits in a five-letter word
		{"real persn", true},               // one edit in "person"
		{"i want a human", true},           // Alone with fillers
		{"human human!", true},             // Alone, repeated
		{"human agent", true},              // Alone phrases in a row
		{"the human", false},               // "the" is no filler here
		{"humane", false},                  // Except, even though one edit from "human"
		{"talk to a humane person", false}, // Except overlaps the match
		{"talk to a human resources guy", false},
		{"not talk to a human", false},            // negation right before
		{"don't want to talk to a human", false},  // two fillers between
		{"don't want to x talk to a human", true}, // a non-filler ends its reach
		{"dont, talk to a human", true},           // the comma ends the clause
		{"not. human", true},                      // a lone negation is an answer
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

// TestMatchClauses checks the punctuation-aware rules of issue 17, item 6:
// Except phrases read within one clause, negations that a word of ability
// turns into a complaint, and a short last clause read as an Alone request.
func TestMatchClauses(t *testing.T) {
	// A code without a reach table (reach.go): these are the phrase file's
	// rules on their own.
	m, err := NewMatcher([]Lang{{
		Code:      "xx",
		Phrases:   []string{"talk to a human", "human please", "reach a human"},
		Alone:     []string{"human", "agent"},
		Fillers:   []string{"please", "a", "i", "want", "to", "can", "could"},
		Negations: []string{"not", "dont"},
		Except:    []string{"no human", "not human"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want bool
	}{
		// Except within one clause.
		{"no human please", false},
		{"No human please!", false},
		{"no, human please", true},
		{"no. human please", true},
		{"no! human please", true},
		{"no\nhuman please", true},
		{"not. human", true},
		{"not human", false},
		// Negations, and ability.
		{"dont talk to a human", false},
		{"i dont want to talk to a human", false},
		{"i can not reach a human", true},
		{"can i not talk to a human", true},
		{"could not reach a human", true},
		{"i can do it x not talk to a human", false}, // "x" ends the look-back
		{"not, talk to a human", true},
		// A short last clause.
		{"this is x, human", true},
		{"this is x, human please", true},
		{"not a x, agent", true},
		{"this is x, i want a human", false}, // four words: too long
		{"human, this is x", false},          // the first clause addresses the bot
		{"this is x, not human", false},
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
			"aaaaaaccccddddeeeeeeggggiiiiiikkllllllllnnnnnnoooooeoerrrrssssssttttuuuuuuuuyzzzzzzs"},
		{"a\u0308", "a"}, // decomposed diacritic
		{"e-mail,x", "e mail x"},
		{"ПРИВЕТ мир", "пpиbet миp"},                                 // other scripts: lower-cased, Latin look-alikes mapped
		{"ｔａｌｋ ｔｏ ａ ｈｕｍａｎ", "talk to a human"},                       // full-width
		{"𝐡𝐮𝐦𝐚𝐧 𝒉𝒖𝒎𝒂𝒏", "human human"},                               // mathematical bold, bold italic
		{"tаlk to а humаn", "talk to a human"},                       // Cyrillic а
		{"ΗUΜΑΝ οpеrаtοr", "human operator"},                         // Greek and Cyrillic look-alikes
		{"hu\u200bman hu\u00adman hu\u2060man", "human human human"}, // zero-width and format characters
		{"ﬁle", "file"},                                              // ligature
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
		if got := distance([]rune(tt.a), []rune(tt.b), 5, nil); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	if got := distance([]rune("abcdef"), []rune("ghijkl"), 1, nil); got != 2 {
		t.Errorf("distance beyond the limit = %d, want limit+1 = 2", got)
	}
}

// TestDistanceReference checks the banded, early-exiting distance against a
// plain full-matrix one, reusing one buffer so that stale cells would show.
func TestDistanceReference(t *testing.T) {
	ref := func(a, b []rune) int {
		d := make([][]int, len(a)+1)
		for i := range d {
			d[i] = make([]int, len(b)+1)
			d[i][0] = i
		}
		for j := range d[0] {
			d[0][j] = j
		}
		for i := 1; i <= len(a); i++ {
			for j := 1; j <= len(b); j++ {
				cost := 1
				if a[i-1] == b[j-1] {
					cost = 0
				}
				d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
				if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
					d[i][j] = min(d[i][j], d[i-2][j-2]+1)
				}
			}
		}
		return d[len(a)][len(b)]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		r := make([]rune, rng.IntN(9))
		for i := range r {
			r[i] = rune('a' + rng.IntN(3))
		}
		return r
	}
	buf := make([]int32, 3*64)
	for range 20000 {
		a, b, limit := word(), word(), rng.IntN(4)
		want := min(ref(a, b), limit+1)
		if got := distance(a, b, limit, buf); got != want {
			t.Fatalf("distance(%q, %q, %d) = %d, want %d", string(a), string(b), limit, got, want)
		}
	}
}

// TestLookupComplete checks that the vocabulary indexes find exactly the
// words a comparison with every vocabulary word would find, for typo'd
// versions of the default phrase file's words.
func TestLookupComplete(t *testing.T) {
	m := mustDefaultMatcher(t)
	v := m.vocab
	rng := rand.New(rand.NewPCG(3, 4))
	edit := func(r []rune) []rune {
		r = append([]rune(nil), r...)
		for range rng.IntN(4) {
			i := rng.IntN(len(r) + 1)
			c := rune('a' + rng.IntN(26))
			switch op := rng.IntN(4); {
			case op == 0: // insert
				r = append(r[:i], append([]rune{c}, r[i:]...)...)
			case op == 1 && i < len(r): // delete
				r = append(r[:i], r[i+1:]...)
			case op == 2 && i < len(r): // substitute
				r[i] = c
			case op == 3 && i+1 < len(r): // transpose
				r[i], r[i+1] = r[i+1], r[i]
			}
		}
		return r
	}
	sc := new(scratch)
	for range 20 {
		for _, w := range v.words {
			typo := edit(w.runes)
			var want []int32
			for id, x := range v.words {
				if x.maxDist > 0 && distance(typo, x.runes, int(x.maxDist), nil) <= int(x.maxDist) {
					want = append(want, int32(id))
				}
			}
			exact, ok := v.index[string(typo)]
			if ok && v.words[exact].maxDist == 0 {
				want = append(want, exact)
			}
			if !ok {
				exact = -1
			}
			sc.hits = sc.hits[:0]
			v.lookup(sc, []byte(string(typo)), exact, true)
			var got []int32
			for _, h := range sc.hits {
				got = append(got, h.id)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("lookup(%q) = %v, want %v", string(typo), got, want)
			}
		}
	}
}

func TestLongMessages(t *testing.T) {
	m := mustDefaultMatcher(t)
	filler := strings.Repeat("my payment PAY-1001 is still pending since monday and ", 200) // ~10,000 runes
	// The request sits where the head is cut, and the cut falls inside
	// "humanitarian": read as "talk to a human", half a word would match.
	cut := strings.Repeat("x ", 991) + "xx talk to a humanitarian" + strings.Repeat(" b", 2100)
	tests := []struct {
		name string
		text string
		want bool
	}{
		{"request first", "can I talk to a human? " + filler, true},
		{"request last", filler + " can I talk to a human?", true},
		{"alone last", filler + " human please", true},
		{"request in the unread middle", filler + " can I talk to a human? " + filler, false},
		{"no half words", cut, false},
	}
	for _, tt := range tests {
		if _, got := m.Match(tt.text); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
	if head, _ := window(cut, windowRunes); !strings.HasSuffix(head, "talk to a ") {
		t.Errorf("head ends %q, want the cut word left out", head[len(head)-20:])
	}
	cutTail := strings.Repeat("b ", 2100) + "humanitarian" + strings.Repeat(" a", 996)
	if _, tail := window(cutTail, windowRunes); strings.Contains(tail, "itarian") {
		t.Errorf("tail starts %q, want the cut word left out", tail[:20])
	}
	for _, s := range []string{"", "short", "talk to a humanitarian today", "one. two, three four'five six\u0308 seven"} {
		for size := 1; size < 12; size++ {
			checkWindow(t, s, size)
		}
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
	// Seeds stay short: the fuzzer minimizes every interesting input, and
	// long ones make it stall.
	for _, s := range []string{
		"can i talk to a human??", "tlak to a humna", "I don't want to talk to a human",
		"No, human please", "humane society", "jag vill prata med en människa",
		"echter Mensch bitte", "je ne veux pas parler à un humain", "¿Puedo hablar con alguien?",
		"a\u0308\u00ad'’", "\xff\xfe human", "agent. agent, not agent",
		"ｔａｌｋ ｔｏ ａ ｈｕｍａｎ", "𝐡𝐮𝐦𝐚𝐧", "tаlk to а humаn", "hu\u200bman\u200d please",
		"ΗUΜΑΝ", "\u202ehuman", "no human please", "I didn't ask to talk to someone",
		// Issue 17, item 6: clauses, negations and complaints.
		"no, I want a human", "no! human please", "No. Human please.", "no humans please",
		"no need to talk to someone", "I don't want a human", "not a human, the bot is fine",
		"this is not helping, human", "not a bot, human", "i'm not talking to a bot anymore, human",
		"I can not reach a human", "why can I not talk to a human?", "how do I contact a human?",
		"help me contact a person", "you're not helping, can I contact someone?", "can i talk to sopmeone",
		"ingen människa tack", "du fattar inte. MÄNNISKA", "kan jag inte prata med en människa?",
		"inte en bot, människa", "keinen Menschen bitte", "kann ich nicht mit einem Menschen sprechen?",
		"das hilft nicht, Mensch", "Mensch, warum dauert das?", "sin humano por favor",
		"no puedo hablar con una persona?", "esto no ayuda, humano", "no pedí hablar con alguien",
		"pas d'humain svp", "je n'arrive pas à joindre quelqu'un", "ça n'aide pas, humain",
		"je n'ai jamais demandé à parler à un humain", "𝐡𝐮𝐦𝐚𝐧𝐨 por favor", "prаtа med en människа",
		// The reach-and-target rule (reach.go): intent and target, helper,
		// verb last, bare targets, qualifiers, protected look-alikes.
		"how do i get hold of your support team", "could you connect me with one of your advisors",
		"can a human call me back", "escalate this to a supervisor please", "advisor?",
		"kann ich mit ihrem vorgesetzten sprechen", "me puede ayudar un asesor", "un conseiller peut m'aider",
		"finns det nagon avgift", "kan jag ringa nagon", "can I add another person to my account?",
		"how do I contact the merchant?", "someone used my card", "can a person have two cards?",
		"how do I reach the settings page", "je veux de l'argent", "i need to get stuff done",
		"the app says \"contact support\"", "ich habe nicht darum gebeten, mit jemandem zu sprechen",
		"ya hablé con un agente", "is there a person limit", "i need to talk to my manager",
		"who can I talk to", "who did you talk to", "je veux vous parler, pas a un robot",
		"mit wem kann ich sprechen", "a f*cking agent", "\"talk\" to someone",
	} {
		f.Add(s)
	}
	phrases := make(map[string]map[string]bool) // by language code
	for _, l := range mustLoadDefaults(f) {
		set := make(map[string]bool)
		for _, p := range append(append([]string{}, l.Phrases...), l.Alone...) {
			set[p] = true
		}
		phrases[l.Code] = set
	}
	check := func(t *testing.T, text string) {
		got, ok := m.Match(text)
		again, okAgain := m.Match(text)
		if got != again || ok != okAgain {
			t.Fatalf("Match(%q) not deterministic: %+v,%v then %+v,%v", text, got, ok, again, okAgain)
		}
		if !ok && got != (Match{}) {
			t.Fatalf("Match(%q) = %+v with no match", text, got)
		}
		if ok && !phrases[got.Lang][got.Phrase] && !wordsOf(text, got.Phrase) {
			t.Fatalf("Match(%q) = %+v: neither a phrase of that language nor words of the message", text, got)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		check(t, text)
		// The long-message cut, with a window small enough for the fuzzer's
		// inputs to be cut at positions it chooses (windowRunes itself
		// would need inputs over 4,000 runes, which make it crawl).
		checkWindow(t, text, 8)
	})
}

// wordsOf reports whether phrase is words of text, normalized, as a match
// of the reach rule reports them.
func wordsOf(text, phrase string) bool {
	words := make(map[string]bool)
	for _, w := range Words(text) {
		words[w] = true
	}
	for _, w := range strings.Fields(phrase) {
		if !words[w] {
			return false
		}
	}
	return phrase != ""
}

// checkWindow checks the invariants of window(s, size): s read whole when it
// is at most 2*size runes; otherwise head a prefix and tail a suffix of s, each
// at most size runes, neither ending or starting inside a word of s (so both
// are empty when s is one long word).
func checkWindow(t *testing.T, s string, size int) {
	head, tail := window(s, size)
	if utf8.RuneCountInString(s) <= 2*size {
		if head != s || tail != "" {
			t.Fatalf("window(%q, %d) = %q, %q; want it read whole", s, size, head, tail)
		}
		return
	}
	if !strings.HasPrefix(s, head) || !strings.HasSuffix(s, tail) || len(head)+len(tail) > len(s) {
		t.Fatalf("window(%q, %d) = %q, %q: not a prefix and a suffix", s, size, head, tail)
	}
	if n := utf8.RuneCountInString(head); n > size {
		t.Fatalf("window(%q, %d): head has %d runes", s, size, n)
	}
	if n := utf8.RuneCountInString(tail); n > size {
		t.Fatalf("window(%q, %d): tail has %d runes", s, size, n)
	}
	before, _ := utf8.DecodeLastRuneInString(head)
	after, _ := utf8.DecodeRuneInString(s[len(head):])
	if head != "" && isWordish(before) && isWordish(after) {
		t.Fatalf("window: head ends inside a word (%q|%q)", before, after)
	}
	before, _ = utf8.DecodeLastRuneInString(s[:len(s)-len(tail)])
	after, _ = utf8.DecodeRuneInString(tail)
	if tail != "" && isWordish(before) && isWordish(after) {
		t.Fatalf("window: tail starts inside a word (%q|%q)", before, after)
	}
}

// benchText is a long, ordinary support message that asks for nobody.
const benchText = `Hello, I am writing because something strange happened with my account this week and I could not find an answer in the help pages. On Monday I paid my electricity bill with the card ending in 4421, and the payment showed as pending for two days before it disappeared from the list entirely. The money left my bank account, I checked with my bank and they confirmed the transfer went through on their side, so I do not understand where it went. Then on Wednesday I tried to pay the same bill again, thinking the first attempt had failed, and now the supplier says they received nothing at all, while my statement shows two debits of 120 euros each. I attached a screenshot of the statement and of the confirmation e-mail I got, which has the reference PAY-1001 on it. Could you tell me what the status of these payments is, whether one of them will be refunded, and how long that usually takes? I also noticed that the app logged me out three times yesterday evening and asked me to verify my phone number again, which never happened before. Is that related, or is it a separate problem? My colleague had something similar last month and she said it was fixed after an update, but I am already on the latest version. I would really appreciate a clear explanation, because the supplier is threatening to charge a late fee and I do not want to pay twice for the same thing. Thank you in advance for looking into it, and sorry for the long message, I just wanted to give you all the details at once so we do not have to go back and forth too many times. Best regards, and have a nice day, Maria from Uppsala. PS: the first payment was made around 9 in the morning from my laptop, the second one in the evening from my phone, in case that helps you find them in your system. PPS: my husband also has a card on the same account, but he has not used it since the summer, so neither of these payments can be his, and he has not received any notification either. Please let me know if you need anything else from me.`

func BenchmarkMatch(b *testing.B) {
	m := mustDefaultMatcher(b)
	long := benchText[:2000]
	for _, bm := range []struct{ name, text string }{
		{"short", "can i talk to a human??"},
		{"short_fullwidth_cyrillic", "ｃａｎ ｉ ｔａｌｋ ｔｏ а humаn??"},
		{"miss", "what is the status of payment PAY-1001?"},
		{"reach", "could you connect me with one of your advisors"},
		{"reach_miss", "can I add another person to my account?"},
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

// Package human recognizes an explicit request to talk to a person ("human",
// "agent", "real person", "talk to someone", "echter Mensch bitte") in a
// customer message, deterministically and before any model is asked.
//
// This is what keeps Firstline's first promise: a customer who asks for a
// person reaches the agent channel even when the model is down, slow or
// answering nonsense. A missed request breaks that promise, while a false
// alarm costs an agent a minute, so the matcher leans towards recall: it
// tolerates typos, folds diacritics, and accepts filler words around a bare
// request; and it rejects only the clear near-misses an admin lists (Except)
// or that a negation governs ("I don't want to talk to a human").
//
// The phrases come from the admin-edited phrase file
// (prompts/phrases.yaml), one Lang per language. The rules:
//
//   - Normalizing: compatibility decomposition (NFKD: full-width "ｈｕｍａｎ"
//     and mathematical "𝐡𝐮𝐦𝐚𝐧" = "human"); Cyrillic and Greek look-alikes
//     mapped to Latin, as in a Unicode TR39 skeleton ("humаn" with Cyrillic
//     а = "human"); Unicode lower-case; Latin diacritics folded ("människa" =
//     "manniska", "über" = "uber", "ß" = "ss"); combining marks and
//     invisible format characters inside a word dropped ("hu\u200bman" =
//     "human"); apostrophes inside a word dropped ("don't" = "dont"); any
//     other non-letter separates words.
//     Phrase file entries are normalized the same way.
//   - Typos: a word of 4–7 letters matches within Damerau–Levenshtein
//     distance 1 ("humna", "tlak"), of 8 or more within 2, shorter words
//     only exactly. The length is that of the phrase file's word. A message
//     word that is a negation in any language only ever matches itself, so
//     "keinen" never passes for "einen".
//   - Phrases match anywhere, word for word on consecutive message words
//     (punctuation between them does not matter: "human, please").
//   - Alone phrases match when a sentence of the message is, apart from
//     fillers, nothing but Alone phrases of one language ("Agent?", "an
//     agent please", "I want a human", "This is useless. Agent!"). Fillers
//     of every language count, since customers mix them ("human bitte"). A
//     negation standing as a clause of its own is an answer, not a negation,
//     and counts as a filler ("No, human please"). The last clause of a
//     sentence, when it has at most three words, is also read on its own, so
//     a request after a complaint counts ("this is not helping, human", "not
//     a bot, human", "das hilft nicht, Mensch"); the first is not ("Mensch,
//     warum dauert das?" addresses the bot).
//   - Negations: a negation of the phrase's language vetoes a Phrases match
//     when it stands in the same clause right before it, or with at most two
//     filler words between ("I don't want to talk to a human", "no quiero
//     hablar con una persona"). Requiring the words between to be fillers
//     keeps "this is not working get me an agent" a request. A word of
//     ability between them, or right before the negation give or take
//     fillers, makes it a complaint that no one is reachable, which is a
//     request: "I can not reach a human", "kann ich nicht mit einem Menschen
//     sprechen?", "no puedo hablar con una persona", "je n'arrive pas à
//     joindre quelqu'un" (the words are a fixed list, see ability).
//   - Except phrases, matched exactly and within one clause, veto any match
//     they overlap, whatever the languages of both ("humane society", "human
//     resources", "are you a real person", and French "est-ce un humain"
//     against English "human"). Within one clause: "no human" vetoes "no
//     human please" but not "No. Human please" or "no, human please"; that
//     is how a determiner "no" is told from an answer "no" (which is why
//     English "no" is an Except word, not a negation: "No I want a human").
//   - Reach and target: when no phrase and no Alone phrase matches, a
//     built-in rule for en, sv, de, es and fr recognizes a request by its
//     structure rather than its words: an intent to reach someone
//     ("contact", "get hold of", "is there", "quiero") followed in the
//     same clause, across connecting words, by a support person ("human",
//     "one of your advisors", "customer service", "Mitarbeiter"); a
//     support person followed by a verb of helping ("can a human call me
//     back"); a German target followed by its verb ("mit einem Berater
//     sprechen"); or a short sentence of nothing but targets ("advisor?").
//     Qualifiers keep other people out ("another person", "someone else",
//     "my manager", "la persona equivocada"), typos are absorbed on words
//     of five letters or more, and the negation and Except rules above
//     apply. It reports the message's words it read as the Phrase. It is on
//     only for a language whose Alone phrases name one of its targets. See
//     reach.go for the rules and their limits.
//   - Long messages: a message of up to 4,000 runes is read whole, a longer
//     one only as its first and its last 2,000 runes (see windowRunes), so
//     the cost is bounded whatever a customer pastes.
package human

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
)

// Lang is one language's phrase list, as the admin-edited phrases file holds it.
type Lang struct {
	Code      string   // "en", "sv", "de", "es", "fr", ...
	Phrases   []string // match anywhere in a message ("talk to a human", "real person", "echter mensch")
	Alone     []string // match only when the message is essentially just this, give or take fillers ("human", "agent", "operator")
	Fillers   []string // words allowed around an Alone phrase ("please", "a", "an", "i", "want", "need", "bitte", ...)
	Negations []string // a negation right before a phrase (same clause, within 2 words) vetoes it ("not", "dont", "nicht", "inte", "pas")
	Except    []string // phrases whose occurrence overlapping a match vetoes it ("humane", "human resources", "not human")
}

// Match tells which language's phrase matched, the phrase as the file spells
// it; or, for a match of the reach-and-target rule (reach.go), the message's
// words that it read, normalized ("connect me with one of your advisors").
type Match struct{ Lang, Phrase string }

// Matcher finds explicit requests for a person. It is immutable once built
// and safe for concurrent use.
type Matcher struct {
	langs []language
	vocab *vocabulary
	// starts and aloneStarts index the phrases by the vocabulary id of their
	// first word, so a message word only tries the phrases it can begin.
	starts      [][]ref
	aloneStarts [][]ref
	// except holds the Except phrases of every language, indexed by first
	// word. They veto matches of any language: a customer writing French
	// "est-ce un humain ?" must not pass for an English Alone "human"
	// because "humain" is one letter from it.
	except      [][]int32
	exceptFirst map[int32][]int32
	// reach holds the reach tables of the languages that use them, and
	// reachRoles each vocabulary word's roles in them (see reach.go).
	reach      []reachLang
	reachRoles [][]reachRole
	seed       maphash.Seed // for scratch.seen
	pool       sync.Pool    // of *scratch: Match allocates nothing in the steady state
}

// language is a Lang compiled against the Matcher's vocabulary.
type language struct {
	code     string
	phrases  []phrase
	alone    []phrase
	negation map[int32]bool
	// member holds every word of the language's lists; counting a message's
	// members tells which language it is in when several match.
	member map[int32]bool
}

type phrase struct {
	text  string  // as the phrase file spells it, for Match.Phrase
	words []int32 // vocabulary ids
}

type ref struct{ lang, idx int32 }

// maxAloneWords bounds the sentences the Alone rule looks at: a request
// "essentially alone" is short, even with greetings and fillers around it
// ("hi there, could I please talk to a human now, thank you").
const maxAloneWords = 24

// maxLastClauseWords bounds the last clause of a sentence that the Alone
// rule also reads on its own ("this is not helping, human please").
const maxLastClauseWords = 3

// NewMatcher compiles langs. It returns an error, naming the language and the
// list index, when there is no language, a language has no code or is listed
// twice, a language has neither Phrases nor Alone phrases, an entry is blank
// or has no words (only punctuation), or a negation is more than one word.
// Fillers of several words ("s'il vous plaît") count as one filler each.
func NewMatcher(langs []Lang) (*Matcher, error) {
	if len(langs) == 0 {
		return nil, errors.New("human: no languages")
	}
	var tk tokenizer
	type compiled struct {
		phrases, alone, except [][]string
		fillers, negations     []string
	}
	comp := make([]compiled, len(langs))
	seen := make(map[string]int)
	for li, l := range langs {
		code := strings.TrimSpace(l.Code)
		if code == "" {
			return nil, fmt.Errorf("human: language %d has no code", li+1)
		}
		if prev, dup := seen[strings.ToLower(code)]; dup {
			return nil, fmt.Errorf("human: language %q is listed twice (languages %d and %d)", code, prev+1, li+1)
		}
		seen[strings.ToLower(code)] = li
		if len(l.Phrases) == 0 && len(l.Alone) == 0 {
			return nil, fmt.Errorf("human: language %q has no phrases and no alone phrases", code)
		}
		c := &comp[li]
		var err error
		if c.phrases, err = entries(&tk, code, "phrases", l.Phrases); err != nil {
			return nil, err
		}
		if c.alone, err = entries(&tk, code, "alone", l.Alone); err != nil {
			return nil, err
		}
		if c.except, err = entries(&tk, code, "except", l.Except); err != nil {
			return nil, err
		}
		fillers, err := entries(&tk, code, "fillers", l.Fillers)
		if err != nil {
			return nil, err
		}
		for _, f := range fillers {
			c.fillers = append(c.fillers, f...)
		}
		negations, err := entries(&tk, code, "negations", l.Negations)
		if err != nil {
			return nil, err
		}
		for i, n := range negations {
			if len(n) != 1 {
				return nil, fmt.Errorf("human: language %q: negations[%d] %q must be a single word", code, i, l.Negations[i])
			}
			c.negations = append(c.negations, n[0])
		}
	}

	// One vocabulary for all languages: each distinct word is compared with
	// a message word once.
	v := newVocabulary()
	for _, c := range comp {
		for _, list := range [][][]string{c.phrases, c.alone} {
			for _, p := range list {
				for _, w := range p {
					v.add(w, true)
				}
			}
		}
		for _, w := range c.fillers {
			v.add(w, true)
		}
		for _, w := range c.negations {
			v.add(w, false)
		}
		for _, p := range c.except {
			for _, w := range p {
				v.add(w, false)
			}
		}
	}
	alone := make([][][]string, len(comp))
	for i := range comp {
		alone[i] = comp[i].alone
	}
	reach, reachRoles := compileReach(&tk, v, langs, alone)
	v.finish()

	m := &Matcher{
		reach:       reach,
		reachRoles:  reachRoles,
		langs:       make([]language, len(langs)),
		vocab:       v,
		starts:      make([][]ref, len(v.words)),
		aloneStarts: make([][]ref, len(v.words)),
		exceptFirst: make(map[int32][]int32),
		seed:        maphash.MakeSeed(),
	}
	m.pool.New = func() any { return new(scratch) }
	ids := func(ws []string) []int32 {
		out := make([]int32, len(ws))
		for i, w := range ws {
			out[i] = v.index[w]
		}
		return out
	}
	for li, c := range comp {
		l := &m.langs[li]
		l.code = strings.TrimSpace(langs[li].Code)
		l.negation = make(map[int32]bool)
		l.member = make(map[int32]bool)
		for i, ws := range c.phrases {
			p := phrase{text: langs[li].Phrases[i], words: ids(ws)}
			m.starts[p.words[0]] = append(m.starts[p.words[0]], ref{int32(li), int32(len(l.phrases))})
			l.phrases = append(l.phrases, p)
		}
		for i, ws := range c.alone {
			p := phrase{text: langs[li].Alone[i], words: ids(ws)}
			m.aloneStarts[p.words[0]] = append(m.aloneStarts[p.words[0]], ref{int32(li), int32(len(l.alone))})
			l.alone = append(l.alone, p)
		}
		for _, ws := range c.except {
			words := ids(ws)
			m.exceptFirst[words[0]] = append(m.exceptFirst[words[0]], int32(len(m.except)))
			m.except = append(m.except, words)
			for _, id := range words {
				l.member[id] = true
			}
		}
		for _, w := range c.fillers {
			v.words[v.index[w]].filler = true
		}
		for _, w := range c.negations {
			id := v.index[w]
			v.words[id].negation = true
			l.negation[id] = true
		}
		for _, list := range [][]phrase{l.phrases, l.alone} {
			for _, p := range list {
				for _, id := range p.words {
					l.member[id] = true
				}
			}
		}
		for _, w := range c.fillers {
			l.member[v.index[w]] = true
		}
		for id := range l.negation {
			l.member[id] = true
		}
	}
	return m, nil
}

// entries normalizes one list of a language, rejecting blank entries and
// entries without a single word.
func entries(tk *tokenizer, code, list string, items []string) ([][]string, error) {
	out := make([][]string, 0, len(items))
	for i, s := range items {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("human: language %q: %s[%d] is empty", code, list, i)
		}
		tk.reset()
		tk.run(s, 0)
		if len(tk.toks) == 0 {
			return nil, fmt.Errorf("human: language %q: %s[%d] %q has no words", code, list, i, s)
		}
		ws := make([]string, len(tk.toks))
		for j := range tk.toks {
			ws[j] = string(tk.word(j))
		}
		out = append(out, ws)
	}
	return out, nil
}

package prompts

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileEscalation is the file of automatic escalation rules.
const FileEscalation = "escalation.yaml"

// Escalation says when the bot offers a person without being asked, and
// when it then hands off: on signals in a row (a repeated question, the
// model saying it cannot help, a frustrated customer), the bot offers a
// person Offers times, and hands off at the next signal.
type Escalation struct {
	// Offers is how many signals in a row get an offer of a person before
	// the next one hands off; 0 hands off at the first signal.
	Offers int
	// Repeats is the repeated-question signal.
	Repeats Repeats
	// CannotHelp makes the model's "I cannot help" a signal: the offline
	// model's offer of a person, an LLM's [cannot_help] marker.
	CannotHelp bool
	// Frustration is the frustrated-customer signal.
	Frustration Frustration
}

// Repeats is the rule for a customer asking the same question again.
type Repeats struct {
	// Times is how often the same question must be asked to be a signal;
	// 0 turns the rule off.
	Times int
	// Similarity is how alike two messages must be, from 0.5 to 1 (1:
	// identical once normalized), to be the same question.
	Similarity float64
	// MinLength is the normalized length in characters below which a
	// message ("ok", "yes", "thanks") is never a repeated question.
	MinLength int
}

// Frustration is the rule for a customer who is clearly frustrated.
type Frustration struct {
	// Times is how many of the customer's messages must hold a
	// frustration phrase, the current one among them; 0 turns it off.
	Times int
	// Languages hold the phrases, matched like the handoff phrases
	// (normalized, small typos forgiven), with their negations ("not
	// useless") and exceptions. Only Phrases, Negations and Except are used.
	Languages []PhraseLang
}

// builtinEscalation is what the embedded escalation.yaml starts from.
func builtinEscalation() Escalation {
	return Escalation{
		Offers:      1,
		Repeats:     Repeats{Times: 3, Similarity: 0.8, MinLength: 10},
		CannotHelp:  true,
		Frustration: Frustration{Times: 1},
	}
}

// defaultEscalation is the embedded escalation.yaml: what a key left out of
// a folder's file keeps, the frustration phrases included.
func defaultEscalation() (Escalation, error) {
	b, err := defaultFiles.ReadFile(FileEscalation)
	if err != nil {
		return Escalation{}, err
	}
	return parseEscalationOnto(b, builtinEscalation())
}

// parseEscalation reads escalation.yaml; every problem is reported with
// its line. fromFolder says an admin's file is read: what it leaves out
// keeps the embedded default.
func parseEscalation(b []byte, fromFolder bool) (Escalation, error) {
	base := builtinEscalation()
	if fromFolder {
		def, err := defaultEscalation()
		if err != nil {
			return Escalation{}, err
		}
		base = def
	}
	return parseEscalationOnto(b, base)
}

func parseEscalationOnto(b []byte, e Escalation) (Escalation, error) {
	root, err := parseYAML(FileEscalation, b)
	if err != nil {
		return Escalation{}, err
	}
	kvs, errs := uniquePairs(FileEscalation, root, "key", false)
	frustrationLine := 0
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "offers":
			e.Offers = intIn(v, "offers", 0, 5, &errs)
		case "cannot_help":
			e.CannotHelp = boolValue(v, "cannot_help", &errs)
		case "repeats":
			errs = append(errs, parseRepeats(v, &e.Repeats)...)
		case "frustration":
			frustrationLine = k.Line
			errs = append(errs, parseFrustration(v, &e.Frustration)...)
		default:
			errs = append(errs, Error{File: FileEscalation, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (expected offers, repeats, cannot_help, frustration)", k.Value)})
		}
	}
	if e.Frustration.Times > 0 && len(e.Frustration.Languages) == 0 && len(errs) == 0 {
		errs = append(errs, Error{File: FileEscalation, Line: max(frustrationLine, root.Line), Msg: "frustration: languages must list phrases (or write times: 0 to turn the rule off)"})
	}
	if len(errs) > 0 {
		return Escalation{}, errs
	}
	return e, nil
}

func parseRepeats(n *yaml.Node, r *Repeats) Errors {
	if n.Kind != yaml.MappingNode {
		return Errors{{File: FileEscalation, Line: n.Line, Msg: "repeats: expected times, similarity, min_length"}}
	}
	kvs, errs := uniquePairs(FileEscalation, n, "key", false)
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "times":
			r.Times = intIn(v, "repeats.times", 0, 20, &errs)
			if r.Times == 1 {
				errs = append(errs, Error{File: FileEscalation, Line: v.Line, Msg: "repeats.times: 1 would count every question; use 2 or more, or 0 to turn the rule off"})
			}
		case "similarity":
			f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
			if v.Kind != yaml.ScalarNode || err != nil || f < 0.5 || f > 1 {
				errs = append(errs, Error{File: FileEscalation, Line: v.Line, Msg: fmt.Sprintf("repeats.similarity: want a number from 0.5 to 1, got %q", v.Value)})
				continue
			}
			r.Similarity = f
		case "min_length":
			r.MinLength = intIn(v, "repeats.min_length", 1, 500, &errs)
		default:
			errs = append(errs, Error{File: FileEscalation, Line: k.Line, Msg: fmt.Sprintf("repeats: unknown key %q (expected times, similarity, min_length)", k.Value)})
		}
	}
	return errs
}

func parseFrustration(n *yaml.Node, f *Frustration) Errors {
	if n.Kind != yaml.MappingNode {
		return Errors{{File: FileEscalation, Line: n.Line, Msg: "frustration: expected times and languages"}}
	}
	kvs, errs := uniquePairs(FileEscalation, n, "key", false)
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "times":
			f.Times = intIn(v, "frustration.times", 0, 20, &errs)
		case "languages":
			var lerrs Errors
			f.Languages, lerrs = parseFrustrationLangs(v)
			errs = append(errs, lerrs...)
		default:
			errs = append(errs, Error{File: FileEscalation, Line: k.Line, Msg: fmt.Sprintf("frustration: unknown key %q (expected times, languages)", k.Value)})
		}
	}
	return errs
}

// parseFrustrationLangs reads the phrase lists per language, checking each
// entry the way the phrase matcher reads it (see phraseWords).
func parseFrustrationLangs(n *yaml.Node) ([]PhraseLang, Errors) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nil, Errors{{File: FileEscalation, Line: n.Line, Msg: "frustration.languages must list at least one language (en: {phrases: [...]})"}}
	}
	kvs, errs := uniquePairs(FileEscalation, n, "language", true)
	var out []PhraseLang
	for _, kv := range kvs {
		code, body := strings.TrimSpace(kv[0].Value), kv[1]
		if code == "" || body.Kind != yaml.MappingNode {
			errs = append(errs, Error{File: FileEscalation, Line: body.Line, Msg: fmt.Sprintf("frustration language %q: expected phrases, negations, except", code)})
			continue
		}
		l := PhraseLang{Code: code}
		fkvs, ferrs := uniquePairs(FileEscalation, body, fmt.Sprintf("language %q: list", code), false)
		errs = append(errs, ferrs...)
		for _, f := range fkvs {
			what := "frustration." + code + "." + f[0].Value
			list, lerrs := stringList(FileEscalation, f[1], what)
			errs = append(errs, lerrs...)
			errs = append(errs, listWords(FileEscalation, f[1], what, f[0].Value == "negations")...)
			switch f[0].Value {
			case "phrases":
				l.Phrases = list
			case "negations":
				l.Negations = list
			case "except":
				l.Except = list
			default:
				errs = append(errs, Error{File: FileEscalation, Line: f[0].Line, Msg: fmt.Sprintf("frustration language %q: unknown key %q (expected phrases, negations, except)", code, f[0].Value)})
			}
		}
		if len(l.Phrases) == 0 {
			errs = append(errs, Error{File: FileEscalation, Line: kv[0].Line, Msg: fmt.Sprintf("frustration language %q has no phrases", code)})
		}
		out = append(out, l)
	}
	return out, errs
}

// listWords checks the entries of a phrase list as the phrase matcher
// reads them: each needs a word, and with single, exactly one.
func listWords(file string, list *yaml.Node, what string, single bool) Errors {
	if list.Kind != yaml.SequenceNode {
		return nil
	}
	var errs Errors
	for _, item := range list.Content {
		s, ok := scalarText(item)
		if !ok || strings.TrimSpace(s) == "" {
			continue // reported by stringList
		}
		switch n := countWords(s); {
		case n == 0:
			errs = append(errs, Error{File: file, Line: item.Line, Msg: fmt.Sprintf("%s: %q has no words, only punctuation", what, s)})
		case single && n > 1:
			errs = append(errs, Error{File: file, Line: item.Line, Msg: fmt.Sprintf("%s: %q must be a single word", what, s)})
		}
	}
	return errs
}

// intIn reads a whole number from lo to hi, adding an error otherwise.
func intIn(n *yaml.Node, what string, lo, hi int, errs *Errors) int {
	v, err := strconv.Atoi(strings.TrimSpace(n.Value))
	if n.Kind != yaml.ScalarNode || err != nil || v < lo || v > hi {
		*errs = append(*errs, Error{File: FileEscalation, Line: n.Line, Msg: fmt.Sprintf("%s: want a whole number from %d to %d, got %q", what, lo, hi, n.Value)})
		return 0
	}
	return v
}

func boolValue(n *yaml.Node, what string, errs *Errors) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		*errs = append(*errs, Error{File: FileEscalation, Line: n.Line, Msg: what + " must be true or false"})
		return false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b
}

package bot

// DetectLang guesses the language of a customer's message from its common
// words, so that canned messages can be sent in the customer's language. It
// is deliberately small: it only needs to tell apart the languages the
// message file is likely to have, and to stay silent when unsure.

import (
	"strings"
	"unicode"
)

// langStopwords are frequent, short function words that rarely appear in the
// other languages' text. Words shared by several languages ("de", "en", "la",
// "a") are left out on purpose: they would only blur the vote.
var langStopwords = map[string][]string{
	"en": {"the", "is", "my", "what", "why", "how", "where", "when", "you", "your", "and", "with", "this", "that", "can", "have", "please", "not", "was", "payment", "did", "does", "i", "it", "of", "to", "hello", "thanks"},
	"sv": {"och", "jag", "är", "att", "det", "inte", "min", "mitt", "mina", "har", "vad", "varför", "hur", "kan", "betalning", "med", "på", "för", "hej", "tack", "vill", "du", "ni", "som", "av"},
	"de": {"und", "ich", "ist", "nicht", "mein", "meine", "was", "warum", "wie", "wo", "kann", "bitte", "zahlung", "mit", "auf", "für", "hallo", "danke", "das", "der", "die", "ein", "eine", "haben", "habe", "sie"},
	"es": {"y", "mi", "mis", "es", "qué", "que", "por", "cómo", "dónde", "puedo", "pago", "con", "para", "hola", "gracias", "el", "los", "las", "una", "un", "está", "no", "quiero", "tengo"},
	"fr": {"et", "je", "est", "mon", "ma", "mes", "pourquoi", "comment", "où", "puis", "paiement", "avec", "pour", "bonjour", "merci", "le", "les", "une", "un", "pas", "vous", "ne", "suis", "veux", "ai"},
}

var langIndex = func() map[string][]string {
	idx := map[string][]string{}
	for code, words := range langStopwords {
		for _, w := range words {
			idx[w] = append(idx[w], code)
		}
	}
	return idx
}()

// DetectLang returns the language code of text and whether the guess is
// confident: at least two common words of that language and clearly more
// than of any other. Short or mixed messages return false.
func DetectLang(text string) (string, bool) {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r)
	})
	if len(words) > 200 {
		words = words[:200]
	}
	score := map[string]int{}
	for _, w := range words {
		for _, code := range langIndex[w] {
			score[code]++
		}
	}
	// The best-scoring language wins; ties between languages are broken by
	// code so that the result does not depend on map order.
	code, best, second := "", 0, 0
	for c, n := range score {
		switch {
		case n > best || (n == best && c < code):
			second = max(second, best)
			code, best = c, n
		case n > second:
			second = n
		}
	}
	if best < 2 || best < 2*second || best == second {
		return "", false
	}
	return code, true
}

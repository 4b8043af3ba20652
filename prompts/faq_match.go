package prompts

import (
	"strings"
	"unicode"
)

// MatchFAQ returns the first FAQ entry with a keyword in text, and whether
// there is one. A keyword (one or more words) matches as whole, consecutive
// words, case-insensitively: "card" matches "my card expired" but not
// "discard". The offline rules model answers with the entry it finds, and
// the engine labels a conversation's topic with it, so both read the FAQ
// the same way.
func MatchFAQ(entries []FAQEntry, text string) (FAQEntry, bool) {
	words := Words(text)
	for _, e := range entries {
		if matchesKeyword(words, e.Keywords) {
			return e, true
		}
	}
	return FAQEntry{}, false
}

// Words splits text into lower-case words: runs of letters, digits and
// hyphens, so that "PAY-1001" and "e-mail" stay whole.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
}

// matchesKeyword reports whether any keyword occurs in words as whole,
// consecutive words.
func matchesKeyword(words, keywords []string) bool {
	for _, k := range keywords {
		kw := Words(k)
		if len(kw) == 0 {
			continue
		}
		for i := 0; i+len(kw) <= len(words); i++ {
			if equalWords(words[i:i+len(kw)], kw) {
				return true
			}
		}
	}
	return false
}

func equalWords(a, b []string) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package mask

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// labelKind says what kind of secret a label word announces.
type labelKind uint8

const (
	notLabel           labelKind = iota
	labelCVV                     // 3–4 digits
	labelPIN                     // 4–8 digits
	labelPassword                // the next whitespace-delimited token
	labelPasswordSpace           // the same, also after just a space ("pw hunter2")
	labelMot                     // "mot": a password label when followed by "de passe"
	labelSecurity                // "security": a CVV label when followed by "code"
)

// labels maps label words, compared case-insensitively, to their kind.
var labels = [...]struct {
	word string
	kind labelKind
}{
	{"cvv", labelCVV},
	{"cvc", labelCVV},
	{"cvv2", labelCVV},
	{"cvc2", labelCVV},
	{"csc", labelCVV},
	{"pin", labelPIN},
	{"pincode", labelPIN},
	{"password", labelPassword},
	{"passwd", labelPasswordSpace},
	{"passcode", labelPassword},
	{"pwd", labelPasswordSpace},
	{"pw", labelPasswordSpace},
	{"pass", labelPassword},
	{"lösenord", labelPassword},
	{"losenord", labelPassword},
	{"passwort", labelPassword},
	{"kennwort", labelPassword},
	{"contraseña", labelPassword},
	{"contrasena", labelPassword},
	{"mot", labelMot},
	{"security", labelSecurity},
}

// Words that may stand between a CVV or PIN label and its digits, as in
// "pin code is 1234" or "CVV number: 123".
var fillerWords = [...]string{"is", "was", "code", "number", "no", "nr", "num"}

// At most this many filler words are skipped after a CVV or PIN label.
const maxFillerWords = 3

// Words that follow "password is" without being a password, as in "my
// password is wrong". Compared case-insensitively, without trailing
// punctuation.
var notPasswords = [...]string{
	"a", "an", "the", "not", "no", "in", "on", "at", "to", "for", "of",
	"from", "that", "this", "it", "my", "your", "now", "still", "also",
	"too", "very", "being", "been", "same", "different", "correct",
	"incorrect", "wrong", "invalid", "expired", "locked", "blocked",
	"required", "missing", "empty", "reset", "changed", "working", "broken",
	"and", "or", "but", "if", "please", "with", "again", "doesn't", "does",
	"won't", "isn't", "can't", "fel", "inte", "falsch", "nicht", "incorrecta",
	"incorrecto", "no", "pas", "faux", "oublié", "glömt", "vergessen",
}

// Words that stand for "is" between a password label and the password, as
// in "lösenord är hunter2" or "mot de passe est hunter2".
var copulas = [...]string{"is", "was", "är", "var", "ist", "war", "es", "era", "est", "était"}

// maskLabelled replaces labelled CVV codes, PINs and passwords in s and
// reports how many it replaced.
//
// It walks s word by word, a word being a maximal run of letters, digits and
// marks. After a label word it looks for the value; if it finds one, it
// replaces the value and goes on after it. Labels and values are delimited
// by characters that are not word characters, and the replacement starts and
// ends with such characters, so a second pass finds the same words and only
// masked values: the result is a fixed point.
func maskLabelled(s string) (string, int) {
	ed := editor{src: s}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		end := wordEnd(s, i)
		if start, stop, ok := labelledValue(s, labelOf(s[i:end]), end); ok {
			ed.replace(start, stop, redacted)
			i = stop
			continue
		}
		i = end
	}
	return ed.String(), ed.n
}

// labelOf returns the kind of label that word is.
func labelOf(word string) labelKind {
	if len(word) < 2 || len(word) > len("contraseña") {
		return notLabel
	}
	for _, l := range labels {
		if strings.EqualFold(word, l.word) {
			return l.kind
		}
	}
	return notLabel
}

// labelledValue finds the value announced by a label of the given kind that
// ends at s[i], and returns its bounds.
func labelledValue(s string, kind labelKind, i int) (start, end int, ok bool) {
	switch kind {
	case labelCVV:
		return digitsValue(s, i, 3, 4)
	case labelPIN:
		return digitsValue(s, i, 4, 8)
	case labelPassword:
		return passwordValue(s, i, false)
	case labelPasswordSpace:
		return passwordValue(s, i, true)
	case labelMot:
		// "mot de passe", with single spaces, in any letter case.
		const rest = " de passe"
		if len(s)-i >= len(rest) && strings.EqualFold(s[i:i+len(rest)], rest) && wordEnd(s, i+len(rest)) == i+len(rest) {
			return passwordValue(s, i+len(rest), false)
		}
	case labelSecurity:
		j := skipSpace(s, i)
		if j == i {
			return 0, 0, false
		}
		if w := s[j:wordEnd(s, j)]; strings.EqualFold(w, "code") {
			return digitsValue(s, j+len(w), 3, 4)
		}
	}
	return 0, 0, false
}

// digitsValue finds a value of minLen to maxLen ASCII digits after a label that
// ends at s[i]. Spaces, the punctuation ":=-#" and a few filler words ("is",
// "code", "number", …) may stand between the label and the digits, and the
// digits must not be followed by a word character.
func digitsValue(s string, i, minLen, maxLen int) (start, end int, ok bool) {
	words := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || r == ':' || r == '=' || r == '-' || r == '#' {
			i += size
			continue
		}
		if !isWordRune(r) || words == maxFillerWords {
			break
		}
		w := wordEnd(s, i)
		if !isFiller(s[i:w]) {
			break
		}
		words++
		i = w
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if n := j - i; n < minLen || n > maxLen {
		return 0, 0, false
	}
	if r, _ := utf8.DecodeRuneInString(s[j:]); j < len(s) && isWordRune(r) {
		return 0, 0, false
	}
	return i, j, true
}

func isFiller(word string) bool {
	for _, f := range fillerWords {
		if strings.EqualFold(word, f) {
			return true
		}
	}
	return false
}

// passwordValue finds the password after a password label that ends at s[i]:
// the whitespace-delimited token after ":", "=" or "is" (or "was", or "is"
// in Swedish, German, Spanish or French), or, if space is true, after just
// whitespace. A token that is one mask already, such as a card number masked
// by Text, is left alone, and so are ordinary words after "is" or a space.
func passwordValue(s string, i int, space bool) (start, end int, ok bool) {
	label := i
	i = skipSpace(s, i)
	afterIs := false
	if i < len(s) && (s[i] == ':' || s[i] == '=') {
		i = skipSpace(s, i+1)
	} else {
		w := s[i:wordEnd(s, i)]
		if !isCopula(w) {
			if !space || i == label || i == len(s) {
				return 0, 0, false
			}
			w = ""
		}
		afterIs = true
		i = skipSpace(s, i+len(w))
		if i < len(s) && s[i] == ':' {
			i = skipSpace(s, i+1)
		}
	}
	end = tokenEnd(s, i)
	switch {
	case end == i, maskLen(s, i) == end-i:
		return 0, 0, false
	case afterIs && isNotPassword(s[i:end]):
		return 0, 0, false
	}
	return i, end, true
}

// tokenEnd returns the end of the token that starts at s[i]: the next
// whitespace outside a mask, or the end of s.
func tokenEnd(s string, i int) int {
	for i < len(s) {
		if n := maskLen(s, i); n > 0 {
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

func isCopula(word string) bool {
	for _, w := range copulas {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	return false
}

func isNotPassword(token string) bool {
	token = strings.TrimRight(token, ".,;:!?")
	for _, w := range notPasswords {
		if strings.EqualFold(token, w) {
			return true
		}
	}
	return false
}

// isWordRune reports whether r is part of a word: a letter, a digit or a mark.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnum(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// wordEnd returns the end of the word that starts at s[i], which is i if s[i]
// is not a word character.
func wordEnd(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			break
		}
		i += size
	}
	return i
}

// skipSpace returns the index of the first non-space rune at or after s[i].
func skipSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

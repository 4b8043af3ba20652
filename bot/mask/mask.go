// Package mask hides secrets that customers type into chat messages before
// the text is stored, logged or sent to the model.
//
// Text masks payment card numbers, IBANs, and CVV codes, PINs and passwords
// that the customer labels as such ("cvv 123", "my password is hunter2").
// Card numbers and IBANs keep their last four characters, so that an agent
// can still tell which card or account the customer means:
//
//	card 4111 1111 1111 1111, cvv 123  →  card [card ••••1111], cvv [redacted]
//	IBAN DE89 3704 0044 0532 0130 00   →  IBAN [iban ••••3000]
//
// Secrets are looked for in the text normalized to NFKC without invisible
// characters, so that full-width digits or a zero-width space inside a card
// number do not hide it; a text with nothing to mask comes back unchanged.
//
// Email addresses are left alone by Text because agents need them; Email
// replaces them for log lines, where they are not needed.
//
// All functions work in time linear in the length of their input, never split
// a UTF-8 sequence, and are idempotent: masking masked text changes nothing.
package mask

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Masks written in place of secrets. The card and IBAN masks end in the last
// four characters of the secret ("[card ••••1111]").
const (
	redacted   = "[redacted]"
	cardPrefix = "[card ••••"
	ibanPrefix = "[iban ••••"
	emailMask  = "[email]"
)

// Text returns s with secrets replaced, and how many were masked.
//
// It replaces:
//
//   - IBANs: two letters, two check digits and 11 to 30 letters or digits,
//     written without spaces or in groups of four, that pass the ISO 13616
//     mod-97 check, in any letter case. They become "[iban ••••WXYZ]", where
//     WXYZ are the last four characters in upper case.
//   - Payment card numbers: 13 to 19 digits that pass the Luhn check,
//     written without separators or in groups joined by single separators:
//     space, tab, "-", ".", "/", "_" or a line break, all alike, or mixed
//     between groups of at least four digits ("4111 1111\n1111 1111"). They become "[card ••••1234]", keeping the last four
//     digits. Digits that are part of a longer run of digits are never
//     masked: a 25-digit number is not a card.
//   - CVV/CVC codes (3–4 digits) and PINs (4–8 digits) that follow a label
//     such as "cvv", "CVC:", "security code", "pin" or "my pin is". Only
//     the digits are replaced, by "[redacted]".
//   - Passwords announced by "password:", "password=" or "password is"
//     (also "passwd", "passcode", "pwd", "pw", "pass", "lösenord",
//     "Passwort", "Kennwort", "contraseña", "mot de passe", and "är", "ist",
//     "es", "est" for "is"; "pw", "pwd" and "passwd" also with just a space):
//     the one whitespace-delimited token that follows becomes "[redacted]".
//     After "is", ordinary words such as "wrong" or "not" are not taken for
//     a password.
//
// Secrets are looked for in the text normalized to NFKC, without invisible
// (format) characters: full-width digits "４１１１", a zero-width space or a
// soft hyphen inside a number do not hide it. When something is masked in a
// text that normalization changes, the result is the masked normalized text;
// a text with nothing to mask is returned as it is, byte for byte.
//
// Email addresses are not masked; see Email. Text(Text(s)) returns the same
// string as Text(s), with a count of 0.
func Text(s string) (string, int) {
	t, changed := normalize(s)
	if !changed {
		return maskAll(s)
	}
	// Secrets are found in the normalized text t. Mapping its positions
	// back into s is not attempted: NFKC can merge, split and reorder
	// characters, a mapping back is easy to get subtly wrong, and a wrong
	// one leaks a piece of a secret (an invisible character, a full-width
	// digit) into the store and the model. Instead, s itself is masked too,
	// and if that gives the same result once normalized, every secret of t
	// was found in s and what remains of s is secret-free, so the customer's
	// text is kept as written ("…", emoji joiners). Otherwise the secret hid
	// behind the normalization, and the masked normalized text is returned:
	// what NFKC changes elsewhere in that message (full-width forms,
	// ligatures) costs the reader little. A message without a secret, the
	// usual case, keeps every byte.
	masked, n := maskAll(t)
	if n == 0 {
		// Normalization can also join digits into a run too long to be a
		// card ("4111111111111111\u200b1"); s is masked as written then.
		return maskAll(s)
	}
	if asWritten, m := maskAll(s); m > 0 {
		if u, _ := normalize(asWritten); u == masked {
			return asWritten, m
		}
	}
	return masked, n
}

// maskAll masks s as it is, without normalizing it.
func maskAll(s string) (string, int) {
	// The order matters: IBANs contain digit groups that could pass for a
	// card number, and labelled values should not take half a card number.
	s, ibans := maskIBANs(s)
	s, cards := maskCards(s)
	s, labelled := maskLabelled(s)
	return s, ibans + cards + labelled
}

// normalize returns s in NFKC without format characters (Unicode category
// Cf: zero-width spaces and joiners, word joiner, byte order mark, soft
// hyphen, bidirectional controls), and whether that differs from s. ASCII
// text, and text already normal, are checked without allocating.
func normalize(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s, false
	}
	hasFormat, plain := false, true
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Cf, r) {
			hasFormat = true
			break
		}
		// Most letters, CJK and emoji neither decompose nor combine; the
		// full check below, which may allocate, is for the others.
		if p := norm.NFKC.PropertiesString(s[i:]); p.Decomposition() != nil || p.CCC() != 0 || !p.BoundaryBefore() || !p.BoundaryAfter() {
			plain = false
		}
		i += size
	}
	if !hasFormat && (plain || norm.NFKC.IsNormalString(s)) {
		return s, false
	}
	t := s
	if hasFormat {
		var b strings.Builder
		b.Grow(len(s))
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r < utf8.RuneSelf || !unicode.Is(unicode.Cf, r) {
				b.WriteString(s[i : i+size]) // invalid bytes are kept as they are
			}
			i += size
		}
		t = b.String()
	}
	t = norm.NFKC.String(t)
	return t, t != s
}

// editor builds a copy of src with some byte ranges replaced. Replacements
// must be made left to right and must not overlap. Nothing is copied until
// the first replacement.
type editor struct {
	src  string
	b    strings.Builder
	last int // end of the previous replacement in src
	n    int // number of replacements
}

// replace writes src[e.last:start] and then repl in place of src[start:end].
func (e *editor) replace(start, end int, repl string) {
	if e.n == 0 {
		e.b.Grow(len(e.src))
	}
	e.b.WriteString(e.src[e.last:start])
	e.b.WriteString(repl)
	e.last = end
	e.n++
}

// String returns the edited text.
func (e *editor) String() string {
	if e.n == 0 {
		return e.src
	}
	e.b.WriteString(e.src[e.last:])
	e.last = len(e.src)
	return e.b.String()
}

// maskLen returns the length of the mask that starts at s[i], or 0 if no mask
// written by this package starts there.
func maskLen(s string, i int) int {
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, redacted):
		return len(redacted)
	case strings.HasPrefix(rest, cardPrefix):
		return tailLen(rest, len(cardPrefix), isDigit)
	case strings.HasPrefix(rest, ibanPrefix):
		return tailLen(rest, len(ibanPrefix), isAlnum)
	}
	return 0
}

// tailLen returns the length of s if s[n:] starts with four bytes satisfying
// ok followed by "]", the length of such a mask; otherwise 0.
func tailLen(s string, n int, ok func(byte) bool) int {
	if len(s) < n+5 || s[n+4] != ']' {
		return 0
	}
	for i := n; i < n+4; i++ {
		if !ok(s[i]) {
			return 0
		}
	}
	return n + 5
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

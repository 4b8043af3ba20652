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
// Email addresses are left alone by Text because agents need them; Email
// replaces them for log lines, where they are not needed.
//
// All functions work in time linear in the length of their input, never split
// a UTF-8 sequence, and are idempotent: masking masked text changes nothing.
package mask

import "strings"

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
//     written without separators or in groups joined by single spaces or by
//     single dashes. They become "[card ••••1234]", keeping the last four
//     digits. Digits that are part of a longer run of digits are never
//     masked: a 25-digit number is not a card.
//   - CVV/CVC codes (3–4 digits) and PINs (4–8 digits) that follow a label
//     such as "cvv", "CVC:", "security code", "pin" or "my pin is". Only
//     the digits are replaced, by "[redacted]".
//   - Passwords announced by "password:", "password=" or "password is"
//     (also "passwd", "passcode", "pwd"): the one whitespace-delimited token
//     that follows becomes "[redacted]". After "is", ordinary words such as
//     "wrong" or "not" are not taken for a password.
//
// Email addresses are not masked; see Email. Text(Text(s)) returns the same
// string as Text(s), with a count of 0.
func Text(s string) (string, int) {
	// The order matters: IBANs contain digit groups that could pass for a
	// card number, and labelled values should not take half a card number.
	s, ibans := maskIBANs(s)
	s, cards := maskCards(s)
	s, labelled := maskLabelled(s)
	return s, ibans + cards + labelled
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

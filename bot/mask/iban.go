package mask

import (
	"unicode"
	"unicode/utf8"
)

// Lengths of an IBAN in characters: country code, check digits and a basic
// bank account number (BBAN) of 11 to 30 letters or digits.
const (
	minIBANLen = 4 + 11
	maxIBANLen = 4 + 30
)

// maskIBANs replaces IBANs in s and reports how many it replaced.
func maskIBANs(s string) (string, int) {
	ed := editor{src: s}
	for p := 0; p+minIBANLen <= len(s); {
		if end := ibanAt(s, p); end > p {
			ed.replace(p, end, ibanMask(s[p:end]))
			p = end
			continue
		}
		p++
	}
	return ed.String(), ed.n
}

// ibanAt returns the end of the longest valid IBAN that starts at s[p], or -1.
//
// An IBAN starts with two letters and two check digits from 02 to 98, not
// preceded by a letter. It continues with letters and digits, either without
// spaces or in groups of four separated by single spaces, and is valid if
// its mod-97 remainder (ISO 13616, ISO 7064) is 1.
//
// It must end where its last group ends: before a character that is neither
// a letter nor a digit, before digits if it ends with a letter, or before
// another IBAN if it ends with a digit. The last two rules make the result
// independent of whether a card number or IBAN glued to its end has been
// masked already, which keeps Text idempotent.
func ibanAt(s string, p int) int {
	if !ibanStart(s, p) || prevIsLetter(s, p) {
		return -1
	}
	end := -1
	r := 0 // remainder mod 97 of the BBAN read so far, as ISO 7064 digits
	n := 4 // characters read, not counting spaces
	for i := p + 4; n < maxIBANLen; {
		switch {
		case i < len(s) && isAlnum(s[i]):
			r = mod97Append(r, s[i])
			i++
		case n%4 == 0 && i+1 < len(s) && s[i] == ' ' && isAlnum(s[i+1]):
			r = mod97Append(r, s[i+1])
			i += 2
		default:
			return end
		}
		n++
		if n >= minIBANLen && ibanEnd(s, i) && ibanValid(r, s[p:p+4]) {
			end = i
		}
	}
	return end
}

// ibanStart reports whether s[p:] starts with two letters and two check
// digits from 02 to 98.
func ibanStart(s string, p int) bool {
	if p+4 > len(s) || !isLetter(s[p]) || !isLetter(s[p+1]) || !isDigit(s[p+2]) || !isDigit(s[p+3]) {
		return false
	}
	check := int(s[p+2]-'0')*10 + int(s[p+3]-'0')
	return 2 <= check && check <= 98
}

// ibanEnd reports whether an IBAN whose last character is s[i-1] may end
// before s[i].
func ibanEnd(s string, i int) bool {
	if i == len(s) {
		return true
	}
	c := s[i]
	switch {
	case isDigit(c):
		return isLetter(s[i-1])
	case isLetter(c):
		return isDigit(s[i-1]) && ibanStart(s, i)
	case c < utf8.RuneSelf:
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordRune(r)
}

// ibanValid reports whether a BBAN with remainder r, preceded by country code
// and check digits head, passes the mod-97 check.
func ibanValid(r int, head string) bool {
	for i := range len(head) {
		r = mod97Append(r, head[i])
	}
	return r == 1
}

// mod97Append returns the remainder mod 97 of the number whose remainder is r
// followed by the ISO 7064 digits of c: the digit itself, or 10 to 35 for the
// letters A to Z.
func mod97Append(r int, c byte) int {
	if isDigit(c) {
		return (r*10 + int(c-'0')) % 97
	}
	return (r*100 + int((c|0x20)-'a') + 10) % 97
}

// ibanMask returns the mask for iban: its last four letters or digits in upper
// case.
func ibanMask(iban string) string {
	var last4 [4]byte
	k := len(last4)
	for i := len(iban) - 1; i >= 0 && k > 0; i-- {
		if c := iban[i]; c != ' ' {
			k--
			if isLetter(c) {
				c &^= 0x20 // upper case
			}
			last4[k] = c
		}
	}
	return ibanPrefix + string(last4[:]) + "]"
}

// prevIsLetter reports whether the rune before s[i] is a letter (or a mark,
// which continues one).
func prevIsLetter(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r) || unicode.IsMark(r)
}

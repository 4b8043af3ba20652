package mask

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Email returns s with every email address replaced by "[email]". It is
// meant for log lines; Text keeps email addresses because agents need them.
//
// An address is a local part of letters, digits and ".%+-_", an "@", and a
// domain of at least two dot-separated labels whose last label has two or
// more characters and at least one letter. Letters and digits may be
// non-ASCII, as in "åsa@exempel.se". Trailing dots and dashes belong to the
// surrounding sentence, not to the domain.
func Email(s string) string {
	ed := editor{src: s}
	floor := 0 // local parts do not reach back into a replaced address
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '@')
		if k < 0 {
			break
		}
		at := i + k
		start := localStart(s, floor, at)
		end := domainEnd(s, at+1)
		if start == at || end == at+1 {
			i = at + 1
			continue
		}
		ed.replace(start, end, emailMask)
		floor, i = end, end
	}
	return ed.String()
}

// localStart returns the start of the local part that ends at s[at], not
// before s[floor], without leading dots. It returns at if there is none.
func localStart(s string, floor, at int) int {
	i := at
	for i > floor {
		r, size := utf8.DecodeLastRuneInString(s[floor:i])
		if !isLocalRune(r) {
			break
		}
		i -= size
	}
	for i < at && s[i] == '.' {
		i++
	}
	return i
}

// domainEnd returns the end of the domain that starts at s[i], or i if there
// is no valid domain there.
func domainEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !isWordRune(r) && r != '-' && r != '.' {
			break
		}
		j += size
	}
	j = i + len(strings.TrimRight(s[i:j], ".-"))
	domain := s[i:j]
	dot := strings.LastIndexByte(domain, '.')
	if dot < 0 || strings.Contains(domain, "..") || domain[0] == '.' {
		return i
	}
	tld := domain[dot+1:]
	if utf8.RuneCountInString(tld) < 2 || strings.IndexFunc(tld, unicode.IsLetter) < 0 {
		return i
	}
	return j
}

// isLocalRune reports whether r may appear in the local part of an address.
func isLocalRune(r rune) bool {
	switch r {
	case '.', '%', '+', '-', '_':
		return true
	}
	return isWordRune(r)
}

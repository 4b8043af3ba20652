package mask

// Lengths of a payment card number (PAN), in digits.
const (
	minCardDigits = 13
	maxCardDigits = 19
)

// digitGroup is a maximal run of ASCII digits, s[start:end], and the
// separator that joins it to the next group of its chain ('\n' for "\r\n").
type digitGroup struct {
	start, end int
	sep        byte
}

// maskCards replaces card numbers in s and reports how many it replaced.
//
// It splits s into chains: digit groups joined by a single separator, one
// of space, tab, "-", ".", "/", "_" or a line break ("4111 1111 1111 1111",
// "4111.1111.1111.1111", "4111 1111\n1111 1111", or one group
// "4111111111111111"). A window is a run of whole groups of one chain with 13
// to 19 digits in all whose separators are all alike, or, if they are mixed,
// whose groups all have at least four digits but the last (see
// longestCardWindow); a window that passes the Luhn check is a card number. Every group of every card window is masked,
// and overlapping windows are masked as one, so that no card number is left
// half visible.
//
// Because windows consist of whole groups and depend on nothing outside
// them, the groups left unmasked form no card window afterwards: the result
// is a fixed point.
func maskCards(s string) (string, int) {
	ed := editor{src: s}
	var buf [8]digitGroup // enough for most chains without allocating
	chain := buf[:0]
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		chain = chain[:0]
		for {
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			chain = append(chain, digitGroup{start: i, end: j})
			i = j
			if n := separatorLen(s, j); n > 0 && j+n < len(s) && isDigit(s[j+n]) {
				chain[len(chain)-1].sep = s[j+n-1]
				i = j + n
				continue
			}
			break
		}
		maskCardChain(&ed, s, chain)
	}
	return ed.String(), ed.n
}

// separatorLen returns the length of the card-group separator at s[i], or 0.
func separatorLen(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case ' ', '\t', '-', '.', '/', '_', '\n':
		return 1
	case '\r':
		if i+1 < len(s) && s[i+1] == '\n' {
			return 2
		}
		return 1
	}
	return 0
}

// maskCardChain masks the card windows of one chain of digit groups.
func maskCardChain(ed *editor, s string, chain []digitGroup) {
	first, last := -1, -1 // groups covered by the current run of windows
	for a := range chain {
		b := longestCardWindow(s, chain, a)
		if b < 0 {
			continue
		}
		if first >= 0 && a <= last {
			last = max(last, b)
			continue
		}
		if first >= 0 {
			ed.replace(chain[first].start, chain[last].end, cardMask(s, chain[first:last+1]))
		}
		first, last = a, b
	}
	if first >= 0 {
		ed.replace(chain[first].start, chain[last].end, cardMask(s, chain[first:last+1]))
	}
}

// longestCardWindow returns the index of the last group of the longest card
// window that starts with chain[a], or -1 if no card window starts there.
func longestCardWindow(s string, chain []digitGroup, a int) int {
	var digits [maxCardDigits]byte
	n, best := 0, -1
	alike, wide := true, true // separators all alike; groups before b of 4+ digits
	for b := a; b < len(chain); b++ {
		g := chain[b]
		if n+g.end-g.start > maxCardDigits {
			break
		}
		if b > a {
			alike = alike && chain[b-1].sep == chain[a].sep
			wide = wide && chain[b-1].end-chain[b-1].start >= 4
		}
		// Mixed separators are accepted only between wide groups, as in
		// "4111 1111\n1111 1111" (a number broken over two lines): a date
		// list such as "2024-04-30 2024-05-01" is Luhn-valid but is not a
		// card number. Both rules look only inside the window, which keeps
		// the result a fixed point.
		if !alike && !wide {
			break
		}
		n += copy(digits[n:], s[g.start:g.end])
		if n >= minCardDigits && luhn(digits[:n]) {
			best = b
		}
	}
	return best
}

// luhn reports whether the ASCII digits pass the Luhn (mod 10) check.
func luhn(digits []byte) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cardMask returns the mask for the card number made of groups, which hold
// at least four digits in all.
func cardMask(s string, groups []digitGroup) string {
	var last4 [4]byte
	k := len(last4)
	for i := len(groups) - 1; i >= 0 && k > 0; i-- {
		for j := groups[i].end - 1; j >= groups[i].start && k > 0; j-- {
			k--
			last4[k] = s[j]
		}
	}
	return cardPrefix + string(last4[:]) + "]"
}

package bot

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Erasure reaches into rows that belong to no erased conversation: the
// agents' re-ping digests, which list the waiting handoffs of several
// customers in one outbox row, and the outbox rows of other customers'
// conversations that quote words an erased customer wrote there. The
// helpers here say how such rows are written, so that the store can find
// what to scrub without knowing the handoff flow.

// DigestStreamPrefix starts the outbox stream of the re-ping digests of
// every agent channel.
const DigestStreamPrefix = "handoff-digest:"

// DigestLine starts the line of a digest about handoff id.
func DigestLine(id int64) string { return "• #" + strconv.FormatInt(id, 10) + " " }

// erasedMark replaces erased words.
const erasedMark = "[erased]"

// ScrubDigest rewrites the lines of a digest about the given handoffs to
// name only the handoff: the customer's name and the handoff's reason go.
// It reports whether anything changed.
func ScrubDigest(text string, handoffs map[int64]bool) (string, bool) {
	lines := strings.Split(text, "\n")
	changed := false
	for i, l := range lines {
		for id := range handoffs {
			if p := DigestLine(id); strings.HasPrefix(l, p) {
				lines[i] = p + erasedMark
				changed = true
				break
			}
		}
	}
	if !changed {
		return text, false
	}
	return strings.Join(lines, "\n"), true
}

// minQuoted is the shortest line of a customer's message looked for inside
// longer lines; a shorter one ("ok", "yes") is scrubbed only where it is a
// line by itself, so that erasing one customer does not blank words other
// people wrote.
const minQuoted = 6

// ScrubQuotes replaces in text the lines of words (an erased customer's
// messages) wherever they are quoted: inside a line when long enough,
// else as a whole line, after quote markers ("> ") and spaces. It reports
// whether anything changed.
func ScrubQuotes(text string, words []string) (string, bool) {
	var long, short []string
	for _, w := range words {
		for l := range strings.SplitSeq(w, "\n") {
			l = strings.TrimSpace(l)
			switch {
			case l == "":
			case utf8.RuneCountInString(l) >= minQuoted:
				long = append(long, l)
			default:
				short = append(short, l)
			}
		}
	}
	lines := strings.Split(text, "\n")
	changed := false
	for i, l := range lines {
		orig := l
		for _, w := range long {
			l = strings.ReplaceAll(l, w, erasedMark)
		}
		bare := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), ">"))
		for _, w := range short {
			if bare == w {
				l = strings.Replace(l, w, erasedMark, 1)
				break
			}
		}
		if l != orig {
			lines[i], changed = l, true
		}
	}
	if !changed {
		return text, false
	}
	return strings.Join(lines, "\n"), true
}

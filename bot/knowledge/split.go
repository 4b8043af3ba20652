package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPassage is about the longest passage, in bytes: a longer section is
// split at paragraph boundaries (or, for one very long paragraph, between
// words).
const MaxPassage = 800

// section is the text under one heading.
type section struct {
	heading string
	line    int
	body    []string
}

// split cuts an article's body (its lines, the first being line first of the
// file) into passages at #, ## and ### headings outside fenced code blocks.
// Sections without text are dropped.
func split(lines []string, first int) []Passage {
	var (
		secs  []section
		cur   = section{line: first}
		fence string // the fence that opened the current code block, "" outside
	)
	for i, l := range lines {
		if fence != "" {
			if closesFence(l, fence) {
				fence = ""
			}
			cur.body = append(cur.body, l)
			continue
		}
		if f := openFence(l); f != "" {
			fence = f
			cur.body = append(cur.body, l)
			continue
		}
		if h, ok := heading(l); ok {
			secs = append(secs, cur)
			cur = section{heading: h, line: first + i}
			continue
		}
		if len(cur.body) == 0 && strings.TrimSpace(l) == "" {
			if cur.heading == "" {
				cur.line = first + i + 1
			}
			continue
		}
		cur.body = append(cur.body, l)
	}
	secs = append(secs, cur)

	var out []Passage
	for _, s := range secs {
		for _, chunk := range chunks(s.body) {
			out = append(out, Passage{Heading: s.heading, Text: chunk, Line: s.line})
		}
	}
	return out
}

// heading reports whether l is an ATX heading of level 1 to 3, and its text.
func heading(l string) (string, bool) {
	t := strings.TrimLeft(l, " ")
	if len(l)-len(t) > 3 {
		return "", false // indented code
	}
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 3 {
		return "", false
	}
	rest := t[n:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false // "#hashtag"
	}
	rest = strings.TrimSpace(rest)
	// A closing sequence of #s is not part of the text.
	if trimmed := strings.TrimRight(rest, "#"); trimmed != rest && (trimmed == "" || strings.HasSuffix(trimmed, " ")) {
		rest = strings.TrimSpace(trimmed)
	}
	return rest, true
}

// openFence returns the fence (``` or ~~~, any longer run) l opens, or "".
func openFence(l string) string {
	t := strings.TrimLeft(l, " ")
	if len(l)-len(t) > 3 || len(t) < 3 {
		return ""
	}
	c := t[0]
	if c != '`' && c != '~' {
		return ""
	}
	n := 0
	for n < len(t) && t[n] == c {
		n++
	}
	if n < 3 || (c == '`' && strings.Contains(t[n:], "`")) {
		return ""
	}
	return t[:n]
}

func closesFence(l, fence string) bool {
	t := strings.TrimSpace(l)
	return len(t) >= len(fence) && strings.Trim(t, fence[:1]) == "" && t[0] == fence[0]
}

// chunks joins a section's lines into one or more texts of about MaxPassage
// bytes at most, cut between paragraphs (a fenced code block counts as one
// paragraph).
func chunks(body []string) []string {
	var paras []string
	var cur []string
	fence := ""
	flush := func() {
		if p := strings.TrimSpace(strings.Join(cur, "\n")); p != "" {
			paras = append(paras, p)
		}
		cur = cur[:0]
	}
	for _, l := range body {
		switch {
		case fence != "":
			if closesFence(l, fence) {
				fence = ""
			}
		case openFence(l) != "":
			fence = openFence(l)
		case strings.TrimSpace(l) == "":
			flush()
			continue
		}
		cur = append(cur, strings.TrimRight(l, " \t"))
	}
	flush()

	var out []string
	var b strings.Builder
	emit := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, p := range paras {
		for _, piece := range cutLong(p, MaxPassage) {
			if b.Len() > 0 && b.Len()+2+len(piece) > MaxPassage {
				emit()
			}
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(piece)
		}
	}
	emit()
	return out
}

// cutLong cuts s into pieces of at most max bytes, at the last space before
// the limit when there is one, and always at a rune boundary.
func cutLong(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := -1
		for i := max; i > max/2; i-- {
			if s[i] == ' ' || s[i] == '\n' {
				cut = i
				break
			}
		}
		if cut < 0 {
			cut = max
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			if cut == 0 {
				cut = max
			}
		}
		if piece := strings.TrimRightFunc(s[:cut], unicode.IsSpace); piece != "" {
			out = append(out, piece)
		}
		s = strings.TrimLeftFunc(s[cut:], unicode.IsSpace)
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

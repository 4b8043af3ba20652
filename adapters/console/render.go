package console

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the product says is markdown (**bold**, *italics* or _italics_,
// `code`, [text](url), "- " and "1. " lists, # headings), written for Slack
// and Discord. A terminal shows it with ANSI bold and italics; anything
// else (a pipe, a file, a test) gets plain text with the markers removed.
//
// Replies come from a model and agents, so none of their bytes may reach the
// terminal as a control sequence: clean removes control characters, ESC
// among them, before the renderer adds the only escape sequences it writes,
// the four SGR codes below.

// The SGR codes the renderer writes; no others reach the terminal.
const (
	sgrBold     = "\x1b[1m"
	sgrBoldOff  = "\x1b[22m"
	sgrEm       = "\x1b[3m"
	sgrEmOff    = "\x1b[23m"
	bulletMark  = "• "
	ruleLine    = "──────────"
	placeholder = '\x00' // stands for a code span or link during emphasis; clean removes NUL
)

var (
	headingRe = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)[\s#]*$`)
	bulletRe  = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	// linkRe finds markdown links [text](url) and bare web addresses; an
	// address must not end in punctuation that belongs to the sentence.
	linkRe = regexp.MustCompile(`\[([^\[\]\n]*)\]\(\s*([^\s()]+)\s*\)|(https?://[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'"*_~])`)
)

// clean removes what could control a terminal from text that did not come
// from this package: C0 controls but newline and tab, DEL, C1 controls, and
// the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069),
// which can make a line read differently from what it holds. Invalid UTF-8
// becomes U+FFFD.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
}

// renderer turns the product's markdown into terminal text: with ANSI
// bold and italics when ansi is set, plain otherwise. Markers that pair
// with nothing (a lone **, 2*3*4, snake_case) stay as written.
type renderer struct {
	ansi bool
}

// style is a set of the text styles in effect.
type style uint8

const (
	styleBold style = 1 << iota
	styleEm
)

// render cleans md and renders it, line by line: no style is left open at
// the end of a line, so prefixes added to lines stay unstyled.
func (r renderer) render(md string) string {
	lines := strings.Split(clean(md), "\n")
	fences := fencePairs(lines)
	out := make([]string, 0, len(lines))
	inFence := false
	for i, line := range lines {
		if fences[i] {
			inFence = !inFence
			continue // the fence itself says nothing to a reader
		}
		if inFence {
			out = append(out, line)
			continue
		}
		out = append(out, r.line(line))
	}
	return strings.Join(out, "\n")
}

// fencePairs marks the lines that open or close a fenced code block: a
// line starting with ``` (and holding no other ```) that has a partner
// later on. A fence without one is an ordinary line.
func fencePairs(lines []string) []bool {
	fences := make([]bool, len(lines))
	open := -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "```") || strings.Contains(t[3:], "```") {
			continue
		}
		if open < 0 {
			open = i
			continue
		}
		fences[open], fences[i] = true, true
		open = -1
	}
	return fences
}

func (r renderer) line(line string) string {
	if isRule(line) {
		return ruleLine
	}
	if m := headingRe.FindStringSubmatch(line); m != nil {
		// The heading is bold as a whole; bold inside it would end it
		// early, so its content is rendered plain.
		return r.wrap(renderer{}.inline(m[1], 0), styleBold, 0)
	}
	if m := bulletRe.FindStringSubmatch(line); m != nil {
		return m[1] + bulletMark + r.inline(m[2], 0)
	}
	// Numbered lists and "> " quotes keep their markers: they read well
	// as they are.
	return r.inline(line, 0)
}

// isRule reports whether line is a markdown horizontal rule: three or more
// of the same -, * or _, optionally spaced.
func isRule(line string) bool {
	t := strings.ReplaceAll(strings.TrimSpace(line), " ", "")
	if len(t) < 3 {
		return false
	}
	c := t[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	return strings.Count(t, string(c)) == len(t)
}

// inline renders one line outside code blocks. Code spans keep their
// content as written, links become "text (url)" and bare addresses stay as
// they are; each is set aside as a placeholder while emphasis is read, so
// that the * and _ in them are not taken for markers.
func (r renderer) inline(s string, active style) string {
	var b strings.Builder
	var kept []string
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			kept = r.prose(&b, s, kept, active)
			break
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		run := s[i:j]
		k := strings.Index(s[j:], run)
		if k < 0 {
			// An unmatched backtick is just a character.
			kept = r.prose(&b, s[:j], kept, active)
			s = s[j:]
			continue
		}
		kept = r.prose(&b, s[:i], kept, active)
		b.WriteRune(placeholder)
		kept = append(kept, s[j:j+k])
		s = s[j+k+len(run):]
	}
	e := r.emphasis(b.String(), active)
	if len(kept) == 0 {
		return e
	}
	// Put back what was set aside, in order.
	var out strings.Builder
	for _, part := range kept {
		i := strings.IndexRune(e, placeholder)
		out.WriteString(e[:i])
		out.WriteString(part)
		e = e[i+1:]
	}
	out.WriteString(e)
	return out.String()
}

// prose writes s to b with its links set aside, appending them to kept.
func (r renderer) prose(b *strings.Builder, s string, kept []string, active style) []string {
	last := 0
	for _, loc := range linkRe.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:loc[0]])
		b.WriteRune(placeholder)
		if loc[2] >= 0 {
			kept = append(kept, r.link(s[loc[2]:loc[3]], s[loc[4]:loc[5]], active))
		} else {
			kept = append(kept, s[loc[6]:loc[7]])
		}
		last = loc[1]
	}
	b.WriteString(s[last:])
	return kept
}

// link writes a markdown link as its text and its address, so that no
// text can hide where a link goes.
func (r renderer) link(label, url string, active style) string {
	label = strings.TrimSpace(label)
	if label == "" || label == url {
		return url
	}
	return r.emphasis(label, active) + " (" + url + ")"
}

// emphasis renders **bold**, __bold__, *italics* and _italics_ in s, as
// markdown reads them: an opening marker is not preceded by a letter or
// digit and is followed by a non-space; a closing one is preceded by a
// non-space and not followed by a letter or digit. "5 * 3", "2*3*4" and
// snake_case stay as they are, and so do runs of three or more markers and
// a style nested in itself.
func (r renderer) emphasis(s string, active style) string {
	var b strings.Builder
	// Whether a marker closes does not depend on where its span opened:
	// once an opening marker finds no closer, no later one of its kind will.
	var noCloser [2][2]bool // ['*' or '_'][single or double]
	i, last := 0, 0
	for i < len(s) {
		c := s[i]
		if c != '*' && c != '_' {
			i++
			continue
		}
		n := runLen(s, i)
		kind := 0
		if c == '_' {
			kind = 1
		}
		st := styleEm
		if n == 2 {
			st = styleBold
		}
		if n > 2 || active&st != 0 || noCloser[kind][n-1] || !canOpen(s, i, n) {
			i += n
			continue
		}
		j := closer(s, i+n, c, n)
		if j < 0 {
			noCloser[kind][n-1] = true
			i += n
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r.wrap(r.emphasis(s[i+n:j], active|st), st, active))
		i = j + n
		last = i
	}
	b.WriteString(s[last:])
	return b.String()
}

// wrap styles s with st, unless st is already in effect.
func (r renderer) wrap(s string, st, active style) string {
	if !r.ansi || active&st != 0 {
		return s
	}
	if st == styleBold {
		return sgrBold + s + sgrBoldOff
	}
	return sgrEm + s + sgrEmOff
}

func runLen(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == s[i] {
		n++
	}
	return n
}

func canOpen(s string, i, n int) bool {
	if i > 0 {
		if p, _ := utf8.DecodeLastRuneInString(s[:i]); isWord(p) {
			return false
		}
	}
	next, size := utf8.DecodeRuneInString(s[i+n:])
	return size > 0 && !unicode.IsSpace(next)
}

// closer returns where the first run of exactly n c's that can close a
// span starts, at or after from; -1 if there is none.
func closer(s string, from int, c byte, n int) int {
	for k := from; k < len(s); {
		if s[k] != c {
			k++
			continue
		}
		m := runLen(s, k)
		if m == n {
			p, _ := utf8.DecodeLastRuneInString(s[:k])
			next, _ := utf8.DecodeRuneInString(s[k+n:])
			if !unicode.IsSpace(p) && (k+n == len(s) || !isWord(next)) {
				return k
			}
		}
		k += m
	}
	return -1
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

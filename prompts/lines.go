package prompts

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file finds the lines of the file that errors are on, where the YAML
// library does not say or says it wrong.

// scalarLines maps every byte offset of a YAML scalar's value, and the
// offset just past its end, to the line of src it comes from.
//
// The value of a scalar is not a copy of the file: a quoted or plain scalar
// folds line breaks into spaces, drops indentation and decodes escapes
// ("\n" is a line break on the same line of the file), a block scalar drops
// indentation and starts on the line after its indicator. So the value is
// aligned with the file byte by byte, from where the scalar starts.
func scalarLines(src []byte, n *yaml.Node) []int {
	val := n.Value
	lines := make([]int, len(val)+1)
	p, ok := position(src, n.Line, n.Column)
	if !ok {
		for i := range lines {
			lines[i] = n.Line
		}
		return lines
	}
	line := n.Line
	var dq, sq bool
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The text starts on the line after the indicator (|, >-, |2 # ...).
		p = nextLine(src, p)
		line++
	case n.Style&yaml.DoubleQuotedStyle != 0:
		dq = true
		p = afterQuote(src, p, '"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		sq = true
		p = afterQuote(src, p, '\'')
	}
	i := 0
	for i < len(val) && p < len(src) {
		if n := breakLen(src, p); n > 0 {
			// A line break: folded into a space, kept as a line break, or
			// (U+2028, U+2029 in a block) kept as itself.
			switch {
			case val[i] == ' ' || val[i] == '\n':
				lines[i] = line
				i++
			case strings.HasPrefix(val[i:], string(src[p:p+n])):
				for k := range n {
					lines[i+k] = line
				}
				i += n
			}
			p += n
			line++
			continue
		}
		c := src[p]
		switch {
		case dq && c == '\\':
			dec, size := yamlEscape(src[p:])
			if dec != "" && strings.HasPrefix(val[i:], dec) {
				for k := range len(dec) {
					lines[i+k] = line
				}
				i += len(dec)
			}
			if breakLen(src, p+1) > 0 && size > 1 {
				line++ // an escaped line break
			}
			p += size
			continue
		case sq && c == '\'' && p+1 < len(src) && src[p+1] == '\'':
			if val[i] == '\'' {
				lines[i] = line
				i++
			}
			p += 2
			continue
		case c == val[i]:
			lines[i] = line
			i++
		}
		p++
	}
	for ; i <= len(val); i++ {
		lines[i] = line
	}
	return lines
}

// breakLen returns the length of the line break at src[p], or 0. Like the
// YAML library, it counts CR LF, CR, LF, and U+0085, U+2028 and U+2029 as
// line breaks, so that lines are numbered as the library numbers them.
func breakLen(src []byte, p int) int {
	switch {
	case p >= len(src):
		return 0
	case src[p] == '\r' && p+1 < len(src) && src[p+1] == '\n':
		return 2
	case src[p] == '\r' || src[p] == '\n':
		return 1
	case bytes.HasPrefix(src[p:], []byte("\u0085")):
		return 2
	case bytes.HasPrefix(src[p:], []byte("\u2028")), bytes.HasPrefix(src[p:], []byte("\u2029")):
		return 3
	}
	return 0
}

// nextLine returns the offset of the line after the one at p.
func nextLine(src []byte, p int) int {
	for p < len(src) {
		if n := breakLen(src, p); n > 0 {
			return p + n
		}
		p++
	}
	return len(src)
}

// countLines counts the lines of src as the YAML library does.
func countLines(src []byte) int {
	n := 1
	for p := 0; p < len(src); {
		if b := breakLen(src, p); b > 0 {
			n++
			p += b
		} else {
			p++
		}
	}
	return n
}

// position returns the byte offset of line and column (1-based; the YAML
// library counts columns in characters).
func position(src []byte, line, col int) (int, bool) {
	p := 0
	for l := 1; l < line; l++ {
		if p = nextLine(src, p); p >= len(src) {
			return 0, false
		}
	}
	for c := 1; c < col; c++ {
		if p >= len(src) || breakLen(src, p) > 0 {
			return 0, false
		}
		_, size := utf8.DecodeRune(src[p:])
		p += size
	}
	return p, true
}

// afterQuote returns the offset after the opening quote at or after p on
// the same line (a tag such as !!str may stand before it).
func afterQuote(src []byte, p int, quote byte) int {
	if i := bytes.IndexByte(src[p:nextLine(src, p)], quote); i >= 0 {
		return p + i + 1
	}
	return p
}

// yamlEscapes are the one-letter escapes of double-quoted YAML scalars.
var yamlEscapes = map[byte]string{
	'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v",
	'f': "\f", 'r': "\r", 'e': "\x1b", ' ': " ", '"': "\"", '/': "/", '\\': "\\",
	'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
}

// yamlHexEscapes are the escapes followed by hex digits, and how many.
var yamlHexEscapes = map[byte]int{'x': 2, 'u': 4, 'U': 8}

// yamlEscape decodes the escape sequence at the start of b (which starts
// with a backslash) in a double-quoted scalar. It returns what it stands for
// ("" for an escaped line break) and its length in the file.
func yamlEscape(b []byte) (string, int) {
	if len(b) < 2 {
		return "", len(b)
	}
	if s, ok := yamlEscapes[b[1]]; ok {
		return s, 2
	}
	if n, ok := yamlHexEscapes[b[1]]; ok && len(b) >= 2+n {
		r, err := strconv.ParseUint(string(b[2:2+n]), 16, 32)
		if err != nil || r > utf8.MaxRune {
			return "", 2
		}
		return string(rune(r)), 2 + n
	}
	switch {
	}
	if n := breakLen(b, 1); n > 0 {
		return "", 1 + n // an escaped line break
	}
	return "", 1
}

// splitYAMLError takes gopkg.in/yaml.v3's "yaml: line N: problem" apart;
// line is 0 when the error has none (as on the first line of the file).
func splitYAMLError(err error) (line int, problem string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, r, ok := cutNumber(rest); ok {
			if p, ok := strings.CutPrefix(r, ": "); ok {
				return n, p
			}
		}
	}
	return 0, msg
}

// maxLocateBytes bounds the work of locateYAMLError on a long file: the
// bytes it may parse in all (some tenths of a second at worst).
const maxLocateBytes = 4 << 20

// locateYAMLError finds the line of a YAML syntax error. The library's line
// is the start of the construct it was reading (often the line before the
// mistake, sometimes counted from 0), not the line of the mistake: a bad
// indentation on line 12 of a mapping that starts on line 10 reads "line 9".
// So the file is cut after each line, from that line on, and the first cut
// that fails with the same problem is the line of the mistake. It returns 0
// when no cut does.
func locateYAMLError(src []byte, problem string, from int) int {
	from = max(from, 1)
	line, budget := 1, maxLocateBytes
	for p := 0; p < len(src) && budget > 0; line++ {
		end := nextLine(src, p)
		if line >= from {
			budget -= end
			var doc yaml.Node
			if err := yaml.Unmarshal(src[:end], &doc); err != nil {
				if _, prob := splitYAMLError(err); prob == problem {
					return line
				}
			}
		}
		p = end
	}
	return 0
}

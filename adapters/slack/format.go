package slack

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Slack reads &, < and > as control characters: <!channel>, <@U…> and
// <https://…|text> are mentions and links. Everything the product says is
// escaped before the adapter adds syntax of its own, so a mention typed by a
// customer or produced by a model never pings anyone.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape neutralises Slack's control characters in s.
func escape(s string) string { return escaper.Replace(s) }

var (
	headingRe = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)[\s#]*$`)
	bulletRe  = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	quoteRe   = regexp.MustCompile(`^\s{0,3}>\s?(.*)$`)
	boldRe    = regexp.MustCompile(`\*\*([^*\n]+?)\*\*|__([^_\n]+?)__`)
	strikeRe  = regexp.MustCompile(`~~([^~\n]+?)~~`)
	// linkRe finds markdown links [text](url) and bare web addresses; the
	// address must not end in punctuation that belongs to the sentence.
	linkRe = regexp.MustCompile(`\[([^\[\]\n]*)\]\(\s*([^\s()]+)\s*\)|(https?://[^\s<>()\[\]|]*[^\s<>()\[\]|.,;:!?'"*_~])`)
)

// toMrkdwn converts the product's markdown (what prompt files and models
// write: **bold**, *italics* or _italics_, ~~strike~~, [text](url), "- "
// lists, # headings, > quotes, `code` and ``` blocks) to Slack's mrkdwn.
// All text is escaped first; the only angle brackets in the result are the
// web and mail links it writes itself.
func toMrkdwn(md string) string {
	md = strings.ToValidUTF8(md, "\uFFFD")
	// NUL is the placeholder emphasis uses for bold; it has no business in
	// a chat message anyway.
	md = strings.ReplaceAll(md, "\x00", "")
	md = strings.ReplaceAll(md, "\r\n", "\n")
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	inFence := false
	for _, line := range lines {
		if isFence(line) {
			// Slack has no language tags: ```go would show "go".
			inFence = !inFence
			out = append(out, "```")
			continue
		}
		if inFence {
			out = append(out, escape(line))
			continue
		}
		out = append(out, convertLine(line))
	}
	if inFence {
		out = append(out, "```")
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n ")
}

// isFence reports whether line opens or closes a fenced code block: it
// starts with ``` and holds no other ``` (```x``` on one line is inline).
func isFence(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "```") && !strings.Contains(t[3:], "```")
}

func convertLine(line string) string {
	if isRule(line) {
		return "──────────"
	}
	if m := headingRe.FindStringSubmatch(line); m != nil {
		// Slack has no headings: bold is the closest, and bold inside bold
		// would undo itself.
		return "*" + inline(strings.ReplaceAll(m[1], "**", "")) + "*"
	}
	if m := bulletRe.FindStringSubmatch(line); m != nil {
		return m[1] + "• " + inline(m[2])
	}
	if m := quoteRe.FindStringSubmatch(line); m != nil {
		// A literal > at the start of a line is Slack's quote; it cannot
		// open a control sequence, which needs <.
		return "> " + inline(m[1])
	}
	return inline(line)
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

// inline converts one line outside fenced blocks: code spans keep their
// content (escaped, not formatted), the rest is prose.
func inline(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			b.WriteString(prose(s))
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
			b.WriteString(prose(s[:j]))
			s = s[j:]
			continue
		}
		b.WriteString(prose(s[:i]))
		b.WriteString(run + escape(s[j:j+k]) + run)
		s = s[j+k+len(run):]
	}
	return b.String()
}

// prose converts text outside code: links become Slack links, which are
// protected from emphasis conversion (an address may hold _ or *).
func prose(s string) string {
	var b strings.Builder
	for s != "" {
		loc := linkRe.FindStringSubmatchIndex(s)
		if loc == nil {
			b.WriteString(emphasis(escape(s)))
			break
		}
		b.WriteString(emphasis(escape(s[:loc[0]])))
		if loc[2] >= 0 {
			b.WriteString(link(s[loc[4]:loc[5]], s[loc[2]:loc[3]]))
		} else {
			b.WriteString(link(s[loc[6]:loc[7]], ""))
		}
		s = s[loc[1]:]
	}
	return b.String()
}

// link writes a Slack link. Only web and mail addresses become links: a
// markdown link to "@U123" or "!channel" would otherwise become a mention.
func link(url, label string) string {
	if !webURL(url) {
		if label == "" {
			return escape(url)
		}
		return emphasis(escape(label)) + " (" + escape(url) + ")"
	}
	// | ends the address in Slack's link syntax.
	u := strings.ReplaceAll(escape(url), "|", "%7C")
	if label == "" || label == url {
		return "<" + u + ">"
	}
	return "<" + u + "|" + escape(label) + ">"
}

func webURL(u string) bool {
	l := strings.ToLower(u)
	for _, scheme := range []string{"https://", "http://", "mailto:"} {
		if strings.HasPrefix(l, scheme) && len(l) > len(scheme) {
			return !strings.ContainsFunc(u, unicode.IsControl)
		}
	}
	return false
}

// emphasis converts markdown emphasis in escaped text to Slack's: **bold**
// and __bold__ to *bold*, *italics* to _italics_, ~~strike~~ to ~strike~.
func emphasis(s string) string {
	s = strikeRe.ReplaceAllString(s, "~$1~")
	// Bold goes through a placeholder so that its stars are not read as
	// italics next.
	s = boldRe.ReplaceAllStringFunc(s, func(m string) string { return "\x00" + m[2:len(m)-2] + "\x00" })
	s = pairs(s, '*', func(inner string) string { return "_" + inner + "_" })
	return strings.ReplaceAll(s, "\x00", "*")
}

// pairs rewrites spans delimited by mark on both sides, as markdown reads
// emphasis: the opening mark is not preceded by a word character and is
// followed by a non-space; the closing mark is preceded by a non-space and
// not followed by a word character. "5 * 3 * 2" and "a*b" stay as they are.
func pairs(s string, mark byte, wrap func(inner string) string) string {
	var b strings.Builder
	i := 0
	// Whether a mark closes does not depend on where its span opened: once
	// an opening mark finds no closer, no later one on its line will, and
	// scanning again would make long lines quadratic.
	noCloserBefore := -1
	for i < len(s) {
		if s[i] != mark || i < noCloserBefore || !opens(s, i, mark) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := closing(s, i, mark)
		if j < 0 {
			noCloserBefore = len(s)
			if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
				noCloserBefore = i + nl
			}
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(wrap(s[i+1 : j]))
		i = j + 1
	}
	return b.String()
}

func opens(s string, i int, mark byte) bool {
	if i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == mark || s[i+1] == '\n' {
		return false
	}
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:i])
		if isWord(r) || r == rune(mark) {
			return false
		}
	}
	return true
}

func closing(s string, i int, mark byte) int {
	for j := i + 2; j < len(s); j++ {
		switch s[j] {
		case '\n':
			return -1
		case mark:
			if s[j-1] == ' ' {
				continue
			}
			if j+1 < len(s) {
				r, _ := utf8.DecodeRuneInString(s[j+1:])
				if isWord(r) || r == rune(mark) {
					continue
				}
			}
			return j
		}
	}
	return -1
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// sectionLimit is the most characters a Block Kit section's text holds.
const sectionLimit = 3000

// fenceReserve is room kept in each part to close a code block that a cut
// falls into ("\n```").
const fenceReserve = 4

// split cuts mrkdwn text into parts of at most limit characters (as Slack
// counts them, in UTF-16 units), preferring paragraph, then line, then word
// boundaries, and avoiding cuts inside a code span. A cut inside a fenced
// code block closes the fence and opens it again in the next part. Parts
// never split a UTF-8 sequence.
func split(s string, limit int) []string {
	if limit <= fenceReserve+8 {
		limit = fenceReserve + 8
	}
	var parts []string
	for prefixLen(s, limit) < len(s) {
		cut := cutPoint(s, limit-fenceReserve)
		head := strings.TrimRight(s[:cut], " \n")
		tail := strings.TrimLeft(s[cut:], " \n")
		if head == "" { // only blanks fitted: cut hard
			head, tail = s[:cut], s[cut:]
		}
		if strings.Count(head, "```")%2 == 1 {
			head += "\n```"
			tail = "```\n" + tail
		}
		parts = append(parts, head)
		s = tail
	}
	if s = strings.TrimRight(s, " \n"); s != "" || len(parts) == 0 {
		parts = append(parts, s)
	}
	return parts
}

// cutPoint returns where to cut s so that the head fits in limit: at the
// last paragraph break, line break or space (preferably outside code
// spans) in the head's second half, else at the limit itself, on a rune
// boundary.
func cutPoint(s string, limit int) int {
	max := prefixLen(s, limit)
	head := s[:max]
	half := max / 2
	if i := strings.LastIndex(head, "\n\n"); i >= half && i > 0 {
		return i + 2
	}
	if i := strings.LastIndexByte(head, '\n'); i >= half && i > 0 {
		return i + 1
	}
	if i := lastSpaceOutsideCode(head); i >= half && i > 0 {
		return i + 1
	}
	if i := strings.LastIndexByte(head, ' '); i >= half && i > 0 {
		return i + 1
	}
	// Cuts stay in the second half so every part makes progress, even
	// when a code fence has to be reopened in the next one.
	return max
}

// lastSpaceOutsideCode returns the index of the last space of s that is
// not inside a `code span` of its line, or -1.
func lastSpaceOutsideCode(s string) int {
	lineStart := strings.LastIndexByte(s, '\n') + 1
	best := -1
	inCode := false
	for i := lineStart; i < len(s); i++ {
		switch s[i] {
		case '`':
			inCode = !inCode
		case ' ':
			if !inCode {
				best = i
			}
		}
	}
	return best
}

// prefixLen returns the length in bytes of the longest prefix of s that is
// at most limit UTF-16 units long and ends on a rune boundary.
func prefixLen(s string, limit int) int {
	n := 0
	for i, r := range s {
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		if n+w > limit {
			return i
		}
		n += w
	}
	return len(s)
}

// utf16Len is the length of s as Slack counts characters.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// truncate cuts mrkdwn text to limit characters, marking the cut with "…"
// and closing a code block it cut into. Cards are single messages: they are
// updated in place, so they cannot be split.
func truncate(s string, limit int) string {
	if utf16Len(s) <= limit {
		return s
	}
	head := strings.TrimRight(s[:prefixLen(s, limit-fenceReserve-1)], " \n")
	head += "…"
	if strings.Count(head, "```")%2 == 1 {
		head += "\n```"
	}
	return head
}

// slackRefRe matches Slack's control sequences: <@U…>, <#C…|name>,
// <!here>, <!subteam^S…|@team>, <https://…|text>.
var slackRefRe = regexp.MustCompile(`<([^<>\n]*)>`)

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// fromSlack turns the text of a Slack message into the product's text:
// mentions become readable words (@name, #channel, @here), links become
// markdown, Slack's *bold* and ~strike~ become markdown's, and the escaping
// is undone. Nothing of it can ping anyone again: what the product posts is
// escaped on the way out. user resolves a user id to a name.
func fromSlack(text string, user func(id string) string) string {
	out := slackRefRe.ReplaceAllStringFunc(text, func(m string) string {
		target, label, _ := strings.Cut(m[1:len(m)-1], "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if label != "" {
				return "@" + label
			}
			return "@" + user(target[1:])
		case strings.HasPrefix(target, "#"):
			if label != "" {
				return "#" + label
			}
			return "#" + target[1:]
		case strings.HasPrefix(target, "!subteam^"):
			if label != "" {
				return label
			}
			return "@" + strings.TrimPrefix(target, "!subteam^")
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			return "@" + target[1:]
		case label == "" || label == target || "mailto:"+label == target:
			if label != "" {
				return label
			}
			return target
		default:
			return "[" + label + "](" + target + ")"
		}
	})
	out = mapProse(out, func(p string) string {
		p = pairs(p, '*', func(inner string) string { return "**" + inner + "**" })
		return pairs(p, '~', func(inner string) string { return "~~" + inner + "~~" })
	})
	return unescaper.Replace(out)
}

// mapProse applies f to the parts of s outside code blocks and code spans.
func mapProse(s string, f func(string) string) string {
	lines := strings.Split(s, "\n")
	inFence := false
	for n, line := range lines {
		if isFence(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		var b strings.Builder
		rest := line
		for rest != "" {
			i := strings.IndexByte(rest, '`')
			if i < 0 {
				b.WriteString(f(rest))
				break
			}
			k := strings.IndexByte(rest[i+1:], '`')
			if k < 0 {
				b.WriteString(f(rest))
				break
			}
			b.WriteString(f(rest[:i]))
			b.WriteString(rest[i : i+k+2])
			rest = rest[i+k+2:]
		}
		lines[n] = b.String()
	}
	return strings.Join(lines, "\n")
}

package discord

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxMessageLen is Discord's limit on a message's content, in characters
// (Unicode code points, as Discord counts them).
const MaxMessageLen = 2000

var (
	// Discord renders headings down to ###; deeper ones show their hashes.
	deepHeading = regexp.MustCompile(`^ {0,3}#{4,6}[ \t]+(.+?)[ \t#]*$`)
	// Discord shows ![alt](url) as "!" and a link; a plain link is what it
	// can show.
	image = regexp.MustCompile(`!\[([^\]\n]*)\]\(([^)\s]+)\)`)
	// Mass mentions are already kept from pinging by allowed_mentions; a
	// zero-width space also keeps them from rendering as a highlighted
	// ping that did not happen.
	massMention = regexp.MustCompile(`(^|[^\p{L}\p{N}_.+-])@(everyone|here)\b`)
)

// toDiscord converts the product's markdown (CommonMark, as the prompt
// files and the model write it) to Discord's dialect, which reads most of
// it the same: bold, italics, code, quotes, lists, links and headings down
// to ### pass through. Fenced code blocks are left alone.
func toDiscord(text string) string {
	lines := strings.Split(text, "\n")
	inFence := false
	for i, line := range lines {
		if isFence(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if m := deepHeading.FindStringSubmatch(line); m != nil {
			line = "**" + m[1] + "**"
		}
		line = image.ReplaceAllString(line, "[$1]($2)")
		line = massMention.ReplaceAllString(line, "$1@\u200b$2")
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

func isFence(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " "), "```")
}

// fenceCloser is appended to a part that ends inside a code block.
const fenceCloser = "\n```"

// maxFenceLang bounds the info string carried over when a code block is
// reopened in the next part.
const maxFenceLang = 20

// minSplitLimit keeps room for a reopened code block's header and closer.
const minSplitLimit = 2*len(fenceCloser) + maxFenceLang + 8

// split cuts text into parts of at most limit characters, never inside a
// UTF-8 sequence, preferring a paragraph break, then a line break, then a
// space, then any character. A code block cut in two is closed at the end
// of one part and reopened (with its language) at the start of the next,
// so both halves render as code. Whitespace at the cuts is dropped, and
// parts are never empty; text that is empty or only whitespace gives none.
// Text that fits is returned unchanged.
func split(text string, limit int) []string {
	if limit < minSplitLimit {
		panic("discord: split limit too small")
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if utf8.RuneCountInString(text) <= limit {
		return []string{text}
	}
	var parts []string
	rest := text
	reopen := "" // the fence header the next part starts with
	open, lang := false, ""
	for strings.TrimSpace(rest) != "" {
		room := limit - utf8.RuneCountInString(reopen)
		var chunk string
		last := utf8.RuneCountInString(rest) <= room
		if last {
			chunk, rest = rest, ""
		} else {
			// Leave room to close a code block the cut may fall in.
			cut, skip := cutPoint(rest, room-len(fenceCloser))
			chunk = rest[:cut]
			rest = strings.TrimLeft(rest[cut+skip:], "\n")
		}
		chunk = strings.TrimRight(chunk, " \t\n")
		open, lang = fenceState(open, lang, chunk)
		if strings.TrimSpace(chunk) != "" {
			part := reopen + chunk
			if open && !last {
				part += fenceCloser
			}
			parts = append(parts, part)
		}
		reopen = ""
		if open {
			reopen = "```" + lang + "\n"
		}
	}
	return parts
}

// fenceState returns whether a code block is open after text, given whether
// one was open before it, and the open block's language.
func fenceState(open bool, lang, text string) (bool, string) {
	for line := range strings.SplitSeq(text, "\n") {
		if !isFence(line) {
			continue
		}
		if open {
			open, lang = false, ""
			continue
		}
		open = true
		lang = strings.TrimSpace(strings.TrimLeft(strings.TrimLeft(line, " "), "`"))
		if len(lang) > maxFenceLang || strings.ContainsAny(lang, "` \t") {
			lang = ""
		}
	}
	return open, lang
}

// cutPoint returns where to cut s so that s[:cut] holds at most room
// characters, and how many bytes of separator after the cut to drop. It
// prefers a paragraph break, then a line break, in the second half of the
// window; then the last space; then the last line break; then the last
// character boundary.
func cutPoint(s string, room int) (cut, skip int) {
	window := s[:runePrefix(s, room)]
	half := len(window) / 2
	if i := strings.LastIndex(window, "\n\n"); i > half {
		return i, 2
	}
	if i := strings.LastIndex(window, "\n"); i > half {
		return i, 1
	}
	if i := strings.LastIndexAny(window, " \t"); i > 0 {
		return i, 1
	}
	if i := strings.LastIndex(window, "\n"); i > 0 {
		return i, 1
	}
	return len(window), 0
}

// runePrefix returns the length in bytes of the first n characters of s.
func runePrefix(s string, n int) int {
	count := 0
	for i := range s {
		if count == n {
			return i
		}
		count++
	}
	return len(s)
}

// fitOne shortens text to one message of at most limit characters, for an
// edit, which cannot be split. The last line (a handoff card's status) is
// kept when it is short; the cut is marked with an ellipsis.
func fitOne(text string, limit int) string {
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	tail := ""
	if i := strings.LastIndex(text, "\n"); i >= 0 && utf8.RuneCountInString(text[i:]) < limit/2 {
		text, tail = text[:i], text[i:]
	}
	return text[:runePrefix(text, limit-utf8.RuneCountInString(tail)-1)] + "…" + tail
}

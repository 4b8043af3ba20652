package handoff

import (
	"regexp"
	"strings"
)

// What customers write reaches the agent channel as quoted, attributed
// text that cannot pass for the bot's own words: the adapters turn the
// product's markdown into each platform's formatting, so a customer who
// writes markdown could otherwise make a link whose label is a support URL
// and whose target is not, or a line that reads like the bot's status
// lines ("Alex claimed this handoff."). Display names are the customer's
// to choose, too.

// mdLink is a markdown link, [label](target).
var mdLink = regexp.MustCompile(`\[([^\]\n]*)\]\(([^)\s]*)\)`)

// inert neutralizes markdown a customer wrote: a link shows its raw target
// (and its label, when that says something else), so that no label can
// hide where a link goes.
func inert(s string) string {
	return mdLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := mdLink.FindStringSubmatch(m)
		label, target := strings.TrimSpace(sub[1]), sub[2]
		if label == "" || label == target {
			return target
		}
		return label + " (" + target + ")"
	})
}

// nameChars are the markdown characters removed from display names.
var nameChars = strings.NewReplacer("*", "", "_", "", "~", "", "`", "", "[", "(", "]", ")", "#", "", ">", "", "|", "", "<", "", "@", "")

// inertName is a display name as agents see it: one bounded line, without
// the characters that would format it or mention someone.
func inertName(name string) string {
	n := strings.TrimSpace(nameChars.Replace(oneLine(name, 60)))
	if n == "" {
		return "a customer"
	}
	return n
}

// quoted attributes customer text to who and quotes every line of it, so
// that no line of it stands on its own in the thread.
func quoted(who, text string) string {
	lines := strings.Split(strings.TrimSpace(inert(text)), "\n")
	var b strings.Builder
	b.WriteString("**" + inertName(who) + "**:")
	for _, l := range lines {
		b.WriteString("\n> ")
		b.WriteString(strings.TrimSpace(l))
	}
	return b.String()
}

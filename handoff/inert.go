package handoff

import (
	"fmt"
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

// quotedLines quotes every line of customer text, so that no line of it
// stands on its own in the thread.
func quotedLines(text string) string {
	lines := strings.Split(strings.TrimSpace(inert(text)), "\n")
	for i, l := range lines {
		lines[i] = "> " + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

// chatterAuthor marks the outbox rows of customers' words in a thread
// (Outgoing.Author, which adapters read for relays only): a later message
// of the same burst may join such a row while it waits to be sent.
const chatterAuthor = "customer-words"

// maxBurstPost bounds a merged post; past it a new post starts.
const maxBurstPost = 3000

// burst is a thread post of n customer messages: "**Ada**:" or "**Ada**
// (3 messages):", then their quoted lines.
type burst struct {
	name string // inertName'd: it holds no "*"
	n    int
	body string
}

func (b burst) render() string {
	head := "**" + b.name + "**:"
	if b.n > 1 {
		head = fmt.Sprintf("**%s** (%d messages):", b.name, b.n)
	}
	return head + "\n" + b.body
}

// parseBurst reads a post render wrote.
func parseBurst(text string) (burst, bool) {
	head, body, ok := strings.Cut(text, "\n")
	rest, found := strings.CutPrefix(head, "**")
	if !ok || !found {
		return burst{}, false
	}
	name, tail, found := strings.Cut(rest, "**")
	if !found {
		return burst{}, false
	}
	b := burst{name: name, n: 1, body: body}
	if tail == ":" {
		return b, true
	}
	if _, err := fmt.Sscanf(tail, " (%d messages):", &b.n); err != nil || b.n < 2 {
		return burst{}, false
	}
	return b, true
}

package eval

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/firstlinehq/firstline/bot"
)

// excerptLen bounds how much of a reply a failure message quotes.
const excerptLen = 300

// check compares a played turn with its expectations and returns one
// reason per unmet expectation, each saying what was expected and what
// happened instead.
func (s *session) check(t Turn, tr *TurnResult) []string {
	e := t.Expect
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	// The reply is quoted with the first failure about its content; the
	// turn's other such failures would only repeat it.
	quoted := false
	replyWas := func() string {
		if quoted {
			return ""
		}
		quoted = true
		return "; reply was: " + quote(tr.Reply)
	}

	if e.Handoff != nil && *e.Handoff != tr.Handoff {
		if tr.Handoff {
			fail("a handoff was opened (%s), expected none", tr.HandoffReason)
		} else {
			fail("no handoff was opened, expected one; the bot replied: %s", quote(tr.Reply))
		}
	}
	if e.State != "" && e.State != tr.State {
		fail("the conversation is in state %s after the turn, expected %s", tr.State, e.State)
	}
	if e.Tool != "" {
		if msg := checkTool(e.Tool, e.ToolArgs, tr); msg != "" {
			fail("%s", msg)
		}
	}
	for _, c := range tr.ToolCalls {
		switch {
		case e.NoToolAll:
			fail("the model called %s, expected no tool call", c)
		case slices.Contains(e.NoTool, c.Name):
			fail("the model called %s, expected no call to %s", c, c.Name)
		}
	}

	var missing, present []string
	for _, c := range e.Contains {
		if !containsFold(tr.Reply, c) {
			missing = append(missing, strconv.Quote(c))
		}
	}
	for _, c := range e.NotContains {
		if containsFold(tr.Reply, c) {
			present = append(present, strconv.Quote(c))
		}
	}
	if len(missing) > 0 {
		fail("reply did not contain %s%s", strings.Join(missing, ", "), replyWas())
	}
	if len(present) > 0 {
		fail("reply contained %s%s", strings.Join(present, ", "), replyWas())
	}
	for _, re := range e.Matches {
		if !re.MatchString(tr.Reply) {
			fail("reply did not match /%s/%s", re, replyWas())
		}
	}
	if e.NoReply && tr.Reply != "" {
		fail("the customer received a reply, expected none%s", replyWas())
	}
	if len(e.Cites) > 0 {
		links := linksIn(tr.Reply)
		var uncited []string
		for _, c := range e.Cites {
			if !slices.ContainsFunc(links, func(l string) bool { return containsFold(l, c) }) {
				uncited = append(uncited, strconv.Quote(c))
			}
		}
		if len(uncited) > 0 {
			if len(links) == 0 {
				fail("reply cites no link, expected one to %s%s", strings.Join(uncited, ", "), replyWas())
			} else {
				fail("reply does not cite %s: its links are %s", strings.Join(uncited, ", "), strings.Join(links, " "))
			}
		}
	}
	if e.SaysUnknown != nil {
		links := linksIn(tr.Reply)
		unknown := len(links) == 0 && (tr.cannotHelp || tr.Handoff)
		switch {
		case *e.SaysUnknown && tr.Reply == "" && !tr.Handoff:
			fail("the customer received nothing, expected a reply saying the bot does not know")
		case *e.SaysUnknown && len(links) > 0:
			fail("reply cites %s, expected it to say the bot does not know%s", strings.Join(links, " "), replyWas())
		case *e.SaysUnknown && !unknown:
			fail("reply answers, expected it to say the bot does not know (the cannot-help marker, an offer of a person or a handoff)%s", replyWas())
		case !*e.SaysUnknown && unknown:
			fail("reply says the bot does not know, expected an answer%s", replyWas())
		}
	}
	if e.Lang != "" {
		switch got, ok := bot.DetectLang(tr.Reply); {
		case tr.Reply == "":
			fail("no reply to tell the language of, expected one in %s", e.Lang)
		case !ok:
			// The detector stays silent on short or mixed text; that is
			// not evidence of a wrong language, so it is noted, not failed.
			tr.Notes = append(tr.Notes, fmt.Sprintf("the reply's language could not be told (too short or mixed); lang %s not checked", e.Lang))
		case got != e.Lang:
			fail("reply is in %s, expected %s%s", got, e.Lang, replyWas())
		}
	}
	if e.NoForeignData || s.sc.NoForeignData {
		wrote := strings.Join(s.said, "\n")
		for _, text := range tr.delivered {
			for _, d := range leaks(text, s.foreign, wrote) {
				fail("a message to the customer holds another customer's data (%s %q); message was: %s", d.what, d.value, quote(text))
			}
		}
	}
	if e.SameReplyAs > 0 && e.SameReplyAs <= len(s.turns) {
		other := s.turns[e.SameReplyAs-1].Reply
		if normalizeReply(tr.Reply) != normalizeReply(other) {
			fail("reply does not read like turn %d's (payment references aside)%s; turn %d's was: %s", e.SameReplyAs, replyWas(), e.SameReplyAs, quote(other))
		}
	}
	if e.Relay != nil && !slices.Contains(tr.Relays, strings.TrimSpace(*e.Relay)) {
		if len(tr.Relays) == 0 {
			fail("nothing was relayed to the customer, expected %q (outcome: %s)", *e.Relay, tr.Outcome)
		} else {
			fail("the customer received %s, expected %q", quoteAll(tr.Relays), *e.Relay)
		}
	}
	if e.NoRelay && len(tr.Relays) > 0 {
		fail("the customer received %s from the agent, expected nothing relayed", quoteAll(tr.Relays))
	}
	if e.Outcome != "" && e.Outcome != tr.Outcome {
		fail("the agent action's outcome was %s, expected %s", tr.Outcome, e.Outcome)
	}
	if len(e.ThreadContains) > 0 {
		thread := strings.Join(tr.Thread, "\n")
		var missing []string
		for _, c := range e.ThreadContains {
			if !containsFold(thread, c) {
				missing = append(missing, strconv.Quote(c))
			}
		}
		if len(missing) > 0 {
			fail("the agent channel did not receive %s; it received: %s", strings.Join(missing, ", "), quote(thread))
		}
	}
	return fails
}

// checkTool finds a call of tool whose arguments include want; it returns
// why there is none, or "".
func checkTool(tool string, want map[string]any, tr *TurnResult) string {
	var called []ToolCall
	for _, c := range tr.ToolCalls {
		if c.Name == tool {
			called = append(called, c)
		}
	}
	switch {
	case len(called) == 0 && !tr.modelAsked:
		return fmt.Sprintf("the model did not call %s: it was not asked (the turn was settled without it: a request for a person, a rating, or a conversation with an agent)", tool)
	case len(called) == 0 && len(tr.ToolCalls) == 0:
		return fmt.Sprintf("the model did not call %s: it called no tool; reply was: %s", tool, quote(tr.Reply))
	case len(called) == 0:
		return fmt.Sprintf("the model did not call %s: it called %s", tool, listCalls(tr.ToolCalls))
	case want == nil:
		return ""
	}
	for _, c := range called {
		var got any
		args := strings.TrimSpace(c.Arguments)
		if args == "" {
			args = "{}"
		}
		if json.Unmarshal([]byte(args), &got) == nil && subset(want, got) {
			return ""
		}
	}
	w, _ := json.Marshal(want)
	return fmt.Sprintf("the model called %s, expected arguments including %s", listCalls(called), w)
}

// subset reports whether got has everything want has: maps by key
// (recursively; a null in want means the key is absent or null), lists
// element by element, everything else by equality.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, present := g[k]
			if wv == nil {
				if present && gv != nil {
					return false
				}
				continue
			}
			if !present || !subset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	default:
		return want == got
	}
}

func listCalls(calls []ToolCall) string {
	parts := make([]string, len(calls))
	for i, c := range calls {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// containsFold reports whether sub is in s, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// linkRe finds the http(s) links in a reply, bare or in Markdown, Slack or
// HTML markup.
var linkRe = regexp.MustCompile(`(?i)\bhttps?://[^\s<>()\[\]"'|]+`)

// cannotHelpRe finds the cannot-help marker as models write it (see
// bot.CannotHelpMarker).
var cannotHelpRe = regexp.MustCompile(`(?i)\[\s*cannot[\s_-]?help\s*\]`)

// linksIn lists the links in s, without trailing punctuation.
func linksIn(s string) []string {
	links := linkRe.FindAllString(s, -1)
	for i, l := range links {
		links[i] = strings.TrimRight(l, ".,;:!?*_`")
	}
	return links
}

var referenceRe = regexp.MustCompile(`(?i)\bPAY-\d+\b`)

// normalizeReply makes two replies comparable apart from the payment
// reference they are about and their spacing.
func normalizeReply(s string) string {
	s = referenceRe.ReplaceAllString(s, "PAY-…")
	return strings.Join(strings.Fields(s), " ")
}

func quote(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return strconv.Quote(oneLine(s, excerptLen))
}

func quoteAll(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = quote(s)
	}
	return strings.Join(parts, ", ")
}

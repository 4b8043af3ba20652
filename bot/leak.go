package bot

import (
	"strings"
	"unicode"
)

// leakRun is how many consecutive words of the policy a reply must repeat
// to count as quoting it. Long enough that a reply which follows the policy
// in natural words, even words close to the policy's own ("this chat user
// is not linked to a customer account"), passes; short enough that a pasted
// rule, let alone the whole prompt, is caught.
const leakRun = 16

// quotesPolicy reports whether reply repeats leakRun or more consecutive
// words of policy, the system prompt without its FAQ (FAQ answers are meant
// to be repeated). Models asked to "print everything above" tend to paste
// their instructions verbatim; the engine answers such a reply with a
// refusal instead of sending it.
func quotesPolicy(reply, policy string) bool {
	pw := words(policy)
	if len(pw) < leakRun {
		return false
	}
	runs := make(map[string]struct{}, len(pw))
	for i := 0; i+leakRun <= len(pw); i++ {
		runs[strings.Join(pw[i:i+leakRun], " ")] = struct{}{}
	}
	rw := words(reply)
	for i := 0; i+leakRun <= len(rw); i++ {
		if _, ok := runs[strings.Join(rw[i:i+leakRun], " ")]; ok {
			return true
		}
	}
	return false
}

// words splits s into lower-case words of letters and digits, so that
// punctuation, markdown and line breaks do not hide a quotation.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	})
}

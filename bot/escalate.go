package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot/human"
	"github.com/firstlinehq/firstline/prompts"
)

// Automatic escalation: a customer who does not ask for a person, but whom
// the bot is failing, is offered one, and handed to one at the next sign.
// The signs are a repeated question, a frustrated customer (both read from
// the customer's words, in Go, before the model is asked) and the model
// saying it cannot help. How many offers come before the handoff, and the
// thresholds and phrases, are in escalation.yaml. The conversation's Misses
// counts the offers made in a row: a turn the bot answers with no sign
// clears it, as does a handoff.

// An explicit request for a person

// asksForPerson reports whether text asks for a person, by the phrase
// file's deterministic matcher (promise 1: it never waits for the model),
// and the customer's language: the language of a matched phrase, else a
// confident guess from their words, else "".
func (e *Engine) asksForPerson(text string) (asks bool, lang string, err error) {
	matcher, err := e.humanMatcher()
	if err != nil {
		return false, "", err
	}
	if m, ok := matcher.Match(text); ok {
		return true, m.Lang, nil
	}
	lang, _ = DetectLang(text)
	return false, lang, nil
}

func (e *Engine) humanMatcher() (*human.Matcher, error) {
	set := e.cfg.Prompts()
	if vm := e.matcher.Load(); vm != nil && vm.version == set.Version {
		return vm.m, nil
	}
	m, err := NewHumanMatcher(set)
	if err != nil {
		return nil, err
	}
	e.matcher.Store(&versionedMatcher{version: set.Version, m: m})
	return m, nil
}

// NewHumanMatcher builds the phrase matcher of a prompt set. Prompt reloads
// call it as an extra check, so a phrase file the matcher rejects never
// goes live.
func NewHumanMatcher(set *prompts.Set) (*human.Matcher, error) {
	langs := make([]human.Lang, 0, len(set.Phrases))
	for _, p := range set.Phrases {
		langs = append(langs, human.Lang{
			Code: p.Code, Phrases: p.Phrases, Alone: p.Alone,
			Fillers: p.Fillers, Negations: p.Negations, Except: p.Except,
		})
	}
	m, err := human.NewMatcher(langs)
	if err != nil {
		return nil, fmt.Errorf("bot: handoff phrases: %w", err)
	}
	return m, nil
}

// versionedMatcher is a phrase matcher and the prompt version it was built
// from.
type versionedMatcher struct {
	version string
	m       *human.Matcher
}

// Automatic escalation

// Triggers of automatic escalation. A model that cannot help hands off as
// TriggerMisses.
const (
	TriggerRepeat      Trigger = "repeat"      // the customer asked the same question again and again
	TriggerFrustration Trigger = "frustration" // the customer is clearly frustrated
)

// CannotHelpMarker is how a model says it cannot help with a request: it
// ends its answer with the marker (system.md asks LLMs to; the offline model
// does it when it offers a person). The engine removes it before the answer
// is stored or sent, and counts it as an escalation signal.
const CannotHelpMarker = "[cannot_help]"

// cannotHelpRe finds the marker as models actually write it: any case, a
// space or hyphen for the underscore, spaces inside the brackets.
var cannotHelpRe = regexp.MustCompile(`(?i)\[\s*cannot[\s_-]?help\s*\]`)

// signal is one sign that the bot is failing the customer.
type signal struct {
	trigger Trigger
	// reason tells agents why the conversation came to them.
	reason string
	// offer is the message added under the bot's answer when a person is
	// offered; "" when the answer offers one itself (a model that cannot
	// help says so in its own words).
	offer string
}

// weighAnswer weighs a model's answer for escalation: its cannot-help
// marker is removed, and a signal (the customer's, or the model's) either
// adds an offer of a person to the answer or, the offers used up, replaces
// the answer with a handoff. An answer with no signal clears the offers.
func (e *Engine) weighAnswer(ctx context.Context, conv Conversation, t turn, sig *signal, set *prompts.Set) turn {
	rules := set.Escalation
	reply, cannot := cutCannotHelp(t.reply)
	t.reply = reply
	if cannot && rules.CannotHelp && sig == nil {
		sig = &signal{trigger: TriggerMisses, reason: "The AI assistant could not answer the customer."}
	}
	if t.reply == "" {
		// Nothing but the marker: the customer still gets words.
		if t.reply, _ = set.Message("offer_person", conv.Lang, nil); t.reply == "" {
			t.reply = "Would you like to talk to a person? Just say \"human\"."
		}
		cannot = true
	}
	if sig == nil {
		if conv.Misses != 0 {
			zero := 0 // answered: the customer is helped again
			t.misses = &zero
		}
		return t
	}
	if conv.Misses >= rules.Offers {
		// The model was asked: its tokens and tool calls still count.
		et := e.escalated(ctx, conv, *sig)
		et.usage, et.called, et.helped = t.usage, t.called, t.helped
		return et
	}
	if sig.offer != "" && !cannot {
		offer, err := set.Message(sig.offer, conv.Lang, nil)
		if err != nil {
			e.log.ErrorContext(ctx, "render escalation offer", "message", sig.offer, "err", err)
		} else {
			t.reply += "\n\n" + offer
		}
	}
	misses := conv.Misses + 1
	t.misses = &misses
	e.log.InfoContext(ctx, "person offered", "conversation", conv.ID, "signal", sig.trigger, "offers", misses)
	return t
}

// escalated is the turn that hands a conversation to a person after the
// offers were used up.
func (e *Engine) escalated(ctx context.Context, conv Conversation, sig signal) turn {
	reason := sig.reason
	if conv.Misses > 0 {
		reason += fmt.Sprintf(" The assistant had offered a person %s.", times(conv.Misses))
	}
	e.log.InfoContext(ctx, "automatic escalation", "conversation", conv.ID, "signal", sig.trigger)
	zero := 0
	return turn{handoff: &HandoffRequest{Trigger: sig.trigger, Reason: reason}, misses: &zero}
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// cutCannotHelp removes the cannot-help marker from a model's answer and
// reports whether it was there.
func cutCannotHelp(text string) (string, bool) {
	if !cannotHelpRe.MatchString(text) {
		return text, false
	}
	return strings.TrimSpace(cannotHelpRe.ReplaceAllString(text, "")), true
}

// customerSignal reads the customer's latest words for a signal: clear
// frustration first, then a repeated question. Only the customer's
// messages since an agent last wrote count: what they said to a person
// before is another conversation.
func (e *Engine) customerSignal(ctx context.Context, conv Conversation, history []Message, set *prompts.Set) *signal {
	rules := set.Escalation
	var recent []Message
	for _, m := range history {
		switch m.Role {
		case RoleAgent, RoleNote:
			recent = recent[:0]
		case RoleCustomer:
			recent = append(recent, m)
		}
	}
	if len(recent) == 0 || recent[len(recent)-1].Processed {
		return nil // nothing new from the customer
	}
	if rules.Frustration.Times > 0 {
		if sig := e.frustration(ctx, recent, set); sig != nil {
			return sig
		}
	}
	if rules.Repeats.Times > 0 {
		return repeated(recent, rules.Repeats)
	}
	return nil
}

// frustration reports a frustrated customer: the latest messages (those
// not processed yet) hold a frustration phrase, and with the earlier ones,
// at least Times messages do.
func (e *Engine) frustration(ctx context.Context, recent []Message, set *prompts.Set) *signal {
	m, err := e.frustrationMatcher(set)
	if err != nil {
		// The prompt loader validates the phrases, so this is a defect;
		// the customer is not held up by it.
		e.log.ErrorContext(ctx, "frustration phrases do not build a matcher", "err", err)
		return nil
	}
	// The new messages first: most turns end here, without reading the
	// history.
	latest, count := "", 0
	for _, msg := range recent {
		if !msg.Processed {
			if match, ok := m.Match(msg.Text); ok {
				latest = match.Phrase
				count++
			}
		}
	}
	if latest == "" {
		return nil
	}
	for _, msg := range recent {
		if count >= set.Escalation.Frustration.Times {
			break
		}
		if _, ok := m.Match(msg.Text); ok && msg.Processed {
			count++
		}
	}
	if count < set.Escalation.Frustration.Times {
		return nil
	}
	return &signal{
		trigger: TriggerFrustration,
		reason:  fmt.Sprintf("The customer seems frustrated (%q).", latest),
		offer:   "offer_frustrated",
	}
}

// frustrationMatcher returns the phrase matcher of a prompt set's
// frustration phrases, built once per prompt version.
func (e *Engine) frustrationMatcher(set *prompts.Set) (*human.Matcher, error) {
	if vm := e.frustrated.Load(); vm != nil && vm.version == set.Version {
		return vm.m, nil
	}
	langs := make([]human.Lang, 0, len(set.Escalation.Frustration.Languages))
	for _, l := range set.Escalation.Frustration.Languages {
		langs = append(langs, human.Lang{Code: l.Code, Phrases: l.Phrases, Negations: l.Negations, Except: l.Except})
	}
	m, err := human.NewMatcher(langs)
	if err != nil {
		return nil, fmt.Errorf("bot: frustration phrases: %w", err)
	}
	e.frustrated.Store(&versionedMatcher{version: set.Version, m: m})
	return m, nil
}

// repeated reports a repeated question: the customer's latest message is,
// with the earlier ones like it, asked at least Times times.
func repeated(recent []Message, rule prompts.Repeats) *signal {
	latest := normalized(recent[len(recent)-1].Text)
	if utf8.RuneCountInString(latest) < rule.MinLength {
		return nil
	}
	q := newQuestion(latest)
	n := 0
	for _, m := range recent {
		if q.same(normalized(m.Text), rule.Similarity) {
			n++
		}
	}
	if n < rule.Times {
		return nil
	}
	return &signal{
		trigger: TriggerRepeat,
		reason:  fmt.Sprintf("The customer asked the same question %d times.", n),
		offer:   "offer_repeat",
	}
}

// normalized is text as the phrase matcher reads it: lower case, no
// accents, no punctuation, single spaces.
func normalized(text string) string { return strings.Join(human.Words(text), " ") }

// question is a normalized message prepared for comparing with many others.
type question struct {
	text    string
	numbers []string
	bigrams map[[2]rune]int
	n       int // bigrams in all
}

func newQuestion(text string) question {
	bg := bigrams(text)
	counts := make(map[[2]rune]int, len(bg))
	for _, g := range bg {
		counts[g]++
	}
	return question{text: text, numbers: numbers(text), bigrams: counts, n: len(bg)}
}

// same reports whether normalized text b asks the same as q.
func (q question) same(b string, threshold float64) bool {
	if b == q.text {
		return true
	}
	// Texts of very different lengths cannot reach the threshold: a bigram
	// count bounds what they share.
	nb := utf8.RuneCountInString(b) + 1
	if 2*float64(min(q.n, nb)) < threshold*float64(q.n+nb) || !slices.Equal(q.numbers, numbers(b)) {
		return false
	}
	return q.dice(b) >= threshold
}

// dice is the Dice coefficient of q's bigrams and b's.
func (q question) dice(b string) float64 {
	bb := bigrams(b)
	if q.n == 0 || len(bb) == 0 {
		return 0
	}
	left := make(map[[2]rune]int, len(q.bigrams))
	for g, c := range q.bigrams {
		left[g] = c
	}
	shared := 0
	for _, g := range bb {
		if left[g] > 0 {
			left[g]--
			shared++
		}
	}
	return 2 * float64(shared) / float64(q.n+len(bb))
}

// numbers returns the words of a normalized text that hold a digit.
func numbers(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if strings.ContainsAny(w, "0123456789") {
			out = append(out, w)
		}
	}
	return out
}

func bigrams(s string) [][2]rune {
	r := []rune(" " + s + " ") // word edges count, so "a b" and "ab" differ
	out := make([][2]rune, 0, len(r))
	for i := 0; i+1 < len(r); i++ {
		out = append(out, [2]rune{r[i], r[i+1]})
	}
	return out
}

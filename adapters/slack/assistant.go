package slack

// Slack's assistant threads (Agents & AI Apps). An app with the
// assistant_view feature gets an entry point and a split view in Slack;
// each time a customer opens it, Slack starts a thread in the customer's
// DM with the app (assistant_thread_started) and the customer's messages
// arrive as message.im events in that thread. Here each such thread is a
// conversation of its own (key: the DM channel and the thread), answered in
// the thread, with everything else (handoff, relay, claim, buttons) as in
// a DM. Around it the adapter sets the thread's suggested prompts when it
// starts, its title from the first question, and a status ("is
// thinking…") while a model turn runs. These calls are best effort: each
// is bounded by a short timeout, and a failure is logged and changes
// nothing else. An app without the feature gets no assistant events, and
// the adapter makes none of these calls.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/mask"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"gopkg.in/yaml.v3"
)

// AssistantFile is the file in the prompt folder (Config.Prompts) with the
// assistant threads' texts per language; see assistantDefaults for its
// shape and testdata/assistant.yaml for an example.
const AssistantFile = "assistant.yaml"

const (
	// assistantTimeout bounds each assistant.threads call. The status is
	// set before the turn starts (an answer must not overtake it), so its
	// call delays the turn by at most this much.
	assistantTimeout = 1500 * time.Millisecond
	// statusLife is how long Slack shows a status no reply cleared.
	statusLife = 2 * time.Minute
	// titleLimit bounds a thread's title, in characters.
	titleLimit = 60
	// Slack's limits: suggested prompts per thread, loading messages per
	// status.
	maxPrompts         = 4
	maxLoadingMessages = 10
	// maxAssistantFile bounds what is read of assistant.yaml.
	maxAssistantFile = 64 << 10
	// maxThreads bounds the assistant threads remembered.
	maxThreads = 10000
)

// assistantText is what assistant threads show in one language.
type assistantText struct {
	// Title heads the suggested prompts ("How can I help?").
	Title   string            `yaml:"title"`
	Prompts []assistantPrompt `yaml:"prompts"`
	// Status is shown while a model turn runs, after the app's name
	// ("Firstline is thinking…"); LoadingMessages, when set, rotate in
	// its place.
	Status          string   `yaml:"status"`
	LoadingMessages []string `yaml:"loading_messages"`
}

// assistantPrompt is one suggested prompt: its label, and what pressing it
// writes as the customer's message (the label when empty).
type assistantPrompt struct {
	Title   string `yaml:"title"`
	Message string `yaml:"message"`
}

// assistantDefaults are the built-in texts; assistant.yaml replaces them
// language by language. "Talk to a person" writes a request the handoff
// phrases of that language recognize.
var assistantDefaults = map[string]assistantText{
	"en": {Title: "How can I help?", Status: "is thinking…", Prompts: []assistantPrompt{
		{"Where is my refund?", "Where is my refund?"},
		{"Check a payment", "Can you check the status of my payment?"},
		{"Talk to a person", "I want to talk to a person"},
	}},
	"sv": {Title: "Hur kan jag hjälpa dig?", Status: "tänker…", Prompts: []assistantPrompt{
		{"Var är min återbetalning?", "Var är min återbetalning?"},
		{"Kolla en betalning", "Kan du kolla status på min betalning?"},
		{"Prata med en person", "Jag vill prata med en person"},
	}},
	"de": {Title: "Wie kann ich helfen?", Status: "denkt nach…", Prompts: []assistantPrompt{
		{"Wo ist meine Erstattung?", "Wo ist meine Erstattung?"},
		{"Zahlung prüfen", "Kannst du den Status meiner Zahlung prüfen?"},
		{"Mit einem Menschen sprechen", "Ich möchte mit einem Menschen sprechen"},
	}},
	"es": {Title: "¿En qué puedo ayudarte?", Status: "está pensando…", Prompts: []assistantPrompt{
		{"¿Dónde está mi reembolso?", "¿Dónde está mi reembolso?"},
		{"Consultar un pago", "¿Puedes consultar el estado de mi pago?"},
		{"Hablar con una persona", "Quiero hablar con una persona"},
	}},
	"fr": {Title: "Comment puis-je vous aider ?", Status: "réfléchit…", Prompts: []assistantPrompt{
		{"Où est mon remboursement ?", "Où est mon remboursement ?"},
		{"Vérifier un paiement", "Pouvez-vous vérifier le statut de mon paiement ?"},
		{"Parler à une personne", "Je voudrais parler à une personne"},
	}},
}

// CheckAssistantFile reports what is wrong with the content of an
// assistant.yaml, for `firstline prompts check`; nil when the adapter
// would use it.
func CheckAssistantFile(b []byte) error {
	if _, err := parseAssistantFile(b); err != nil {
		return fmt.Errorf("%s: %w", AssistantFile, err)
	}
	return nil
}

// parseAssistantFile reads assistant.yaml: a block per language code, each
// with title, prompts (at most four, each a title and optionally a
// message), status and loading_messages (at most ten, without commas:
// Slack's form encoding separates them with commas). Unknown keys are
// errors, so that a typo does not pass silently.
func parseAssistantFile(b []byte) (map[string]assistantText, error) {
	var file map[string]assistantText
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	out := make(map[string]assistantText, len(file))
	for lang, t := range file {
		lang = strings.ToLower(strings.TrimSpace(lang))
		if len(t.Prompts) > maxPrompts {
			return nil, fmt.Errorf("%s: %d prompts; Slack shows at most %d", lang, len(t.Prompts), maxPrompts)
		}
		for i, p := range t.Prompts {
			p.Title, p.Message = strings.TrimSpace(p.Title), strings.TrimSpace(p.Message)
			if p.Title == "" {
				return nil, fmt.Errorf("%s: prompt %d has no title", lang, i+1)
			}
			t.Prompts[i].Title, t.Prompts[i].Message = p.Title, cmp.Or(p.Message, p.Title)
		}
		if len(t.LoadingMessages) > maxLoadingMessages {
			return nil, fmt.Errorf("%s: %d loading_messages; Slack takes at most %d", lang, len(t.LoadingMessages), maxLoadingMessages)
		}
		for _, m := range t.LoadingMessages {
			if strings.Contains(m, ",") || strings.TrimSpace(m) == "" {
				return nil, fmt.Errorf("%s: loading message %q: want a text without commas", lang, m)
			}
		}
		out[lang] = t
	}
	return out, nil
}

// assistantState is what the adapter knows of assistant threads. It lives
// in memory: after a restart, a thread is known again by its open
// conversation (Engine.Active) or by its next assistant event.
type assistantState struct {
	mu sync.Mutex
	// seen is true once an assistant event arrived: the app has the
	// feature, and every thread in a DM with it is an assistant thread.
	seen    bool
	threads map[string]*assistThread // channel + ":" + thread_ts
	// status is, by conversation, the thread whose status was set for a
	// turn that has not answered yet.
	status map[int64]statusMark

	// The assistant.yaml read last, and its size and time.
	file     map[string]assistantText
	fileSize int64
	fileTime time.Time
}

type assistThread struct {
	// titled: the title was set, or is not this run's to set (a thread
	// known from before).
	titled bool
	// viewing is the channel the customer was looking at (the thread's
	// context); only remembered, never read.
	viewing string
}

type statusMark struct {
	channel, thread string
	status          string
	loading         []string
	at              time.Time
}

func newAssistantState() *assistantState {
	return &assistantState{threads: map[string]*assistThread{}, status: map[int64]statusMark{}}
}

func threadKey(channel, thread string) string { return channel + ":" + thread }

// started records a thread Slack started (or whose context changed).
func (s *assistantState) started(channel, thread, viewing string, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = true
	k := threadKey(channel, thread)
	t, ok := s.threads[k]
	if !ok {
		if len(s.threads) >= maxThreads {
			clear(s.threads) // crude, but bounded: open ones are found again by Active
		}
		t = &assistThread{titled: !fresh}
		s.threads[k] = t
	}
	t.viewing = viewing
}

// known reports whether a DM thread is an assistant thread, as far as the
// adapter knows without asking the engine.
func (s *assistantState) known(channel, thread string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.threads[threadKey(channel, thread)]
	return ok || s.seen
}

// remember records an assistant thread found by its open conversation.
func (s *assistantState) remember(channel, thread string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := threadKey(channel, thread)
	if _, ok := s.threads[k]; !ok && len(s.threads) < maxThreads {
		s.threads[k] = &assistThread{titled: true}
	}
}

// takeTitle reports whether the thread still needs its title, and marks
// it titled: the first question sets it, once.
func (s *assistantState) takeTitle(channel, thread string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.threads[threadKey(channel, thread)]
	if !ok || t.titled {
		return false
	}
	t.titled = true
	return true
}

func (s *assistantState) markStatus(conv int64, m statusMark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, old := range s.status {
		if m.at.Sub(old.at) > statusLife {
			delete(s.status, id) // Slack has removed it by now
		}
	}
	s.status[conv] = m
}

// statusAfter is what a delivered message means for a status set.
type statusAfter int

const (
	statusKept    statusAfter = iota // nothing: the turn goes on
	statusAgain                      // Slack cleared it, the turn goes on: set it again
	statusCleared                    // the turn ended without a reply there: clear it
)

// dropStatus forgets a status Slack did not take.
func (s *assistantState) dropStatus(conv int64, m statusMark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.status[conv]; ok && cur.at.Equal(m.at) {
		delete(s.status, conv)
	}
}

// sent notes a message the outbox delivered. Slack clears a thread's
// status when the app replies there: a reply made after the status was
// set is the turn's answer, and the status is done; one made before (the
// greeting of a new conversation, queued with the customer's message)
// took the status away while the turn still runs, and it is to be set
// again. Another message of the conversation made after the status (a
// draft for the agents in shadow mode, a handoff card) means the turn
// ended without a reply in the thread: the status is to be cleared.
func (s *assistantState) sent(m bot.Outgoing) (statusMark, statusAfter) {
	if m.ConversationID == 0 {
		return statusMark{}, statusKept
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mark, found := s.status[m.ConversationID]
	inThread := (m.Kind == bot.KindReply || m.Kind == bot.KindRelay) && m.Channel == mark.channel && m.Thread == mark.thread
	switch {
	case !found:
		return mark, statusKept
	case inThread && !m.CreatedAt.IsZero() && m.CreatedAt.Before(mark.at):
		return mark, statusAgain
	case inThread:
		delete(s.status, m.ConversationID)
		return mark, statusKept
	case m.CreatedAt.After(mark.at):
		delete(s.status, m.ConversationID)
		return mark, statusCleared
	}
	return mark, statusKept
}

// assistantTexts returns the texts for a language: assistant.yaml's when
// the prompt folder has one that reads, else the built-in ones; a
// language neither has gets English.
func (a *Adapter) assistantTexts(ctx context.Context, lang string) assistantText {
	file := a.assistantFile(ctx)
	for _, l := range []string{lang, "en"} {
		if t, ok := file[l]; ok {
			d := assistantDefaults[l]
			if len(t.Prompts) == 0 {
				t.Prompts = d.Prompts
			}
			if len(t.Prompts) == 0 {
				t.Prompts = assistantDefaults["en"].Prompts
			}
			t.Title = cmp.Or(t.Title, d.Title)
			t.Status = cmp.Or(t.Status, d.Status, assistantDefaults["en"].Status)
			return t
		}
		if t, ok := assistantDefaults[l]; ok {
			return t
		}
	}
	return assistantDefaults["en"]
}

// assistantFile reads assistant.yaml from the prompt folder again when it
// changed (size or time), so that admins' edits take effect without a
// restart. A file that does not read is logged and the last good one (or
// none) stays.
func (a *Adapter) assistantFile(ctx context.Context) map[string]assistantText {
	if a.cfg.Prompts == nil {
		return nil
	}
	s := a.assist
	info, err := fs.Stat(a.cfg.Prompts, AssistantFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.log.WarnContext(ctx, "slack: cannot read "+AssistantFile+"; using the built-in assistant prompts", "err", err)
		}
		s.mu.Lock()
		s.file, s.fileSize, s.fileTime = nil, 0, time.Time{}
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	if info.Size() == s.fileSize && info.ModTime().Equal(s.fileTime) {
		defer s.mu.Unlock()
		return s.file
	}
	s.mu.Unlock()
	f, err := a.cfg.Prompts.Open(AssistantFile)
	var parsed map[string]assistantText
	if err == nil {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(f, maxAssistantFile+1))
		f.Close()
		switch {
		case err != nil:
		case len(b) > maxAssistantFile:
			err = fmt.Errorf("larger than %d bytes", maxAssistantFile)
		default:
			parsed, err = parseAssistantFile(b)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fileSize, s.fileTime = info.Size(), info.ModTime()
	if err != nil {
		a.log.WarnContext(ctx, "slack: "+AssistantFile+" is invalid; keeping the assistant prompts in use", "err", err)
		return s.file
	}
	s.file = parsed
	return parsed
}

// langOf is the language code of a Slack locale ("sv-SE" → "sv").
func langOf(locale string) string {
	l, _, _ := strings.Cut(strings.ToLower(locale), "-")
	return l
}

// assistantStarted handles assistant_thread_started and
// assistant_thread_context_changed. The thread is remembered before the
// acknowledgement; the suggested prompts are set after it, for a thread
// that just started.
func (a *Adapter) assistantStarted(ctx context.Context, th slackevents.AssistantThread, fresh bool) (func(), error) {
	if th.ChannelID == "" || th.ThreadTimeStamp == "" {
		return nop, nil
	}
	a.assist.started(th.ChannelID, th.ThreadTimeStamp, th.Context.ChannelID, fresh)
	if !fresh {
		a.log.DebugContext(ctx, "slack assistant thread context changed", "channel", th.ChannelID, "thread", th.ThreadTimeStamp)
		return nop, nil
	}
	ctx = context.WithoutCancel(ctx)
	return func() {
		a.goBackground(func() { a.suggestPrompts(ctx, th) })
	}, nil
}

// suggestPrompts sets a new thread's suggested prompts, in the customer's
// Slack language.
func (a *Adapter) suggestPrompts(ctx context.Context, th slackevents.AssistantThread) {
	lang := "en"
	if th.UserID != "" {
		lang = langOf(a.user(ctx, th.UserID).locale)
	}
	t := a.assistantTexts(ctx, lang)
	p := slackapi.AssistantThreadsSetSuggestedPromptsParameters{
		ChannelID: th.ChannelID, ThreadTS: th.ThreadTimeStamp, Title: t.Title,
	}
	for _, pr := range t.Prompts[:min(len(t.Prompts), maxPrompts)] {
		p.AddPrompt(pr.Title, cmp.Or(pr.Message, pr.Title))
	}
	if len(p.Prompts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, assistantTimeout)
	defer cancel()
	if err := a.api.SetAssistantThreadsSuggestedPromptsContext(ctx, p); err != nil {
		a.log.WarnContext(ctx, "slack: suggested prompts not set", "channel", th.ChannelID, "err", a.wrap("assistant.threads.setSuggestedPrompts", err))
	}
}

// inAssistantThread reports whether a message in a thread of a DM is in
// an assistant thread: one the adapter saw start, any once the app is
// known to have the feature, or one whose conversation is open (it
// started before a restart). Other DM threads stay part of the DM, as
// without the feature.
func (a *Adapter) inAssistantThread(ctx context.Context, key bot.ConversationKey, m message) (bool, error) {
	if a.assist.known(m.channel, m.threadTS) {
		return true, nil
	}
	key.Thread = m.threadTS
	active, err := a.cfg.Engine.Active(ctx, key)
	if err != nil {
		return false, fmt.Errorf("slack: look up assistant thread conversation: %w", err)
	}
	if active {
		a.assist.remember(m.channel, m.threadTS)
	}
	return active, nil
}

// assistantTurn is the sign of life in an assistant thread, once the
// customer's message is stored: the thread's title from its first
// question, and the status when a model turn follows (set before the turn
// starts, so that the answer, which clears it, comes after it); without a
// turn, the reaction as in a DM.
func (a *Adapter) assistantTurn(ctx context.Context, m message, text string, acc bot.Accepted) {
	ctx = context.WithoutCancel(ctx)
	if a.assist.takeTitle(m.channel, m.threadTS) {
		if title := threadTitle(text); title != "" {
			a.goBackground(func() { a.setTitle(ctx, m.channel, m.threadTS, title) })
		}
	}
	if !acc.Pending {
		a.react(ctx, m.channel, m.ts)
		return
	}
	t := a.assistantTexts(ctx, langOf(a.user(ctx, m.user).locale))
	mark := statusMark{channel: m.channel, thread: m.threadTS, status: t.Status, loading: t.LoadingMessages, at: a.cfg.Now()}
	// Marked first: the greeting may be delivered while the call runs.
	a.assist.markStatus(acc.ConversationID, mark)
	if !a.setStatus(ctx, m.channel, m.threadTS, t.Status, t.LoadingMessages) {
		a.assist.dropStatus(acc.ConversationID, mark)
	}
}

// setStatus sets (or, with status "", clears) a thread's status, and
// reports whether Slack took it.
func (a *Adapter) setStatus(ctx context.Context, channel, thread, status string, loading []string) bool {
	ctx, cancel := context.WithTimeout(ctx, assistantTimeout)
	defer cancel()
	err := a.api.SetAssistantThreadsStatusContext(ctx, slackapi.AssistantThreadsSetStatusParameters{
		ChannelID: channel, ThreadTS: thread, Status: status, LoadingMessages: loading,
	})
	if err != nil {
		a.log.WarnContext(ctx, "slack: assistant thread status not set", "channel", channel, "thread", thread, "err", a.wrap("assistant.threads.setStatus", err))
		return false
	}
	return true
}

func (a *Adapter) setTitle(ctx context.Context, channel, thread, title string) {
	ctx, cancel := context.WithTimeout(ctx, assistantTimeout)
	defer cancel()
	err := a.api.SetAssistantThreadsTitleContext(ctx, slackapi.AssistantThreadsSetTitleParameters{
		ChannelID: channel, ThreadTS: thread, Title: title,
	})
	if err != nil {
		a.log.WarnContext(ctx, "slack: assistant thread title not set", "channel", channel, "thread", thread, "err", a.wrap("assistant.threads.setTitle", err))
	}
}

// assistantSent follows what the outbox delivered: a status an earlier
// reply took away is set again, before the next message of the
// conversation goes out (Send has not returned), and a turn that ended
// without a reply in its assistant thread has its status cleared.
func (a *Adapter) assistantSent(ctx context.Context, m bot.Outgoing) {
	mark, after := a.assist.sent(m)
	switch after {
	case statusAgain:
		a.setStatus(context.WithoutCancel(ctx), mark.channel, mark.thread, mark.status, mark.loading)
	case statusCleared:
		ctx = context.WithoutCancel(ctx)
		a.goBackground(func() { a.setStatus(ctx, mark.channel, mark.thread, "", nil) })
	}
}

// threadTitle is a thread's title from the customer's first question: its
// first line, secrets masked (the text the engine stores is masked the
// same way), spaces collapsed, at most titleLimit characters.
func threadTitle(text string) string {
	masked, _ := mask.Text(text)
	line := ""
	for l := range strings.Lines(masked) {
		if line = strings.Join(strings.Fields(l), " "); line != "" {
			break
		}
	}
	line = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, line)
	if utf8.RuneCountInString(line) <= titleLimit {
		return line
	}
	runes := []rune(line)[:titleLimit-1]
	cut := string(runes)
	if i := strings.LastIndexByte(cut, ' '); i > titleLimit/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " .,;:") + "…"
}

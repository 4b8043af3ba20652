package slack

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

type assistantCall = fakeslack.AssistantCall

// startAssistant is user opening the assistant container: Slack starts a
// thread in their DM with the app. It returns the thread's ts once the
// event is delivered.
func (e *env) startAssistant(user string) string {
	e.t.Helper()
	thread, ev := e.fake.OpenAssistantThread(user, "C-GENERAL")
	e.deliver(ev)
	return thread
}

// assistantSays delivers user's message in an assistant thread and returns
// its ts.
func (e *env) assistantSays(user, thread, text string) string {
	e.t.Helper()
	ts := e.fake.NewTS()
	e.deliver(fakeslack.AssistantIMEvent(user, text, ts, thread))
	return ts
}

// callMark is where the assistant calls so far end.
func (e *env) callMark() int { return len(e.fake.AssistantCalls()) }

// waitCall waits for an assistant call after since that matches.
func (e *env) waitCall(since int, what string, match func(assistantCall) bool) assistantCall {
	e.t.Helper()
	var found assistantCall
	waitUntil(e.t, what, func() bool {
		for _, c := range e.fake.AssistantCalls()[since:] {
			if match(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

func callOf(method, channel, thread string) func(assistantCall) bool {
	return func(c assistantCall) bool {
		return c.Method == method && c.Channel == channel && c.ThreadTS == thread
	}
}

// countCalls counts the assistant calls of a method in a thread.
func (e *env) countCalls(method, thread string) int {
	n := 0
	for _, c := range e.fake.AssistantCalls() {
		if c.Method == method && c.ThreadTS == thread {
			n++
		}
	}
	return n
}

// index is the position of post p among all posts (by ts and method).
func (e *env) index(p post) int {
	for i, q := range e.fake.Posts() {
		if q.Method == p.Method && q.TS == p.TS {
			return i
		}
	}
	e.t.Fatalf("post %s not found", p.TS)
	return -1
}

// statusShown checks that the thread of answer showed status when the
// answer came: the last status call before it set status, after every
// other post in the thread (each reply there clears the status).
func (e *env) statusShown(calls int, answer post, status string) {
	e.t.Helper()
	at := e.index(answer)
	var last *assistantCall
	for _, c := range e.fake.AssistantCalls()[calls:] {
		if c.Method == fakeslack.SetStatus && c.ThreadTS == answer.ThreadTS && c.PostsBefore <= at {
			last = &c
		}
	}
	if last == nil || last.Status != status {
		e.t.Fatalf("status before the answer = %+v, want %q", last, status)
	}
	for i, p := range e.fake.Posts()[:at] {
		if p.Channel == answer.Channel && p.ThreadTS == answer.ThreadTS && i >= last.PostsBefore {
			e.t.Errorf("post #%d (%q) came after the status and before the answer: it cleared the status", i, p.Section())
		}
	}
	// The answer ended it: nothing sets it again.
	waitUntil(e.t, "the answer ends the status", func() bool {
		e.a.assist.mu.Lock()
		defer e.a.assist.mu.Unlock()
		return len(e.a.assist.status) == 0
	})
}

// TestAssistantThread: an assistant thread gets its suggested prompts when
// it starts; a question there is its own conversation, answered in the
// thread, with the status set before the answer; the title is the first
// question, set once; a second thread is another conversation; a context
// change is only noted.
func TestAssistantThread(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			ada := fakeslack.DMChannel("U-ada")
			calls := e.callMark()
			thread := e.startAssistant("U-ada")
			sp := e.waitCall(calls, "the suggested prompts", callOf(fakeslack.SetSuggestedPrompts, ada, thread))
			want := []fakeslack.Prompt{
				{Title: "Where is my refund?", Message: "Where is my refund?"},
				{Title: "Check a payment", Message: "Can you check the status of my payment?"},
				{Title: "Talk to a person", Message: "I want to talk to a person"},
			}
			if diff := cmp.Diff(want, sp.Prompts); diff != "" || sp.Title != "How can I help?" {
				t.Errorf("suggested prompts (title %q) (-want +got):\n%s", sp.Title, diff)
			}

			// The customer looks at another channel: noted, nothing said.
			e.deliver(fakeslack.AssistantContextChangedEvent("U-ada", thread, "C-RANDOM"))

			since, calls := e.mark(), e.callMark()
			e.assistantSays("U-ada", thread, "status of PAY-1002\nthanks!")
			answer := e.waitPost(since, "the answer in the thread", inThread(ada, thread, "PAY-1002"))
			if !strings.Contains(answer.Section(), "pending") {
				t.Errorf("answer = %q, want PAY-1002 pending (a DM: account data is shown)", answer.Section())
			}
			e.statusShown(calls, answer, "is thinking…")
			title := e.waitCall(calls, "the title", callOf(fakeslack.SetTitle, ada, thread))
			if title.Title != "status of PAY-1002" {
				t.Errorf("title = %q, want the first line of the first question", title.Title)
			}
			// Slack reports the retitled root as an edit: not the customer's.
			e.deliver(fakeslack.AssistantTitleEvent("U-ada", thread, title.Title, e.fake.NewTS()))
			for _, p := range e.posts(since, func(p post) bool { return p.Channel == ada }) {
				if p.ThreadTS != thread {
					t.Errorf("posted outside the thread: %+v", p)
				}
			}
			conv1 := answer.Button(t, "firstline_talk_to_person").Value

			// A second question: answered in the thread, the title stays.
			since = e.mark()
			e.assistantSays("U-ada", thread, "and PAY-1001?")
			e.waitPost(since, "the second answer", inThread(ada, thread, "PAY-1001"))
			if n := e.countCalls(fakeslack.SetTitle, thread); n != 1 {
				t.Errorf("%d titles set, want 1", n)
			}
			if n := e.countCalls(fakeslack.SetStatus, thread); n < 2 {
				t.Errorf("%d statuses set, want one per turn at least (2)", n)
			}

			// Another thread is another conversation.
			since = e.mark()
			other := e.startAssistant("U-ada")
			e.assistantSays("U-ada", other, "status of PAY-1001")
			second := e.waitPost(since, "the answer in the other thread", inThread(ada, other, "PAY-1001"))
			if conv2 := second.Button(t, "firstline_talk_to_person").Value; conv2 == conv1 {
				t.Errorf("both threads are conversation %s", conv1)
			}
			e.waitPost(since, "the other thread's greeting", inThread(ada, other, "AI support assistant"))
			if strings.Contains(e.logs.String(), "C-GENERAL") || strings.Contains(e.logs.String(), "level=WARN") {
				t.Errorf("logs:\n%s", e.logs.String())
			}
		})
	}
}

// TestAssistantHandoff: in an assistant thread, "Talk to a person" (the
// suggested prompt, then the button) opens a handoff as in a DM; the agent
// claims it, words are relayed both ways through the thread, and it is
// resolved and rated there.
func TestAssistantHandoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	const agents = testkit.AgentChannel
	ada := fakeslack.DMChannel("U-ada")
	thread := e.startAssistant("U-ada")

	// The suggested prompt writes its message as the customer's.
	since := e.mark()
	e.assistantSays("U-ada", thread, "I want to talk to a person")
	c := e.waitCard(since)
	if !strings.Contains(c.Section(), "I want to talk to a person") {
		t.Errorf("card = %q", c.Section())
	}
	e.waitPost(since, "the acknowledgement in the thread", inThread(ada, thread, "asked a person from our support team"))

	since = e.mark()
	e.agentSays("U-alex", c.TS, "claim")
	e.waitPost(since, "joined, in the thread", inThread(ada, thread, "Alex from our support team has joined"))
	e.agentSays("U-alex", c.TS, "Hi Ada, how can I help?")
	relay := e.waitPost(since, "the relay in the thread", inThread(ada, thread, "(support)"))
	if got := relay.Section(); got != "Alex (support): Hi Ada, how can I help?" {
		t.Errorf("relay = %q", got)
	}
	e.assistantSays("U-ada", thread, "my refund is late")
	e.waitPost(since, "the customer's words in the handoff thread", customerInThread(agents, c.TS, "Ada", "my refund is late"))
	if n := e.countCalls(fakeslack.SetStatus, thread); n != 0 {
		t.Errorf("%d statuses set while a person has the conversation, want none", n)
	}

	since = e.mark()
	e.agentSays("U-alex", c.TS, "resolve")
	rated := e.waitPost(since, "the rating request in the thread", inThread(ada, thread, "marked this conversation as resolved"))
	e.press("U-ada", ada, rated.TS, rated.Buttons()[4])
	e.waitPost(since, "thanks in the thread", inThread(ada, thread, "Thank you for the rating (5/5)"))

	// Back with the bot: an answer, and its button opens a second handoff.
	since = e.mark()
	e.assistantSays("U-ada", thread, "status of PAY-1001")
	answer := e.waitPost(since, "the answer", inThread(ada, thread, "PAY-1001"))
	e.press("U-ada", ada, answer.TS, answer.Button(t, "firstline_talk_to_person"))
	c2 := e.waitCard(since)
	if c2.TS == c.TS {
		t.Error("the second handoff reused the first card")
	}
	e.waitPost(since, "the second acknowledgement", inThread(ada, thread, "asked a person from our support team"))
	for _, p := range e.fake.Posts() {
		if p.Channel == ada && p.ThreadTS != thread {
			t.Errorf("posted outside the thread: %q", p.Section())
		}
	}
}

// TestAssistantStatusFails: a status call that fails, or hangs, does not
// stop or fail the turn: the answer still comes, and the hang costs at
// most the call's bound.
func TestAssistantStatusFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	ada := fakeslack.DMChannel("U-ada")
	thread := e.startAssistant("U-ada")
	e.fake.FailNext(fakeslack.SetStatus, ada,
		reply{Body: `{"ok":false,"error":"internal_error"}`},
		reply{Hang: time.Minute})
	e.fake.FailNext(fakeslack.SetTitle, ada, reply{Status: 500})

	since := e.mark()
	e.assistantSays("U-ada", thread, "status of PAY-1002")
	e.waitPost(since, "the answer despite the failed status", inThread(ada, thread, "PAY-1002"))

	since = e.mark()
	start := time.Now()
	e.assistantSays("U-ada", thread, "and PAY-1001?")
	e.waitPost(since, "the answer despite the hanging status", inThread(ada, thread, "PAY-1001"))
	if took := time.Since(start); took > assistantTimeout+5*time.Second {
		t.Errorf("the answer took %v", took)
	}
	if !strings.Contains(e.logs.String(), "assistant thread status not set") {
		t.Errorf("the failure was not logged:\n%s", e.logs.String())
	}
}

// TestAssistantStatusCleared: when a turn ends without a reply in the
// thread (shadow mode: the bot's answer is a draft for the agents), the
// status is cleared.
func TestAssistantStatusCleared(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode, withHarness(testkit.WithEngine(func(c *bot.Config) { c.Shadow = true })))
	const agents = testkit.AgentChannel
	ada := fakeslack.DMChannel("U-ada")
	thread := e.startAssistant("U-ada")
	since := e.mark()
	e.assistantSays("U-ada", thread, "status of PAY-1002")
	c := e.waitCard(since)
	e.waitPost(since, "the first draft", inThread(agents, c.TS, "Draft answer"))

	since, calls := e.mark(), e.callMark()
	e.assistantSays("U-ada", thread, "and PAY-1001?")
	draft := e.waitPost(since, "the second draft", func(p post) bool {
		return inThread(agents, c.TS, "Draft answer")(p) && strings.Contains(p.Section(), "PAY-1001")
	})
	set := e.waitCall(calls, "the status", func(c assistantCall) bool {
		return callOf(fakeslack.SetStatus, ada, thread)(c) && c.Status != ""
	})
	cleared := e.waitCall(calls, "the status cleared", func(c assistantCall) bool {
		return callOf(fakeslack.SetStatus, ada, thread)(c) && c.Status == ""
	})
	if set.PostsBefore > cleared.PostsBefore || cleared.PostsBefore <= e.index(draft) {
		t.Errorf("set %+v, cleared %+v, draft #%d: want set, draft, cleared", set, cleared, e.index(draft))
	}
	e.nothingTo(since, ada, "PAY-1001")
}

// TestAssistantPromptsFile: assistant.yaml in the prompt folder gives the
// suggested prompts and the status in the customer's Slack language;
// languages it lacks keep the built-in texts.
func TestAssistantPromptsFile(t *testing.T) {
	t.Parallel()
	file, err := os.ReadFile("testdata/assistant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, httpMode,
		withConfig(func(c *Config) { c.Prompts = fstest.MapFS{AssistantFile: {Data: file}} }),
		withFake(func(f *fakeslack.Server) {
			f.AddUser("U-sven", fakeslack.User{Handle: "sven", Display: "Sven", Locale: "sv-SE"})
			f.AddUser("U-dora", fakeslack.User{Handle: "dora", Display: "Dora", Locale: "de-DE"})
		}))
	sven := fakeslack.DMChannel("U-sven")
	calls := e.callMark()
	thread := e.startAssistant("U-sven")
	sp := e.waitCall(calls, "Sven's prompts", callOf(fakeslack.SetSuggestedPrompts, sven, thread))
	want := []fakeslack.Prompt{
		{Title: "Var är min återbetalning?", Message: "Var är min återbetalning?"},
		{Title: "Prata med en person", Message: "Jag vill prata med en person"},
	}
	if diff := cmp.Diff(want, sp.Prompts); diff != "" || sp.Title != "Vad kan jag hjälpa till med?" {
		t.Errorf("prompts (title %q) (-want +got):\n%s", sp.Title, diff)
	}
	since := e.mark()
	e.assistantSays("U-sven", thread, "status of PAY-1002")
	e.waitPost(since, "the answer", inThread(sven, thread, "can't see any account linked"))
	st := e.waitCall(calls, "the status", callOf(fakeslack.SetStatus, sven, thread))
	if st.Status != "letar…" || !cmp.Equal(st.LoadingMessages, []string{"Läser din fråga…", "Kollar din betalning…"}) {
		t.Errorf("status = %q %q", st.Status, st.LoadingMessages)
	}

	// German is not in the file: the built-in German prompts.
	dora := fakeslack.DMChannel("U-dora")
	other := e.startAssistant("U-dora")
	sp = e.waitCall(calls, "Dora's prompts", callOf(fakeslack.SetSuggestedPrompts, dora, other))
	if len(sp.Prompts) != 3 || sp.Prompts[2].Title != "Mit einem Menschen sprechen" {
		t.Errorf("German prompts = %+v", sp.Prompts)
	}
}

// TestNoAssistantEvents: an app without the assistant feature gets no
// assistant events, and behaves as before: a reply in a thread of the DM
// is part of the DM's conversation, answered at the top, and no assistant
// call is made.
func TestNoAssistantEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	ada := fakeslack.DMChannel("U-ada")
	since := e.mark()
	e.dm("U-ada", "status of PAY-1002")
	answer := e.waitPost(since, "the answer", to(ada, "PAY-1002"))
	conv := answer.Button(t, "firstline_talk_to_person").Value

	since = e.mark()
	ts := e.fake.NewTS()
	e.deliver(fakeslack.AssistantIMEvent("U-ada", "and PAY-1001?", ts, answer.TS))
	second := e.waitPost(since, "the answer to the thread reply", to(ada, "PAY-1001"))
	if second.ThreadTS != "" || second.Button(t, "firstline_talk_to_person").Value != conv {
		t.Errorf("answer = %+v, want it at the top of the DM, in conversation %s", second, conv)
	}
	waitUntil(t, "the eyes reaction", func() bool { return e.reactionsOn(ts) == 1 })
	for _, m := range []string{fakeslack.SetStatus, fakeslack.SetTitle, fakeslack.SetSuggestedPrompts} {
		if n := e.fake.Calls(m); n != 0 {
			t.Errorf("%s called %d times", m, n)
		}
	}
}

// TestAssistantFile: assistant.yaml is checked: what Slack would refuse,
// and typos, are errors.
func TestAssistantFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, err string
	}{
		{"empty", "", ""},
		{"one language", "fr:\n  prompts:\n    - title: Aide\n", ""},
		{"five prompts", "en:\n  prompts: [{title: a}, {title: b}, {title: c}, {title: d}, {title: e}]\n", "at most 4"},
		{"untitled prompt", "en:\n  prompts:\n    - message: hello\n", "no title"},
		{"comma", "en:\n  loading_messages: [\"one, two\"]\n", "without commas"},
		{"typo", "en:\n  promts: []\n", "promts"},
	}
	for _, tt := range tests {
		got, err := parseAssistantFile([]byte(tt.file))
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.err)
		case tt.name == "one language" && got["fr"].Prompts[0].Message != "Aide":
			t.Errorf("a prompt without a message writes its title: %+v", got)
		}
	}
	b, err := os.ReadFile("testdata/assistant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAssistantFile(b); err != nil {
		t.Errorf("testdata/assistant.yaml: %v", err)
	}
	if err := CheckAssistantFile([]byte("en: [")); err == nil || !strings.Contains(err.Error(), AssistantFile) {
		t.Errorf("a broken file: %v, want an error naming %s", err, AssistantFile)
	}
}

// TestThreadTitle: a title is one line, bounded, with secrets masked.
func TestThreadTitle(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"first line", "\n  where is   my refund?\nit was PAY-1", "where is my refund?"},
		{"card masked", "card 4111 1111 1111 1111 was charged", "card [card ••••1111] was charged"},
		{"long", strings.Repeat("refund ", 20), "refund refund refund refund refund refund refund refund…"},
		{"long word", strings.Repeat("x", 100), strings.Repeat("x", titleLimit-1) + "…"},
		{"blank", " \n\t", ""},
	}
	for _, tt := range tests {
		if got := threadTitle(tt.in); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		if n := len([]rune(threadTitle(tt.in))); n > titleLimit {
			t.Errorf("%s: %d characters", tt.name, n)
		}
	}
}

// TestManifest: the manifest asks for the assistant view, its scope and
// its events.
func TestManifest(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			AssistantView struct {
				Description string             `yaml:"assistant_description"`
				Prompts     []fakeslack.Prompt `yaml:"suggested_prompts"`
			} `yaml:"assistant_view"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				Bot []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	av := m.Features.AssistantView
	if av.Description == "" || len(av.Prompts) == 0 || len(av.Prompts) > maxPrompts {
		t.Errorf("assistant_view = %+v", av)
	}
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	if !has(m.OAuth.Scopes.Bot, "assistant:write") {
		t.Errorf("scopes = %v, want assistant:write", m.OAuth.Scopes.Bot)
	}
	for _, ev := range []string{"assistant_thread_started", "assistant_thread_context_changed", "message.im"} {
		if !has(m.Settings.Events.Bot, ev) {
			t.Errorf("bot events = %v, want %s", m.Settings.Events.Bot, ev)
		}
	}
}

// TestAssistantCatchUp: after a restart, the adapter knows an assistant
// thread by its open conversation: a message it missed there is fetched
// back and answered in the thread, with the status, as a DM (account data
// shown), and the thread keeps its title.
func TestAssistantCatchUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, socketMode)
	waitRounds(t, e.a, 1)
	ada := fakeslack.DMChannel("U-ada")
	thread := e.startAssistant("U-ada")
	since := e.mark()
	e.assistantSays("U-ada", thread, "status of PAY-1001")
	e.waitPost(since, "the answer before the outage", inThread(ada, thread, "PAY-1001"))
	e.waitCall(0, "the title", callOf(fakeslack.SetTitle, ada, thread))

	since, calls := e.mark(), e.callMark()
	e.fake.Write(ada, fakeslack.Message{User: "U-ada", Text: "status of PAY-1002", Thread: thread})
	e.restart()
	answer := e.waitPost(since, "the answer to the missed message", inThread(ada, thread, "PAY-1002"))
	e.statusShown(calls, answer, "is thinking…")
	if !strings.Contains(answer.Section(), "pending") {
		t.Errorf("answer = %q, want PAY-1002 pending", answer.Section())
	}
	for _, p := range e.posts(since, func(p post) bool { return p.Channel == ada }) {
		if p.ThreadTS != thread || strings.Contains(p.Section(), "AI support assistant") {
			t.Errorf("post %+v: want the same conversation, in the thread, greeted once", p)
		}
	}
	if n := e.countCalls(fakeslack.SetTitle, thread); n != 1 {
		t.Errorf("%d titles, want 1", n)
	}
}

// TestAssistantFileReload: an edit of assistant.yaml takes effect at the
// next read; a broken edit keeps the last good texts; without the file,
// the built-in ones.
func TestAssistantFileReload(t *testing.T) {
	t.Parallel()
	h := testkit.New(t)
	fsys := fstest.MapFS{}
	a, err := New(Config{BotToken: testBotToken, SigningSecret: testSecret, Engine: h.Engine, Handoffs: h.Handoffs, Prompts: fsys})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if got := a.assistantTexts(ctx, "sv").Status; got != "tänker…" {
		t.Errorf("without the file: %q, want the built-in Swedish", got)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fsys[AssistantFile] = &fstest.MapFile{Data: []byte("sv:\n  status: \"söker…\"\n"), ModTime: at}
	if got := a.assistantTexts(ctx, "sv"); got.Status != "söker…" || got.Prompts[0].Title != "Var är min återbetalning?" {
		t.Errorf("after the edit: %+v, want the file's status and the built-in prompts", got)
	}
	fsys[AssistantFile] = &fstest.MapFile{Data: []byte("sv: [broken\n"), ModTime: at.Add(time.Minute)}
	if got := a.assistantTexts(ctx, "sv").Status; got != "söker…" {
		t.Errorf("after a broken edit: %q, want the last good one", got)
	}
	if got := a.assistantTexts(ctx, "pt").Status; got != "is thinking…" {
		t.Errorf("a language neither has: %q, want English", got)
	}
	delete(fsys, AssistantFile)
	if got := a.assistantTexts(ctx, "sv").Status; got != "tänker…" {
		t.Errorf("after removing the file: %q, want the built-in Swedish", got)
	}
}

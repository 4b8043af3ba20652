package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

func TestTooDeep(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want bool
	}{
		{`{"a":[1,{"b":2}]}`, 3, false},
		{`{"a":[1,{"b":[2]}]}`, 3, true},
		{`{"a":"[[[[[[[[[["}`, 2, false},    // brackets in strings do not count
		{`{"a":"\"[[[[[[[["}`, 2, false},    // nor after an escaped quote
		{`{"a":"\\"}[[[[`, 2, true},         // an escaped backslash ends the escape
		{strings.Repeat("[", 33), 32, true}, // unbalanced, still counted
		{strings.Repeat("[", 32) + strings.Repeat("]", 32), 32, false},
	}
	for _, tt := range tests {
		if got := tooDeep([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("tooDeep(%.40q, %d) = %v, want %v", tt.in, tt.max, got, tt.want)
		}
	}
}

// Payloads nested deeper than Slack's are refused before they are parsed,
// huge ones before they are read whole, and the adapter goes on serving.
func TestHostilePayloads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, httpMode)
	jsonH := http.Header{"Content-Type": {"application/json"}}
	formH := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	nested := func(depth int) string {
		return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	}
	deepEvent := `{"type":"event_callback","event":` + nested(100000) + `}`
	deepText := e.fake.EventCallback(fakeslack.IMEvent("U-ada", strings.Repeat("[", 5000)+" status of PAY-1001", e.fake.NewTS()))
	tests := []struct {
		name string
		path string
		body string
		h    http.Header
		want int
	}{
		{"event nested 100,000 deep", "/slack/events", deepEvent, jsonH, http.StatusBadRequest},
		{"event nested just over the bound", "/slack/events", `{"type":"event_callback","event":` + nested(maxDepth) + `}`, jsonH, http.StatusBadRequest},
		{"interaction nested deep", "/slack/interactions", url.Values{"payload": {nested(5000)}}.Encode(), formH, http.StatusBadRequest},
		{"event of 8 MB", "/slack/events", `{"type":"event_callback","x":"` + strings.Repeat("a", 8<<20) + `"}`, jsonH, http.StatusRequestEntityTooLarge},
		{"brackets inside a message's text", "/slack/events", string(deepText), jsonH, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, _ := e.signedPost(tt.path, []byte(tt.body), tt.h, time.Now())
			if code != tt.want {
				t.Errorf("status %d, want %d", code, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	// The adapter still answers customers.
	since := e.mark()
	e.dm("U-grace", "status of PAY-2001")
	e.waitPost(since, "an answer after the hostile payloads", to(fakeslack.DMChannel("U-grace"), "PAY-2001"))
}

// FuzzPayloads runs what the adapter does with a body from Slack before
// the engine sees it: the nesting bound, the JSON check, slack-go's event
// and interaction parsing, and the translation of a message's text,
// mentions and files. None of it may panic or hang, whatever the body.
func FuzzPayloads(f *testing.F) {
	srv := fakeslack.New(f)
	defer srv.Close()
	for _, s := range [][]byte{
		srv.EventCallback(fakeslack.IMEvent("U-ada", "hi <@UBOT> see <https://x.example|x> and <@U2>", "1.1")),
		srv.EventCallback(fakeslack.MentionEvent("U-ada", "C1", "<@UBOT> status of PAY-1001", "1.2", "")),
		fakeslack.BlockActions("U-ada", "D1", "1.3", fakeslack.Button{ActionID: "firstline_talk_to_person", Value: "1", Label: "x"}),
		[]byte(`{"type":"url_verification","challenge":"x"}`),
		[]byte(`{"type":"event_callback","event":{"type":"message","channel_type":"im","user":"U1","text":"x","ts":"1","files":[{"name":"a","permalink":"https://f"}]}}`),
		[]byte(`{"type":"event_callback","event":[]}`), []byte(`[[[[`), []byte(`{"type":`),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxBody {
			return
		}
		if tooDeep(body, maxDepth) || !json.Valid(body) {
			return // refused with 400
		}
		names := func(id string) string { return "Name " + id }
		if ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken()); err == nil {
			switch e := ev.InnerEvent.Data.(type) {
			case *slackevents.MessageEvent:
				_ = fromSlack(stripMention(e.Text, "UBOT"), names)
				_ = mentions(e.Text, "UBOT")
				if e.Message != nil {
					_ = attachments(e.Message.Files)
				}
			case *slackevents.AppMentionEvent:
				_ = fromSlack(stripMention(e.Text, "UBOT"), names)
				_ = attachments(e.Files)
			}
		}
		var cb slackapi.InteractionCallback
		if json.Unmarshal(body, &cb) == nil {
			for _, act := range cb.ActionCallback.BlockActions {
				_, _ = parseActionID(act.ActionID)
			}
		}
	})
}

package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/prompts"
)

// recordingModel calls search_help_center with the customer's words, then
// answers with the first passage's text and URL, and keeps the requests.
type recordingModel struct {
	mu   sync.Mutex
	reqs []bot.ModelRequest
}

func (m *recordingModel) Name() string { return "recording model" }

func (m *recordingModel) Complete(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	last := req.Messages[len(req.Messages)-1]
	if last.Role == bot.ChatTool {
		var res struct {
			Results []struct{ Text, URL string } `json:"results"`
		}
		if err := json.Unmarshal([]byte(last.Content), &res); err != nil || len(res.Results) == 0 {
			return bot.ModelResponse{Text: "I don't know. [cannot_help]"}, nil
		}
		return bot.ModelResponse{Text: res.Results[0].Text + "\nSource: " + res.Results[0].URL}, nil
	}
	args, _ := json.Marshal(map[string]string{"query": last.Content})
	return bot.ModelResponse{ToolCalls: []bot.ToolCall{{ID: "1", Name: bot.ToolSearchHelpCenter, Arguments: string(args)}}}, nil
}

func TestHelpCenterTool(t *testing.T) {
	m := &recordingModel{}
	h := testkit.New(t, testkit.WithModel(m))
	reply := lastReply(t, h.Say("U-ada", "how long does a refund take?")).Text
	if !strings.Contains(reply, "5 business days") || !strings.Contains(reply, "https://help.example.com/en/articles/refund-times") {
		t.Errorf("answer = %q; want the refund article's passage and its URL, not neutralized", reply)
	}
	req := m.reqs[0]
	if strings.Contains(req.System, "FAQ:") || !strings.Contains(req.System, "search_help_center") {
		t.Errorf("the system prompt inlines the FAQ or does not mention the tool:\n%s", req.System)
	}
	var tool *bot.ToolDef
	for i := range req.Tools {
		if req.Tools[i].Name == bot.ToolSearchHelpCenter {
			tool = &req.Tools[i]
		}
	}
	if tool == nil {
		t.Fatal("search_help_center is not offered")
	}
	// Nothing relevant: the tool says so, and the model does not invent.
	if r := lastReply(t, h.Say("U-ada", "what is the capital of Peru?")).Text; strings.Contains(r, "Source:") {
		t.Errorf("an answer from an unrelated article: %q", r)
	}
}

// A turn's prompt stays small whatever the size of the help center: the
// articles are searched, never inlined.
func TestHelpCenterPromptBounded(t *testing.T) {
	size := func(articles int) int {
		files := fstest.MapFS{}
		for i := range articles {
			files[fmt.Sprintf("knowledge/a%d.md", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
				"---\ntitle: Article %d about fees\nurl: https://help.acme.test/a%d\n---\n%s\n", i, i, strings.Repeat("Fees are charged monthly. ", 40)))}
		}
		set, err := prompts.Load(files)
		if err != nil {
			t.Fatal(err)
		}
		m := &recordingModel{}
		h := testkit.New(t, testkit.WithModel(m), testkit.WithPrompts(func() *prompts.Set { return set }))
		h.Say("U-ada", "what are the fees?")
		n := 0
		for _, req := range m.reqs {
			b, _ := json.Marshal(req)
			n = max(n, len(b))
		}
		return n
	}
	small, large := size(1), size(300)
	// About four characters a token.
	if large/4 > 1500 || large > small+200 {
		t.Errorf("largest model request: %d characters with 1 article, %d with 300; want ≤ 6,000 and no growth", small, large)
	}
}

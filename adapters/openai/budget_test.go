package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// pad returns a message text of exactly n bytes starting with label.
func pad(label string, n int) string {
	if len(label) >= n {
		return label[:n]
	}
	return label + strings.Repeat(".", n-len(label))
}

// 36 bytes of text: every message below costs 4 + 9 = 13 tokens.
func u(label string) bot.ChatMessage {
	return bot.ChatMessage{Role: bot.ChatUser, Content: pad(label, 36)}
}

func a(label string) bot.ChatMessage {
	return bot.ChatMessage{Role: bot.ChatAssistant, Content: pad(label, 36)}
}

// calls is an assistant message with tool calls and no text; with ids and
// names of 4 bytes and arguments "{}", each call costs 4+1+1+1 = 7 tokens.
func calls(ids ...string) bot.ChatMessage {
	m := bot.ChatMessage{Role: bot.ChatAssistant}
	for _, id := range ids {
		m.ToolCalls = append(m.ToolCalls, bot.ToolCall{ID: id, Name: "tool", Arguments: "{}"})
	}
	return m
}

// result is a tool result of 36 bytes: 4 + 9 + 1 (the 4-byte id) = 14 tokens.
func result(id string) bot.ChatMessage {
	return bot.ChatMessage{Role: bot.ChatTool, ToolCallID: id, Content: pad("result "+id, 36)}
}

// label names a message for comparisons: its text up to the padding.
func label(m bot.ChatMessage) string {
	switch {
	case m.Role == bot.ChatTool:
		return "result " + m.ToolCallID
	case len(m.ToolCalls) > 0:
		var ids []string
		for _, tc := range m.ToolCalls {
			ids = append(ids, tc.ID)
		}
		return "calls " + strings.Join(ids, "+")
	}
	s, _, _ := strings.Cut(m.Content, ".")
	return s
}

func labels(msgs []bot.ChatMessage) string {
	var out []string
	for _, m := range msgs {
		out = append(out, label(m))
	}
	return strings.Join(out, ", ")
}

// fixed is the budget used by the request without history, with the note:
// 3 for the reply, and 4 + 13 for omittedNote (52 bytes).
const fixed = 3 + 17

func TestTrimHistory(t *testing.T) {
	tests := []struct {
		name      string
		msgs      []bot.ChatMessage
		budget    int
		want      string // labels of the kept messages
		omitted   int
		truncated bool
	}{
		{
			name:   "everything fits",
			msgs:   []bot.ChatMessage{a("hi"), u("u1"), a("a1"), u("u2")},
			budget: 1000,
			want:   "hi, u1, a1, u2",
		},
		{
			name:    "keeps the newest that fit",
			msgs:    []bot.ChatMessage{a("hi"), u("u1"), a("a1"), u("u2"), a("a2"), u("u3")},
			budget:  fixed + 3*13,
			want:    "u2, a2, u3",
			omitted: 3,
		},
		{
			name:    "a tool-call group is kept whole or not at all",
			msgs:    []bot.ChatMessage{u("u1"), calls("c1"), result("c1"), a("a1"), u("u2")},
			budget:  fixed + 13 + 13 + 14, // room for the result, not for its call
			want:    "a1, u2",
			omitted: 3,
		},
		{
			name:    "a group with several results",
			msgs:    []bot.ChatMessage{u("u1"), a("a1"), u("u2"), calls("c1", "c2"), result("c1"), result("c2"), a("a2"), u("u3")},
			budget:  fixed + 13 + 13 + (4 + 7 + 7) + 14 + 14,
			want:    "calls c1+c2, result c1, result c2, a2, u3",
			omitted: 3,
		},
		{
			name:    "never starts with a tool result, even when all fits",
			msgs:    []bot.ChatMessage{result("c0"), a("a1"), u("u1")},
			budget:  1000,
			want:    "a1, u1",
			omitted: 1,
		},
		{
			name:    "the current turn's tool round is kept with its question",
			msgs:    []bot.ChatMessage{a("hi"), u("u1"), a("a1"), u("u2"), calls("c1"), result("c1")},
			budget:  fixed + 13 + (4 + 7) + 14,
			want:    "u2, calls c1, result c1",
			omitted: 3,
		},
		{
			name:    "several customer messages answered together",
			msgs:    []bot.ChatMessage{a("hi"), u("u1"), u("u2"), u("u3")},
			budget:  fixed + 2*13,
			want:    "u2, u3",
			omitted: 2,
		},
		{
			name:    "no customer message at all",
			msgs:    []bot.ChatMessage{a("a0"), a("a1"), calls("c1"), result("c1"), a("a2")},
			budget:  fixed + 13 + 11 + 14,
			want:    "calls c1, result c1, a2",
			omitted: 2,
		},
		{
			name:      "a huge newest message is shortened, not dropped",
			msgs:      []bot.ChatMessage{a("hi"), u("u1"), {Role: bot.ChatUser, Content: pad("huge", 40000)}},
			budget:    fixed + 500,
			want:      "huge",
			omitted:   2,
			truncated: true,
		},
		{
			name:      "shortened below the system prompt's share, never to nothing",
			msgs:      []bot.ChatMessage{{Role: bot.ChatUser, Content: pad("huge", 40000)}},
			budget:    10,
			want:      "huge",
			truncated: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]bot.ChatMessage(nil), tt.msgs...)
			got := trimHistory("", nil, tt.msgs, tt.budget)
			if l := labels(got.messages); l != tt.want {
				t.Errorf("kept %q; want %q", l, tt.want)
			}
			if got.omitted != tt.omitted || got.truncated != tt.truncated {
				t.Errorf("omitted %d, truncated %v; want %d, %v", got.omitted, got.truncated, tt.omitted, tt.truncated)
			}
			checkTrimmed(t, got, tt.budget)
			for i := range orig {
				if orig[i].Content != tt.msgs[i].Content {
					t.Errorf("message %d was modified in place", i)
				}
			}
		})
	}
}

// checkTrimmed checks what must hold for any trimmed history.
func checkTrimmed(t *testing.T, got trimmed, budget int) {
	t.Helper()
	msgs := got.messages
	if len(msgs) > 0 && msgs[0].Role == bot.ChatTool {
		t.Errorf("the kept history starts with a tool result")
	}
	// Every result follows its call, and every call has its results.
	open := map[string]bool{}
	for i, m := range msgs {
		if m.Role != bot.ChatTool && len(open) > 0 {
			t.Errorf("message %d: calls %v have no results", i, open)
		}
		if m.Role != bot.ChatTool {
			open = map[string]bool{}
		}
		for _, tc := range m.ToolCalls {
			open[tc.ID] = true
		}
		if m.Role == bot.ChatTool {
			if !open[m.ToolCallID] {
				t.Errorf("message %d: result for %s without its call", i, m.ToolCallID)
			}
			delete(open, m.ToolCallID)
		}
	}
	want := requestTokens("", nil, msgs)
	if got.omitted > 0 {
		want += messageTokens(bot.ChatMessage{Role: bot.ChatSystem, Content: omittedNote})
	}
	if got.tokens != want {
		t.Errorf("tokens = %d; the kept messages estimate %d", got.tokens, want)
	}
	if got.tokens > budget && budget > fixed+minKeepTokens+messageOverhead {
		t.Errorf("tokens %d over the budget %d", got.tokens, budget)
	}
	if got.truncated && !strings.HasSuffix(msgs[len(msgs)-1].Content, truncationMark) && !strings.HasSuffix(firstUserFromEnd(msgs).Content, truncationMark) {
		t.Errorf("a shortened message does not say so")
	}
}

func firstUserFromEnd(msgs []bot.ChatMessage) bot.ChatMessage {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == bot.ChatUser {
			return msgs[i]
		}
	}
	return bot.ChatMessage{}
}

func TestShortenKeepsRunes(t *testing.T) {
	s := strings.Repeat("å", 1000) // 2 bytes each
	got, cut := shorten(s, 100)
	if !cut || !strings.HasSuffix(got, truncationMark) {
		t.Fatalf("not cut: %d bytes", len(got))
	}
	body := strings.TrimSuffix(got, truncationMark)
	if strings.Trim(body, "å") != "" {
		t.Errorf("a rune was split: %q", body[len(body)-4:])
	}
	if textTokens(got) > 100 {
		t.Errorf("shortened to %d tokens; want at most 100", textTokens(got))
	}
}

func TestTextTokens(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 1, "abcd": 1, "abcde": 2, "日本語": 3, "hello world, how are you?": 7} {
		if got := textTokens(s); got != want {
			t.Errorf("textTokens(%q) = %d; want %d", s, got, want)
		}
	}
}

// longConversation is a 200-turn conversation: the greeting, 199
// exchanges, and the customer's newest message: 400 messages of the length
// customers and a support bot write.
func longConversation() []bot.ChatMessage {
	r := rand.New(rand.NewPCG(1, 2))
	customer := []string{
		"Hi, I paid for my train ticket yesterday but the app still shows the payment as pending. Can you check what is going on with PAY-1002?",
		"Thanks. And when will the money actually leave my account? I need to know because my rent is due on Friday and I don't want to be overdrawn.",
		"ok",
		"I also see a charge from Books for 120 euros, I think that one is correct but could you confirm the date?",
		"Why does it take so long? Other banks settle these instantly. This is the third time this month I have had to ask about a pending payment and honestly it's getting frustrating.",
		"Can I change the card the payment was made with?",
	}
	bot_ := []string{
		"Your payment PAY-1002 of 49.90 EUR to Rail is still pending. Payments usually settle within one to two business days; I'll be happy to check again if it hasn't settled by then.",
		"Pending payments are reserved on your account right away, so the amount is already set aside. It will be booked as settled within two business days at the latest.",
		"Your payment PAY-1001 of 120.00 EUR to Books was made on 2026-10-01 and is settled.",
		"I understand that this is frustrating. Card payments to some merchants are settled in batches, which is why they can take a day or two. If you'd like, I can hand you to a person from our support team who can look into it further.",
		"I can't change the card of a payment that has already been made. If you want, a person from our team can help you with a refund and a new payment.",
	}
	msgs := []bot.ChatMessage{{Role: bot.ChatAssistant, Content: "Hi! I'm the AI support assistant. Ask me about your payments, or say \"human\" to talk to a person."}}
	for i := range 199 {
		msgs = append(msgs,
			bot.ChatMessage{Role: bot.ChatUser, Content: fmt.Sprintf("(%d) %s", i, customer[r.IntN(len(customer))])},
			bot.ChatMessage{Role: bot.ChatAssistant, Content: fmt.Sprintf("(%d) %s", i, bot_[r.IntN(len(bot_))])},
		)
	}
	return append(msgs, bot.ChatMessage{Role: bot.ChatUser, Content: "NEWEST: so has PAY-1002 settled now, or do I need to contact my bank?"})
}

// engineRequest captures the system prompt and tools the real engine sends,
// so that the budget is measured with what production sends.
func engineRequest(t *testing.T) bot.ModelRequest {
	t.Helper()
	var got bot.ModelRequest
	h := testkit.New(t, testkit.WithModel(testkit.ModelFunc(func(_ context.Context, req bot.ModelRequest) (bot.ModelResponse, error) {
		got = req
		return bot.ModelResponse{Text: "ok"}, nil
	})))
	h.Say("U-ada", "hello")
	if got.System == "" || len(got.Tools) == 0 {
		t.Fatalf("the engine sent no system prompt or tools: %+v", got)
	}
	return got
}

func TestLongConversationFitsTheBudget(t *testing.T) {
	f := newFakeAPI(t, always(http.StatusOK, textAnswer("It has settled.")))
	m := mustModel(t, f)
	req := engineRequest(t)
	req.Messages = longConversation()
	if len(req.Messages) != 400 {
		t.Fatalf("%d messages; want 400", len(req.Messages))
	}
	full := requestTokens(req.System, req.Tools, req.Messages)
	fullBody, err := json.Marshal(m.chatRequest(req.System, req.Tools, trimmed{messages: req.Messages}))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := m.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	c := testkit.MustOne(t, f.Calls(), "request")
	system, msgs, tools := botMessages(c.req)
	sent := requestTokens(system, tools, msgs)
	t.Logf("400 messages: %d tokens estimated, %d bytes in full; sent %d messages, %d tokens, %d bytes (system prompt %d bytes, tools %d tokens)",
		full, len(fullBody), len(c.req.Messages), sent, len(c.body), len(req.System), toolsTokens(req.Tools))

	if full <= DefaultHistoryBudget {
		t.Fatalf("the conversation (%d tokens) does not test trimming", full)
	}
	if sent > DefaultHistoryBudget {
		t.Errorf("the request estimates %d tokens; budget %d", sent, DefaultHistoryBudget)
	}
	if sent < DefaultHistoryBudget*8/10 {
		t.Errorf("the request estimates %d tokens: the budget of %d is badly used", sent, DefaultHistoryBudget)
	}
	// Four bytes a token, plus the JSON around each message.
	if maxBytes := DefaultHistoryBudget*bytesPerToken + 8<<10; len(c.body) > maxBytes {
		t.Errorf("the request body is %d bytes; want at most %d", len(c.body), maxBytes)
	}
	if system != req.System {
		t.Errorf("the system prompt was not sent first, whole")
	}
	if len(tools) != len(req.Tools) {
		t.Errorf("%d tools sent; want all %d", len(tools), len(req.Tools))
	}
	if msgs[0].Role != bot.ChatSystem || msgs[0].Content != omittedNote {
		t.Errorf("the message after the system prompt is %s %q; want the omission note", msgs[0].Role, msgs[0].Content)
	}
	if last, want := msgs[len(msgs)-1], req.Messages[len(req.Messages)-1]; last.Role != want.Role || last.Content != want.Content {
		t.Errorf("the newest message was not kept as is: %q", last.Content)
	}
	kept := msgs[1:]
	if kept[0].Role == bot.ChatTool {
		t.Errorf("the kept history starts with a tool result")
	}
	// What is kept is the newest part of the conversation, in order.
	tail := req.Messages[len(req.Messages)-len(kept):]
	for i := range kept {
		if kept[i].Content != tail[i].Content || kept[i].Role != tail[i].Role {
			t.Fatalf("kept message %d is not the conversation's message %d", i, len(req.Messages)-len(kept)+i)
		}
	}
}

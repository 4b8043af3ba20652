package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/prompts"
)

func newModel() *Model {
	set := prompts.Default()
	return New(func() *prompts.Set { return set })
}

func user(text string) bot.ChatMessage { return bot.ChatMessage{Role: bot.ChatUser, Content: text} }

func TestCustomerTurns(t *testing.T) {
	m := newModel()
	offer, _ := prompts.Default().Message("offer_person", "", nil)
	tests := []struct {
		name     string
		msgs     []bot.ChatMessage
		tool     string
		args     string
		contains string
	}{
		{"reference", []bot.ChatMessage{user("what about pay-1002?")}, bot.ToolPaymentStatus, `{"reference":"PAY-1002"}`, ""},
		{"my payments", []bot.ChatMessage{user("What's the status of my payments?")}, bot.ToolPaymentStatus, `{}`, ""},
		{"swedish payments", []bot.ChatMessage{user("mina betalningar?")}, bot.ToolPaymentStatus, `{}`, ""},
		{"faq", []bot.ChatMessage{user("how long does a refund take")}, "", "", "5 business days"},
		{"faq multiword keyword", []bot.ChatMessage{user("I want my money back")}, "", "", "5 business days"},
		{"greeting", []bot.ChatMessage{user("hello!")}, "", "", "How can I help you today?"},
		{"first miss", []bot.ChatMessage{user("tell me a joke")}, "", "", "talk to a person"},
		{"first miss says it cannot help", []bot.ChatMessage{user("tell me a joke")}, "", "", bot.CannotHelpMarker},
		// Whether a second miss hands off is the engine's decision
		// (escalation.yaml), not the model's: it says the same again.
		{"second miss", []bot.ChatMessage{user("tell me a joke"), {Role: bot.ChatAssistant, Content: offer}, user("a riddle then")}, "", "", bot.CannotHelpMarker},
		{"several new messages read together", []bot.ChatMessage{user("hi"), user("PAY-1001 please")}, bot.ToolPaymentStatus, `{"reference":"PAY-1001"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := m.Complete(context.Background(), bot.ModelRequest{Messages: tt.msgs})
			if err != nil {
				t.Fatal(err)
			}
			if tt.tool != "" {
				if len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Name != tt.tool || (tt.args != "" && resp.ToolCalls[0].Arguments != tt.args) {
					t.Fatalf("got %+v; want a %s call with %s", resp, tt.tool, tt.args)
				}
				return
			}
			if len(resp.ToolCalls) != 0 || !strings.Contains(resp.Text, tt.contains) {
				t.Errorf("got %+v; want text containing %q", resp, tt.contains)
			}
		})
	}
}

func TestToolResults(t *testing.T) {
	m := newModel()
	tests := []struct {
		name, result, contains string
	}{
		{"list", `{"payments":[{"reference":"PAY-1","amount":"1.00","currency":"EUR","status":"pending","merchant":"M","date":"2026-01-01"}]}`, "**PAY-1**: 1.00 EUR to M, pending"},
		{"one", `{"payment":{"reference":"PAY-1","amount":"1.00","currency":"EUR","status":"failed","merchant":"M","date":"2026-01-01"}}`, "is **failed**"},
		{"empty", `{"payments":[]}`, "couldn't find any payments"},
		{"not found", `{"error":"not_found","reference":"PAY-9"}`, "couldn't find a payment PAY-9"},
		{"not linked", `{"error":"not_linked"}`, "can't see any account"},
		{"private only", `{"error":"private_only"}`, "direct message"},
		{"other error", `{"error":"invalid_arguments"}`, "tell me a bit more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := m.Complete(context.Background(), bot.ModelRequest{Messages: []bot.ChatMessage{
				user("x"), {Role: bot.ChatAssistant, ToolCalls: []bot.ToolCall{{ID: "1", Name: bot.ToolPaymentStatus}}},
				{Role: bot.ChatTool, ToolCallID: "1", Content: tt.result},
			}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(resp.Text, tt.contains) {
				t.Errorf("text %q lacks %q", resp.Text, tt.contains)
			}
		})
	}
	if _, err := m.Complete(context.Background(), bot.ModelRequest{Messages: []bot.ChatMessage{{Role: bot.ChatTool, Content: "not json"}}}); err == nil {
		t.Error("an unreadable tool result was accepted")
	}
}

package bot

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/firstlinehq/firstline/prompts"
)

// BenchmarkCustomerSignal measures the escalation check a turn makes
// before the model is asked, on a history of 50 messages (the default
// HistoryLimit) with the default escalation.yaml.
//
//	go test -run '^$' -bench BenchmarkCustomerSignal ./bot/
func BenchmarkCustomerSignal(b *testing.B) {
	set := prompts.Default()
	e := &Engine{log: slog.New(slog.DiscardHandler)}
	var history []Message
	for i := range 50 {
		role := RoleCustomer
		if i%2 == 1 && i != 49 {
			role = RoleBot // the last message is the customer's new one
		}
		history = append(history, Message{Role: role, Processed: i < 49,
			Text: fmt.Sprintf("message %d: what is the status of my refund, it has been a week", i%7)})
	}
	conv := Conversation{ID: 1}
	if sig := e.customerSignal(b.Context(), conv, history, set); sig == nil || sig.trigger != TriggerRepeat {
		b.Fatalf("signal = %+v, want a repeated question", sig)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = e.customerSignal(b.Context(), conv, history, set)
	}
}

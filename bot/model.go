package bot

import (
	"context"
	"encoding/json"
)

// ChatRole is the role of a message in a model conversation.
type ChatRole string

// Chat roles, as chat-completion APIs name them.
const (
	ChatSystem    ChatRole = "system"
	ChatUser      ChatRole = "user"
	ChatAssistant ChatRole = "assistant"
	ChatTool      ChatRole = "tool"
)

// ChatMessage is one message of the conversation given to a model.
type ChatMessage struct {
	Role    ChatRole
	Content string
	// ToolCalls are the calls an assistant message asked for.
	ToolCalls []ToolCall
	// ToolCallID links a tool result to the call it answers.
	ToolCallID string
}

// ToolCall is a model's request to run a tool. Arguments is the raw JSON the
// model produced: untrusted, validated before anything runs.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// ToolDef describes a tool to a model. Parameters is a JSON Schema.
type ToolDef struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// ModelRequest is what a model is asked: the system prompt, the conversation
// so far (oldest first) and the tools it may call.
type ModelRequest struct {
	System   string
	Messages []ChatMessage
	Tools    []ToolDef
	// Lang is the customer's language as detected ("" when unknown), for
	// models that answer from canned text.
	Lang string
}

// ModelResponse is either text for the customer or tool calls to run.
type ModelResponse struct {
	Text      string
	ToolCalls []ToolCall
	// Usage is what the call cost, as the endpoint reports it (zero for
	// models that do not report, such as the offline one).
	Usage Usage
}

// Usage counts the tokens of one model call.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Model produces the bot's next step. The offline rules model and the
// OpenAI-compatible model implement it.
type Model interface {
	Complete(ctx context.Context, req ModelRequest) (ModelResponse, error)
	// Name says which model is in use, for start-up logs and metrics.
	Name() string
}

// PaymentSource reads payments: the store's payments table, or the company's
// payment API. It answers what it holds; authorization is the tool's job.
type PaymentSource interface {
	// CustomerPayments returns a customer's payments, newest first, at most limit.
	CustomerPayments(ctx context.Context, customerID string, limit int) ([]Payment, error)
	// Payment returns one payment by reference, or ErrNotFound.
	Payment(ctx context.Context, reference string) (Payment, error)
}

// Escalator opens handoffs and carries customer messages to an open one. The
// handoff package implements it; the engine calls it inside its transaction
// so the state change and the messages it causes commit together.
type Escalator interface {
	// Open hands conv to a person: stores the handoff, queues the agent
	// announcement and the customer's acknowledgement, and sets conv.State.
	Open(ctx context.Context, tx Tx, conv *Conversation, req HandoffRequest) error
	// CustomerMessage carries a customer message of a conversation that is
	// waiting for or talking to an agent to the handoff's agent thread.
	CustomerMessage(ctx context.Context, tx Tx, conv *Conversation, msg Message, attachments []Attachment) error
	// Draft shows the bot's drafted answer in the handoff thread, for an
	// agent to send or not (shadow mode). note, when set, says what else
	// the bot would have done ("it would have handed off: …").
	Draft(ctx context.Context, tx Tx, conv *Conversation, text, promptVersion, note string) error
}

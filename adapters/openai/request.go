package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/firstlinehq/firstline/bot"
)

// omittedNote follows the system prompt when older messages were left out,
// so the model does not take the kept part for the whole conversation (and,
// say, greet the customer again or deny something said earlier).
const omittedNote = "Earlier messages of this conversation were omitted."

// emptySchema stands in for a tool without parameters: the API wants an
// object schema, and a nil json.RawMessage would be sent as null.
const emptySchema = `{"type":"object","properties":{}}`

// chatRequest builds the wire request from the system prompt, the tools and
// the history that fit the budget.
func (m *Model) chatRequest(system string, tools []bot.ToolDef, fit trimmed) goopenai.ChatCompletionRequest {
	msgs := make([]goopenai.ChatCompletionMessage, 0, len(fit.messages)+2)
	if system != "" {
		msgs = append(msgs, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: system})
	}
	if fit.omitted > 0 {
		msgs = append(msgs, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: omittedNote})
	}
	for _, cm := range fit.messages {
		msgs = append(msgs, wireMessage(cm))
	}
	req := goopenai.ChatCompletionRequest{Model: m.cfg.Model, Messages: msgs}
	if len(tools) > 0 {
		req.Tools = make([]goopenai.Tool, 0, len(tools))
		for _, td := range tools {
			params := td.Parameters
			if len(params) == 0 {
				params = json.RawMessage(emptySchema)
			}
			req.Tools = append(req.Tools, goopenai.Tool{
				Type: goopenai.ToolTypeFunction,
				Function: &goopenai.FunctionDefinition{
					Name:        td.Name,
					Description: td.Description,
					Parameters:  params,
				},
			})
		}
		// Sent only with tools: OpenAI rejects tool_choice without them.
		req.ToolChoice = "auto"
	}
	// OpenAI's reasoning models refuse max_tokens (and go-openai checks
	// that before sending); everything else, including the local servers,
	// knows max_tokens, while some of those ignore max_completion_tokens.
	if isReasoningModel(m.cfg.Model) {
		req.MaxCompletionTokens = m.cfg.MaxTokens
	} else {
		//lint:ignore SA1019 deprecated by OpenAI, but what the local servers read (see above)
		req.MaxTokens = m.cfg.MaxTokens
	}
	return req
}

// isReasoningModel reports whether model is one of OpenAI's reasoning model
// families, which take max_completion_tokens instead of max_tokens.
func isReasoningModel(model string) bool {
	model = strings.ToLower(model)
	for _, family := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, family) {
			return true
		}
	}
	return false
}

// wireMessage converts one history message to the API's form.
func wireMessage(cm bot.ChatMessage) goopenai.ChatCompletionMessage {
	out := goopenai.ChatCompletionMessage{Role: string(cm.Role), Content: cm.Content}
	switch cm.Role {
	case bot.ChatAssistant:
		for _, tc := range cm.ToolCalls {
			args := tc.Arguments
			if strings.TrimSpace(args) == "" {
				// The API requires the field; the engine read empty
				// arguments as no arguments, so say that.
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, goopenai.ToolCall{
				ID:       tc.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: tc.Name, Arguments: args},
			})
		}
	case bot.ChatTool:
		out.ToolCallID = cm.ToolCallID
		if out.Content == "" {
			// go-openai omits an empty content, and the API requires one
			// on tool results.
			out.Content = "{}"
		}
	}
	return out
}

// errContentFilter marks an answer the endpoint withheld.
var errContentFilter = errors.New("the endpoint's content filter withheld the answer")

// parseResponse reads the model's answer: text for the customer, or tool
// calls. It rejects what the engine cannot use. It does not check tool
// names or arguments: the engine refuses unknown tools and malformed
// arguments itself, with a result the model can read and correct.
func parseResponse(resp goopenai.ChatCompletionResponse) (bot.ModelResponse, error) {
	if len(resp.Choices) == 0 {
		return bot.ModelResponse{}, errors.New("the response has no choices")
	}
	choice := resp.Choices[0]
	msg := choice.Message
	out := bot.ModelResponse{Text: strings.TrimSpace(msg.Content)}
	seen := make(map[string]bool, len(msg.ToolCalls))
	for i, tc := range msg.ToolCalls {
		switch {
		case tc.Type != "" && tc.Type != goopenai.ToolTypeFunction:
			return bot.ModelResponse{}, fmt.Errorf("tool call %d has type %q, not function", i, clip(string(tc.Type), 40))
		case strings.TrimSpace(tc.ID) == "":
			return bot.ModelResponse{}, fmt.Errorf("tool call %d has no id", i)
		case strings.TrimSpace(tc.Function.Name) == "":
			return bot.ModelResponse{}, fmt.Errorf("tool call %d has no function name", i)
		case seen[tc.ID]:
			// Results are matched to calls by id: a repeated id would
			// attach one result to two calls.
			return bot.ModelResponse{}, fmt.Errorf("tool call %d repeats an earlier id", i)
		}
		seen[tc.ID] = true
		out.ToolCalls = append(out.ToolCalls, bot.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	if len(out.ToolCalls) > 0 || out.Text != "" {
		return out, nil
	}
	// A refusal is an answer the customer can be given.
	if refusal := strings.TrimSpace(msg.Refusal); refusal != "" {
		return bot.ModelResponse{Text: refusal}, nil
	}
	if choice.FinishReason == goopenai.FinishReasonContentFilter {
		return bot.ModelResponse{}, errContentFilter
	}
	return bot.ModelResponse{}, fmt.Errorf("the message has neither text nor tool calls (finish reason %q)", clip(string(choice.FinishReason), 40))
}

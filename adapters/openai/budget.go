package openai

import (
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot"
)

// The token estimate.
//
// Firstline talks to many models with different tokenizers, and shipping
// each one's vocabulary to count exactly is not worth it for a budget whose
// purpose is to stay well inside the context window. The estimate is:
//
//	text:      one token per 4 bytes of UTF-8, rounded up
//	message:   4 tokens of overhead (role and separators) + its text
//	tool call: 4 tokens + its id, name and arguments
//	tool:      8 tokens + its name, description and JSON Schema
//	request:   3 tokens (the priming of the reply) + the above
//
// Four bytes a token matches English and JSON in OpenAI's tokenizers (about
// four characters a token). Counting bytes rather than characters keeps it
// on the safe side for other scripts, which take more bytes and also more
// tokens per character. The overheads follow OpenAI's published counting
// recipe (3–4 tokens per message).
const (
	bytesPerToken    = 4
	messageOverhead  = 4
	toolCallOverhead = 4
	toolDefOverhead  = 8
	replyOverhead    = 3
)

// minKeepTokens is what is kept, at least, of a newest customer message
// that does not fit the budget: enough for the question to survive even
// when the system prompt and tools alone use the whole budget.
const minKeepTokens = 64

// truncationMark ends a customer message that was shortened, so the model
// does not answer the fragment as if it were the whole message.
const truncationMark = "\n\n[This message was too long and was cut here.]"

// textTokens estimates the tokens of s.
func textTokens(s string) int { return (len(s) + bytesPerToken - 1) / bytesPerToken }

// messageTokens estimates the tokens of one message.
func messageTokens(cm bot.ChatMessage) int {
	n := messageOverhead + textTokens(cm.Content) + textTokens(cm.ToolCallID)
	for _, tc := range cm.ToolCalls {
		n += toolCallOverhead + textTokens(tc.ID) + textTokens(tc.Name) + textTokens(tc.Arguments)
	}
	return n
}

// toolsTokens estimates the tokens of the tool definitions.
func toolsTokens(tools []bot.ToolDef) int {
	n := 0
	for _, td := range tools {
		n += toolDefOverhead + textTokens(td.Name) + textTokens(td.Description) + textTokens(string(td.Parameters))
	}
	return n
}

// messagesTokens estimates the tokens of msgs.
func messagesTokens(msgs []bot.ChatMessage) int {
	n := 0
	for _, cm := range msgs {
		n += messageTokens(cm)
	}
	return n
}

// requestTokens estimates a whole request: the system prompt, the tools
// and msgs (which include the omission note when there is one).
func requestTokens(system string, tools []bot.ToolDef, msgs []bot.ChatMessage) int {
	n := replyOverhead + toolsTokens(tools) + messagesTokens(msgs)
	if system != "" {
		n += messageTokens(bot.ChatMessage{Role: bot.ChatSystem, Content: system})
	}
	return n
}

// trimmed is the part of a conversation that is sent.
type trimmed struct {
	messages  []bot.ChatMessage
	omitted   int  // how many of the oldest messages were left out
	truncated bool // the newest customer message was shortened
	tokens    int  // estimate of the whole request, with the note if any
}

// trimHistory keeps what fits in budget tokens, together with the system
// prompt and the tools, which are always sent:
//
//   - The newest turn, from the last customer message on (with the tool
//     calls and results made for it so far), is always kept: it is what the
//     model must answer. When it does not fit, the customer message is
//     shortened, never dropped; tool calls and their results are kept whole.
//   - Older messages are added newest first, in groups that are never split:
//     an assistant message with tool calls and the results that follow it.
//     The first group that does not fit ends the history, so what is kept
//     has no gaps.
//   - The kept history never starts with a tool result: without its call,
//     the API rejects it.
//
// When messages were left out, room is kept for omittedNote, which the
// request builder puts after the system prompt. msgs is not modified.
func trimHistory(system string, tools []bot.ToolDef, msgs []bot.ChatMessage, budget int) trimmed {
	note := messageTokens(bot.ChatMessage{Role: bot.ChatSystem, Content: omittedNote})
	// Tool results whose call is not in the history are unusable anywhere,
	// and fatal at the start.
	orphans := 0
	for orphans < len(msgs) && msgs[orphans].Role == bot.ChatTool {
		orphans++
	}
	if total := requestTokens(system, tools, msgs[orphans:]); total <= budget || len(msgs) == orphans {
		t := trimmed{messages: msgs[orphans:], omitted: orphans, tokens: total}
		if orphans > 0 {
			t.tokens += note
		}
		return t
	}
	msgs = msgs[orphans:]
	avail := budget - requestTokens(system, tools, nil) - note

	start := lastUser(msgs)
	turn := msgs[start:]
	truncated := false
	if cost := messagesTokens(turn); cost > avail && msgs[start].Role == bot.ChatUser {
		first := msgs[start]
		room := max(avail-(cost-messageTokens(first))-messageOverhead, minKeepTokens)
		if short, cut := shorten(first.Content, room); cut {
			first.Content = short
			turn = append([]bot.ChatMessage{first}, turn[1:]...)
			truncated = true
		}
	}
	used := messagesTokens(turn)

	first := start
	for first > 0 {
		begin := groupStart(msgs, first)
		cost := messagesTokens(msgs[begin:first])
		if used+cost > avail {
			break
		}
		used += cost
		first = begin
	}

	kept := make([]bot.ChatMessage, 0, start-first+len(turn))
	kept = append(kept, msgs[first:start]...)
	kept = append(kept, turn...)
	t := trimmed{messages: kept, omitted: orphans + len(msgs) - len(kept), truncated: truncated}
	t.tokens = requestTokens(system, tools, kept)
	if t.omitted > 0 {
		t.tokens += note
	}
	return t
}

// lastUser returns the index where the newest turn starts: the last
// customer message, or, when there is none, the last group.
func lastUser(msgs []bot.ChatMessage) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == bot.ChatUser {
			return i
		}
	}
	return groupStart(msgs, len(msgs))
}

// groupStart returns where the group that ends before end begins: the
// message at end-1, or, when that is a tool result, the message with the
// calls it answers. msgs must not start with a tool result.
func groupStart(msgs []bot.ChatMessage, end int) int {
	i := end - 1
	for i > 0 && msgs[i].Role == bot.ChatTool {
		i--
	}
	return i
}

// shorten cuts s, at a rune boundary, so that it and truncationMark take at
// most tokens tokens. It reports whether it cut anything.
func shorten(s string, tokens int) (string, bool) {
	limit := tokens * bytesPerToken
	if len(s) <= limit {
		return s, false
	}
	n := max(limit-len(truncationMark), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + truncationMark, true
}

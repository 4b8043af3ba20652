package slack

// maxDepth bounds how deeply a payload from Slack may nest. Slack's events
// and interaction payloads are a few levels deep (rich-text blocks reach
// about eight); one nested deeper is not Slack's, and is refused before a
// JSON decoder spends time and stack on it.
const maxDepth = 32

// tooDeep reports whether JSON b nests objects and arrays deeper than max.
// It reads b once, skipping strings, and does not otherwise validate it.
func tooDeep(b []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

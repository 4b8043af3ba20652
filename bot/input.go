package bot

import (
	"net/url"
	"strings"

	"github.com/firstlinehq/firstline/bot/mask"
)

// Bounds on what one incoming message may carry. Platforms send less than
// this; anything more is hostile or broken, and is cut early, before it
// costs masking, storage or model tokens.
const (
	// maxRawText is how much of a message's text is read at all: masking
	// runs on it, so it must exceed MaxTextLen by enough that a card
	// number straddling the final cut is masked before it is cut.
	maxRawText = 4 * MaxTextLen
	// maxAttachmentName and maxAttachmentURL bound one attachment's fields.
	maxAttachmentName = 200
	maxAttachmentURL  = 2048
)

// cleanText masks secrets in a customer's text, trims it and cuts it to
// MaxTextLen. It reports how many secrets were masked and whether the text
// was cut, so the customer can be told.
func cleanText(raw string) (text string, masked int, cut bool) {
	if len(raw) > maxRawText {
		raw, cut = truncate(raw, maxRawText), true
	}
	text, masked = mask.Text(raw)
	text = strings.TrimSpace(text)
	if len(text) > MaxTextLen {
		text, cut = truncate(text, MaxTextLen), true
	}
	return text, masked, cut
}

// capAttachments keeps the first max attachments with a web link, each with
// bounded fields, and reports how many were dropped. Agents receive
// attachments as links, so a link that is not http(s) is of no use to them
// and may be a trick (javascript:, data:).
func capAttachments(as []Attachment, max int) ([]Attachment, int) {
	if max <= 0 {
		max = DefaultMaxAttachments
	}
	out := make([]Attachment, 0, min(len(as), max))
	dropped := 0
	for _, a := range as {
		u, err := url.Parse(a.URL)
		if len(out) == max || len(a.URL) > maxAttachmentURL || err != nil ||
			(u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			dropped++
			continue
		}
		a.Name = truncate(strings.TrimSpace(a.Name), maxAttachmentName)
		out = append(out, a)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, dropped
}

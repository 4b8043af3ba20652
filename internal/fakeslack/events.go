package fakeslack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The events below are shaped as Slack sends them (docs.slack.dev: the
// message.im, message.channels and app_mention examples, and the
// block_actions payload).

func richText(text string) []any {
	return []any{map[string]any{"type": "rich_text", "block_id": "Bk1", "elements": []any{
		map[string]any{"type": "rich_text_section", "elements": []any{map[string]any{"type": "text", "text": text}}},
	}}}
}

// IMEvent is a message event in user's direct message with the bot.
func IMEvent(user, text, ts string) map[string]any {
	return map[string]any{"type": "message", "channel": DMChannel(user), "user": user, "text": text, "ts": ts,
		"event_ts": ts, "channel_type": "im", "client_msg_id": "c-" + ts, "team": Team, "blocks": richText(text)}
}

// ChannelEvent is a message event in a channel, in thread when it is set.
func ChannelEvent(user, channel, text, ts, thread string) map[string]any {
	ev := map[string]any{"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
		"event_ts": ts, "channel_type": "channel", "client_msg_id": "c-" + ts, "team": Team, "blocks": richText(text)}
	if thread != "" {
		ev["thread_ts"] = thread
		ev["parent_user_id"] = BotUser
	}
	return ev
}

// MentionEvent is an app_mention event in a channel, in thread when it is
// set.
func MentionEvent(user, channel, text, ts, thread string) map[string]any {
	ev := map[string]any{"type": "app_mention", "channel": channel, "user": user, "text": text, "ts": ts,
		"event_ts": ts, "client_msg_id": "c-" + ts, "team": Team, "blocks": richText(text)}
	if thread != "" {
		ev["thread_ts"] = thread
	}
	return ev
}

// EventCallback wraps an inner event as Slack's event_callback, with an
// event_id of its own.
func (s *Server) EventCallback(inner map[string]any) []byte {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	body, err := json.Marshal(map[string]any{
		"token": "legacy-verification-token", "team_id": Team, "context_team_id": Team, "api_app_id": "A1",
		"event": inner, "type": "event_callback", "event_id": fmt.Sprintf("Ev%06d", n), "event_time": time.Now().Unix(),
		"authorizations": []any{map[string]any{"enterprise_id": nil, "team_id": Team, "user_id": BotUser,
			"is_bot": true, "is_enterprise_install": false}},
		"is_ext_shared_channel": false, "event_context": "4-fake",
	})
	if err != nil {
		panic("fakeslack: an event that does not marshal: " + err.Error())
	}
	return body
}

// BlockActions is the block_actions payload of user pressing button b of
// the message ts in channel.
func BlockActions(user, channel, ts string, b Button) []byte {
	return blockActions(user, channel, ts, b, "button")
}

// FeedbackActions is the block_actions payload of user pressing b, one of
// the two buttons of a feedback_buttons element (Post.Feedback): Slack
// sends the element's action id with the pressed button's value.
func FeedbackActions(user, channel, ts string, b Button) []byte {
	return blockActions(user, channel, ts, b, "feedback_buttons")
}

// PressFeedback is user pressing b of a feedback_buttons element of the
// message ts in channel, over Socket Mode. It returns the envelope's id.
func (s *Server) PressFeedback(user, channel, ts string, b Button) string {
	return s.Deliver(Interactive, FeedbackActions(user, channel, ts, b))
}

func blockActions(user, channel, ts string, b Button, elementType string) []byte {
	handle := strings.ToLower(strings.TrimPrefix(user, "U-"))
	payload, err := json.Marshal(map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": handle, "name": handle, "team_id": Team},
		"api_app_id": "A1", "token": "legacy-verification-token",
		"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id": "123.456.abc",
		"team":       map[string]any{"id": Team, "domain": "test"},
		"enterprise": nil, "is_enterprise_install": false,
		"channel":      map[string]any{"id": channel, "name": "support"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": "…", "user": BotUser, "bot_id": BotID},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.com/actions/T1/1/fake",
		"actions": []any{map[string]any{"action_id": b.ActionID, "block_id": "blk", "type": elementType,
			"text":  map[string]any{"type": "plain_text", "text": b.Label, "emoji": true},
			"value": b.Value, "action_ts": "1762077600.123456"}},
	})
	if err != nil {
		panic("fakeslack: a payload that does not marshal: " + err.Error())
	}
	return payload
}

// Sign computes Slack's v0 request signature of body at time at, for the
// Events API over HTTP.
func Sign(secret string, at time.Time, body []byte) (ts, sig string) {
	ts = strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	return ts, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// DM is user writing text to the bot in a direct message, over Socket
// Mode: the message joins the channel's history and its event is queued.
// It returns the message's ts and the envelope's id.
func (s *Server) DM(user, text string) (ts, envelope string) {
	s.mu.Lock()
	ts = s.addLocked(DMChannel(user), user, text, "")
	s.mu.Unlock()
	return ts, s.Deliver(EventsAPI, s.EventCallback(IMEvent(user, text, ts)))
}

// Say is user writing text in a channel (in thread when it is set), over
// Socket Mode. It returns the message's ts and the envelope's id.
func (s *Server) Say(user, channel, text, thread string) (ts, envelope string) {
	s.mu.Lock()
	ts = s.addLocked(channel, user, text, thread)
	s.mu.Unlock()
	return ts, s.Deliver(EventsAPI, s.EventCallback(ChannelEvent(user, channel, text, ts, thread)))
}

// Press is user pressing button b of the message ts in channel, over
// Socket Mode. It returns the envelope's id.
func (s *Server) Press(user, channel, ts string, b Button) string {
	return s.Deliver(Interactive, BlockActions(user, channel, ts, b))
}

// EditEvent is Slack's message_changed event for user's message ts in
// channel, now reading text; editTS is the edit's own timestamp.
func EditEvent(user, channel, channelType, ts, text, editTS string) map[string]any {
	return map[string]any{"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": channel, "channel_type": channelType, "ts": editTS, "event_ts": editTS, "team": Team,
		"message": map[string]any{"type": "message", "user": user, "text": text, "ts": ts, "team": Team,
			"client_msg_id": "c-" + ts, "blocks": richText(text),
			"edited": map[string]any{"user": user, "ts": editTS}},
		"previous_message": map[string]any{"type": "message", "user": user, "text": "…", "ts": ts, "team": Team}}
}

// DeleteEvent is Slack's message_deleted event for user's message ts in
// channel.
func DeleteEvent(user, channel, channelType, ts, eventTS string) map[string]any {
	return map[string]any{"type": "message", "subtype": "message_deleted", "hidden": true,
		"channel": channel, "channel_type": channelType, "ts": eventTS, "event_ts": eventTS,
		"deleted_ts": ts, "team": Team,
		"previous_message": map[string]any{"type": "message", "user": user, "text": "…", "ts": ts, "team": Team}}
}

package fakeslack

// Messages that reach the history but never the bot, as when Slack gave up
// on an event: the Events API retries a failed delivery three times within
// about five minutes (Socket Mode redelivers an unacknowledged envelope in
// the same window), then drops it. A bot that was away for longer finds
// such messages only by reading conversations.history or
// conversations.replies.

// Message is a message someone (a person or another app) writes in a
// channel.
type Message struct {
	User, Text string
	// Thread is the ts of the thread's parent, for a reply.
	Thread string
	// Subtype is Slack's message subtype ("bot_message", "channel_join",
	// "thread_broadcast", …), "" for an ordinary message; BotID is set on
	// the messages of apps.
	Subtype, BotID string
	// Metadata is the message's metadata, returned with
	// include_all_metadata as Slack does; any app, or a person with a
	// user token, can post a message carrying any metadata.
	Metadata *Metadata
}

// Write adds m to channel's history without delivering an event for it,
// and returns its ts. To deliver it as well, send the event with that ts
// (IMEvent, ChannelEvent, MentionEvent).
func (s *Server) Write(channel string, m Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.newTSLocked()
	s.history[channel] = append(s.history[channel], &msg{TS: ts, ThreadTS: m.Thread, User: m.User,
		BotID: m.BotID, Subtype: m.Subtype, Text: m.Text, Metadata: m.Metadata})
	return ts
}

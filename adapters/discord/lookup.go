package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot"
)

// No doubles after a crash.
//
// Every message the adapter creates for an outbox row carries a nonce
// derived from the row ("fl<id>", ".N" for further parts) with
// enforce_nonce, so Discord itself answers a retry within its nonce window
// (a few minutes) with the message it already created. When the
// dispatcher hands over a row marked MaybeSent (an earlier attempt's
// outcome was never recorded: the process died mid-send, or the request
// timed out), the retry may come later than that window, so the adapter
// first reads the channel's recent messages and skips the parts whose
// nonce is there.

// lookupLimit is how many recent messages the lookup reads: the most
// Discord returns in one page, far more than a crash's window holds in one
// channel.
const lookupLimit = 100

// created returns the ids of the bot's recent messages in channel whose
// nonce belongs to outbox row id, by nonce. A lookup Discord refuses for
// good (the channel gone or hidden) finds nothing: the message is then
// created again rather than never.
func (a *Adapter) created(ctx context.Context, m bot.Outgoing, channel string) (map[string]string, error) {
	endpoint := discordgo.EndpointChannelMessages(channel) + fmt.Sprintf("?limit=%d", lookupLimit)
	body, err := a.request(ctx, http.MethodGet, endpoint, discordgo.EndpointChannelMessages(channel), nil)
	if err != nil {
		if isPermanent(err) {
			a.log.WarnContext(ctx, "discord: cannot look for an earlier attempt's message; sending it again", "outbox", m.ID, "err", a.redact(err))
			return nil, nil
		}
		return nil, a.wrap(err, "look for an earlier attempt's message in channel %s", channel)
	}
	var msgs []struct {
		ID     string `json:"id"`
		Nonce  any    `json:"nonce"` // a string or, from some clients, a number
		Author struct {
			ID string `json:"id"`
		} `json:"author"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		return nil, a.wrap(err, "read the messages of channel %s", channel)
	}
	self := a.selfID()
	found := map[string]string{}
	for _, msg := range msgs {
		n, ok := msg.Nonce.(string)
		if !ok || n == "" || (self != "" && msg.Author.ID != self) {
			continue
		}
		found[n] = msg.ID
	}
	return found, nil
}

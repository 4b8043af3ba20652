package discord

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Permissions are the server permissions the bot uses, and no more:
//
//   - View Channels: see the channels it is mentioned in and the agent
//     channel.
//   - Send Messages: answer, and post handoff cards in the agent channel
//     (also needed for the typing indicator).
//   - Send Messages in Threads: answer in conversation threads and post in
//     handoff threads.
//   - Create Public Threads: start a thread from a customer's mention and
//     from each handoff card.
//   - Create Private Threads: open the private thread of /support, which
//     only the customer, the bot (and moderators) see.
//   - Read Message History: fetch back messages sent while the gateway was
//     disconnected, in conversation and handoff threads.
//
// Editing its own messages (the handoff card), adding the customer to the
// private thread it started, and answering button clicks and slash commands
// need no permission. The agent role is pinged without Mention Everyone: make
// the role mentionable ("Allow anyone to @mention this role") instead.
const Permissions = discordgo.PermissionViewChannel |
	discordgo.PermissionSendMessages |
	discordgo.PermissionSendMessagesInThreads |
	discordgo.PermissionCreatePublicThreads |
	discordgo.PermissionCreatePrivateThreads |
	discordgo.PermissionReadMessageHistory

// Scopes are the OAuth2 scopes of the invite: "bot" adds the bot user to the
// server, "applications.commands" lets it register its slash commands
// there (commands.go). Message buttons need no scope of their own.
var scopes = []string{"bot", "applications.commands"}

// InviteURL returns the OAuth2 URL that adds the bot with the given client
// (application) id to a server, asking for exactly Permissions.
func InviteURL(clientID string) string {
	q := url.Values{}
	q.Set("client_id", clientID)
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("permissions", strconv.FormatInt(Permissions, 10))
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}

// ClientIDFromToken returns the bot's user id, which is also its
// application's client id, from a bot token: a token's first segment is the
// id in base64. The error never repeats the token.
func ClientIDFromToken(token string) (string, error) {
	token = bareToken(token)
	first, _, ok := strings.Cut(token, ".")
	if !ok || first == "" {
		return "", errors.New("discord: not a bot token: want three dot-separated parts")
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(strings.TrimRight(first, "=")); err == nil {
			break
		}
	}
	if err != nil {
		return "", errors.New("discord: not a bot token: its first part is not base64")
	}
	id := string(raw)
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", errors.New("discord: not a bot token: its first part is not a user id")
	}
	return id, nil
}

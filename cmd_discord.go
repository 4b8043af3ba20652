package main

import (
	"context"
	"fmt"

	"github.com/firstlinehq/firstline/adapters/discord"
)

func cmdDiscord(_ context.Context, args []string, sys stdio) error {
	if len(args) == 0 || args[0] != "invite" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(sys.err, "Usage: firstline discord invite [--client-id ID]")
			return nil
		}
		return fmt.Errorf("%w: want \"discord invite\"", errUsage)
	}
	flags := newFlagSet("discord invite", "discord invite [--client-id ID]\n\nPrints the OAuth2 URL that adds the bot to a server, with the scopes and\npermissions it needs. The client id is read from DISCORD_BOT_TOKEN unless given.", sys)
	clientID := flags.String("client-id", "", "the application's client id (default: from DISCORD_BOT_TOKEN)")
	if err := parseFlags(flags, args[1:]); err != nil {
		return err
	}
	id := *clientID
	if id == "" {
		token := sys.getenv("DISCORD_BOT_TOKEN")
		if token == "" {
			return fmt.Errorf("%w: set DISCORD_BOT_TOKEN or pass --client-id", errUsage)
		}
		var err error
		if id, err = discord.ClientIDFromToken(token); err != nil {
			return fmt.Errorf("DISCORD_BOT_TOKEN: %w", err)
		}
	}
	fmt.Fprintln(sys.out, discord.InviteURL(id))
	return nil
}

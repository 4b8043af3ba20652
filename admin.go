package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

func cmdLink(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("link", "link --platform slack|discord --user ID [--team ID] --customer ID | --list | --unlink --platform P --user ID [--team ID]", sys)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	platform := fs.String("platform", "", "slack or discord")
	user := fs.String("user", "", "the platform's user ID (Slack U…, Discord snowflake)")
	team := fs.String("team", "", "Slack workspace (team) ID; not used for Discord, whose user IDs are global")
	customer := fs.String("customer", "", "the customer ID to link to")
	list := fs.Bool("list", false, "list the links")
	unlink := fs.Bool("unlink", false, "remove the link of --platform/--user/--team")
	by := fs.String("by", "", "who makes the change, for the audit log (default: $USER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *list && *unlink {
		return fmt.Errorf("%w: --list and --unlink exclude each other", errUsage)
	}
	var id bot.Identity
	if !*list {
		p := bot.Platform(*platform)
		if p != bot.Slack && p != bot.Discord {
			return fmt.Errorf("%w: --platform: want slack or discord, got %q", errUsage, *platform)
		}
		if *user == "" {
			return fmt.Errorf("%w: --user is required", errUsage)
		}
		if p == bot.Slack && *team == "" {
			return fmt.Errorf("%w: --team is required for Slack (the workspace ID, T…)", errUsage)
		}
		if !*unlink && *customer == "" {
			return fmt.Errorf("%w: --customer is required", errUsage)
		}
		id = bot.NewIdentity(p, *team, *user)
	}
	st, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()

	switch {
	case *list:
		links, err := st.Links(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(sys.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PLATFORM\tTEAM\tUSER\tCUSTOMER\tLINKED")
		for _, l := range links {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Identity.Platform, dash(l.Identity.Workspace), l.Identity.User, l.CustomerID, l.CreatedAt.UTC().Format(time.DateTime))
		}
		return tw.Flush()
	case *unlink:
		if err := unlinkAudited(ctx, st, id, adminActor(sys, *by)); errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("no link for %s user %s", id.Platform, id.User)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(sys.out, "unlinked %s user %s\n", id.Platform, id.User)
		return nil
	default:
		err := linkAudited(ctx, st, bot.Link{Identity: id, CustomerID: *customer, CreatedAt: time.Now()}, adminActor(sys, *by))
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("no customer %s in %s", *customer, dbForLog(cfg.DB))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(sys.out, "linked %s user %s to customer %s\n", id.Platform, id.User, *customer)
		return nil
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

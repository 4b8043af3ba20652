package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firstlinehq/firstline/adapters/discord"
	"github.com/firstlinehq/firstline/adapters/slack"
	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/bot/app"
	"github.com/firstlinehq/firstline/bot/customerfile"
	"github.com/firstlinehq/firstline/bot/knowledge"
	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/firstlinehq/firstline/prompts"
)

func cmdLink(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("link", "link --platform slack|discord --user ID [--team ID] --customer ID | --list | --unlink --platform P --user ID [--team ID]", sys)
	if err != nil {
		return err
	}
	fs := c.fs
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
	if err := c.cfg.Validate(); err != nil {
		return err
	}
	if *list && *unlink {
		return fmt.Errorf("%w: --list and --unlink exclude each other", errUsage)
	}
	var id bot.Identity
	if !*list {
		if id, err = linkIdentity(*platform, *team, *user); err != nil {
			return err
		}
		if !*unlink && *customer == "" {
			return fmt.Errorf("%w: --customer is required", errUsage)
		}
	}
	st, err := openStore(ctx, c.cfg.DB)
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
		// The customer is checked in the directory the bot uses: the
		// company's API when it is configured, else the customers table.
		dir, where, err := directory(c.cfg, st)
		if err != nil {
			return err
		}
		cu, err := dir.Customer(ctx, *customer)
		switch {
		case errors.Is(err, bot.ErrNotFound):
			return fmt.Errorf("no customer %s in %s", *customer, where)
		case err != nil:
			return fmt.Errorf("could not check customer %s in %s, so nothing was linked: %w", *customer, where, err)
		}
		if err := linkAudited(ctx, st, bot.Link{Identity: id, CustomerID: cu.ID, CreatedAt: time.Now()}, adminActor(sys, *by)); err != nil {
			return err
		}
		fmt.Fprintf(sys.out, "linked %s user %s to customer %s, found in %s\n", id.Platform, id.User, cu.ID, where)
		return nil
	}
}

// adminCommand is a command on the database FIRSTLINE_DB (or --db)
// names: its configuration and flags.
type adminCommand struct {
	cfg Config
	fs  *flag.FlagSet
}

// newAdminCommand reads the configuration and starts the command's flags
// with --db.
func newAdminCommand(name, synopsis string, sys stdio) (*adminCommand, error) {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return nil, err
	}
	c := &adminCommand{cfg: cfg, fs: newFlagSet(name, synopsis, sys)}
	c.fs.StringVar(&c.cfg.DB, "db", c.cfg.DB, "database (FIRSTLINE_DB)")
	return c, nil
}

// open validates the configuration and opens the store. existing refuses
// a SQLite file that is not there (mustExist).
func (c *adminCommand) open(ctx context.Context, existing bool) (*sqlstore.Store, error) {
	if err := c.cfg.Validate(); err != nil {
		return nil, err
	}
	if existing {
		if err := mustExist(c.cfg.DB); err != nil {
			return nil, err
		}
	}
	return openStore(ctx, c.cfg.DB)
}

// linkIdentity is the chat identity that link's flags name.
func linkIdentity(platform, team, user string) (bot.Identity, error) {
	p := bot.Platform(platform)
	if p != bot.Slack && p != bot.Discord {
		return bot.Identity{}, fmt.Errorf("%w: --platform: want slack or discord, got %q", errUsage, platform)
	}
	if user == "" {
		return bot.Identity{}, fmt.Errorf("%w: --user is required", errUsage)
	}
	if p == bot.Slack && team == "" {
		return bot.Identity{}, fmt.Errorf("%w: --team is required for Slack (the workspace ID, T…)", errUsage)
	}
	return bot.NewIdentity(p, team, user), nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cmdExport writes everything stored about a customer as JSON, for an
// access request, and records the export in the audit log.
func cmdExport(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("export", "export --customer ID [--out FILE] [--by NAME] [--db FILE]", sys)
	if err != nil {
		return err
	}
	fs := c.fs
	customer := fs.String("customer", "", "the customer ID to export")
	out := fs.String("out", "", "write to FILE (created with mode 0600) instead of standard output")
	by := fs.String("by", "", "who asks, for the audit log (default: $USER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *customer == "" {
		return fmt.Errorf("%w: --customer is required", errUsage)
	}
	st, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()

	now := time.Now()
	var data bot.CustomerData
	err = st.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		if data, err = tx.CustomerData(ctx, *customer); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: now, Actor: adminActor(sys, *by), CustomerID: *customer,
			Action: bot.AuditExport, Record: data.Summary(), Outcome: bot.AuditAllowed})
	})
	if errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("nothing is stored about customer %s", *customer)
	}
	if err != nil {
		return fmt.Errorf("export customer %s: %w", *customer, err)
	}
	doc := bot.NewExport(data, now)
	if *out == "" {
		return doc.Write(sys.out)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := doc.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(sys.err, "exported customer %s to %s: %s\n", *customer, *out, data.Summary())
	return nil
}

// cmdForget erases everything stored about a customer, for an erasure
// request, and records the erasure in the audit log, in one transaction.
func cmdForget(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("forget", "forget --customer ID [--by NAME] [--db FILE]", sys)
	if err != nil {
		return err
	}
	fs := c.fs
	customer := fs.String("customer", "", "the customer ID to erase")
	by := fs.String("by", "", "who asks, for the audit log (default: $USER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *customer == "" {
		return fmt.Errorf("%w: --customer is required", errUsage)
	}
	st, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()

	var erased bot.Erased
	var kept int
	err = st.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		if erased, err = tx.EraseCustomer(ctx, *customer); err != nil {
			return err
		}
		entry := bot.AuditEntry{At: time.Now(), Actor: adminActor(sys, *by), CustomerID: *customer,
			Action: bot.AuditErase, Record: erased.String(), Outcome: bot.AuditAllowed}
		if err := tx.AppendAudit(ctx, &entry); err != nil {
			return err
		}
		entries, err := tx.AuditEntries(ctx, bot.AuditQuery{CustomerID: *customer})
		kept = len(entries)
		return err
	})
	if err != nil {
		return fmt.Errorf("erase customer %s: %w", *customer, err)
	}
	if erased.Zero() {
		fmt.Fprintf(sys.out, "nothing was stored about customer %s; the request is recorded in the audit log\n", *customer)
		return nil
	}
	fmt.Fprintf(sys.out, "erased customer %s: %s\n", *customer, erased.String())
	fmt.Fprintf(sys.out, "the audit log keeps %d entries about them (identifiers only, no text); see docs/privacy.md\n", kept)
	if erased.Handoffs > 0 {
		fmt.Fprintln(sys.out, "handoff threads in the agent channel on Slack or Discord are out of reach: delete them there")
	}
	return nil
}

// cmdAudit prints the audit log: every access to account data by a tool,
// every change of an identity link, every export and erasure.
func cmdAudit(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("audit", "audit [--since 7d] [--customer ID] [--limit N] [--json] [--db FILE]", sys)
	if err != nil {
		return err
	}
	fs := c.fs
	since := fs.String("since", "7d", "how far back: 7d, 24h, 30m; 0 for everything")
	customer := fs.String("customer", "", "only entries about this customer or made by an identity linked to them")
	limit := fs.Int("limit", 1000, "at most the N newest entries; 0 for all")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	period, err := parseDuration(*since)
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit must not be negative", errUsage)
	}
	st, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()

	q := bot.AuditQuery{CustomerID: *customer, Limit: *limit}
	if period > 0 {
		q.Since = time.Now().Add(-period)
	}
	var entries []bot.AuditEntry
	err = st.WithTx(ctx, func(tx bot.Tx) error {
		var err error
		entries, err = tx.AuditEntries(ctx, q)
		return err
	})
	if err != nil {
		return fmt.Errorf("read the audit log: %w", err)
	}
	if *asJSON {
		out := make([]bot.ExportAudit, 0, len(entries))
		for _, e := range entries {
			out = append(out, bot.ExportAuditEntry(e))
		}
		enc := json.NewEncoder(sys.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if err := printAudit(sys.out, entries); err != nil {
		return err
	}
	if *limit > 0 && len(entries) == *limit {
		fmt.Fprintf(sys.err, "showing the newest %d entries; use --limit 0 or a shorter --since for more\n", *limit)
	}
	return nil
}

// printAudit writes audit entries as a table.
func printAudit(w io.Writer, entries []bot.AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tACTOR\tCUSTOMER\tACTION\tRECORD\tOUTCOME\tREASON\tCONVERSATION")
	for _, e := range entries {
		conv := "-"
		if e.ConversationID != 0 {
			conv = fmt.Sprint(e.ConversationID)
		}
		customer := dash(e.CustomerID)
		if e.ActorCustomer != "" && e.ActorCustomer != e.CustomerID {
			customer += " (asked by " + e.ActorCustomer + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.DateTime), e.Actor, customer,
			e.Action, dash(cleanField(e.Record, 80)), e.Outcome, dash(e.Reason), conv)
	}
	return tw.Flush()
}

// cmdStats prints the support figures over a period: automation and
// handoff rates, first-response, claim and resolution times, satisfaction,
// repeat inquiries, model tokens, and the topics customers asked about.
// docs/stats.md defines every figure.
func cmdStats(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("stats", "stats [--since 7d] [--json] [--db FILE]", sys)
	if err != nil {
		return err
	}
	fs := c.fs
	since := fs.String("since", "7d", "the period, back from now: 7d, 24h, 90m")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	period, err := parseDuration(*since)
	if err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if period <= 0 {
		return fmt.Errorf("%w: --since: the period must be longer than zero", errUsage)
	}
	st, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()

	sum, err := stats.Summarize(ctx, st, time.Now(), period, c.cfg.IdleTimeout)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(sys.out)
		enc.SetIndent("", "  ")
		return enc.Encode(sum.JSON(*since))
	}
	return sum.WriteTable(sys.out, *since)
}

// mustExist refuses a SQLite file that is not there: opening it would
// create an empty database and report zeros, as if nothing had happened.
func mustExist(db string) error {
	if sqlstore.IsPostgres(db) {
		return nil
	}
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("FIRSTLINE_DB: no database at %s", db)
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("migrate", "migrate [--db URL|FILE]\n\nApplies the database migrations ahead of a deploy. Replicas starting at once\nare safe too: migrations run under a lock.", sys)
	if err != nil {
		return err
	}
	flags := c.fs
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	st, err := c.open(ctx, false) // opening applies the migrations
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	fmt.Fprintf(sys.out, "migrations applied to %s\n", dbForLog(c.cfg.DB))
	return nil
}

func cmdPrompts(_ context.Context, args []string, sys stdio) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(sys.err, "Usage: firstline prompts check [DIR]")
			return nil
		}
		return fmt.Errorf("%w: want \"prompts check [DIR]\"", errUsage)
	}
	flags := newFlagSet("prompts check", "prompts check [DIR]\n\nValidates the prompt files in DIR (default: FIRSTLINE_PROMPTS_DIR, else ./prompts).\nPrints every problem as file:line and exits 1 when there is any.", sys)
	if err := flags.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if flags.NArg() > 1 {
		return fmt.Errorf("%w: at most one folder", errUsage)
	}
	dir := sys.getenv("FIRSTLINE_PROMPTS_DIR")
	if dir == "" {
		dir = "prompts"
	}
	if flags.NArg() == 1 {
		dir = flags.Arg(0)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("prompt folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("prompt folder: %s is not a folder", dir)
	}
	set, err := prompts.Load(os.DirFS(dir))
	if err == nil {
		err = checkPrompts(set)
	}
	if err == nil {
		// Slack's assistant threads read their file themselves (the
		// adapter reloads it); it is checked with the others.
		if b, rerr := os.ReadFile(filepath.Join(dir, slack.AssistantFile)); rerr == nil {
			err = slack.CheckAssistantFile(b)
		}
	}
	if err != nil {
		var errs prompts.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				e.File = filepath.Join(dir, e.File)
				fmt.Fprintln(sys.out, e.Error())
			}
		} else {
			fmt.Fprintln(sys.out, err)
		}
		return errPromptsInvalid
	}
	fmt.Fprintf(sys.out, "%s: ok (version %s)\n", dir, set.Version)
	for _, name := range prompts.Files {
		fmt.Fprintf(sys.out, "  %-14s %s\n", name, set.Source(name))
	}
	return nil
}

// cmdKnowledge manages the help center: "knowledge import DIR".
func cmdKnowledge(ctx context.Context, args []string, sys stdio) error {
	const synopsis = "knowledge import DIR [--out FOLDER] [--lang en] [--base-url URL] [--force]"
	if len(args) == 0 {
		return fmt.Errorf("%w: firstline %s", errUsage, synopsis)
	}
	switch args[0] {
	case "import":
		return cmdKnowledgeImport(ctx, args[1:], sys)
	case "-h", "--help", "help":
		fmt.Fprintf(sys.err, "Usage: firstline %s\n", synopsis)
		return nil
	}
	return fmt.Errorf("%w: unknown knowledge command %q; want import", errUsage, args[0])
}

func cmdKnowledgeImport(_ context.Context, args []string, sys stdio) error {
	flags := newFlagSet("knowledge import", "knowledge import DIR [--out FOLDER] [--lang en] [--base-url URL] [--force]\n\n"+
		"Turns the HTML and Markdown pages under DIR (a help-center export) into article files with\n"+
		"front matter in the knowledge folder: the title from the page's <h1> or <title> (Markdown: its\n"+
		"front matter or first # heading), the url from its canonical link or og:url, else --base-url\n"+
		"and the page's path, the language from <html lang>, else --lang. Lists every file skipped\n"+
		"and why; never replaces an existing article unless --force.", sys)
	promptsDir := sys.getenv("FIRSTLINE_PROMPTS_DIR")
	if promptsDir == "" {
		promptsDir = "prompts"
	}
	out := flags.String("out", filepath.Join(promptsDir, prompts.FolderKnowledge), "the knowledge folder to write the articles to")
	lang := flags.String("lang", knowledge.DefaultLanguage, "the language of pages that do not say: "+strings.Join(knowledge.Languages(), ", "))
	baseURL := flags.String("base-url", "", "the URL the export's paths are under, for pages with no canonical link (https://help.example.com/en/articles)")
	force := flags.Bool("force", false, "replace articles that exist")
	dirs, err := parseArgs(flags, args, 1)
	if err != nil {
		return fmt.Errorf("%w (the folder of the export)", err)
	}
	if !slices.Contains(knowledge.Languages(), *lang) {
		return fmt.Errorf("%w: --lang %q: want one of %s", errUsage, *lang, strings.Join(knowledge.Languages(), ", "))
	}
	if *baseURL != "" {
		if u, err := url.Parse(*baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: --base-url %q: want an absolute http:// or https:// URL", errUsage, *baseURL)
		}
	}
	src := dirs[0]
	if info, err := os.Stat(src); err != nil {
		return fmt.Errorf("knowledge import: %w", err)
	} else if !info.IsDir() {
		return fmt.Errorf("knowledge import: %s is not a folder", src)
	}
	pages, skipped, err := knowledge.Import(os.DirFS(src), ".", knowledge.ImportOptions{Lang: *lang, BaseURL: *baseURL})
	if err != nil {
		return err
	}
	// The articles already there: their URLs must not be used twice.
	existing := map[string]string{} // URL: file
	if _, err := os.Stat(*out); err == nil {
		articles, _ := knowledge.LoadDir(os.DirFS(*out), ".")
		for _, a := range articles {
			existing[normalURLKey(a.URL)] = filepath.Join(*out, a.File)
		}
	}
	type written struct{ file, source string }
	var done []written
	for _, p := range pages {
		target := filepath.Join(*out, filepath.FromSlash(p.File))
		source := filepath.Join(src, filepath.FromSlash(p.Source))
		if f, ok := existing[normalURLKey(p.URL)]; ok && f != target {
			skipped = append(skipped, knowledge.SkippedPage{Source: p.Source, Reason: fmt.Sprintf("duplicate url %s: %s has it", p.URL, f)})
			continue
		}
		if _, err := os.Stat(target); err == nil && !*force {
			skipped = append(skipped, knowledge.SkippedPage{Source: p.Source, Reason: fmt.Sprintf("%s exists (--force replaces it)", target)})
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("knowledge import: %w", err)
		}
		if err := os.WriteFile(target, p.Data, 0o644); err != nil {
			return fmt.Errorf("knowledge import: %w", err)
		}
		done = append(done, written{target, source})
	}
	slices.SortStableFunc(skipped, func(a, b knowledge.SkippedPage) int { return cmp.Compare(a.Source, b.Source) })
	for _, s := range skipped {
		if s.First != "" {
			s.Reason = strings.Replace(s.Reason, s.First, filepath.Join(src, filepath.FromSlash(s.First)), 1)
		}
		fmt.Fprintf(sys.err, "%s: skipped: %s\n", filepath.Join(src, filepath.FromSlash(s.Source)), s.Reason)
	}
	for _, w := range done {
		fmt.Fprintf(sys.out, "%s <- %s\n", w.file, w.source)
	}
	fmt.Fprintf(sys.out, "imported %d articles into %s, skipped %d files\n", len(done), *out, len(skipped))
	if len(done) > 0 {
		// What was written must be a help center the bot loads.
		if _, err := knowledge.LoadDir(os.DirFS(*out), "."); err != nil {
			return fmt.Errorf("the knowledge folder %s has errors now (run \"firstline prompts check\"): %w", *out, err)
		}
	}
	if len(done) == 0 && len(pages)+len(skipped) > 0 {
		return fmt.Errorf("nothing imported from %s: %d files skipped (listed above)", src, len(skipped))
	}
	return nil
}

// normalURLKey is how article URLs are compared for duplicates: without a
// fragment or a trailing slash, in lower case.
func normalURLKey(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(strings.ToLower(s), "/")
}

// errPromptsInvalid is returned after the problems were printed.
var errPromptsInvalid = errors.New("the prompt files have errors (listed above)")

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

// Helpers shared by the privacy commands (forget, export, audit) and link.

// adminActor names the person running a command in the audit log:
// "admin:" and --by, else the login name, else "cli".
func adminActor(sys stdio, by string) string {
	name := cmp.Or(strings.TrimSpace(by), sys.getenv("USER"), sys.getenv("USERNAME"), "cli")
	return "admin:" + cleanField(name, 64)
}

// cleanField keeps a free-text field (a name, an id) to one bounded line.
func cleanField(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// linkAudited links an identity and records the change in the audit log,
// in one transaction.
func linkAudited(ctx context.Context, st bot.Store, l bot.Link, actor string) error {
	return st.WithTx(ctx, func(tx bot.Tx) error {
		if err := tx.LinkIdentity(ctx, l); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: l.CreatedAt, Actor: actor, CustomerID: l.CustomerID,
			Action: bot.AuditLink, Record: bot.ActorOf(l.Identity), Outcome: bot.AuditAllowed})
	})
}

// unlinkAudited removes an identity's link and records the change in the
// audit log, in one transaction; bot.ErrNotFound when there was no link.
func unlinkAudited(ctx context.Context, st bot.Store, id bot.Identity, actor string) error {
	return st.WithTx(ctx, func(tx bot.Tx) error {
		customer, err := tx.UnlinkIdentity(ctx, id)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &bot.AuditEntry{At: time.Now(), Actor: actor, CustomerID: customer,
			Action: bot.AuditUnlink, Record: bot.ActorOf(id), Outcome: bot.AuditAllowed})
	})
}

// cmdCustomers manages the store's customers table, the customer directory
// when the company's API is not configured: import, list, remove.
func cmdCustomers(ctx context.Context, args []string, sys stdio) error {
	const synopsis = "customers import FILE [--skip-invalid] | list [--email ADDR] | remove --customer ID [--unlink]"
	if len(args) == 0 {
		return fmt.Errorf("%w: firstline %s", errUsage, synopsis)
	}
	switch args[0] {
	case "import":
		return cmdCustomersImport(ctx, args[1:], sys)
	case "list":
		return cmdCustomersList(ctx, args[1:], sys)
	case "remove":
		return cmdCustomersRemove(ctx, args[1:], sys)
	case "-h", "--help", "help":
		fmt.Fprintf(sys.err, "Usage: firstline %s\n", synopsis)
		return nil
	}
	return fmt.Errorf("%w: unknown customers command %q; want import, list or remove", errUsage, args[0])
}

// errInAPI refuses to change the customers table while the directory is
// the company's API: the table would not be read.
func errInAPI(cfg Config) error {
	return fmt.Errorf("customers come from the company's API (%s): change them there; "+
		"set FIRSTLINE_CUSTOMERS_URL=store to use the customers table instead", cfg.Customers.URLSetting)
}

func cmdCustomersImport(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("customers import", "customers import FILE [--skip-invalid] [--db FILE]\n\n"+
		"Adds or updates customers from a CSV file (header id,name,email) or JSON lines. One transaction:\n"+
		"with any invalid row, nothing is imported unless --skip-invalid.", sys)
	if err != nil {
		return err
	}
	skip := c.fs.Bool("skip-invalid", false, "import the valid rows and report the others, instead of importing nothing")
	files, err := parseArgs(c.fs, args, 1)
	if err != nil {
		return fmt.Errorf("%w (one FILE, - for standard input)", err)
	}
	if !c.cfg.Customers.InStore() {
		return errInAPI(c.cfg)
	}
	name := files[0]
	var in io.Reader = sys.in
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("customers import: %w", err)
		}
		defer f.Close()
		in = f
	}
	parsed, err := customerfile.Parse(in)
	if err != nil {
		return fmt.Errorf("customers import %s: %w", name, err)
	}
	st, err := c.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	rejected := parsed.Rejected
	rows := make([]bot.Customer, len(parsed.Rows))
	for i, r := range parsed.Rows {
		rows[i] = r.Customer
	}
	res := bot.ImportResult{}
	if len(rejected) == 0 || *skip {
		if res, err = st.ImportCustomers(ctx, rows, *skip); err != nil {
			return err
		}
		for _, cf := range res.Conflicts {
			rejected = append(rejected, customerfile.Rejected{Line: parsed.Rows[cf.Index].Line,
				Reason: "email already on customer " + cf.Other + " in the table"})
		}
		slices.SortFunc(rejected, func(a, b customerfile.Rejected) int { return a.Line - b.Line })
	}
	for _, r := range rejected {
		fmt.Fprintf(sys.err, "%s:%d: %s\n", name, r.Line, r.Reason)
	}
	where := dbForLog(c.cfg.DB)
	if len(rejected) > 0 && !*skip {
		return fmt.Errorf("customers import %s: %d of %d rows rejected (listed above); nothing imported into %s "+
			"(fix them, or pass --skip-invalid to import the others)", name, len(rejected), len(rejected)+len(parsed.Rows)-len(res.Conflicts), where)
	}
	fmt.Fprintf(sys.out, "imported %s into the customers table of %s: %d added, %d updated, %d unchanged, %d rejected\n",
		name, where, res.Added, res.Updated, res.Unchanged, len(rejected))
	return nil
}

func cmdCustomersList(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("customers list", "customers list [--email ADDR] [--db FILE]", sys)
	if err != nil {
		return err
	}
	email := c.fs.String("email", "", "only the customers with this email (asks the company's API when that is the directory)")
	if err := parseFlags(c.fs, args); err != nil {
		return err
	}
	if !c.cfg.Customers.InStore() && *email == "" {
		return fmt.Errorf("%w: the company's API (%s) has no list of customers; pass --email", errUsage, c.cfg.Customers.URLSetting)
	}
	// The company's API answers an email lookup without the database.
	var st *sqlstore.Store
	var table app.Store
	if c.cfg.Customers.InStore() {
		if st, err = c.open(ctx, true); err != nil {
			return err
		}
		defer st.Close()
		table = st
	} else if err := c.cfg.Validate(); err != nil {
		return err
	}
	dir, where, err := directory(c.cfg, table)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sys.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEMAIL")
	row := func(cu bot.Customer) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", cu.ID, dash(cleanField(cu.Name, 60)), dash(cu.Email))
	}
	n := 0
	if *email != "" {
		cs, err := dir.CustomersByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("look up %s: %w", where, err)
		}
		for _, cu := range cs {
			row(cu)
		}
		n = len(cs)
	} else {
		const page = 1000
		for after := ""; ; {
			cs, err := st.ListCustomers(ctx, after, page)
			if err != nil {
				return err
			}
			for _, cu := range cs {
				row(cu)
			}
			n += len(cs)
			if len(cs) < page {
				break
			}
			after = cs[len(cs)-1].ID
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(sys.err, "%d customers in %s\n", n, where)
	return nil
}

func cmdCustomersRemove(ctx context.Context, args []string, sys stdio) error {
	c, err := newAdminCommand("customers remove", "customers remove --customer ID [--unlink] [--by NAME] [--db FILE]", sys)
	if err != nil {
		return err
	}
	customer := c.fs.String("customer", "", "the customer ID to remove")
	unlink := c.fs.Bool("unlink", false, "also remove the links of chat identities to the customer")
	by := c.fs.String("by", "", "who makes the change, for the audit log (default: $USER)")
	if err := parseFlags(c.fs, args); err != nil {
		return err
	}
	if *customer == "" {
		return fmt.Errorf("%w: --customer is required", errUsage)
	}
	if !c.cfg.Customers.InStore() {
		return errInAPI(c.cfg)
	}
	st, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	entry := &bot.AuditEntry{At: time.Now(), Actor: adminActor(sys, *by), CustomerID: *customer,
		Action: bot.AuditCustomerRemove, Record: *customer, Outcome: bot.AuditAllowed}
	if *unlink {
		entry.Reason = "unlinked"
	}
	r, err := st.RemoveCustomer(ctx, *customer, *unlink, entry)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return fmt.Errorf("no customer %s in %s", *customer, dbForLog(c.cfg.DB))
	case errors.Is(err, bot.ErrLinked):
		return fmt.Errorf("customer %s: chat identities are linked to it (firstline link --list); pass --unlink to remove the links too", *customer)
	case err != nil:
		return err
	}
	fmt.Fprintf(sys.out, "removed customer %s, %d payments and %d links\n", *customer, r.Payments, r.Links)
	return nil
}

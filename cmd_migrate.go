package main

import (
	"context"
	"fmt"
)

func cmdMigrate(ctx context.Context, args []string, sys stdio) error {
	cfg, err := LoadConfig(sys.getenv)
	if err != nil {
		return err
	}
	flags := newFlagSet("migrate", "migrate [--db URL|FILE]\n\nApplies the database migrations ahead of a deploy. Replicas starting at once\nare safe too: migrations run under a lock.", sys)
	flags.StringVar(&cfg.DB, "db", cfg.DB, "database (FIRSTLINE_DB)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DB) // opening applies the migrations
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	fmt.Fprintf(sys.out, "migrations applied to %s\n", dbForLog(cfg.DB))
	return nil
}

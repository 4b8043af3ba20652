package main

import (
	"fmt"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/retention"
	"github.com/firstlinehq/firstline/verification"
)

// retentionJob returns the job that deletes texts older than
// FIRSTLINE_RETENTION, hourly, for `firstline serve`.
func (a *app) retentionJob() (*retention.Job, error) {
	return retention.New(retention.Config{
		Store:     a.store,
		Retention: a.cfg.Retention,
		Logger:    a.log.With("job", "retention"),
	})
}

// codeSender returns the webhook that sends verification codes, or nil
// when FIRSTLINE_VERIFY_URL is not set.
func codeSender(c PrivacyConfig) (bot.CodeSender, error) {
	if c.VerifyURL == "" {
		return nil, nil
	}
	w, err := verification.New(verification.Config{URL: c.VerifyURL, Token: c.VerifyToken})
	if err != nil {
		return nil, fmt.Errorf("FIRSTLINE_VERIFY_URL: %w", err)
	}
	return w, nil
}

// Package e2e holds the end-to-end tests of the real firstline binary. It
// has no code of its own: its tests build the binary once (go build -o),
// run `firstline serve` in Socket Mode against internal/fakeslack and a
// fake OpenAI-compatible model on a SQLite file, kill it (kill -9) and
// stop it (SIGTERM) at awkward moments, and check what the fake platform
// saw against what the database holds. See docs/reliability.md.
package e2e

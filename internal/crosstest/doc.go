// Package crosstest checks Firstline across platforms: a customer on one
// platform served by agents in an agent channel on the other
// (FIRSTLINE_AGENT_PLATFORM). Both real adapters run against the fake Slack
// (internal/fakeslack) and the fake Discord (internal/fakediscord), wired
// to one engine, handoff flow, outbox and SQLite store (internal/testkit),
// as `firstline serve` wires them. It holds only tests.
package crosstest

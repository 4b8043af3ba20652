package testkit

import (
	"testing/fstest"

	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/prompts"
)

// AlwaysOpen is an hours.yaml for a team that is always there. The harness
// uses it by default, so that what a test sees does not depend on the time
// of day it runs at (tests on real clocks would otherwise get out-of-hours
// notices at night).
const AlwaysOpen = "always_open: true\n"

// Prompts returns the embedded prompt files with some replaced, by file
// name (prompts.FileHours: "…"). It panics on invalid files: tests pass
// files they wrote.
func Prompts(files map[string]string) *prompts.Set {
	dir := fstest.MapFS{}
	for name, text := range files {
		dir[name] = &fstest.MapFile{Data: []byte(text)}
	}
	set, err := prompts.Load(dir)
	if err != nil {
		panic("testkit: prompt files: " + err.Error())
	}
	return set
}

// WithHandoffs changes the handoff flow's configuration (its timers) before
// it is built.
func WithHandoffs(f func(*handoff.Config)) Option {
	return func(o *Options) { o.Handoffs = f }
}

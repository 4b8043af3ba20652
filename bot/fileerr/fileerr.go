// Package fileerr is the one shape of the problems found in a file an
// admin edits (prompt files, tools.yaml, help-center articles):
// "file:line: message", so that every check reads the same and a list of
// them prints one per line. It imports nothing of the project.
package fileerr

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a file.
type Error struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found, one per line.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by file, then line, keeping the order of those
// on one line.
func (es Errors) Sort() {
	slices.SortStableFunc(es, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

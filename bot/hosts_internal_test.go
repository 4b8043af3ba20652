package bot

import (
	"fmt"
	"slices"
	"testing"

	"github.com/firstlinehq/firstline/bot/links"
)

// The memo answers as links.HostsIn does, for the same text and after it
// starts over.
func TestSystemHosts(t *testing.T) {
	var c systemHosts
	text := "See https://help.example.com/a and [docs](https://docs.example.org/x)."
	want := links.HostsIn(text)
	if len(want) != 2 {
		t.Fatalf("HostsIn = %q", want)
	}
	for range 2 {
		if got := c.of(text); !slices.Equal(got, want) {
			t.Fatalf("hosts = %q; want %q", got, want)
		}
	}
	for i := range maxSystemHosts + 1 {
		c.of(fmt.Sprintf("https://h%d.example.com", i))
	}
	if len(c.seen) > maxSystemHosts {
		t.Errorf("the memo holds %d texts; want at most %d", len(c.seen), maxSystemHosts)
	}
	if got := c.of(text); !slices.Equal(got, want) {
		t.Errorf("after starting over: %q", got)
	}
}

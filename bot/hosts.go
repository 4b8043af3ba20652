package bot

import (
	"sync"

	"github.com/firstlinehq/firstline/bot/links"
)

// systemHosts remembers the hosts linked from rendered system prompts.
// Finding them is two regular expressions over the whole prompt, which
// profiling the server under load put at about a tenth of its CPU, while a
// prompt folder renders only a few different system prompts (linked or
// not, private or not, the day): they are found once per text.
type systemHosts struct {
	mu   sync.Mutex
	seen map[string][]string
}

// maxSystemHosts bounds the memo; past it, it starts over (a new day, a
// prompt edit).
const maxSystemHosts = 32

func (c *systemHosts) of(system string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hosts, ok := c.seen[system]; ok {
		return hosts
	}
	if c.seen == nil || len(c.seen) >= maxSystemHosts {
		c.seen = make(map[string][]string, maxSystemHosts)
	}
	hosts := links.HostsIn(system)
	c.seen[system] = hosts
	return hosts
}

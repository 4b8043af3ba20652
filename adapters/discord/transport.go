package discord

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// restTimeout bounds one REST call when Config.HTTPClient sets none.
const restTimeout = 20 * time.Second

// restClient returns the HTTP client the session makes REST calls with.
// With api set (DISCORD_API_URL), requests for discordgo's fixed endpoints
// under https://discord.com/api/v9/ go to api instead. discordgo keeps its
// endpoints in package variables; rewriting per client, rather than
// changing those, keeps two adapters in one process (tests in parallel)
// apart.
func restClient(base *http.Client, api *url.URL) *http.Client {
	c := &http.Client{Timeout: restTimeout}
	if base != nil {
		c.Timeout = base.Timeout
		c.Transport = base.Transport
		c.CheckRedirect = base.CheckRedirect
		c.Jar = base.Jar
	}
	if api != nil {
		next := c.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		from, err := url.Parse(discordgo.EndpointAPI)
		if err != nil {
			panic("discord: discordgo.EndpointAPI is not a URL: " + err.Error())
		}
		c.Transport = &rewriteTransport{from: from, to: api, next: next}
	}
	return c
}

// apiBase reads DISCORD_API_URL: an http(s) URL standing for discordgo's
// https://discord.com/api/v9. A bare host (https://proxy.internal, as
// proxies such as nirn-proxy are addressed) gets the API path /api/v9, and
// a path ending in /api the version; any other path is taken as the API
// base itself. A trailing slash does not matter.
func apiBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("discord: DISCORD_API_URL: want an http(s) URL, got %q", raw)
	}
	def, err := url.Parse(discordgo.EndpointAPI)
	if err != nil {
		panic("discord: discordgo.EndpointAPI is not a URL: " + err.Error())
	}
	apiPath := strings.TrimRight(def.EscapedPath(), "/") // /api/v9
	p := strings.TrimRight(u.EscapedPath(), "/")
	switch {
	case p == "":
		p = apiPath
	case path.Base(p) == "api":
		p += "/" + path.Base(apiPath)
	}
	if u.Path, err = url.PathUnescape(p); err != nil {
		return nil, fmt.Errorf("discord: DISCORD_API_URL: %w", err)
	}
	u.RawPath = p
	return u, nil
}

// rewriteTransport sends requests for the URLs under from to the same path
// and query under to.
type rewriteTransport struct {
	from *url.URL // https://discord.com/api/v9/
	to   *url.URL // DISCORD_API_URL, without a trailing slash
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := t.relative(req.URL)
	if !ok {
		return t.next.RoundTrip(req)
	}
	// Keep the path's escapes (an interaction token, a thread name)
	// exactly as discordgo wrote them.
	escaped := t.to.EscapedPath() + "/" + rest
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, err
	}
	u := *t.to
	u.Path, u.RawPath, u.RawQuery = path, escaped, req.URL.RawQuery
	// A RoundTripper must not change the request it is given.
	out := req.Clone(req.Context())
	out.URL = &u
	out.Host = u.Host
	return t.next.RoundTrip(out)
}

// relative returns the escaped path of u below t.from, and whether u is
// below it at all.
func (t *rewriteTransport) relative(u *url.URL) (string, bool) {
	if !strings.EqualFold(u.Host, t.from.Host) || u.Scheme != t.from.Scheme {
		return "", false
	}
	return strings.CutPrefix(u.EscapedPath(), t.from.EscapedPath())
}

package openai

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes bounds a response body. A chat completion of
// Config.MaxTokens tokens is a few kilobytes; a misbehaving endpoint or proxy
// must not make the bot buffer megabytes of it.
const maxResponseBytes = 4 << 20

// errBodyTooLarge is returned while reading a response over maxResponseBytes.
var errBodyTooLarge = errors.New("response body exceeds 4 MiB")

// defaultHTTPClient is used when Config.HTTPClient is nil. It sets no
// overall Client.Timeout: each try carries its own deadline in its context,
// which also covers reading the body. The dial and TLS timeouts make an
// unreachable host fail fast instead of using up the whole try.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 16 // concurrent conversations share one endpoint
	return &http.Client{Transport: t}
}

// observed is what one try's HTTP exchange looked like. go-openai returns
// errors without the response headers, so the Retry-After header and the
// difference between "never sent", "no response" and "a response we could
// not read" are recorded here, by the observer, on the way through.
type observed struct {
	sent         bool  // the request reached the HTTP client
	transportErr error // the client returned no response
	status       int
	retryAfter   time.Duration // -1 when the server did not say
}

type observedKey struct{}

// withObserved returns ctx carrying o, for the observer to fill in.
func withObserved(ctx context.Context, o *observed) context.Context {
	o.retryAfter = -1
	return context.WithValue(ctx, observedKey{}, o)
}

// observer is the go-openai HTTP doer: it wraps the configured client,
// records each exchange in the request's *observed, and bounds the body.
type observer struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

// Do implements goopenai.HTTPDoer.
func (o observer) Do(req *http.Request) (*http.Response, error) {
	obs, _ := req.Context().Value(observedKey{}).(*observed)
	if obs == nil {
		obs = &observed{} // a caller outside Complete; nothing to report to
	}
	obs.sent = true
	resp, err := o.next.Do(req)
	if err != nil {
		obs.transportErr = err
		return nil, err
	}
	obs.status = resp.StatusCode
	obs.retryAfter = retryAfter(resp.Header, time.Now())
	resp.Body = &limitedBody{rc: resp.Body, left: maxResponseBytes}
	return resp, nil
}

// retryAfter reads how long the server asked us to wait: OpenAI's
// retry-after-ms when present (it is more precise), else the standard
// Retry-After, in seconds or as an HTTP date. It returns -1 when neither
// header is usable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return -1
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 || s > 1e6 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// limitedBody fails reads past its limit, rather than silently truncating
// as io.LimitReader would: a cut-off body must read as an error.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

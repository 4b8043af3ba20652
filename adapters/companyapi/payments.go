// Package companyapi reads the company's own records from its HTTP API (the
// one README.md describes): payments (this file) and customers
// (customers.go). One Client type serves both; a deployment may point them
// at one server or two, each with its own settings and token.
//
// Payments: the Client is the bot.PaymentSource used when
// FIRSTLINE_PAYMENTS_URL is set (otherwise the store's payments table is):
//
//	GET {base}/customers/{customer_id}/payments  200 {"payments": [PAYMENT, ...]}, newest first
//	GET {base}/payments/{reference}              200 PAYMENT, or 404
//
// Customers: the Client is the bot.Directory used when
// FIRSTLINE_CUSTOMERS_URL is set (otherwise the store's customers table is),
// usually behind NewCachedDirectory:
//
//	GET {base}/customers/{id}                    200 CUSTOMER, or 404
//	GET {base}/customers?email=ADDRESS           200 {"customers": [CUSTOMER, ...]}, or 404 for none
//
// Requests carry a bearer token (FIRSTLINE_PAYMENTS_TOKEN,
// FIRSTLINE_CUSTOMERS_TOKEN) when one is configured.
//
// The client returns what the payment API says, faithfully, customer_id
// included: it does not decide who may see a payment. That check is made in
// the tool layer (package bot), on the customer_id of what comes back rather
// than on what was asked, so a misbehaving API cannot leak another
// customer's data. Customers are the exception, since a customer record is
// what a chat identity gets linked to: a record for another id than the one
// asked is an invalid response, and a record for another email than the one
// asked is dropped (see CustomersByEmail).
//
// Responses are parsed strictly: at most 1 MiB, one JSON value, keys matched
// exactly and never duplicated, and every record validated. A payment needs
// a reference and customer_id, a known status, a decimal amount, a 3-letter
// currency (upper-cased) and an RFC 3339 creation time (updated_at may be
// absent); a customer needs an id and passes bot.Customer.Validate. Unknown
// fields are ignored, so the API can grow. An invalid record fails the whole
// call with an error naming the field; values are not quoted, since they
// come from a remote server and may hold personal data.
//
// Errors read "payments: GET /payments/PAY-1001: HTTP 503" (Config.Name
// first) and wrap what is known: bot.ErrNotFound for an unknown reference or
// customer, ErrUnauthorized for 401 and 403 (naming Config.TokenSetting),
// ErrInvalidResponse for a body that fails validation, and
// context.DeadlineExceeded for timeouts. The token never appears in an
// error, nor does an email address that was looked up.
package companyapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// DefaultTimeout bounds one request, body included, when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// userAgent names the product to the API's logs.
const userAgent = "firstline/1 (+https://github.com/firstlinehq/firstline)"

// The defaults of Config's naming fields: the payment API's.
const (
	DefaultName         = "payments"
	DefaultTokenSetting = "FIRSTLINE_PAYMENTS_TOKEN"
	DefaultURLSetting   = "FIRSTLINE_PAYMENTS_URL"
)

var (
	// ErrUnauthorized is wrapped by errors for HTTP 401 and 403: the token
	// is missing, wrong or lacks permission. It is a configuration error,
	// not a customer's; the error wrapping it names the setting to check
	// ("…: the API refused the credentials: check FIRSTLINE_PAYMENTS_TOKEN").
	ErrUnauthorized = errors.New("the API refused the credentials")

	// ErrInvalidResponse is wrapped by errors for a 200 response whose body
	// is not valid JSON of the documented shape, or holds an invalid record.
	ErrInvalidResponse = errors.New("invalid response")
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API's root, http or https, optionally with a path
	// prefix ("https://api.example.com/v2"); a trailing slash is ignored.
	// It must not carry credentials, a query or a fragment.
	BaseURL string
	// Token, when set, is sent as "Authorization: Bearer TOKEN". It is
	// never logged and never part of an error.
	Token string
	// HTTPClient sends the requests. Nil means a client with connection
	// timeouts that does not follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each request, reading the body included. Zero means
	// DefaultTimeout.
	Timeout time.Duration

	// Name starts every error ("payments: GET …"): "payments" or
	// "customers", for what the client is used as. Empty means DefaultName.
	Name string
	// TokenSetting is the setting Token comes from, named when the API
	// refuses it. Empty means DefaultTokenSetting.
	TokenSetting string
	// URLSetting is the setting BaseURL comes from, named when the API
	// answers with a redirect. Empty means DefaultURLSetting.
	URLSetting string
}

// Client reads the company's records from its API: payments and customers.
// It is safe for concurrent use.
type Client struct {
	prefix  string // scheme://host/escaped-path-prefix, no trailing slash
	token   string
	http    *http.Client
	timeout time.Duration

	name, tokenSetting, urlSetting string // for errors
}

var (
	_ bot.PaymentSource = (*Client)(nil)
	_ bot.Directory     = (*Client)(nil)
)

// New returns a client for the API at cfg.BaseURL. Its errors name the
// setting at fault and never quote the token.
func New(cfg Config) (*Client, error) {
	name := cmp.Or(cfg.Name, DefaultName)
	prefix, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("%s: base URL: %w", name, err)
	}
	if strings.ContainsFunc(cfg.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%s: token: must not contain spaces, line breaks or control characters", name)
	}
	timeout := cfg.Timeout
	switch {
	case timeout < 0:
		return nil, fmt.Errorf("%s: timeout: must not be negative, got %s", name, timeout)
	case timeout == 0:
		timeout = DefaultTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient(timeout)
	}
	return &Client{
		prefix: prefix, token: cfg.Token, http: hc, timeout: timeout,
		name:         name,
		tokenSetting: cmp.Or(cfg.TokenSetting, DefaultTokenSetting),
		urlSetting:   cmp.Or(cfg.URLSetting, DefaultURLSetting),
	}, nil
}

// parseBaseURL checks a base URL and returns it as a prefix that escaped
// API paths are appended to.
func parseBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, credentials included: keep
		// only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("not a valid URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("must start with http:// or https://")
	case u.Opaque != "" || u.Host == "":
		return "", errors.New("must name a host")
	case u.User != nil:
		return "", errors.New("must not contain credentials (use the token)")
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("must not have a query")
	case u.Fragment != "":
		return "", errors.New("must not have a fragment")
	}
	root := url.URL{Scheme: u.Scheme, Host: u.Host}
	return root.String() + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// defaultHTTPClient is the client used when Config.HTTPClient is nil. The
// per-request context enforces the overall timeout; the transport's own
// timeouts bound each phase. Redirects are not followed: a JSON API that
// redirects is misconfigured, and following one would send the request
// somewhere the operator did not configure.
func defaultHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = timeout
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CustomerPayments implements bot.PaymentSource: the customer's payments as
// the API returns them (newest first), at most limit when limit > 0. The
// API has no limit parameter, so the limit is applied to what comes back;
// every record returned by the API is validated, also those cut off.
//
// A 404 means the payment system does not know the customer, and a
// customer it does not know has no payments: the result is an empty list,
// not an error.
func (c *Client) CustomerPayments(ctx context.Context, customerID string, limit int) ([]bot.Payment, error) {
	if !validSegment(customerID) {
		return nil, c.scrub(fmt.Errorf("%s: invalid customer id %s", c.name, quoteShort(customerID)))
	}
	path := "/customers/" + escapeSegment(customerID) + "/payments"
	status, body, err := c.get(ctx, path)
	switch {
	case err != nil:
		return nil, err
	case status == http.StatusNotFound:
		return []bot.Payment{}, nil
	}
	ps, err := decodePayments(body)
	if err != nil {
		return nil, c.fail(path, 0, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	if limit > 0 && len(ps) > limit {
		ps = ps[:limit:limit]
	}
	return ps, nil
}

// Payment implements bot.PaymentSource: one payment by reference, exactly
// as the API returns it (whoever's it is), or an error wrapping
// bot.ErrNotFound when the API answers 404. A reference that cannot be a
// URL path segment ("", ".", "..") names no payment: it is not found too,
// without a request.
func (c *Client) Payment(ctx context.Context, reference string) (bot.Payment, error) {
	if !validSegment(reference) {
		return bot.Payment{}, c.scrub(fmt.Errorf("%s: reference %s: %w", c.name, quoteShort(reference), bot.ErrNotFound))
	}
	path := "/payments/" + escapeSegment(reference)
	status, body, err := c.get(ctx, path)
	switch {
	case err != nil:
		return bot.Payment{}, err
	case status == http.StatusNotFound:
		return bot.Payment{}, c.fail(path, status, bot.ErrNotFound)
	}
	p, err := decodePayment(body)
	if err != nil {
		return bot.Payment{}, c.fail(path, 0, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return p, nil
}

// get sends GET prefix+path and returns the status and body of a 200, or
// just the status of a 404 (which means different things to the callers).
// Every other outcome is an error.
func (c *Client) get(ctx context.Context, path string) (int, []byte, error) {
	return c.getQuery(ctx, path, "", path)
}

// getQuery is get with a query (already encoded, without the "?"), and
// with shown, what errors call the request, in place of path: a query may
// hold personal data (an email address), which errors must not.
func (c *Client) getQuery(ctx context.Context, path, query, shown string) (int, []byte, error) {
	target := c.prefix + path
	if query != "" {
		target += "?" + query
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, target, nil)
	if err != nil {
		return 0, nil, c.fail(shown, 0, unwrapURLError(err))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.fail(shown, 0, c.transportError(ctx, err))
	}
	defer resp.Body.Close()

	if code := resp.StatusCode; code != http.StatusOK {
		drain(resp.Body)
		switch {
		case code == http.StatusNotFound:
			return code, nil, nil
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			if c.token == "" {
				return 0, nil, c.fail(shown, code, fmt.Errorf("%w: check %s (it is not set)", ErrUnauthorized, c.tokenSetting))
			}
			return 0, nil, c.fail(shown, code, fmt.Errorf("%w: check %s", ErrUnauthorized, c.tokenSetting))
		case code >= 300 && code < 400:
			return 0, nil, c.fail(shown, code, fmt.Errorf("redirects are not followed: check %s", c.urlSetting))
		}
		return 0, nil, c.fail(shown, code, nil)
	}

	if resp.ContentLength > maxBody {
		return 0, nil, c.fail(shown, 0, fmt.Errorf("%w: body of %d bytes exceeds the 1 MiB limit", ErrInvalidResponse, resp.ContentLength))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, c.fail(shown, 0, fmt.Errorf("read body: %w", c.transportError(ctx, err)))
	}
	if len(body) > maxBody {
		return 0, nil, c.fail(shown, 0, fmt.Errorf("%w: body exceeds the 1 MiB limit", ErrInvalidResponse))
	}
	return resp.StatusCode, body, nil
}

// transportError describes a failure to get a response or read its body.
// ctx is the caller's context, which tells a timeout of ours from the
// caller giving up.
func (c *Client) transportError(ctx context.Context, err error) error {
	err = unwrapURLError(err)
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		// The caller's deadline or cancellation, not ours.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("timed out: %w", ctx.Err())
		}
		return fmt.Errorf("canceled: %w", ctx.Err())
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("timed out after %s: %w", c.timeout, context.DeadlineExceeded)
	}
	return err
}

// unwrapURLError drops the *url.Error around err: it repeats the method
// and the full URL, which the error already says in its own words.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fail builds the error for GET path: "name: GET path[: HTTP code][: err]".
func (c *Client) fail(path string, code int, err error) error {
	return c.scrub(&requestError{name: c.name, path: path, code: code, err: err})
}

// drain reads a little of a body we will not use, so the connection can be
// reused; a large error page is not worth reading to the end.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
}

// requestError is a failed GET on the API.
type requestError struct {
	name string // Config.Name
	path string // escaped API path, without the base URL
	code int    // HTTP status; 0 when it says nothing beyond err
	err  error  // may be nil
}

func (e *requestError) Error() string {
	var b strings.Builder
	b.WriteString(e.name)
	b.WriteString(": GET ")
	b.WriteString(e.path)
	if e.code != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.code)
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *requestError) Unwrap() error { return e.err }

// scrub is a safety net for the rule that the token never appears in an
// error. The package's own messages never contain it, but a path built
// from an argument, or a transport error, is text from elsewhere. When the
// token does occur, the message is redacted and the error keeps only the
// kinds callers test for, so that no unwrapped error can reveal it either.
func (c *Client) scrub(err error) error {
	if c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	s := &scrubbedError{msg: strings.ReplaceAll(err.Error(), c.token, "[redacted]")}
	for _, kind := range []error{bot.ErrNotFound, ErrUnauthorized, ErrInvalidResponse, context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, kind) {
			s.kinds = append(s.kinds, kind)
		}
	}
	return s
}

// scrubbedError is an error whose message had the token removed.
type scrubbedError struct {
	msg   string
	kinds []error
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.kinds }

// validSegment reports whether s can be sent as one path segment: not
// empty, and not "." or "..", which servers and proxies resolve as
// relative references however they are escaped.
func validSegment(s string) bool {
	return s != "" && s != "." && s != ".."
}

// escapeSegment percent-encodes every byte of s except RFC 3986's
// unreserved characters (letters, digits, "-", ".", "_", "~"). It does what
// url.PathEscape does for "/", "?", "#", ";" and ",", and more: PathEscape
// keeps ":", "@", "&", "=", "+" and "$", which references and customer ids
// never need and which some servers and proxies interpret ("+" as a space,
// for one). Encoding them makes the request path predictable.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Package verification delivers identity verification codes through the
// company's own channel: a webhook (FIRSTLINE_VERIFY_URL) that receives the
// customer, the email on their account and the code, and emails or texts it
// the way the company already reaches its customers. Firstline never sends
// email itself.
//
// The request:
//
//	POST {FIRSTLINE_VERIFY_URL}
//	Authorization: Bearer {FIRSTLINE_VERIFY_TOKEN}     (when set)
//	Content-Type: application/json
//
//	{"customer_id": "C-1001", "email": "ada@example.com", "code": "042917"}
//
// Any 2xx answer means the code is on its way; anything else, or no answer
// within the timeout, is a failure the customer is told about. The request
// is not retried: the customer can ask for another code.
package verification

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// DefaultTimeout bounds one webhook call unless Config.Timeout says
// otherwise.
const DefaultTimeout = 5 * time.Second

// Config configures a Webhook.
type Config struct {
	// URL is the company's endpoint (FIRSTLINE_VERIFY_URL).
	URL string
	// Token, when set, is sent as a bearer token (FIRSTLINE_VERIFY_TOKEN).
	Token string
	// HTTPClient is used for the calls; nil uses one with Timeout.
	HTTPClient *http.Client
	// Timeout bounds a call; DefaultTimeout when zero.
	Timeout time.Duration
}

// Webhook sends codes to the company's webhook. It implements
// bot.CodeSender and is safe for concurrent use.
type Webhook struct {
	url    string
	token  string
	client *http.Client
}

var _ bot.CodeSender = (*Webhook)(nil)

// New checks cfg and returns a Webhook.
func New(cfg Config) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("verification: the webhook URL must be an http(s) URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout}
	}
	return &Webhook{url: cfg.URL, token: cfg.Token, client: client}, nil
}

// request is the JSON body of a webhook call.
type request struct {
	CustomerID string `json:"customer_id"`
	Email      string `json:"email"`
	Code       string `json:"code"`
}

// SendCode implements bot.CodeSender. Its errors never hold the email, the
// code, the token or the webhook's answer (which might echo them).
func (w *Webhook) SendCode(ctx context.Context, c bot.VerificationCode) error {
	body, err := json.Marshal(request{CustomerID: c.CustomerID, Email: c.Email, Code: c.Code})
	if err != nil {
		return fmt.Errorf("verification: encode the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("verification: build the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "firstline")
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may carry credentials in its
		// query; its cause says what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("verification: call the webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("verification: the webhook refused the request (HTTP %d): check FIRSTLINE_VERIFY_TOKEN", resp.StatusCode)
	default:
		return fmt.Errorf("verification: the webhook answered HTTP %d", resp.StatusCode)
	}
}

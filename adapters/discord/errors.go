package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/firstlinehq/firstline/bot/outbox"
)

// Discord's JSON error codes. Sends are classified by HTTP status (see
// classify); these are the codes behind the statuses that make a message
// undeliverable for good, and the one code the adapter acts on itself.
const (
	codeUnknownChannel       = 10003  // 404
	codeUnknownMessage       = 10008  // 404
	codeMissingAccess        = 50001  // 403
	codeCannotSendToUser     = 50007  // 403: DMs closed, or no shared server
	codeMissingPermissions   = 50013  // 403
	codeInvalidFormBody      = 50035  // 400
	codeThreadAlreadyCreated = 160004 // 400: fine, the thread has the message's id
	codeCannotReplyNoHistory = 160002 // 400: a reply needs Read Message History
)

// defaultRateLimitWait is how long to wait on a 429 that does not say.
const defaultRateLimitWait = time.Second

// apiCode returns the status and Discord's JSON error code of a REST error.
func apiCode(err error) (status, code int, ok bool) {
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return 0, 0, false
	}
	if re.Message != nil {
		code = re.Message.Code
	}
	return re.Response.StatusCode, code, true
}

// retryAfter reports how long Discord asked to wait when err is a rate
// limit (HTTP 429).
func retryAfter(err error) (time.Duration, bool) {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return max(rl.RetryAfter, time.Millisecond), true
	}
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	// discordgo turns a 429 into a RateLimitError when it can read the
	// body; this is the rest: a proxy's 429, a body without retry_after.
	var body struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(re.ResponseBody, &body) == nil && body.RetryAfter > 0 {
		return time.Duration(body.RetryAfter * float64(time.Second)), true
	}
	if s, err := strconv.ParseFloat(re.Response.Header.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	return defaultRateLimitWait, true
}

// classify maps a REST error to what the outbox should do with the row: a
// rate limit waits without counting a failure; a request Discord will never
// accept (unknown channel or message, no access or permission, a user who
// does not accept DMs, an invalid body) is permanent; network errors and
// 5xx are retried.
func classify(err error) error {
	if d, ok := retryAfter(err); ok {
		return outbox.RetryAfter(err, d)
	}
	status, _, ok := apiCode(err)
	if !ok {
		return err
	}
	switch {
	case status >= 500, status == http.StatusUnauthorized, status == http.StatusRequestTimeout:
		// 401 is the token, not the message: retried, and loud in the
		// logs, until someone fixes DISCORD_BOT_TOKEN.
		return err
	case status >= 400:
		return outbox.Permanent(err)
	}
	return err
}

// isPermanent reports whether a REST error will not go away by retrying.
func isPermanent(err error) bool {
	var se *outbox.SendError
	return errors.As(classify(err), &se) && se.Permanent
}

// redactedError hides secrets in an error's text and keeps its chain for
// errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with the bot token and request paths removed from its
// text. Errors of the HTTP client name the URL, and interaction callbacks
// carry the interaction's token in theirs.
func (a *Adapter) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		// Keep where the request went, not the path: an interaction's
		// token is part of it.
		short := "[url]"
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			short = u.Scheme + "://" + u.Host + "/…"
		}
		msg = strings.ReplaceAll(msg, ue.URL, short)
	}
	bare := strings.TrimPrefix(a.token, "Bot ")
	if bare != "" && strings.Contains(msg, bare) {
		msg = strings.ReplaceAll(msg, bare, "[token]")
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// wrap says what was being done, with secrets removed.
func (a *Adapter) wrap(err error, format string, args ...any) error {
	return a.redact(fmt.Errorf("discord: "+format+": %w", append(args, err)...))
}

package openai

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/firstlinehq/firstline/bot"
)

// reasonMalformed is the agent-facing reason for output that is not a usable
// chat completion.
const reasonMalformed = "The AI model returned malformed output."

// failureKind names how a try failed, for logs and for the reason.
type failureKind string

const (
	failTimeout   failureKind = "timeout"   // no complete answer within Config.Timeout
	failNetwork   failureKind = "network"   // no HTTP response, or the body was cut off
	failStatus    failureKind = "status"    // an HTTP error status
	failMalformed failureKind = "malformed" // a 2xx whose body is not a chat completion
	failRequest   failureKind = "request"   // go-openai refused to send the request
)

// failure is one failed try.
type failure struct {
	kind       failureKind
	status     int    // HTTP status, 0 when there was none
	code       string // the API's error code, like "context_length_exceeded"
	retryable  bool
	retryAfter time.Duration // what the server asked for; 0 when it did not say
	err        error         // safe to print: see safeError
}

// classify turns the error of one try into a failure. tctx is the try's own
// context; the caller has already checked that its parent is not done.
func (m *Model) classify(tctx context.Context, obs *observed, err error) *failure {
	f := &failure{retryAfter: obs.retryAfter, status: obs.status, err: m.safeErr(err)}
	var netErr net.Error
	switch {
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		// Not retried: a customer has already waited Timeout for this
		// answer, and a person can take over sooner than another try.
		f.kind = failTimeout
	case !obs.sent:
		// Validation in go-openai (a model that needs other parameters, a
		// tool schema that is not JSON): sending it again changes nothing.
		f.kind = failRequest
	case obs.transportErr != nil:
		f.kind, f.retryable = failNetwork, true
	case obs.status >= 400:
		f.kind, f.retryable = failStatus, retryableStatus(obs.status)
		var apiErr *goopenai.APIError
		if errors.As(err, &apiErr) {
			if code, ok := apiErr.Code.(string); ok {
				f.code = code
			}
		}
	case errors.As(err, &netErr):
		// The connection broke while the body was read.
		f.kind, f.retryable = failNetwork, true
	default:
		f.kind = failMalformed
	}
	if f.retryAfter < 0 || f.kind != failStatus {
		f.retryAfter = 0
	}
	return f
}

// retryableStatus reports whether a try that got status may succeed when
// repeated: the statuses OpenAI's own SDKs retry. 400, 401, 403, 404 and the
// like are configuration errors, the same however often they are sent.
func retryableStatus(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusConflict,
		status == http.StatusTooManyRequests, status >= 500:
		return true
	}
	return false
}

// giveUp returns the error for a call that failed for good, with a reason
// that says what happened in one sentence an agent can act on.
func (m *Model) giveUp(failures []*failure) error {
	last := failures[len(failures)-1]
	n := len(failures)
	var reason string
	switch last.kind {
	case failTimeout:
		reason = fmt.Sprintf("The AI model did not answer within %s.", m.cfg.Timeout)
	case failMalformed:
		reason = reasonMalformed
	case failRequest:
		reason = "The AI model request could not be sent for " + m.cfg.Model + ": " +
			strings.TrimSuffix(last.err.Error(), ".") + "."
	case failStatus, failNetwork:
		if !last.retryable {
			reason = statusReason(last.status, last.code)
			break
		}
		reason = exhaustedReason(failures, n)
	}
	return &bot.ModelError{Reason: reason, Err: last.err}
}

// statusReason explains an HTTP status that retrying does not fix.
func statusReason(status int, code string) string {
	switch {
	case status == http.StatusUnauthorized:
		return "The AI model rejected the request (HTTP 401): check OPENAI_API_KEY."
	case status == http.StatusForbidden:
		return "The AI model rejected the request (HTTP 403): check that OPENAI_API_KEY may use FIRSTLINE_MODEL."
	case status == http.StatusNotFound:
		return "The AI model rejected the request (HTTP 404): check OPENAI_BASE_URL and FIRSTLINE_MODEL."
	case code == "context_length_exceeded":
		return fmt.Sprintf("The AI model rejected the request (HTTP %d): the conversation does not fit its context window.", status)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		// Ollama answers 400 for a model that cannot call tools.
		return fmt.Sprintf("The AI model rejected the request (HTTP %d): check that FIRSTLINE_MODEL exists at OPENAI_BASE_URL and supports tool calls.", status)
	}
	return fmt.Sprintf("The AI model rejected the request (HTTP %d).", status)
}

// exhaustedReason explains n retryable failures in a row.
func exhaustedReason(failures []*failure, n int) string {
	last := failures[len(failures)-1]
	same := true
	for _, f := range failures {
		same = same && f.kind == last.kind && f.status == last.status
	}
	switch {
	case same && last.kind == failNetwork:
		return fmt.Sprintf("The AI model could not be reached in %s.", tries(n))
	case same && last.status == http.StatusTooManyRequests:
		return fmt.Sprintf("The AI model answered HTTP 429 (rate limited) %s.", times(n))
	case same:
		return fmt.Sprintf("The AI model answered HTTP %d %s.", last.status, times(n))
	case last.kind == failNetwork:
		return fmt.Sprintf("The AI model failed %s in a row; the last try could not reach it.", times(n))
	}
	return fmt.Sprintf("The AI model failed %s in a row; the last try got HTTP %d.", times(n), last.status)
}

// numberWord spells 0 to 10 in words, and larger numbers in digits.
func numberWord(n int) string {
	words := [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	if n >= 0 && n < len(words) {
		return words[n]
	}
	return fmt.Sprint(n)
}

// times spells n as "once", "twice", "three times", …
func times(n int) string {
	switch {
	case n == 1:
		return "once"
	case n == 2:
		return "twice"
	}
	return numberWord(n) + " times"
}

// tries spells n as "one try", "two tries", …
func tries(n int) string {
	if n == 1 {
		return "one try"
	}
	return numberWord(n) + " tries"
}

// roundWait prints a server-requested wait for people: "2m0s", not "1m59.87s".
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// safeError is an error whose message is fit for logs and agents: the API
// key is masked, and what the server wrote is described rather than quoted,
// except for the short machine-readable fields of an OpenAI error object.
// Error messages may echo the request, and with it the customer's words:
// vLLM's validation errors quote the offending input, a proxy's error page
// may quote anything. Unwrap gives the original, for errors.As.
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

func (m *Model) safeErr(err error) error {
	var (
		msg    string
		reqErr *goopenai.RequestError
		apiErr *goopenai.APIError
	)
	switch {
	case errors.As(err, &reqErr):
		msg = fmt.Sprintf("HTTP %d; the body (%d bytes) is not an API error", reqErr.HTTPStatusCode, len(reqErr.Body))
	case errors.As(err, &apiErr):
		msg = fmt.Sprintf("HTTP %d", apiErr.HTTPStatusCode)
		var details []string
		if apiErr.Type != "" {
			details = append(details, "type "+clip(apiErr.Type, 60))
		}
		if apiErr.Code != nil {
			details = append(details, "code "+clip(fmt.Sprint(apiErr.Code), 60))
		}
		if apiErr.Param != nil && *apiErr.Param != "" {
			details = append(details, "param "+clip(*apiErr.Param, 60))
		}
		if len(details) > 0 {
			msg += " (" + strings.Join(details, ", ") + ")"
		}
	default:
		msg = err.Error()
	}
	msg = m.redact(strings.Join(strings.Fields(msg), " "))
	return &safeError{msg: clip(msg, 300), err: err}
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

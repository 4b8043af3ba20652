package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// maxBody bounds a request from Slack; events and interaction payloads are
// a few kilobytes.
const maxBody = 1 << 20

// EventsHandler serves the Events API (mounted at /slack/events). Every
// request's signature is checked; a customer message is stored before the
// 200 that acknowledges it, and the model turn runs after it, so the handler
// never waits for a model. When storing fails the answer is 500, and Slack
// delivers the event again.
func (a *Adapter) EventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := a.verified(w, r)
		if !ok {
			return
		}
		if tooDeep(body, maxDepth) || !json.Valid(body) {
			http.Error(w, "malformed event", http.StatusBadRequest)
			return
		}
		// The signature is the check that the request is Slack's; the
		// legacy verification token is not used.
		ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
		if err != nil {
			// Signed by Slack but not an event this adapter reads:
			// acknowledge, or Slack retries what will never parse.
			a.log.DebugContext(r.Context(), "slack event not handled", "err", err)
			w.WriteHeader(http.StatusOK)
			return
		}
		switch ev.Type {
		case slackevents.URLVerification:
			v, _ := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
			if v == nil {
				http.Error(w, "malformed challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, v.Challenge)
		case slackevents.AppRateLimited:
			a.log.WarnContext(r.Context(), "Slack is dropping events: the app exceeded its event rate limit")
			w.WriteHeader(http.StatusOK)
		case slackevents.CallbackEvent:
			if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
				a.log.DebugContext(r.Context(), "slack event redelivered", "retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
			}
			// Slack hanging up after its three seconds must not abort a
			// half-done store: its retry is deduplicated anyway.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
			defer cancel()
			after, err := a.handleEvent(ctx, ev)
			if err != nil {
				a.log.ErrorContext(ctx, "slack event not stored; Slack will retry", "err", err)
				http.Error(w, "not stored, retry later", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			after()
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// InteractionsHandler serves button presses (mounted at
// /slack/interactions). The press is handled within Slack's three seconds;
// a failure is answered 500, which Slack shows the person who pressed.
func (a *Adapter) InteractionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := a.verified(w, r)
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			http.Error(w, "want a payload form field", http.StatusBadRequest)
			return
		}
		var cb slackapi.InteractionCallback
		payload := []byte(form.Get("payload"))
		if tooDeep(payload, maxDepth) {
			http.Error(w, "malformed payload", http.StatusBadRequest)
			return
		}
		if err := json.Unmarshal(payload, &cb); err != nil {
			http.Error(w, "malformed payload", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), interactTimeout)
		defer cancel()
		if err := a.handleInteraction(ctx, cb); err != nil {
			a.log.ErrorContext(ctx, "slack button press failed", "err", err)
			http.Error(w, "the action failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// verified reads the request body and checks Slack's signature on it
// (X-Slack-Signature over the timestamp and body, with the signing secret);
// timestamps more than five minutes off are refused, so a captured request
// cannot be replayed later. It answers the request itself when the check
// fails.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if a.cfg.SigningSecret == "" {
		http.Error(w, "Slack events over HTTP are off: the adapter uses Socket Mode", http.StatusNotFound)
		return nil, false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return nil, false
	}
	// The headers are checked before the body is read: a request with no
	// signature or a stale timestamp costs no read of up to maxBody.
	sv, err := slackapi.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, "cannot read request", http.StatusBadRequest)
			}
			return nil, false
		}
		_, _ = sv.Write(body)
		if err = sv.Ensure(); err == nil {
			return body, true
		}
	}
	reason := "bad signature"
	if errors.Is(err, slackapi.ErrExpiredTimestamp) {
		reason = "stale timestamp"
	} else if errors.Is(err, slackapi.ErrMissingHeaders) {
		reason = "no signature"
	}
	a.log.WarnContext(r.Context(), "slack request refused", "reason", reason, "path", r.URL.Path, "remote", r.RemoteAddr)
	http.Error(w, "invalid signature", http.StatusUnauthorized)
	return nil, false
}

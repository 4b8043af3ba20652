package slack

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket connects with Socket Mode and handles events until ctx is done.
// slack-go reconnects when Slack asks to or the connection drops; when ctx
// ends it closes the connection (http.Server.Shutdown would not: it is not
// an HTTP connection it tracks). Each time the connection is up, the
// messages missed before are fetched back from pending, the cursors read
// at start, then from those read as the connection went down.
func (a *Adapter) runSocket(ctx context.Context, self identity, pending *cursorSnapshot) error {
	// A frame over maxBody closes the connection, which reconnects: no
	// event Slack sends comes near it (the HTTP endpoint has the same bound).
	client := socketmode.New(a.api, socketmode.OptionLog(libLogger{a}), socketmode.OptionReadLimit(maxBody))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- client.RunContext(runCtx) }()
	for {
		select {
		case <-ctx.Done():
			a.ready.Store(false)
			stop()
			<-done
			return nil
		case err := <-done:
			a.ready.Store(false)
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return a.wrap("socket mode", err)
		case evt := <-client.Events:
			wasReady := a.ready.Load()
			a.socketEvent(ctx, client, self, evt)
			pending = a.connectionChanged(ctx, self, wasReady, a.ready.Load(), pending)
		}
	}
}

// socketEvent handles one event of the Socket Mode client: connection
// changes, and Slack's envelopes, which are acknowledged only once what
// they carry is stored (an envelope not acknowledged is delivered again).
func (a *Adapter) socketEvent(ctx context.Context, client *socketmode.Client, self identity, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.ready.Store(false)
		a.log.DebugContext(ctx, "slack socket mode connecting")
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		if !a.ready.Swap(true) {
			a.log.InfoContext(ctx, "slack connected (socket mode)", "team", self.Team, "bot_user", self.User)
		}
	case socketmode.EventTypeConnectionError:
		a.ready.Store(false)
		if e, ok := evt.Data.(*slackapi.ConnectionErrorEvent); ok {
			a.log.WarnContext(ctx, "slack socket mode connection failed; retrying", "in", e.Backoff, "err", a.wrap("connect", e))
		}
	case socketmode.EventTypeInvalidAuth:
		a.ready.Store(false)
		a.log.ErrorContext(ctx, "slack socket mode refused the app token (check SLACK_APP_TOKEN)")
	case socketmode.EventTypeDisconnect:
		a.ready.Store(false)
		a.log.InfoContext(ctx, "slack asked to reconnect (socket mode)")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.WarnContext(ctx, "slack socket mode connection trouble", "event", evt.Type)
	case socketmode.EventTypeErrorBadMessage:
		a.badEnvelope(ctx, client, evt)
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok || evt.Request == nil {
			return
		}
		req := evt.Request
		if req.RetryAttempt > 0 {
			a.log.DebugContext(ctx, "slack event redelivered", "retry", req.RetryAttempt, "reason", req.RetryReason)
		}
		// Messages of one channel are handled in the order they came.
		a.serial.do(channelOf(ev), func() {
			a.envelope(ctx, client, req, handleTimeout, func(ctx context.Context) (func(), error) { return a.handleEvent(ctx, ev) })
		}, a.goBackground)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackapi.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		req := evt.Request
		a.goBackground(func() {
			a.envelope(ctx, client, req, interactTimeout, func(ctx context.Context) (func(), error) {
				if err := a.handleInteraction(ctx, cb); err != nil {
					// Slack does not redeliver interactions: acknowledge
					// anyway, the failure is logged.
					a.log.ErrorContext(ctx, "slack button press failed", "err", err)
				}
				return nop, nil
			})
		})
	}
}

// envelope runs handle for one envelope within timeout, acknowledges it when
// handle stored what it carries, and then runs what comes after the
// acknowledgement.
func (a *Adapter) envelope(ctx context.Context, client *socketmode.Client, req *socketmode.Request, timeout time.Duration, handle func(context.Context) (func(), error)) {
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	case <-ctx.Done():
		return // not acknowledged: Slack delivers it again
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	after, err := handle(hctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.ErrorContext(ctx, "slack event not stored; Slack will redeliver it", "err", err)
		}
		return
	}
	if err := client.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
		a.log.WarnContext(ctx, "slack socket mode acknowledgement failed", "err", err)
	}
	after()
}

// badEnvelope acknowledges an envelope slack-go could not parse, when its
// id can be read: Slack would otherwise deliver it again and again.
func (a *Adapter) badEnvelope(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
	}
	if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
		_ = client.AckCtx(ctx, env.EnvelopeID, nil)
	}
	a.log.WarnContext(ctx, "slack sent an envelope slack-go cannot read; acknowledged and dropped", "err", bad.Cause)
}

// channelOf is the channel an event happened in, the key that keeps one
// channel's messages in order.
func channelOf(ev slackevents.EventsAPIEvent) string {
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		return e.Channel
	case *slackevents.AppMentionEvent:
		return e.Channel
	case *slackevents.AssistantThreadStartedEvent:
		// With the DM's messages: a thread starts before its first one.
		return e.AssistantThread.ChannelID
	case *slackevents.AssistantThreadContextChangedEvent:
		return e.AssistantThread.ChannelID
	}
	return ""
}

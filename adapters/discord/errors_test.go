package discord

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot/outbox"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Token: testToken, Engine: &stubEngine{}, Handoffs: stubHandoffs{}})
	if err != nil {
		t.Fatal(err)
	}
	secret := testToken[strings.LastIndex(testToken, ".")+1:]
	base := &url.Error{Op: "Post", URL: "https://discord.com/api/v9/interactions/1/itoken-secret/callback", Err: context.DeadlineExceeded}
	err = a.wrap(outbox.RetryAfter(errors.Join(base, errors.New("echo "+testToken)), 1), "answer a button press")
	msg := err.Error()
	if strings.Contains(msg, "itoken-secret") || strings.Contains(msg, secret) {
		t.Errorf("redacted error still has a secret: %s", msg)
	}
	if !strings.HasPrefix(msg, "discord: answer a button press: ") || !strings.Contains(msg, "https://discord.com/…") {
		t.Errorf("redacted error = %q, want what was done and where", msg)
	}
	var se *outbox.SendError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("redaction lost the error chain: %#v", err)
	}
}

package discord

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Storing a message outlasts a database outage of several attempts, where
// a REST call gives up after three; a stopRetry ends both at once.
func TestRetryStoreOutlastsAnOutage(t *testing.T) {
	flaky := func(fails int) (func() (int, error), *int) {
		calls := 0
		return func() (int, error) {
			calls++
			if calls <= fails {
				return 0, errors.New("database unavailable")
			}
			return 42, nil
		}, &calls
	}
	ctx := context.Background()
	fn, _ := flaky(6)
	if v, err := retryStore(ctx, time.Millisecond, fn); err != nil || v != 42 {
		t.Errorf("retryStore through 6 failures = %d, %v; want 42", v, err)
	}
	fn, calls := flaky(6)
	if _, err := retry(ctx, time.Millisecond, fn); err == nil || *calls != 3 {
		t.Errorf("retry through 6 failures: %v after %d calls; want an error after 3", err, *calls)
	}
	fn, calls = flaky(100)
	if _, err := retryStore(ctx, time.Millisecond, fn); err == nil || *calls != storeAttempts {
		t.Errorf("retryStore against a lasting failure: %v after %d calls; want an error after %d", err, *calls, storeAttempts)
	}
	stops := 0
	_, err := retryStore(ctx, time.Millisecond, func() (int, error) { stops++; return 0, stopRetry{errors.New("invalid")} })
	if err == nil || stops != 1 {
		t.Errorf("stopRetry: %v after %d calls; want an error after 1", err, stops)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// maxFailures bounds the failures a run keeps to report.
const maxFailures = 5

// driver is the customers of one run, writing to the server's Events API.
type driver struct {
	client   *http.Client
	events   string // the server's POST /slack/events URL
	slack    *slackSide
	messages int
	patience time.Duration

	mu        sync.Mutex
	latencies []time.Duration
	last      time.Time // when the latest answer arrived
	failures  []string
	failed    int
}

// load is what the customers measured.
type load struct {
	latencies []time.Duration // one per answer received, in no order
	elapsed   time.Duration   // first event sent to last answer received
	failures  []string        // the first few
	failed    int             // customers who gave up
}

func newDriver(serverURL string, slack *slackSide, o options) *driver {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = o.inflight, o.inflight
	return &driver{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, events: serverURL + "/slack/events",
		slack: slack, messages: o.messages, patience: o.timeout}
}

// drive runs customers customers, inflight at a time, and returns when
// each has had every answer or given up.
func (d *driver) drive(ctx context.Context, customers, inflight int) load {
	defer d.client.CloseIdleConnections()
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(inflight, customers) {
		wg.Go(func() {
			for i := range next {
				if err := d.customer(ctx, i); err != nil {
					d.fail(err)
				}
			}
		})
	}
feed:
	for i := range customers {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return load{latencies: d.latencies, elapsed: d.last.Sub(start), failures: d.failures, failed: d.failed}
}

// customer i writes their messages in their DM, each once the previous
// one is answered.
func (d *driver) customer(ctx context.Context, i int) error {
	user := customerID(i)
	arrivals := d.slack.arrivals[fakeslack.DMChannel(user)]
	for m := range d.messages {
		text := fmt.Sprintf("What are your support hours? (question %d of customer %d)", m+1, i)
		body := d.slack.fake.EventCallback(fakeslack.IMEvent(user, text, d.slack.fake.NewTS()))
		sent := time.Now()
		if err := d.post(ctx, body); err != nil {
			return fmt.Errorf("customer %d, message %d: %w", i, m+1, err)
		}
		at, err := d.await(ctx, arrivals)
		if err != nil {
			return fmt.Errorf("customer %d, message %d: %w", i, m+1, err)
		}
		d.record(at.Sub(sent), at)
	}
	return nil
}

// post sends one event as Slack does, signed with the signing secret.
func (d *driver) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.events, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post the event: %w", err)
	}
	ts, sig := fakeslack.Sign(fakeslack.SigningSecret, time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("post the event: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post the event: %s", resp.Status)
	}
	return nil
}

// await waits for the next answer in the customer's DM.
func (d *driver) await(ctx context.Context, arrivals <-chan time.Time) (time.Time, error) {
	t := time.NewTimer(d.patience)
	defer t.Stop()
	select {
	case at := <-arrivals:
		return at, nil
	case <-t.C:
		return time.Time{}, fmt.Errorf("no answer within %s", d.patience)
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("waiting for the answer: %w", ctx.Err())
	}
}

func (d *driver) record(latency time.Duration, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.latencies = append(d.latencies, latency)
	if at.After(d.last) {
		d.last = at
	}
}

func (d *driver) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failed++
	if len(d.failures) < maxFailures {
		d.failures = append(d.failures, err.Error())
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestBenchTiny runs the whole benchmark, build included, at a tiny size:
// the binary starts, every message is answered exactly once, and every
// figure is printed.
func TestBenchTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the firstline binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-customers", "20", "-messages", "2", "-inflight", "5", "-commits", "200"}, &out)
	if err != nil {
		t.Fatalf("loadbench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"run 1: 40/40 answers (0 missing, 0 duplicated", "replies/s", "DM→reply p99",
		"server RSS after the run", "SQLite commits/s", "replies/s ÷ commits/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name                string
		args                []string
		customers, messages int
		wantErr             string
	}{
		{name: "defaults", customers: 1000, messages: 2},
		{name: "conversations", args: []string{"-conversations", "10000"}, customers: 10000, messages: 1},
		{name: "conversations and customers", args: []string{"-conversations", "5", "-customers", "3"}, wantErr: "one or the other"},
		{name: "no in flight", args: []string{"-inflight", "0"}, wantErr: "-inflight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.customers != tt.customers || o.messages != tt.messages {
				t.Errorf("%d customers × %d messages; want %d × %d", o.customers, o.messages, tt.customers, tt.messages)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(ds, 50); got != 50*time.Millisecond {
		t.Errorf("p50 %s; want 50ms", got)
	}
	if got := percentile(ds, 99); got != 99*time.Millisecond {
		t.Errorf("p99 %s; want 99ms", got)
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of none %s; want 0", got)
	}
}

package main

import (
	"strings"
	"testing"
	"time"
)

func TestHandoffAgentTimeoutConfig(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil || c.HandoffAgentTimeout != 30*time.Minute {
		t.Fatalf("default FIRSTLINE_HANDOFF_AGENT_TIMEOUT = %s, %v; want 30m", c.HandoffAgentTimeout, err)
	}
	c, err = LoadConfig(envOf(map[string]string{"FIRSTLINE_HANDOFF_AGENT_TIMEOUT": "2h"}))
	if err != nil || c.HandoffAgentTimeout != 2*time.Hour {
		t.Errorf("FIRSTLINE_HANDOFF_AGENT_TIMEOUT=2h: %s, %v", c.HandoffAgentTimeout, err)
	}
	for _, bad := range []string{"soon", "30s"} {
		c, err := LoadConfig(envOf(map[string]string{"FIRSTLINE_HANDOFF_AGENT_TIMEOUT": bad}))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), "FIRSTLINE_HANDOFF_AGENT_TIMEOUT") {
			t.Errorf("FIRSTLINE_HANDOFF_AGENT_TIMEOUT=%s: error %v; want one naming the variable", bad, err)
		}
	}
}

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/internal/fakeslack"
)

// TestShutdownMidTurn: SIGTERM while a model call is running. serve stops
// taking input, lets the turn finish (up to 20 s), delivers what it queued,
// and exits 0: the answer is on Slack before the process is gone. A turn
// that outlasts the platform's grace period (the process is then killed,
// as `docker stop` does after ten seconds) is answered after the next
// start, once: when the killed process's turn lease runs out.
func TestShutdownMidTurn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary: not with -short")
	}
	tests := []struct {
		name string
		// model is how long the model takes.
		model time.Duration
		// killAfter, when set, kills the process this long after SIGTERM.
		killAfter time.Duration
	}{
		{name: "turn finishes within the bound", model: 1500 * time.Millisecond},
		{name: "killed during the grace period", model: time.Hour, killAfter: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slack := fakeslack.New(t)
			model := newFakeModel(t)
			srv := newServer(t,
				"FIRSTLINE_DB="+t.TempDir()+"/firstline.db",
				"OPENAI_BASE_URL="+model.baseURL(), "FIRSTLINE_MODEL=e2e-model",
				"SLACK_BOT_TOKEN="+fakeslack.BotToken, "SLACK_APP_TOKEN="+fakeslack.AppToken,
				"SLACK_API_URL="+slack.APIURL(), "SLACK_AGENT_CHANNEL="+agentChannel,
			)
			srv.start()
			model.setDelay(tt.model)
			_, env := slack.DM("U-ada", "When does my parcel arrive? Reference T0001")
			waitFor(t, 15*time.Second, "the message to be acknowledged and the model called", func() bool {
				return slack.Acked(env) > 0 && model.calls.Load() > 0
			})
			answers := func() int {
				n := 0
				for _, p := range slack.Posts() {
					if p.Channel == fakeslack.DMChannel("U-ada") && strings.Contains(p.Section(), "Answer to T0001") {
						n++
					}
				}
				return n
			}

			if tt.killAfter == 0 {
				code, took := srv.stop(30 * time.Second)
				if code != 0 {
					t.Errorf("exit code %d, want 0", code)
				}
				if n := answers(); n != 1 {
					t.Fatalf("%d answers on Slack when the process exited (after %v), want 1", n, took)
				}
				t.Logf("SIGTERM mid-turn: answered and stopped in %v", took)
				return
			}
			srv.signalTerm()
			time.Sleep(tt.killAfter) // the grace period
			srv.kill()
			if n := answers(); n != 0 {
				t.Fatalf("%d answers before the restart, want none (the model never answered)", n)
			}
			model.setDelay(0)
			srv.start()
			// Within about a turn lease (bot.DefaultTurnLease) and a third.
			waitFor(t, 30*time.Second, "the answer after the restart", func() bool { return answers() > 0 })
			code, _ := srv.stop(30 * time.Second)
			if n := answers(); n != 1 || code != 0 {
				t.Errorf("%d answers, exit code %d; want the message answered once and a clean exit", n, code)
			}
			// Recovered at start, or, while the killed process's turn
			// lease still ran, by the recovery pass after it ran out.
			if srv.logCount("recovered unprocessed messages")+srv.logCount("answering messages that no replica was answering") != 1 {
				t.Errorf("the restart did not say it recovered the message:\n%s", srv.tail(40))
			}
		})
	}
}

package bot_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// The limits of bot/verify.go, as a customer meets them.
const (
	maxTargetSends    = 5
	maxTargetFailures = 10
	maxCodeAttempts   = 5
	targetLockout     = time.Hour
)

// lockAlerts counts the agents' alerts about a verification lockout.
func lockAlerts(msgs []bot.Outgoing) int {
	n := 0
	for _, o := range testkit.Only(msgs, bot.KindThread) {
		if strings.Contains(o.Text, "Identity verification locked") && o.Channel == testkit.AgentChannel {
			n++
		}
	}
	return n
}

// askCode has user ask for a code to email and returns the reply and how
// many lockout alerts the agents got.
func askCode(t *testing.T, h *testkit.Harness, user, email string) (string, int) {
	t.Helper()
	first := h.Say(user, "what's the status of my payments?")
	msgs := h.Say(user, email)
	return one(t, msgs), lockAlerts(first) + lockAlerts(msgs)
}

func TestVerifyTargetSendBudget(t *testing.T) { testVerifyTargetSendBudget(t) }

// Ten chat identities asking codes for one customer's address get five
// codes to the inbox in an hour, not thirty; the agents are alerted once;
// an address no customer has reads the same; an hour later codes go again.
func testVerifyTargetSendBudget(t *testing.T, opts ...testkit.Option) {
	run := func(email string) (replies []string, alerts int, h *testkit.Harness, box *codeBox) {
		h, box = verifyHarness(t, opts...)
		for i := range 10 {
			// Case and compatibility forms count as one address.
			addr := email
			if i%2 == 1 {
				addr = strings.ToUpper(email)
			}
			r, a := askCode(t, h, fmt.Sprintf("U-%d", i), addr)
			replies, alerts = append(replies, r), alerts+a
		}
		return replies, alerts, h, box
	}
	known, alerts, h, box := run("ada@example.com")
	if box.count() != maxTargetSends {
		t.Errorf("%d codes went to Ada's inbox from 10 chats, want %d", box.count(), maxTargetSends)
	}
	for i, r := range known {
		want := "on its way"
		if i >= maxTargetSends {
			want = "too many codes"
		}
		if !strings.Contains(r, want) {
			t.Errorf("chat %d: reply %q, want %q", i, r, want)
		}
	}
	if alerts != 1 {
		t.Errorf("agents got %d lockout alerts, want 1", alerts)
	}
	unknown, unknownAlerts, _, _ := run("nobody@example.com")
	if strings.Join(unknown, "|") != strings.Join(known, "|") || unknownAlerts != alerts {
		t.Errorf("an address no customer has reads differently:\n%q (%d alerts)\n%q (%d alerts)", unknown, unknownAlerts, known, alerts)
	}

	// The lockout ends; codes go again, and the identities that asked too
	// often wait out their own (shorter) lockout only.
	h.Clock.Advance(targetLockout + time.Minute)
	if r, _ := askCode(t, h, "U-new", "ada@example.com"); !strings.Contains(r, "on its way") {
		t.Errorf("after the lockout: %q", r)
	}
	wantReply(t, "right code after the lockout", h.Say("U-new", box.last(t).Code), "now linked")
}

func TestVerifyTargetGuessBudget(t *testing.T) { testVerifyTargetGuessBudget(t) }

// Wrong codes typed for one address from several chats add up: the tenth
// locks the address, so that even the right code links nobody, and the
// agents are alerted once.
func testVerifyTargetGuessBudget(t *testing.T, opts ...testkit.Option) {
	h, box := verifyHarness(t, opts...)
	codes := map[string]string{}
	users := []string{"U-1", "U-2", "U-3", "U-4", "U-5"}
	for _, u := range users {
		if r, _ := askCode(t, h, u, "ada@example.com"); !strings.Contains(r, "on its way") {
			t.Fatalf("%s: %q", u, r)
		}
		codes[u] = box.last(t).Code
	}
	alerts, wrong := 0, 0
	for round := range 2 {
		for _, u := range users {
			msgs := h.Say(u, otherCode(codes[u]))
			alerts += lockAlerts(msgs)
			wrong++
			want := fmt.Sprintf("%d attempts left", maxCodeAttempts-1-round)
			if wrong == maxTargetFailures {
				want = "too many codes or attempts"
			}
			wantReply(t, fmt.Sprintf("wrong code %d (%s)", wrong, u), msgs, want)
		}
	}
	if alerts != 1 {
		t.Errorf("agents got %d lockout alerts, want 1", alerts)
	}
	// The others still hold a code of their own, and it is right: locked.
	msgs := h.Say("U-1", codes["U-1"])
	wantReply(t, "the right code of a locked address", msgs, "too many codes or attempts")
	if lockAlerts(msgs) != 0 {
		t.Error("a second alert for the same lockout")
	}
	if c, err := customerOf(h, "U-1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a right code linked a locked address to %q (err %v)", c, err)
	}
	if got := box.count(); got != len(users) {
		t.Errorf("%d codes sent, want %d", got, len(users))
	}
	locks := 0
	for _, e := range auditLog(t, h) {
		if e.Action == bot.AuditVerifyLocked && e.Reason == "target_too_many_attempts" {
			locks++
			if e.CustomerID != "C-1" {
				t.Errorf("lockout audited for customer %q, want C-1", e.CustomerID)
			}
		}
	}
	if locks != 1 {
		t.Errorf("%d audited target lockouts, want 1", locks)
	}
}

package handoff_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/testkit"
	"github.com/firstlinehq/firstline/prompts"
)

// The harness's clock starts on Monday 2026-11-02 at 10:00 UTC, 11:00 in
// Stockholm, where the default business hours (Monday to Friday, 09:00 to
// 17:00) are.

// timerConfig is the production default of the timers.
func timerConfig(c *handoff.Config) {
	c.RepingEvery, c.Repings, c.AgentTimeout = 5*time.Minute, 3, 30*time.Minute
}

// newTimerHarness returns a harness with the default business hours (or
// hours.yaml text) and the default timers.
func newTimerHarness(t *testing.T, hours string, opts ...testkit.Option) *testkit.Harness {
	t.Helper()
	files := map[string]string{}
	if hours != "" {
		files[prompts.FileHours] = hours
	}
	set := testkit.Prompts(files)
	return testkit.New(t, append([]testkit.Option{
		testkit.WithPrompts(func() *prompts.Set { return set }),
		testkit.WithHandoffs(timerConfig),
	}, opts...)...)
}

// tick runs the timers at the harness's time, delivers the outbox, and
// returns what was posted.
func tick(t *testing.T, h *testkit.Harness) []bot.Outgoing {
	t.Helper()
	before := len(h.Platform.All())
	if err := h.Handoffs.Tick(h.Ctx, h.Clock.Now()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	h.Flush()
	return h.Platform.All()[before:]
}

// advanceTo moves the clock forward to at.
func advanceTo(t *testing.T, h *testkit.Harness, at time.Time) {
	t.Helper()
	d := at.Sub(h.Clock.Now())
	if d < 0 {
		t.Fatalf("clock at %s cannot go back to %s", h.Clock.Now(), at)
	}
	h.Clock.Advance(d)
}

// digests returns the re-ping digests among msgs: posts in the agent
// channel itself, mentioning the agents.
func digests(msgs []bot.Outgoing) []bot.Outgoing {
	var out []bot.Outgoing
	for _, m := range testkit.Only(msgs, bot.KindThread) {
		if m.ParentID == 0 && m.Channel == testkit.AgentChannel && m.Mention {
			out = append(out, m)
		}
	}
	return out
}

// toCustomer returns the bot's messages to user among msgs, but the
// greeting.
func toCustomer(msgs []bot.Outgoing, user string) []string {
	var out []string
	for _, m := range testkit.Only(msgs, bot.KindReply) {
		if m.Channel == "D-"+user && !strings.Contains(m.Text, "AI") {
			out = append(out, m.Text)
		}
	}
	return out
}

// askForPerson has user ask for a person and returns the announcement.
func askForPerson(t *testing.T, h *testkit.Harness, user string) bot.Outgoing {
	t.Helper()
	return testkit.MustOne(t, testkit.Only(h.Say(user, "I want to talk to a human"), bot.KindAnnounce), "announcement")
}

func stockholm(t *testing.T, month time.Month, day, hour, minute int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2026, month, day, hour, minute, 0, 0, loc)
}

func TestRepingDigest(t *testing.T) {
	h := newTimerHarness(t, "")
	ada := askForPerson(t, h, "U-ada")
	h.Clock.Advance(2 * time.Minute)
	grace := askForPerson(t, h, "U-grace")

	h.Clock.Advance(2 * time.Minute) // 10:04: nobody has waited 5 minutes
	if d := digests(tick(t, h)); len(d) != 0 {
		t.Fatalf("digest after 4 minutes: %+v", d)
	}

	h.Clock.Advance(time.Minute) // 10:05
	msgs := tick(t, h)
	d := testkit.MustOne(t, digests(msgs), "digest")
	first := strings.Index(d.Text, "#1 ada on slack, waiting 5 min")
	second := strings.Index(d.Text, "#2 grace on slack, waiting 3 min")
	if !strings.Contains(d.Text, "2 handoffs are waiting") || first < 0 || second < first {
		t.Errorf("digest = %q; want both handoffs with their age, oldest first", d.Text)
	}
	// The cards are edited in place, not posted again.
	if n := len(testkit.Only(msgs, bot.KindAnnounce)); n != 0 {
		t.Errorf("%d cards posted again", n)
	}
	cards := map[string]string{}
	for _, u := range testkit.Only(msgs, bot.KindUpdate) {
		cards[u.ParentRef] = u.Text
	}
	for _, c := range []struct {
		ann  bot.Outgoing
		want string
	}{{ada, "waiting for an agent for 5 min"}, {grace, "waiting for an agent for 3 min"}} {
		if card := cards[fmt.Sprintf("ts-%d", c.ann.ID)]; !strings.Contains(card, c.want) {
			t.Errorf("card of handoff %d = %q; want %q", c.ann.HandoffID, card, c.want)
		}
	}
	if got := toCustomer(msgs, "U-ada"); len(got) != 0 {
		t.Errorf("customer told %q after one re-ping", got)
	}

	// Ticking again, a second later, posts nothing: the next digest is due
	// a full interval after this one, for both handoffs.
	h.Clock.Advance(time.Second)
	if d := digests(tick(t, h)); len(d) != 0 {
		t.Errorf("second digest a second later: %+v", d)
	}

	// 10:10, 10:15: one digest each. After its third re-ping, Ada is told
	// honestly that the team is busy, with her place and today's hours.
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 10, 0, 0, time.UTC))
	testkit.MustOne(t, digests(tick(t, h)), "digest at 10:10")
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 15, 0, 0, time.UTC))
	msgs = tick(t, h)
	testkit.MustOne(t, digests(msgs), "digest at 10:15")
	told := testkit.MustOne(t, toCustomer(msgs, "U-ada"), "message to Ada")
	for _, want := range []string{"busy", "number 1 in the queue", "17:00 (CET)", "kept for them"} {
		if !strings.Contains(told, want) {
			t.Errorf("Ada was told %q; want it to say %q", told, want)
		}
	}
	if got := toCustomer(msgs, "U-grace"); len(got) != 0 {
		t.Errorf("Grace told %q after two re-pings", got)
	}
	// Grace's third re-ping is at 10:20; Ada is told only once.
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 20, 0, 0, time.UTC))
	msgs = tick(t, h)
	if got := testkit.MustOne(t, toCustomer(msgs, "U-grace"), "message to Grace"); !strings.Contains(got, "number 2 in the queue") {
		t.Errorf("Grace was told %q", got)
	}
	if got := toCustomer(msgs, "U-ada"); len(got) != 0 {
		t.Errorf("Ada told again: %q", got)
	}

	// A claimed handoff leaves the digest.
	h.Agent(ada, "A1", "claim")
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 25, 0, 0, time.UTC))
	d = testkit.MustOne(t, digests(tick(t, h)), "digest at 10:25")
	if strings.Contains(d.Text, "#1 ") || !strings.Contains(d.Text, "1 handoff is waiting") {
		t.Errorf("digest after Ada's claim = %q; want Grace's handoff only", d.Text)
	}
}

// Two replicas ticking at the same moment post one digest: the store
// decides, with a conditional update, which one does.
func TestReplicasPostOneDigest(t *testing.T) {
	stores := map[string][]testkit.Option{"sqlite": nil, "postgres": {testkit.WithStore(testkit.Postgres)}}
	for name, opts := range stores {
		t.Run(name, func(t *testing.T) {
			h := newTimerHarness(t, "", opts...)
			for _, u := range []string{"U-ada", "U-grace", "U-cy"} {
				askForPerson(t, h, u)
			}
			replicas := []*handoff.Service{h.Handoffs}
			for range 3 {
				cfg := handoff.Config{
					Store: h.Store, Prompts: func() *prompts.Set { return testkit.Prompts(nil) },
					AgentPlatform: bot.Slack, AgentWorkspace: testkit.Team, AgentChannel: testkit.AgentChannel,
					Now: h.Clock.Now, Notify: h.Disp.Notify,
				}
				timerConfig(&cfg)
				s, err := handoff.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				replicas = append(replicas, s)
			}
			for round := 1; round <= 3; round++ {
				h.Clock.Advance(5 * time.Minute)
				before := len(h.Platform.All())
				var wg sync.WaitGroup
				for _, r := range replicas {
					wg.Go(func() {
						if err := r.Tick(h.Ctx, h.Clock.Now()); err != nil {
							t.Errorf("Tick: %v", err)
						}
					})
				}
				wg.Wait()
				h.Flush()
				msgs := h.Platform.All()[before:]
				if n := len(digests(msgs)); n != 1 {
					t.Errorf("round %d: %d digests from %d replicas; want 1", round, n, len(replicas))
				}
				if round == 3 {
					// And each customer is told once that the team is busy.
					for _, u := range []string{"U-ada", "U-grace", "U-cy"} {
						if got := toCustomer(msgs, u); len(got) != 1 {
							t.Errorf("%s told %d times after the third re-ping: %q", u, len(got), got)
						}
					}
				}
			}
		})
	}
}

func TestOutOfHours(t *testing.T) {
	t.Run("opened on a Saturday", func(t *testing.T) {
		h := newTimerHarness(t, "")
		advanceTo(t, h, stockholm(t, time.November, 7, 11, 0))
		msgs := h.Say("U-ada", "I want to talk to a human")
		replies := toCustomer(msgs, "U-ada")
		if len(replies) != 2 || !strings.Contains(replies[0], "number 1 in the queue") ||
			!strings.Contains(replies[1], "back on Monday at 09:00 (CET)") || !strings.Contains(replies[1], "kept for them") {
			t.Fatalf("customer told %q; want the acknowledgement, then when the team is back", replies)
		}
		// The weekend passes without digests, and without telling her again.
		for range 10 {
			h.Clock.Advance(3 * time.Hour)
			msgs := tick(t, h)
			if len(digests(msgs)) != 0 || len(toCustomer(msgs, "U-ada")) != 0 {
				t.Fatalf("at %s: digests %+v, customer told %q", h.Clock.Now(), digests(msgs), toCustomer(msgs, "U-ada"))
			}
		}
		// At opening time the agents get a digest of what waited.
		advanceTo(t, h, stockholm(t, time.November, 9, 9, 0))
		d := testkit.MustOne(t, digests(tick(t, h)), "digest at opening")
		if !strings.Contains(d.Text, "waiting 1 d 22 h") {
			t.Errorf("digest at opening = %q", d.Text)
		}
	})

	t.Run("holiday, in Swedish", func(t *testing.T) {
		h := newTimerHarness(t, "time_zone: Europe/Stockholm\nweek:\n  monday: 09:00-17:00\n  tuesday: 09:00-17:00\nholidays:\n  - 2026-11-09\n")
		advanceTo(t, h, stockholm(t, time.November, 7, 11, 0))
		replies := toCustomer(h.Say("U-ada", "Jag vill prata med en människa"), "U-ada")
		if len(replies) != 2 || !strings.Contains(replies[1], "tillbaka på tisdag kl. 09:00 (CET)") {
			t.Fatalf("customer told %q; want when the team is back, after the holiday, in Swedish", replies)
		}
	})

	t.Run("the team leaves while a customer waits", func(t *testing.T) {
		h := newTimerHarness(t, "")
		advanceTo(t, h, stockholm(t, time.November, 6, 16, 50)) // a Friday
		askForPerson(t, h, "U-ada")
		advanceTo(t, h, stockholm(t, time.November, 6, 17, 1))
		told := testkit.MustOne(t, toCustomer(tick(t, h), "U-ada"), "message at closing")
		if !strings.Contains(told, "back on Monday at 09:00 (CET)") {
			t.Errorf("at closing the customer was told %q", told)
		}
		h.Clock.Advance(30 * time.Minute)
		if got := toCustomer(tick(t, h), "U-ada"); len(got) != 0 {
			t.Errorf("told again the same evening: %q", got)
		}
		// Monday: the team is back, then leaves again with her still
		// waiting; she is told again, about Tuesday now.
		// At 09:00 she has been re-pinged often enough, but the team only
		// just came back: "everyone is busy" comes after three re-pings'
		// worth of waiting, at 09:15.
		for _, m := range []int{0, 5, 10} {
			advanceTo(t, h, stockholm(t, time.November, 9, 9, m))
			if got := toCustomer(tick(t, h), "U-ada"); len(got) != 0 {
				t.Errorf("at 09:%02d the customer was told %q", m, got)
			}
		}
		advanceTo(t, h, stockholm(t, time.November, 9, 9, 15))
		if got := testkit.MustOne(t, toCustomer(tick(t, h), "U-ada"), "message at 09:15"); !strings.Contains(got, "busy") {
			t.Errorf("at 09:15 the customer was told %q", got)
		}
		advanceTo(t, h, stockholm(t, time.November, 9, 17, 0))
		msgs := tick(t, h)
		var closed []string
		for _, m := range toCustomer(msgs, "U-ada") {
			if strings.Contains(m, "away") {
				closed = append(closed, m)
			}
		}
		if len(closed) != 1 || !strings.Contains(closed[0], "back tomorrow at 09:00 (CET)") {
			t.Errorf("at Monday's closing the customer was told %q", toCustomer(msgs, "U-ada"))
		}
	})
}

func TestQueuePositionUpdates(t *testing.T) {
	h := newTimerHarness(t, "")
	anns := map[string]bot.Outgoing{}
	for _, u := range []string{"U-ada", "U-grace", "U-cy"} {
		anns[u] = askForPerson(t, h, u)
		h.Clock.Advance(10 * time.Second)
	}
	// 10:01: Ada's handoff is claimed. Grace moves up, but was told her
	// place a minute ago: no news yet.
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 1, 0, 0, time.UTC))
	h.Agent(anns["U-ada"], "A1", "claim")
	msgs := tick(t, h)
	if got := append(toCustomer(msgs, "U-grace"), toCustomer(msgs, "U-cy")...); len(got) != 0 {
		t.Fatalf("told within a minute: %q", got)
	}
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 4, 0, 0, time.UTC))
	msgs = tick(t, h)
	for u, want := range map[string]string{"U-grace": "now number 1", "U-cy": "now number 2"} {
		if got := testkit.MustOne(t, toCustomer(msgs, u), u+"'s update"); !strings.Contains(got, want) {
			t.Errorf("%s told %q; want %q", u, got, want)
		}
	}
	// Grace's handoff is resolved at 10:05; Cy was told a minute ago and
	// hears at 10:07.
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 5, 0, 0, time.UTC))
	h.Agent(anns["U-grace"], "A2", "resolve")
	if got := toCustomer(tick(t, h), "U-cy"); len(got) != 0 {
		t.Errorf("Cy told again within 3 minutes: %q", got)
	}
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 7, 0, 0, time.UTC))
	if got := testkit.MustOne(t, toCustomer(tick(t, h), "U-cy"), "Cy's update"); !strings.Contains(got, "now number 1") {
		t.Errorf("Cy told %q", got)
	}
	// Ada's handoff comes back to the queue ahead of Cy's: Ada hears her
	// place; Cy is not told of a worse one.
	h.Agent(anns["U-ada"], "A1", "unclaim")
	advanceTo(t, h, time.Date(2026, 11, 2, 10, 11, 0, 0, time.UTC))
	if got := toCustomer(tick(t, h), "U-cy"); len(got) != 0 {
		t.Errorf("Cy told of a worse place: %q", got)
	}
}

func TestUnclaimTransferAndAgentTimeout(t *testing.T) {
	h := newTimerHarness(t, "")
	ann := askForPerson(t, h, "U-ada")
	thread := func(msgs []bot.Outgoing) string {
		var b strings.Builder
		for _, m := range testkit.Only(msgs, bot.KindThread) {
			if m.ParentRef == fmt.Sprintf("ts-%d", ann.ID) {
				b.WriteString(m.Text + "\n")
			}
		}
		return b.String()
	}

	// Unclaim: the customer hears it, with her place.
	h.Agent(ann, "A1", "claim")
	_, msgs := h.Agent(ann, "A1", "unclaim")
	if got := testkit.MustOne(t, toCustomer(msgs, "U-ada"), "message after unclaim"); !strings.Contains(got, "back in the queue") || !strings.Contains(got, "number 1") {
		t.Errorf("after unclaim the customer was told %q", got)
	}
	// Transfer: the customer hears who joined.
	h.Agent(ann, "A2", "claim")
	res, err := h.Handoffs.AgentMessage(h.Ctx, handoff.AgentMessage{
		Platform: bot.Slack, Channel: testkit.AgentChannel, Thread: fmt.Sprintf("ts-%d", ann.ID),
		Agent: handoff.Agent{ID: "A2", Name: "Agent A2", Role: handoff.RoleAgent}, Text: "transfer @A3", MessageID: "transfer-1",
		Mentions: []handoff.Agent{{ID: "A3", Name: "Agent A3", Role: handoff.RoleAgent}},
	})
	if err != nil || res.Outcome != handoff.Transferred {
		t.Fatalf("transfer: %v, %v", res.Outcome, err)
	}
	before := len(h.Platform.All())
	h.Flush()
	if got := testkit.MustOne(t, toCustomer(h.Platform.All()[before:], "U-ada"), "message after transfer"); !strings.Contains(got, "Agent A3") {
		t.Errorf("after the transfer the customer was told %q", got)
	}

	// A3 says nothing for 30 minutes: the handoff goes back to the queue.
	h.Clock.Advance(29 * time.Minute)
	if msgs := tick(t, h); len(toCustomer(msgs, "U-ada")) != 0 {
		t.Fatalf("returned after 29 minutes: %q", toCustomer(msgs, "U-ada"))
	}
	h.Clock.Advance(time.Minute)
	msgs = tick(t, h)
	if got := testkit.MustOne(t, toCustomer(msgs, "U-ada"), "message after the timeout"); !strings.Contains(got, "back in the queue") {
		t.Errorf("after the timeout the customer was told %q", got)
	}
	if th := thread(msgs); !strings.Contains(th, "The customer waited 30 min for Agent A3") || !strings.Contains(th, "Write claim") {
		t.Errorf("thread note = %q", th)
	}
	// (The card is also refreshed by the digest of the same tick: the
	// agents are re-pinged about it at once.)
	updates := testkit.Only(msgs, bot.KindUpdate)
	if len(updates) == 0 {
		t.Fatal("the card was not updated")
	}
	if upd := updates[len(updates)-1]; !strings.Contains(upd.Text, "waiting for an agent") || len(upd.Buttons) != 2 {
		t.Errorf("card after the timeout = %q with %d buttons; want waiting, Claim and Resolve", upd.Text, len(upd.Buttons))
	}
	if res, _ := h.Agent(ann, "A4", "claim"); res.Outcome != handoff.Claimed {
		t.Fatalf("claim after the timeout: %s", res.Outcome)
	}

	// An agent waiting for the customer's answer keeps the handoff...
	h.Agent(ann, "A4", "Could you send me the receipt?")
	h.Clock.Advance(2 * time.Hour)
	if got := toCustomer(tick(t, h), "U-ada"); len(got) != 0 {
		t.Fatalf("returned while the agent waits for the customer: %q", got)
	}
	// ...until the customer has answered and waited 30 minutes.
	h.Say("U-ada", "here it is")
	h.Clock.Advance(29 * time.Minute)
	if got := toCustomer(tick(t, h), "U-ada"); len(got) != 0 {
		t.Fatalf("returned 29 minutes after the customer wrote: %q", got)
	}
	h.Clock.Advance(time.Minute)
	if got := toCustomer(tick(t, h), "U-ada"); len(got) != 1 || !strings.Contains(got[0], "back in the queue") {
		t.Errorf("30 minutes after the customer wrote: %q", got)
	}
}

func TestTranscript(t *testing.T) {
	h := newTimerHarness(t, "")
	h.Say("U-ada", "status of PAY-1001")
	ann := askForPerson(t, h, "U-ada")
	h.Agent(ann, "A1", "claim")
	h.Agent(ann, "A1", "Hi Ada, looking at it.")
	h.Agent(ann, "A1", "// checking the ledger")
	h.Say("U-ada", "thanks\nit was on Monday")

	// Any agent may ask, not only the one who claimed.
	res, msgs := h.Agent(ann, "A9", "  Transcript ")
	if res.Outcome != handoff.TranscriptPosted {
		t.Fatalf("transcript: %s", res.Outcome)
	}
	text := ""
	for _, m := range testkit.Only(msgs, bot.KindThread) {
		if m.ParentRef != fmt.Sprintf("ts-%d", ann.ID) {
			t.Errorf("transcript post outside the handoff's thread: %+v", m)
		}
		text += m.Text + "\n"
	}
	for _, want := range []string{
		"**Transcript of handoff #1**, for Agent A9: ada on slack, customer C-1. Conversation opened 2026-11-02 11:00 CET.",
		"`11:00` **customer ada:** status of PAY-1001",
		"**bot:** Payment **PAY-1001**",
		"**customer ada:** I want to talk to a human",
		"**agent Agent A1:** Hi Ada, looking at it.",
		"**customer ada:** thanks\n> it was on Monday",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "checking the ledger") || strings.Contains(text, "claim") {
		t.Errorf("transcript holds notes or commands:\n%s", text)
	}
	if len(testkit.Only(msgs, bot.KindRelay)) != 0 || len(toCustomer(msgs, "U-ada")) != 0 {
		t.Error("the transcript reached the customer")
	}

	// A long conversation comes in several posts, each of a readable size.
	for i := range 40 {
		h.Say("U-ada", fmt.Sprintf("message %d: %s", i, strings.Repeat("words ", 20)))
	}
	_, msgs = h.Agent(ann, "A9", "transcript")
	posts := testkit.Only(msgs, bot.KindThread)
	if len(posts) < 2 {
		t.Fatalf("a transcript of %d messages in %d posts", 45, len(posts))
	}
	all := ""
	for _, p := range posts {
		if len(p.Text) > 3200 {
			t.Errorf("a transcript post of %d bytes", len(p.Text))
		}
		all += p.Text
	}
	if !strings.Contains(all, "message 0:") || !strings.Contains(all, "message 39:") {
		t.Error("the transcript lost messages")
	}
}

// An agent's /queue lists the waiting handoffs, oldest first, without
// re-pinging anyone; an outsider is refused.
func TestQueueListing(t *testing.T) {
	h := newTimerHarness(t, "")
	agent := handoff.Agent{ID: "U-agent", Name: "Alex", Role: handoff.RoleAgent}
	if res, err := h.Handoffs.Queue(h.Ctx, agent); err != nil || res.Feedback != "" {
		t.Fatalf("empty queue: %+v, %v", res, err)
	}
	askForPerson(t, h, "U-ada")
	h.Clock.Advance(2 * time.Minute)
	askForPerson(t, h, "U-grace")
	res, err := h.Handoffs.Queue(h.Ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	first, second := strings.Index(res.Feedback, "#1 ada on slack, waiting 2 min"), strings.Index(res.Feedback, "#2 grace on slack")
	if !strings.Contains(res.Feedback, "2 handoffs are waiting") || first < 0 || second < first {
		t.Errorf("queue = %q; want both handoffs, oldest first", res.Feedback)
	}
	if res, _ := h.Handoffs.Queue(h.Ctx, handoff.Agent{ID: "U-ada", Name: "Ada"}); res.Outcome != handoff.NotAgent {
		t.Errorf("an outsider's /queue = %+v, want the refusal", res)
	}
	// Listing re-pinged nobody: the first digest still comes at 5 minutes.
	h.Clock.Advance(3 * time.Minute)
	testkit.MustOne(t, digests(tick(t, h)), "digest at 10:05")
}

package slack

import (
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"strings"
	"sync"
	"testing"

	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestChannelMention: a mention in a channel is answered in a thread under
// it, account data is refused there (with the offer to continue in a DM), a
// follow-up in that thread needs no mention, and other chatter is ignored.
func TestChannelMention(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			const general = "CGENERAL"

			// Slack delivers a mention both as app_mention and as message.
			since := e.mark()
			root := e.fake.NewTS()
			text := "<@UBOT> what is the status of my payments?"
			e.deliver(fakeslack.MentionEvent("U-ada", general, text, root, ""))
			e.deliver(fakeslack.ChannelEvent("U-ada", general, text, root, ""))
			refusal := e.waitPost(since, "the refusal", inThread(general, root, "only show account details in a direct message"))
			if strings.Contains(refusal.Section(), "PAY-") {
				t.Errorf("account data in a channel: %q", refusal.Section())
			}

			// Chatter: top level without a mention, another thread.
			e.deliver(fakeslack.ChannelEvent("U-grace", general, "what are your opening hours, anyone?", e.fake.NewTS(), ""))
			other := e.fake.NewTS()
			e.deliver(fakeslack.ChannelEvent("U-grace", general, "hello", other, ""))
			e.deliver(fakeslack.ChannelEvent("U-grace", general, "our opening hours are on the wiki", e.fake.NewTS(), other))

			// A follow-up in the bot's thread, no mention.
			e.deliver(fakeslack.ChannelEvent("U-ada", general, "when are you open?", e.fake.NewTS(), root))
			e.waitPost(since, "the follow-up answer", inThread(general, root, "Monday to Friday"))
			// Replied in the thread and "also sent to the channel".
			broadcast := fakeslack.ChannelEvent("U-ada", general, "how long does a refund take?", e.fake.NewTS(), root)
			broadcast["subtype"] = "thread_broadcast"
			e.deliver(broadcast)
			e.waitPost(since, "the second follow-up", inThread(general, root, "Refunds are sent back"))

			for _, p := range e.posts(since, func(p post) bool { return p.Channel == general }) {
				if p.ThreadTS != root {
					t.Errorf("posted outside the bot's thread: %+v", p)
				}
			}
			if n := len(e.posts(since, inThread(general, root, "only show account details"))); n != 1 {
				t.Errorf("%d refusals, want 1 (app_mention and message are one message)", n)
			}
		})
	}
}

// TestClaimRace: two agents press Claim at the same moment; exactly one
// wins, the customer hears of one agent, the card names the winner.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			since := e.mark()
			e.dm("U-ada", "talk to a human")
			c := e.waitCard(since)
			claim := c.Button(t, "firstline_claim")

			since = e.mark()
			var wg sync.WaitGroup
			ids := make([]string, 2)
			for i, agent := range []string{"U-alex", "U-sam"} {
				wg.Go(func() {
					var err error
					ids[i], err = e.pressConcurrently(agent, testkit.AgentChannel, c.TS, claim)
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for _, id := range ids {
				if id != "" {
					waitUntil(t, "envelope "+id+" is acknowledged", func() bool { return e.fake.Acked(id) > 0 })
				}
			}
			e.waitPost(since, "the loser's feedback", inThread(testkit.AgentChannel, c.TS, "Already claimed by"))
			e.waitPost(since, "the card update", updateOf(c.TS, "claimed by"))
			// The customer's stream goes on at its own pace (the greeting
			// and the handoff notice come first): wait for it too.
			e.waitPost(since, "the customer told who joined", to(fakeslack.DMChannel("U-ada"), "has joined"))
			wins := e.posts(since, inThread(testkit.AgentChannel, c.TS, "claimed this handoff"))
			joined := e.posts(since, to(fakeslack.DMChannel("U-ada"), "has joined"))
			if len(wins) != 1 || len(joined) != 1 {
				t.Fatalf("%d claims won, %d joined messages; want exactly one each", len(wins), len(joined))
			}
			winner, _, _ := strings.Cut(wins[0].Section(), " claimed")
			if !strings.Contains(joined[0].Section(), winner) {
				t.Errorf("customer told %q, but %q won", joined[0].Section(), winner)
			}
			if u := e.posts(since, updateOf(c.TS, "claimed by "+winner)); len(u) != 1 {
				t.Errorf("card updates naming %s: %d, want 1", winner, len(u))
			}
		})
	}
}

// TestHandledOnce: one message delivered as app_mention and as message, an
// HTTP retry, and a Socket Mode redelivery each give one answer.
func TestHandledOnce(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			ada := fakeslack.DMChannel("U-ada")

			// A retry (X-Slack-Retry-Num) or redelivery (a new envelope with
			// retry_attempt) of the same event.
			since := e.mark()
			ts := e.fake.NewTS()
			body := e.fake.EventCallback(fakeslack.IMEvent("U-ada", "status of PAY-1001", ts))
			e.deliverBody(body, 0)
			e.deliverBody(body, 1)
			e.deliverBody(body, 2)
			e.waitPost(since, "the answer", to(ada, "PAY-1001"))
			// A later message's answer comes after any other turn of the
			// conversation.
			e.dm("U-ada", "status of PAY-1002")
			e.waitPost(since, "the later answer", to(ada, "PAY-1002"))
			if n := len(e.posts(since, to(ada, "PAY-1001"))); n != 1 {
				t.Errorf("%d answers to a redelivered message, want 1", n)
			}
			if n := len(e.posts(since, to(ada, "AI support assistant"))); n != 1 {
				t.Errorf("%d greetings, want 1", n)
			}
			// Turns answer whatever is pending at once, so the reactions (one
			// per message accepted) are the exact count.
			if n := e.reactionsOn(ts); n != 1 {
				t.Errorf("%d reactions on the redelivered message, want 1", n)
			}

			// app_mention + message of one channel message, in both orders.
			for i, order := range [][]string{{"app_mention", "message"}, {"message", "app_mention"}} {
				since := e.mark()
				root := e.fake.NewTS()
				text := "<@UBOT> how long does a refund take?"
				for _, kind := range order {
					if kind == "app_mention" {
						e.deliver(fakeslack.MentionEvent("U-grace", "CHELP", text, root, ""))
					} else {
						e.deliver(fakeslack.ChannelEvent("U-grace", "CHELP", text, root, ""))
					}
				}
				e.waitPost(since, "the answer", inThread("CHELP", root, "Refunds are sent back"))
				e.deliver(fakeslack.ChannelEvent("U-grace", "CHELP", "and when are you open?", e.fake.NewTS(), root))
				e.waitPost(since, "the follow-up answer", inThread("CHELP", root, "Monday to Friday"))
				if n := len(e.posts(since, inThread("CHELP", root, "Refunds are sent back"))); n != 1 {
					t.Errorf("order %d: %d answers to one mention, want 1", i, n)
				}
				waitUntil(t, "the reaction", func() bool { return e.reactionsOn(root) > 0 })
				if n := e.reactionsOn(root); n != 1 {
					t.Errorf("order %d: %d messages accepted for one mention, want 1", i, n)
				}
			}
		})
	}
}

package crosstest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
	"github.com/firstlinehq/firstline/internal/fakediscord"
	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// A Discord customer handled from a Slack agent channel: the card is
// announced on Slack, claimed by a Slack button, the Slack agent's words
// reach the Discord DM and the customer's reach the Slack thread, the
// handoff is resolved by text, and the customer rates with a Discord
// button. The rating is stored with the handoff.
func TestDiscordCustomerSlackAgents(t *testing.T) {
	t.Parallel()
	w := start(t, bot.Slack)
	const agents = testkit.AgentChannel
	ada := fakediscord.DMAda
	err := w.h.Store.Link(context.Background(), bot.Link{Identity: bot.NewIdentity(bot.Discord, "", fakediscord.Ada), CustomerID: "C-1", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	w.discord.Say(ada, fakediscord.Ada, "status of PAY-1001")
	w.discordSent(ada, "PAY-1001")

	// Announced on Slack, with the customer's platform on the card.
	since := len(w.slack.Posts())
	w.discord.Say(ada, fakediscord.Ada, "I want to talk to a human")
	card := w.slackPost(since, "the handoff card", func(p fakeslack.Post) bool {
		return p.Method == "chat.postMessage" && p.Channel == agents && p.ThreadTS == "" && strings.Contains(p.Section(), "Handoff #")
	})
	for _, want := range []string{"on discord", "customer C-1", "The customer asked for a person", "status of PAY-1001"} {
		if !strings.Contains(card.Section(), want) {
			t.Errorf("card lacks %q:\n%s", want, card.Section())
		}
	}
	w.discordSent(ada, "asked a person from our support team")
	// Only once the outbox recorded the card as sent does its thread lead
	// to the handoff (an agent cannot reply faster than that in Slack).
	w.eventually("the card recorded as sent", func() bool {
		threads, err := w.h.Handoffs.Threads(context.Background(), bot.Slack)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(threads, func(c handoff.ThreadCursor) bool { return c.Thread == card.TS })
	})

	// Claimed by the Slack button: the Discord customer is told.
	since = len(w.slack.Posts())
	w.slack.Press("U-alex", agents, card.TS, card.Button(t, "firstline_claim"))
	w.discordSent(ada, "Alex from our support team has joined")
	w.slackPost(since, "the claim in the thread", slackSaid(agents, card.TS, "Alex claimed this handoff"))

	// Relay both ways; a note and another agent's words stay on Slack.
	w.slack.Say("U-alex", agents, "// she paid twice, checking", card.TS)
	w.slack.Say("U-sam", agents, "I can take the next one", card.TS)
	w.slack.Say("U-alex", agents, "Hi Ada, I'm looking into it", card.TS)
	if got := w.discordSent(ada, "looking into it"); !strings.HasSuffix(got.Content, "(support): Hi Ada, I'm looking into it") {
		t.Errorf("relay on Discord = %q", got.Content)
	}
	since = len(w.slack.Posts())
	w.discord.Say(ada, fakediscord.Ada, "Thanks, it was charged twice")
	w.slackPost(since, "the customer's words in the thread", slackSaid(agents, card.TS, "Thanks, it was charged twice"))

	// Resolved by text on Slack; rated by a Discord button.
	w.slack.Say("U-alex", agents, "resolve", card.TS)
	resolved := w.discordSent(ada, "marked this conversation as resolved")
	ids := resolved.CustomIDs()
	if len(ids) != 5 || !strings.HasPrefix(ids[4], "fl:rate:") || !strings.HasSuffix(ids[4], ":5") {
		t.Fatalf("rating buttons = %v", ids)
	}
	w.discord.Click(ada, resolved.ID, ids[4], fakediscord.Ada)
	w.discordSent(ada, "Thank you for the rating (5/5)")

	w.discordSaysNothing(ada, "checking")
	w.discordSaysNothing(ada, "next one")
	r := w.record(bot.Discord)
	if r.Customer != "C-1" || r.Topic != bot.TopicPayments || len(r.Handoffs) != 1 {
		t.Fatalf("record = %+v, want C-1's payments conversation with one handoff", r)
	}
	if h := r.Handoffs[0]; h.ClaimedAt.IsZero() || h.ResolvedAt.IsZero() || h.Rating != 5 {
		t.Errorf("handoff record = %+v, want claimed, resolved and rated 5", h)
	}
}

// A Slack customer handled from a Discord agent channel: the card is
// announced on Discord (its thread is where agents work), claimed by a
// Discord button, relayed both ways, resolved by a Discord button, and
// the customer rates with a Slack button.
func TestSlackCustomerDiscordAgents(t *testing.T) {
	t.Parallel()
	w := start(t, bot.Discord)
	agents := fakediscord.Agents
	ada := fakeslack.DMChannel("U-ada") // linked to C-1 by testkit

	since := len(w.slack.Posts())
	w.slack.DM("U-ada", "status of PAY-1002")
	w.slackPost(since, "the payment answer", slackSaid(ada, "", "PAY-1002"))

	// Announced on Discord with the agent role; the thread starts from it.
	since = len(w.slack.Posts())
	w.slack.DM("U-ada", "can I talk to a person")
	card := w.discordSent(agents, "Handoff #")
	if !strings.HasPrefix(card.Content, "<@&"+fakediscord.Role+"> ") {
		t.Errorf("card = %q, want the agent role mentioned", card.Content)
	}
	for _, want := range []string{"on slack", "customer C-1", "status of PAY-1002"} {
		if !strings.Contains(card.Content, want) {
			t.Errorf("card lacks %q:\n%s", want, card.Content)
		}
	}
	w.eventually("the handoff thread", func() bool {
		return slices.ContainsFunc(w.discord.ThreadStarts(), func(s fakediscord.ThreadStart) bool {
			return s.Channel == agents && s.Message == card.ID
		})
	})
	thread := card.ID // a thread started from a message has its id
	w.slackPost(since, "the acknowledgement", slackSaid(ada, "", "asked a person from our support team"))
	var claim, resolve string
	for _, id := range card.CustomIDs() {
		switch {
		case strings.HasPrefix(id, "fl:claim:"):
			claim = id
		case strings.HasPrefix(id, "fl:resolve:"):
			resolve = id
		}
	}
	if claim == "" || resolve == "" {
		t.Fatalf("card buttons = %v", card.CustomIDs())
	}

	// Claimed by the Discord button: the Slack customer is told.
	since = len(w.slack.Posts())
	w.discord.Click(agents, card.ID, claim, fakediscord.Grace)
	w.slackPost(since, "the agent joined", slackSaid(ada, "", "Grace (support) from our support team has joined"))

	// Relay both ways; a note stays on Discord.
	since = len(w.slack.Posts())
	w.discord.Say(thread, fakediscord.Grace, "// refund pending, say nothing yet")
	w.discord.Say(thread, fakediscord.Grace, "Hello Ada, I see the payment")
	relay := w.slackPost(since, "the relay", slackSaid(ada, "", "Hello Ada, I see the payment"))
	if !strings.Contains(relay.Section(), "(support): Hello Ada") {
		t.Errorf("relay on Slack = %q", relay.Section())
	}
	w.slack.DM("U-ada", "great, thank you")
	w.discordSent(thread, "great, thank you")

	// Resolved by the Discord button; rated by a Slack button.
	since = len(w.slack.Posts())
	w.discord.Click(agents, card.ID, resolve, fakediscord.Grace)
	rated := w.slackPost(since, "the rating request", slackSaid(ada, "", "marked this conversation as resolved"))
	buttons := rated.Buttons()
	if len(buttons) != 5 {
		t.Fatalf("rating buttons = %+v", buttons)
	}
	w.slack.Press("U-ada", ada, rated.TS, buttons[3])
	w.slackPost(since, "the thanks", slackSaid(ada, "", "Thank you for the rating (4/5)"))

	w.slackSaysNothing(0, ada, "refund pending")
	r := w.record(bot.Slack)
	if r.Customer != "C-1" || r.Topic != bot.TopicPayments || len(r.Handoffs) != 1 {
		t.Fatalf("record = %+v, want C-1's payments conversation with one handoff", r)
	}
	if h := r.Handoffs[0]; h.ClaimedAt.IsZero() || h.ResolvedAt.IsZero() || h.Rating != 4 {
		t.Errorf("handoff record = %+v, want claimed, resolved and rated 4", h)
	}
}

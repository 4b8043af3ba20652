package discord

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/firstlinehq/firstline/bot"
)

// pendingIntakes returns every intake left, whatever its age.
func (e *env) pendingIntakes() []bot.Intake {
	e.t.Helper()
	its, err := e.h.Engine.PendingIntakes(context.Background(), bot.Discord, -time.Hour, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return its
}

// A mention is stored before its thread is started, and its intake is gone
// once the engine has the message.
func TestMentionIntakeDeletedOnceStored(t *testing.T) {
	t.Parallel()
	e := start(t)
	mention := e.f.Say(testGeneral, testAda, "<@"+testBotID+"> how long does a refund take?")
	e.waitSent(mention, "5 business days")
	e.eventually("the intake deleted", func() bool { return len(e.pendingIntakes()) == 0 })
}

// The process died after storing a mention and before the engine had it
// (while Discord's thread endpoint was retried): the next session answers
// it, in a thread started from it, and a request for a person opens the
// handoff. Discord does not deliver the message again, and nothing else
// would fetch it: no conversation exists for it yet.
func TestMentionReplayedAfterACrash(t *testing.T) {
	t.Parallel()
	e := start(t)
	text := "<@" + testBotID + "> I want to talk to a human"
	mention := e.f.SayOffline(testGeneral, testAda, text)
	rec := intakeRecord{ID: mention, ChannelID: testGeneral, GuildID: testGuild, Content: text,
		Author:   &discordgo.User{ID: testAda, Username: "ada", GlobalName: "Ada Lovelace"},
		Mentions: []*discordgo.User{{ID: testBotID, Bot: true}}}
	payload, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.h.Engine.Intake(context.Background(), bot.Intake{Platform: bot.Discord, Key: mention, Payload: payload,
		CreatedAt: time.Now().Add(-2 * intakeAge)}); err != nil {
		t.Fatal(err)
	}

	e.f.Drop(true) // a new session, as after a restart
	card := e.waitCard()
	if !strings.Contains(card.Content, "talk to a human") {
		t.Errorf("card = %q, want the customer's request", card.Content)
	}
	e.waitSent(mention, "asked a person")
	var fromMention int
	for _, st := range e.f.ThreadStarts() {
		if st.Channel == testGeneral && st.Message == mention {
			fromMention++
		}
	}
	if fromMention != 1 {
		t.Errorf("threads started = %+v, want one from the replayed mention", e.f.ThreadStarts())
	}
	e.eventually("the intake deleted", func() bool { return len(e.pendingIntakes()) == 0 })

	// A second new session replays nothing and stores nothing twice.
	e.f.Drop(true)
	e.eventually("a third session", func() bool { identifies, _ := e.f.Counts(); return identifies == 3 && e.a.Ready() })
	e.storedOnce(bot.ConversationKey{Platform: bot.Discord, Workspace: testGuild, Channel: mention}, mention)
}

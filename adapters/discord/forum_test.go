package discord

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakediscord"
)

// testForum is a forum channel of the test server.
const testForum = "1200000000000000020"

// withForum makes the agent channel a forum whose admins made the tags.
func withForum(tags ...string) []envOption {
	return []envOption{withAgentChannel(testForum), withFake(func(f *fakediscord.Server) {
		f.AddChannel(fakediscord.Channel{ID: testForum, GuildID: testGuild, Type: 15})
		f.SetForumTags(testForum, tags...)
	})}
}

// waitPost waits for the forum post of a handoff and its card.
func (e *env) waitPost() (fakediscord.PrivateThread, sent) {
	e.t.Helper()
	var post fakediscord.PrivateThread
	e.eventually("the handoff's post", func() bool {
		for _, th := range e.f.CreatedThreads() {
			if th.Parent == testForum && strings.HasPrefix(th.Name, "#") {
				post = th
				return true
			}
		}
		return false
	})
	return post, e.waitSent(post.ID, "Handoff #")
}

// A forum as the agent channel: each handoff a post titled with its
// number, customer and reason, the card its first message, tagged waiting;
// the missing tags are created; claim and resolve move the tag; the post
// is the handoff's thread both ways.
func TestForumHandoffTagsMove(t *testing.T) {
	t.Parallel()
	e := start(t, withForum("Waiting", "billing")...)
	e.waitCommands()
	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	post, card := e.waitPost()
	id := handoffID(t, card)
	e.waitSent(testDMAda, "asked a person")
	if !strings.HasPrefix(post.Name, "#"+id+" Ada Lovelace on discord") || !strings.Contains(post.Name, "The customer asked for a person") || len([]rune(post.Name)) > 100 {
		t.Errorf("post title = %q, want the number, the customer and the reason", post.Name)
	}
	if card.ID != post.ID || !card.ForumStarter || !strings.HasPrefix(card.Content, "<@&"+testRole+"> **Handoff #"+id+"**") {
		t.Errorf("card = %+v, want the post's first message, mentioning the role", card)
	}
	if got, want := e.f.ForumTags(testForum), []string{"Waiting", "billing", tagClaimed, tagResolved}; !slices.Equal(got, want) {
		t.Errorf("forum tags = %v, want %v (the missing ones added)", got, want)
	}
	tags := func() []string { now, _ := e.f.PostTags(post.ID); return now }
	if got := tags(); !slices.Equal(got, []string{"Waiting"}) {
		t.Errorf("post tags = %v, want [Waiting]", got)
	}

	if cb := e.waitCallback(e.f.Click(post.ID, post.ID, "fl:claim:"+id, testGrace)); cb.Content != "You claimed this handoff." {
		t.Fatalf("claim answered %+v", cb)
	}
	e.waitSent(testDMAda, "Grace (support) from our support team has joined")
	e.eventually("the claimed tag", func() bool { return slices.Equal(tags(), []string{tagClaimed}) })
	e.eventually("the card updated as claimed", func() bool {
		for _, ed := range e.f.Edits(post.ID) {
			if ed.Channel == post.ID && strings.Contains(ed.Content, "claimed by Grace (support)") {
				return true
			}
		}
		return false
	})
	e.f.Say(post.ID, testGrace, "Hello Ada")
	e.waitSent(testDMAda, "(support): Hello Ada")
	e.f.Say(testDMAda, testAda, "thanks, that was quick")
	e.waitSent(post.ID, "thanks, that was quick")

	e.ephemeral(e.f.Use(post.ID, testGrace, cmdResolve, nil), "Resolved.")
	e.waitSent(testDMAda, "marked this conversation as resolved")
	e.eventually("the resolved tag", func() bool { return slices.Equal(tags(), []string{tagResolved}) })
	if _, history := e.f.PostTags(post.ID); len(history) != 3 {
		t.Errorf("tag changes = %v, want waiting, claimed, resolved", history)
	}
	if n := len(e.f.Requested("POST /api/v9/channels/" + testForum + "/messages")); n != 0 {
		t.Errorf("%d posts to the forum itself, want none", n)
	}
}

// What the handoff flow posts in the agent channel itself (the digest)
// goes to one notices post of the forum; without Manage Channels the tags
// are not created, which is logged, and posts go without them.
func TestForumNoticesAndNoTags(t *testing.T) {
	t.Parallel()
	opts := append(withForum(), withFake(func(f *fakediscord.Server) {
		f.AddChannel(fakediscord.Channel{ID: testForum, GuildID: testGuild, Type: 15})
		f.DenyManageChannels(testForum)
	}))
	e := start(t, opts...)
	for _, id := range []int64{901, 902} {
		if _, err := e.a.Send(context.Background(), bot.Outgoing{ID: id, Kind: bot.KindThread, Channel: testForum, Text: "1 handoff is waiting"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	var notices []fakediscord.PrivateThread
	for _, th := range e.f.CreatedThreads() {
		if th.Name == noticesTitle {
			notices = append(notices, th)
		}
	}
	if len(notices) != 1 || e.countSent(notices[0].ID, "1 handoff is waiting") != 2 {
		t.Fatalf("notices posts = %+v, want one with both messages", notices)
	}

	e.f.Say(testDMAda, testAda, "I want to talk to a human")
	post, _ := e.waitPost()
	if now, _ := e.f.PostTags(post.ID); len(now) != 0 {
		t.Errorf("post tags = %v, want none", now)
	}
	if !strings.Contains(e.logs.String(), "cannot create the forum's tags") {
		t.Errorf("no warning about the tags:\n%s", e.logs.String())
	}
}

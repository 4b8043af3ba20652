package slack

import (
	"strings"
	"testing"

	"github.com/firstlinehq/firstline/internal/fakeslack"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// A customer's edit and deletion during a handoff, as Slack reports them
// (message_changed, message_deleted), are noted in the handoff thread once,
// whether delivered once or again; a link preview (message_changed without
// "edited") is not an edit.
func TestCustomerEditsNotedInThread(t *testing.T) {
	t.Parallel()
	for _, m := range bothModes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			const agents = testkit.AgentChannel
			ada := fakeslack.DMChannel("U-ada")

			since := e.mark()
			e.dm("U-ada", "I want to talk to a human")
			c := e.waitCard(since)
			// The customer's notice follows the greeting in their stream,
			// so it may come after the card: wait for it too.
			e.waitPost(since, "the customer told a person is coming", func(p post) bool {
				return p.Channel == ada && strings.Contains(p.Section(), "person from our support team")
			})
			since = e.mark()
			ts := e.dm("U-ada", "it was charged twice")
			e.waitPost(since, "the customer's words in the thread", customerInThread(agents, c.TS, "Ada", "it was charged twice"))

			since = e.mark()
			edit := fakeslack.EditEvent("U-ada", ada, "im", ts, "it was charged *three* times", e.fake.NewTS())
			e.deliver(edit)
			e.deliverBody(e.fake.EventCallback(edit), 1)                                       // Slack's retry of the same edit
			e.deliver(fakeslack.EditEvent("U-ada", ada, "im", ts, "it was charged twice", "")) // unfurl: no edit ts
			preview := fakeslack.EditEvent("U-ada", ada, "im", ts, "it was charged twice", e.fake.NewTS())
			delete(preview["message"].(map[string]any), "edited")
			e.deliver(preview)
			e.deliver(fakeslack.DeleteEvent("U-ada", ada, "im", ts, e.fake.NewTS()))
			e.waitPost(since, "the deletion in the thread", inThread(agents, c.TS, "deleted their message of"))

			edits := e.posts(since, inThread(agents, c.TS, "edited their message of"))
			if len(edits) != 1 || !strings.Contains(edits[0].Section(), "charged *three* times") {
				t.Errorf("edit notes in the thread = %+v; want one, with the new text", edits)
			}
			for _, p := range e.posts(since, func(p post) bool { return p.Channel == ada }) {
				t.Errorf("the customer was sent %q about their own edit", p.Section())
			}
		})
	}
}

package handoff

import (
	"context"
	"fmt"

	"github.com/firstlinehq/firstline/bot"
)

// NoticeStream is the outbox stream of notices to the agent channel that
// concern no single handoff (the daily token budget used up).
const NoticeStream = "agents:notice"

var _ bot.AgentNotifier = (*Service)(nil)

// NotifyAgents implements bot.AgentNotifier: it queues text as a post of
// its own in the agent channel, mentioning the agents, in the caller's
// transaction.
func (s *Service) NotifyAgents(ctx context.Context, tx bot.Tx, text string) error {
	out := bot.Outgoing{
		Platform:  s.cfg.AgentPlatform,
		Workspace: s.cfg.AgentWorkspace,
		Channel:   s.cfg.AgentChannel,
		Stream:    NoticeStream,
		// A thread post without a parent goes to the channel itself, on
		// every platform.
		Kind:      bot.KindThread,
		Text:      text,
		Mention:   true,
		CreatedAt: s.now(),
	}
	if err := tx.Enqueue(ctx, &out); err != nil {
		return fmt.Errorf("handoff: queue agent notice: %w", err)
	}
	return nil
}

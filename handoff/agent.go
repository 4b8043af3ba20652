package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// Agent is a person in the agent channel as its platform knows them, with
// the role the company gives them (SLACK_AGENTS, the agent user group,
// DISCORD_AGENT_ROLE, ...), which the adapter looks up. The zero Role is
// an outsider: whoever an adapter did not vouch for acts on nothing.
type Agent struct {
	ID   string
	Name string
	Role Role
}

// Role is what a person in the agent channel may do with handoffs.
type Role int

const (
	// Outsider is anyone who is not an agent: a customer or colleague who
	// can read the agent channel. Their commands and buttons change
	// nothing, and their words never reach a customer.
	Outsider Role = iota
	// RoleAgent may claim, and act on the handoffs they claimed.
	RoleAgent
	// RoleLead is an agent who may also resolve, unclaim, transfer and send
	// the drafts of handoffs other agents claimed.
	RoleLead
)

// isAgent reports whether a may act on handoffs at all.
func (a Agent) isAgent() bool { return a.Role >= RoleAgent }

// owns reports whether a may act on h as its owner: a claimed handoff
// belongs to the agent who claimed it (and leads).
func (a Agent) owns(h bot.Handoff) bool {
	return a.Role == RoleLead || h.State == bot.HandoffClaimed && h.AgentID == a.ID
}

func (a Agent) display() string {
	if a.Name != "" {
		return a.Name
	}
	return "An agent"
}

// AgentMessage is a message an agent wrote in a handoff's thread.
type AgentMessage struct {
	Platform bot.Platform
	Channel  string
	// Thread is the platform id of the announcement the thread hangs under.
	Thread    string
	Agent     Agent
	Text      string
	MessageID string
	// Mentions are the users the message mentions, resolved by the adapter;
	// `transfer @agent` hands the handoff to the first.
	Mentions []Agent
}

// Outcome says what an agent action did.
type Outcome string

// Outcomes of agent actions.
const (
	Ignored        Outcome = "ignored"   // not a handoff thread
	Duplicate      Outcome = "duplicate" // delivered before
	Claimed        Outcome = "claimed"
	AlreadyClaimed Outcome = "already_claimed"
	Unclaimed      Outcome = "unclaimed"
	Transferred    Outcome = "transferred"
	Relayed        Outcome = "relayed"
	Noted          Outcome = "noted" // an internal note, never relayed
	NotRelayed     Outcome = "not_relayed"
	Resolved       Outcome = "resolved"
	AlreadyClosed  Outcome = "already_resolved"
	// NotAgent: someone the company does not count as an agent tried an
	// agent's action; nothing changed, and only they are told.
	NotAgent Outcome = "not_agent"
	// NotOwner: an agent tried to act on a handoff another agent claimed.
	NotOwner Outcome = "not_owner"
)

// notAgent is what an outsider who tries an agent's action is told, and
// nobody else: adapters show it privately (ephemeral on Slack, an
// ephemeral interaction reply on Discord) or not at all.
var notAgent = Result{Outcome: NotAgent, Feedback: "Only the support team's agents can act on handoffs."}

// IgnoredRetries are the waits before an adapter hands a thread message
// that was Ignored to the flow again: an announcement's thread can receive
// an agent's message before the outbox recorded the announcement as sent.
// About four seconds in all; real threads are known well before.
func IgnoredRetries() []time.Duration {
	return []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
}

// Result is an agent action's outcome and, for the acting agent, a line that
// explains it (a platform may show it only to them).
type Result struct {
	Outcome  Outcome
	Feedback string
}

type command int

const (
	cmdText command = iota
	cmdNote
	cmdClaim
	cmdUnclaim
	cmdResolve
	cmdTransfer
	cmdTranscript
)

// parseCommand reads an agent's thread message. Commands are whole messages
// (case and spaces ignored) so that ordinary sentences are never mistaken
// for them.
func parseCommand(text string) command {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "//") {
		return cmdNote
	}
	squashed := strings.ToLower(strings.Join(strings.Fields(t), ""))
	switch squashed {
	case "claim":
		return cmdClaim
	case "unclaim":
		return cmdUnclaim
	case "resolve", "resolved":
		return cmdResolve
	case "transcript":
		return cmdTranscript
	}
	fields := strings.Fields(strings.ToLower(t))
	if len(fields) == 2 && fields[0] == "transfer" {
		return cmdTransfer
	}
	return cmdText
}

// AgentMessage handles a message in a handoff's agent thread: a command
// (claim, unclaim, resolve, transfer @agent, transcript), an internal note
// (starting with //), or words for the customer, relayed only when they
// come from the agent who claimed the handoff.
func (s *Service) AgentMessage(ctx context.Context, m AgentMessage) (Result, error) {
	var res Result
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		res = Result{}
		h, err := tx.HandoffByThread(ctx, m.Platform, m.Channel, m.Thread)
		if errors.Is(err, bot.ErrNotFound) {
			res.Outcome = Ignored
			return nil
		}
		if err != nil {
			return fmt.Errorf("find handoff of thread: %w", err)
		}
		cmd := parseCommand(m.Text)
		relay := cmd == cmdText && m.Agent.isAgent() && h.State == bot.HandoffClaimed && h.AgentID == m.Agent.ID
		stored := bot.Message{
			ConversationID: h.ConversationID,
			Role:           bot.RoleNote,
			Author:         m.Agent.ID,
			AuthorName:     m.Agent.Name,
			Text:           m.Text,
			DedupeKey:      string(m.Platform) + ":" + m.MessageID,
			Processed:      true,
			CreatedAt:      s.now(),
		}
		if relay {
			stored.Role = bot.RoleAgent
		}
		if !m.Agent.isAgent() {
			// Kept, as the thread shows it, but marked: an outsider's words
			// are never an agent's, in a transcript or an export.
			stored.AuthorName = strings.TrimSpace(m.Agent.Name + " (not an agent)")
		}
		if m.MessageID == "" {
			stored.DedupeKey = ""
		}
		inserted, err := tx.AddMessage(ctx, &stored)
		if err != nil {
			return fmt.Errorf("store agent message: %w", err)
		}
		if !inserted {
			res.Outcome = Duplicate
			return nil
		}
		if !m.Agent.isAgent() {
			if cmd != cmdText && cmd != cmdNote {
				res = notAgent
				s.log.WarnContext(ctx, "agent command from someone who is not an agent refused", "handoff", h.ID)
			} else {
				res = Result{Outcome: NotRelayed}
			}
			return nil
		}
		switch cmd {
		case cmdClaim:
			res, err = s.claim(ctx, tx, h, m.Agent)
		case cmdUnclaim:
			res, err = s.unclaim(ctx, tx, h, m.Agent)
		case cmdResolve:
			res, err = s.resolve(ctx, tx, h, m.Agent)
		case cmdTransfer:
			res, err = s.transfer(ctx, tx, h, m.Agent, m.Mentions)
		case cmdTranscript:
			res, err = s.transcript(ctx, tx, h, m.Agent)
		case cmdNote:
			res = Result{Outcome: Noted}
		default:
			res, err = s.relay(ctx, tx, h, m.Agent, m.Text, relay)
		}
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("handoff: agent message: %w", err)
	}
	s.afterAction(res)
	return res, nil
}

// Claim is the Claim button. Of concurrent claims exactly one wins.
func (s *Service) Claim(ctx context.Context, handoffID int64, agent Agent) (Result, error) {
	return s.act(ctx, handoffID, agent, func(tx bot.Tx, h bot.Handoff) (Result, error) {
		return s.claim(ctx, tx, h, agent)
	})
}

// Resolve is the Resolve button.
func (s *Service) Resolve(ctx context.Context, handoffID int64, agent Agent) (Result, error) {
	return s.act(ctx, handoffID, agent, func(tx bot.Tx, h bot.Handoff) (Result, error) {
		return s.resolve(ctx, tx, h, agent)
	})
}

func (s *Service) act(ctx context.Context, handoffID int64, agent Agent, fn func(bot.Tx, bot.Handoff) (Result, error)) (Result, error) {
	if !agent.isAgent() {
		s.log.WarnContext(ctx, "handoff button pressed by someone who is not an agent refused", "handoff", handoffID)
		return notAgent, nil
	}
	var res Result
	err := s.cfg.Store.WithTx(ctx, func(tx bot.Tx) error {
		h, err := tx.Handoff(ctx, handoffID)
		if err != nil {
			return err
		}
		res, err = fn(tx, h)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("handoff %d: %w", handoffID, err)
	}
	s.afterAction(res)
	return res, nil
}

func (s *Service) afterAction(res Result) {
	switch res.Outcome {
	case Ignored, Duplicate, Noted, NotAgent:
		return
	}
	s.met.action(res.Outcome)
	s.cfg.Notify()
}

func (s *Service) claim(ctx context.Context, tx bot.Tx, h bot.Handoff, agent Agent) (Result, error) {
	switch h.State {
	case bot.HandoffResolved:
		return s.feedback(ctx, tx, h, AlreadyClosed, "This handoff is already resolved.")
	case bot.HandoffClaimed:
		if h.AgentID == agent.ID {
			return s.feedback(ctx, tx, h, AlreadyClaimed, "You have already claimed this handoff.")
		}
		return s.feedback(ctx, tx, h, AlreadyClaimed, fmt.Sprintf("Already claimed by %s.", nameOr(h.AgentName)))
	}
	won, err := tx.ClaimHandoff(ctx, h.ID, agent.ID, agent.Name, s.now())
	if err != nil {
		return Result{}, fmt.Errorf("claim: %w", err)
	}
	if !won {
		// Another claim committed between our read and our update.
		cur, err := tx.Handoff(ctx, h.ID)
		if err != nil {
			return Result{}, err
		}
		return s.feedback(ctx, tx, cur, AlreadyClaimed, fmt.Sprintf("Already claimed by %s.", nameOr(cur.AgentName)))
	}
	if err := s.joined(ctx, tx, h, agent, bot.StateAgent); err != nil {
		return Result{}, err
	}
	s.met.claimed(s.now().Sub(h.CreatedAt))
	msg := fmt.Sprintf("%s claimed this handoff. Their messages in this thread go to the customer; start a message with // for an internal note.", agent.display())
	if err := s.toThread(ctx, tx, h, msg); err != nil {
		return Result{}, err
	}
	if err := s.updateCard(ctx, tx, h.ID); err != nil {
		return Result{}, err
	}
	s.log.InfoContext(ctx, "handoff claimed", "handoff", h.ID)
	return Result{Outcome: Claimed, Feedback: "You claimed this handoff."}, nil
}

// joined tells the customer an agent joined and sets the conversation state.
func (s *Service) joined(ctx context.Context, tx bot.Tx, h bot.Handoff, agent Agent, state bot.State) error {
	conv, err := tx.Conversation(ctx, h.ConversationID)
	if err != nil {
		return err
	}
	set := s.cfg.Prompts()
	text, err := set.Message("agent_joined", conv.Lang, map[string]any{"Agent": agent.display()})
	if err != nil {
		return err
	}
	if err := bot.Reply(ctx, tx, conv, text, set.Version, s.now(), nil); err != nil {
		return err
	}
	conv.State = state
	return tx.UpdateConversation(ctx, conv)
}

func (s *Service) unclaim(ctx context.Context, tx bot.Tx, h bot.Handoff, agent Agent) (Result, error) {
	if h.State != bot.HandoffClaimed {
		return s.feedback(ctx, tx, h, NotRelayed, "This handoff is not claimed.")
	}
	if !agent.owns(h) {
		return s.notOwner(ctx, tx, h, "unclaim")
	}
	ok, err := tx.UnclaimHandoff(ctx, h.ID)
	if err != nil || !ok {
		return Result{}, errors.Join(err, errors.New("unclaim: handoff changed meanwhile"))
	}
	if err := s.backInQueue(ctx, tx, h, agent.display()+" returned this handoff to the queue. Write claim to take it."); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Unclaimed, Feedback: "Returned to the queue."}, nil
}

func (s *Service) transfer(ctx context.Context, tx bot.Tx, h bot.Handoff, from Agent, mentions []Agent) (Result, error) {
	if h.State != bot.HandoffClaimed {
		return s.feedback(ctx, tx, h, NotRelayed, "Claim this handoff before you transfer it.")
	}
	if !from.owns(h) {
		return s.notOwner(ctx, tx, h, "transfer")
	}
	if len(mentions) == 0 || mentions[0].ID == "" {
		return s.feedback(ctx, tx, h, NotRelayed, "Mention the agent to transfer to: transfer @name.")
	}
	to := mentions[0]
	if to.ID == h.AgentID {
		return s.feedback(ctx, tx, h, NotRelayed, nameOr(h.AgentName)+" already has this handoff.")
	}
	if !to.isAgent() {
		return s.feedback(ctx, tx, h, NotRelayed, to.display()+" is not one of the support team's agents; a handoff goes to agents only.")
	}
	if ok, err := tx.UnclaimHandoff(ctx, h.ID); err != nil || !ok {
		return Result{}, errors.Join(err, errors.New("transfer: handoff changed meanwhile"))
	}
	if ok, err := tx.ClaimHandoff(ctx, h.ID, to.ID, to.Name, s.now()); err != nil || !ok {
		return Result{}, errors.Join(err, errors.New("transfer: handoff changed meanwhile"))
	}
	if err := s.joined(ctx, tx, h, to, bot.StateAgent); err != nil {
		return Result{}, err
	}
	if err := s.toThread(ctx, tx, h, fmt.Sprintf("%s transferred this handoff to %s.", from.display(), to.display())); err != nil {
		return Result{}, err
	}
	if err := s.updateCard(ctx, tx, h.ID); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Transferred, Feedback: "Transferred to " + to.display() + "."}, nil
}

func (s *Service) resolve(ctx context.Context, tx bot.Tx, h bot.Handoff, agent Agent) (Result, error) {
	if h.State == bot.HandoffClaimed && !agent.owns(h) {
		return s.notOwner(ctx, tx, h, "resolve")
	}
	ok, err := tx.ResolveHandoff(ctx, h.ID, s.now())
	if err != nil {
		return Result{}, fmt.Errorf("resolve: %w", err)
	}
	if !ok {
		return s.feedback(ctx, tx, h, AlreadyClosed, "This handoff is already resolved.")
	}
	conv, err := tx.Conversation(ctx, h.ConversationID)
	if err != nil {
		return Result{}, err
	}
	set := s.cfg.Prompts()
	text, err := set.Message("resolved", conv.Lang, nil)
	if err != nil {
		return Result{}, err
	}
	if err := bot.Reply(ctx, tx, conv, text, set.Version, s.now(), ratingButtons(h.ID)); err != nil {
		return Result{}, err
	}
	// The bot takes over again. Nothing is written to the model's history
	// but the resolved message itself: the next customer message gets a
	// normal answer.
	conv.State = bot.StateBot
	conv.RatingHandoffID = h.ID
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return Result{}, err
	}
	if err := s.toThread(ctx, tx, h, "Resolved by "+agent.display()+". The customer was asked for a rating."); err != nil {
		return Result{}, err
	}
	if err := s.updateCard(ctx, tx, h.ID, "resolved by "+agent.display()); err != nil {
		return Result{}, err
	}
	s.met.resolved(s.now().Sub(h.CreatedAt))
	s.log.InfoContext(ctx, "handoff resolved", "handoff", h.ID)
	return Result{Outcome: Resolved, Feedback: "Resolved."}, nil
}

// ratingButtons offer a 1–5 rating; each value is "handoff:score".
func ratingButtons(handoffID int64) []bot.Button {
	out := make([]bot.Button, 0, 5)
	for n := 1; n <= 5; n++ {
		out = append(out, bot.Button{
			Action: bot.ActionRate,
			Label:  strconv.Itoa(n),
			Value:  strconv.FormatInt(handoffID, 10) + ":" + strconv.Itoa(n),
		})
	}
	return out
}

// ParseRating reads the value of a rating button.
func ParseRating(value string) (handoffID int64, score int, err error) {
	h, sc, ok := strings.Cut(value, ":")
	if !ok {
		return 0, 0, fmt.Errorf("handoff: rating value %q: want handoff:score", value)
	}
	if handoffID, err = strconv.ParseInt(h, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("handoff: rating value %q: %w", value, err)
	}
	if score, err = strconv.Atoi(sc); err != nil || score < 1 || score > 5 {
		return 0, 0, fmt.Errorf("handoff: rating value %q: score must be 1–5", value)
	}
	return handoffID, score, nil
}

func (s *Service) relay(ctx context.Context, tx bot.Tx, h bot.Handoff, agent Agent, text string, relay bool) (Result, error) {
	if !relay {
		if h.State == bot.HandoffWaiting {
			return s.feedback(ctx, tx, h, NotRelayed, "Not sent to the customer: write claim first.")
		}
		// Other agents talking in the thread is normal; say nothing.
		return Result{Outcome: NotRelayed}, nil
	}
	conv, err := tx.Conversation(ctx, h.ConversationID)
	if err != nil {
		return Result{}, err
	}
	out := bot.ToCustomer(conv, bot.KindRelay, agent.display(), text, nil)
	out.HandoffID = h.ID
	out.CreatedAt = s.now()
	if err := tx.Enqueue(ctx, &out); err != nil {
		return Result{}, fmt.Errorf("queue relay: %w", err)
	}
	conv.LastMessageAt = s.now()
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Relayed}, nil
}

// notOwner refuses an action on a handoff another agent claimed, saying
// who owns it.
func (s *Service) notOwner(ctx context.Context, tx bot.Tx, h bot.Handoff, what string) (Result, error) {
	return s.feedback(ctx, tx, h, NotOwner, fmt.Sprintf("%s claimed this handoff: only they (or a lead) can %s it.", nameOr(h.AgentName), what))
}

// feedback posts an explanation in the handoff thread and returns it.
func (s *Service) feedback(ctx context.Context, tx bot.Tx, h bot.Handoff, o Outcome, text string) (Result, error) {
	if err := s.toThread(ctx, tx, h, text); err != nil {
		return Result{}, err
	}
	return Result{Outcome: o, Feedback: text}, nil
}

func nameOr(name string) string {
	if name == "" {
		return "another agent"
	}
	return name
}

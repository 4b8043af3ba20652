// Package console is the terminal adapter behind `firstline chat`: the person
// at the keyboard is the customer, and with slash commands also the agent.
// It speaks to the engine and the handoff flow exactly as the Slack and
// Discord adapters do: incoming messages go to the engine, agent commands to
// the handoff flow, and everything the product says arrives through the
// outbox as a Sender.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/handoff"
)

// Where the console's conversation and agent channel live.
const (
	Workspace    = "local"
	Channel      = "console"
	AgentChannel = "agents"
	User         = "console-user"
)

// Engine is what the console needs of the conversation engine.
type Engine interface {
	Handle(ctx context.Context, in bot.Incoming) (bot.Accepted, error)
	// Feedback votes on an answer (/good, /bad).
	Feedback(ctx context.Context, user string, messageID int64, helpful bool) error
}

// Handoffs is what the console needs of the handoff flow.
type Handoffs interface {
	AgentMessage(ctx context.Context, m handoff.AgentMessage) (handoff.Result, error)
	SendDraft(ctx context.Context, draftID int64, agent handoff.Agent) (handoff.Result, error)
	// Threads lists the open handoffs announced on a platform, oldest
	// first: a run picks up the one an earlier run left open.
	Threads(ctx context.Context, p bot.Platform) ([]handoff.ThreadCursor, error)
}

// Config wires a Console.
type Config struct {
	Engine   Engine
	Handoffs Handoffs
	Out      io.Writer
	// UserName is the customer's display name; Agent acts on handoffs.
	UserName string
	Agent    handoff.Agent
	// RunID makes message ids unique across runs on one database.
	RunID string
	// Terminal says Out is a terminal: bold and italics are shown with
	// ANSI codes. Otherwise the product's markdown prints as plain text.
	Terminal bool
}

// Console is the terminal adapter; it is also the outbox Sender for the
// console platform.
type Console struct {
	cfg Config
	md  renderer

	mu         sync.Mutex
	lastThread string // platform id of the latest handoff announcement
	lastDraft  int64  // the latest draft answer (shadow mode), for /send
	lastAnswer int64  // the latest answer with feedback buttons, for /good and /bad
	seq        int
}

// New returns a Console.
func New(cfg Config) (*Console, error) {
	if cfg.Engine == nil || cfg.Handoffs == nil || cfg.Out == nil {
		return nil, errors.New("console: needs an engine, handoffs and an output")
	}
	if cfg.Agent.ID == "" {
		cfg.Agent = handoff.Agent{ID: "demo-agent", Name: "Alex", Role: handoff.RoleAgent}
	}
	return &Console{cfg: cfg, md: renderer{ansi: cfg.Terminal}}, nil
}

// Help is printed by /help.
const Help = `Type as the customer. Agent commands act on the latest handoff:
  /claim          claim it as the demo agent
  /agent TEXT     say TEXT to the customer as the agent
  /note TEXT      an internal note (never shown to the customer)
  /unclaim        return it to the queue
  /transcript     post the whole conversation in the handoff's thread
  /resolve        resolve it (the customer is asked for a rating)
  /send           send the bot's latest draft answer (shadow mode)
  /good, /bad     as the customer, vote 👍 or 👎 on the bot's latest answer
  /help           this text
  /quit           leave (Ctrl-D works too)`

// Outbox delivers what the outbox holds: the dispatcher.
type Outbox interface {
	Flush(ctx context.Context) (int, error)
}

// Run reads lines from in until EOF or /quit. prompt, when not empty, is
// printed before each line (interactive use). After every line it flushes
// the outbox, so each turn's messages print before the next line is read.
func (c *Console) Run(ctx context.Context, in io.Reader, prompt string, outbox Outbox) error {
	if err := c.resume(ctx); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		if prompt != "" {
			fmt.Fprint(c.cfg.Out, prompt)
		}
		if !sc.Scan() {
			break
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if line == "/quit" || line == "/exit" {
			return nil
		}
		if err := c.line(ctx, line); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// An error may quote a model server or a platform.
			fmt.Fprintf(c.cfg.Out, "error: %s\n", clean(err.Error()))
		}
		if _, err := outbox.Flush(ctx); err != nil {
			return fmt.Errorf("console: deliver messages: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("console: read input: %w", err)
	}
	return nil
}

// resume makes the newest handoff an earlier run left open the one agent
// commands act on, and says so.
func (c *Console) resume(ctx context.Context) error {
	open, err := c.cfg.Handoffs.Threads(ctx, bot.Console)
	if err != nil {
		return fmt.Errorf("console: find open handoffs: %w", err)
	}
	if len(open) == 0 {
		return nil
	}
	c.mu.Lock()
	if c.lastThread == "" {
		c.lastThread = open[len(open)-1].Thread
	}
	c.mu.Unlock()
	return writeOut(c.cfg.Out, "[agents] a handoff from an earlier run is open: /claim, /agent, /resolve act on it\n")
}

func (c *Console) line(ctx context.Context, line string) error {
	if !strings.HasPrefix(line, "/") {
		c.mu.Lock()
		c.seq++
		id := c.cfg.RunID + "-" + strconv.Itoa(c.seq)
		c.mu.Unlock()
		_, err := c.cfg.Engine.Handle(ctx, bot.Incoming{
			Key:       bot.ConversationKey{Platform: bot.Console, Workspace: Workspace, Channel: Channel},
			User:      User,
			UserName:  c.cfg.UserName,
			Text:      line,
			MessageID: id,
			Private:   true,
		})
		return err
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	var text string
	switch cmd {
	case "/help":
		fmt.Fprintln(c.cfg.Out, Help)
		return nil
	case "/claim":
		text = "claim"
	case "/unclaim":
		text = "unclaim"
	case "/transcript":
		text = "transcript"
	case "/resolve":
		text = "resolve"
	case "/agent":
		text = arg
	case "/note":
		text = "// " + arg
	case "/send":
		return c.sendDraft(ctx)
	case "/good", "/bad":
		return c.vote(ctx, cmd == "/good")
	default:
		fmt.Fprintf(c.cfg.Out, "unknown command %s; /help lists them\n", cmd)
		return nil
	}
	if text == "" {
		fmt.Fprintf(c.cfg.Out, "%s needs text\n", cmd)
		return nil
	}
	c.mu.Lock()
	thread := c.lastThread
	c.seq++
	id := c.cfg.RunID + "-" + strconv.Itoa(c.seq)
	c.mu.Unlock()
	if thread == "" {
		fmt.Fprintln(c.cfg.Out, "no handoff yet: ask for a person first (\"I want to talk to a human\")")
		return nil
	}
	res, err := c.cfg.Handoffs.AgentMessage(ctx, handoff.AgentMessage{
		Platform:  bot.Console,
		Channel:   AgentChannel,
		Thread:    thread,
		Agent:     c.cfg.Agent,
		Text:      text,
		MessageID: id,
	})
	if err != nil {
		return err
	}
	if res.Outcome == handoff.Ignored {
		fmt.Fprintln(c.cfg.Out, "no handoff to act on")
	}
	return nil
}

// Send implements the outbox Sender: it prints what the customer and the
// agent channel would see. Texts are rendered for the terminal; names,
// labels and addresses are cleaned of control characters.
func (c *Console) Send(_ context.Context, m bot.Outgoing) (string, error) {
	id := "console-" + strconv.FormatInt(m.ID, 10)
	var b strings.Builder
	switch m.Kind {
	case bot.KindReply:
		prefixed(&b, "bot> ", c.md.render(m.Text))
		if btns := labels(m.Buttons, bot.ActionRate); btns != "" {
			prefixed(&b, "     ", btns)
		}
		for _, btn := range m.Buttons {
			switch btn.Action {
			case bot.ActionOpenURL:
				prefixed(&b, "     ", "["+oneLine(btn.Label)+"] "+oneLine(btn.Value))
			case bot.ActionFeedback:
				if id, _, err := bot.ParseFeedback(btn.Value); err == nil {
					c.mu.Lock()
					c.lastAnswer = id
					c.mu.Unlock()
				}
			}
		}
	case bot.KindRelay:
		prefixed(&b, "agent "+oneLine(m.Author)+"> ", c.md.render(m.Text))
	case bot.KindAnnounce:
		text := m.Text
		if m.Mention {
			text = "@here " + text
		}
		prefixed(&b, "[agents] ", c.md.render(text))
		if btns := labels(m.Buttons, bot.ActionClaim, bot.ActionResolve); btns != "" {
			prefixed(&b, "[agents] ", btns+"  (/claim, /resolve)")
		}
		c.mu.Lock()
		c.lastThread = id
		c.mu.Unlock()
	case bot.KindThread:
		prefixed(&b, fmt.Sprintf("[agents] #%d ", m.HandoffID), c.md.render(m.Text))
		for _, btn := range m.Buttons {
			if btn.Action == bot.ActionSendDraft {
				if id, err := strconv.ParseInt(btn.Value, 10, 64); err == nil {
					c.mu.Lock()
					c.lastDraft = id
					c.mu.Unlock()
					prefixed(&b, fmt.Sprintf("[agents] #%d ", m.HandoffID), "[Send draft]  (/send)")
				}
			}
		}
	case bot.KindUpdate:
		// A terminal cannot edit what it printed: show the card's new
		// status line only.
		status := m.Text
		if i := strings.LastIndex(status, "**Status:** "); i >= 0 {
			status = status[i+len("**Status:** "):]
		}
		prefixed(&b, fmt.Sprintf("[agents] #%d card: ", m.HandoffID), c.md.render(status))
		return m.ParentRef, writeOut(c.cfg.Out, b.String())
	default:
		return "", fmt.Errorf("console: unknown message kind %q", m.Kind)
	}
	return id, writeOut(c.cfg.Out, b.String())
}

func writeOut(w io.Writer, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}

// prefixed writes text with prefix on its first line and the prefix's width
// of indentation on the others.
func prefixed(b *strings.Builder, prefix, text string) {
	indent := strings.Repeat(" ", len([]rune(prefix)))
	if strings.HasPrefix(prefix, "[agents]") {
		indent = prefix
	}
	for i, l := range strings.Split(text, "\n") {
		if i == 0 {
			b.WriteString(prefix)
		} else {
			b.WriteString(indent)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// oneLine is a name or label as printed: cleaned, on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}

func labels(buttons []bot.Button, actions ...bot.Action) string {
	var parts []string
	for _, btn := range buttons {
		for _, a := range actions {
			if btn.Action == a {
				parts = append(parts, "["+oneLine(btn.Label)+"]")
			}
		}
	}
	return strings.Join(parts, " ")
}

// sendDraft presses "Send draft" on the latest draft (shadow mode).
func (c *Console) sendDraft(ctx context.Context) error {
	c.mu.Lock()
	id := c.lastDraft
	c.mu.Unlock()
	if id == 0 {
		fmt.Fprintln(c.cfg.Out, "no draft to send (drafts appear in shadow mode: FIRSTLINE_SHADOW=true)")
		return nil
	}
	res, err := c.cfg.Handoffs.SendDraft(ctx, id, c.cfg.Agent)
	if err != nil {
		return err
	}
	if res.Outcome != handoff.DraftSent && res.Feedback != "" {
		fmt.Fprintln(c.cfg.Out, c.md.render(res.Feedback))
	}
	return nil
}

// vote votes on the latest answer as the customer.
func (c *Console) vote(ctx context.Context, helpful bool) error {
	c.mu.Lock()
	id := c.lastAnswer
	c.mu.Unlock()
	if id == 0 {
		return writeOut(c.cfg.Out, "no answer to vote on yet\n")
	}
	if err := c.cfg.Engine.Feedback(ctx, User, id, helpful); err != nil {
		return err
	}
	return writeOut(c.cfg.Out, "thanks: your vote is counted in firstline stats\n")
}

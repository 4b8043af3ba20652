package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/firstlinehq/firstline/bot/human"
	"github.com/firstlinehq/firstline/prompts"
)

// Account connection by a signed link, the way support bots connect a chat
// account to a company login:
//
//	customer            Firstline                       company page / back end
//	   │ "my payments"     │                                      │
//	   │──────────────────►│ not linked: a state, single-use,     │
//	   │ [Connect account] │ 10 minutes, stored hashed            │
//	   │◄──────────────────│                                      │
//	   │ opens CONNECT_URL?state=…  ─────────────────────────────►│ customer logs in
//	   │                   │ POST /connect {state, customer_id}   │
//	   │                   │◄─────────── signed (HMAC-SHA256) ────│
//	   │                   │ link, audit, tell the customer       │
//	   │ "connected"       │                                      │
//	   │◄──────────────────│                                      │
//
// The signature is checked by the HTTP handler (adapters/web); Connect
// redeems the state.

// ConnectTTL is how long a connect link can be used.
const ConnectTTL = 10 * time.Minute

// connectTokenBytes is the size of a state's random part: 256 bits, not
// guessable within its ten minutes by anyone.
const connectTokenBytes = 32

// Errors of Connect, which the HTTP handler turns into statuses.
var (
	ErrConnectUnknown  = errors.New("unknown connect state")
	ErrConnectUsed     = errors.New("connect state already used")
	ErrConnectExpired  = errors.New("connect state expired")
	ErrUnknownCustomer = errors.New("the customer directory does not know the customer")
	// ErrDirectoryDown wraps a directory that could not answer.
	ErrDirectoryDown = errors.New("the customer directory is unavailable")
)

// connecting reports whether conv may be offered a connect link: the flow
// is configured and the chat is a direct message of an identity not linked
// to a customer, talking to the bot.
func (e *Engine) connecting(conv Conversation) bool {
	return e.cfg.ConnectURL != "" && conv.Private && conv.CustomerID == "" && conv.State == StateBot
}

// offerConnect queues the "Connect your account" message with its link
// button, for a new state bound to conv's identity.
func (e *Engine) offerConnect(ctx context.Context, tx Tx, conv *Conversation, set *prompts.Set) error {
	now := e.now()
	token, hash, err := newConnectToken()
	if err != nil {
		return err
	}
	st := ConnectState{Hash: hash, Identity: conv.Identity(), ConversationID: conv.ID, CreatedAt: now, ExpiresAt: now.Add(ConnectTTL)}
	if err := tx.PutConnectState(ctx, st); err != nil {
		return fmt.Errorf("store connect state: %w", err)
	}
	link, err := connectLink(e.cfg.ConnectURL, token)
	if err != nil {
		return err
	}
	text, err := set.Message("connect_offer", conv.Lang, map[string]any{"Minutes": int(ConnectTTL / time.Minute)})
	if err != nil {
		return err
	}
	label, err := set.Message("connect_button", conv.Lang, nil)
	if err != nil {
		return err
	}
	if err := e.audit(ctx, tx, conv, AuditConnectOffer, "", AuditAllowed, "", now); err != nil {
		return err
	}
	return Reply(ctx, tx, *conv, text, set.Version, now, []Button{{Action: ActionOpenURL, Label: label, Value: link}})
}

// newConnectToken returns a random state and the hex SHA-256 it is stored
// as. A fast hash is right here: the token has 256 random bits, so there is
// nothing to guess from the hash.
func newConnectToken() (token, hash string, err error) {
	b := make([]byte, connectTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("make a connect state: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashConnectToken(token), nil
}

func hashConnectToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// connectLink adds the state to the company's page URL as the query
// parameter "state", keeping the page's own parameters.
func connectLink(page, token string) (string, error) {
	u, err := url.Parse(page)
	if err != nil {
		return "", fmt.Errorf("connect URL: %w", err)
	}
	q := u.Query()
	q.Set("state", token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// validConnectToken reports whether s has the shape of a state this engine
// makes, before anything is looked up.
func validConnectToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(connectTokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// Connected is what Connect did.
type Connected struct {
	Identity       Identity
	CustomerID     string
	ConversationID int64
}

// Connect redeems a connect state for the customer the company's back end
// says logged in: the chat identity the state was offered to is linked to
// the customer, the change audited, and the customer told in the chat. The
// customer is checked in the directory first (outside the transaction);
// an unknown, used or expired state, or a customer the directory does not
// know, changes nothing and returns an error wrapping ErrConnectUnknown,
// ErrConnectUsed, ErrConnectExpired or ErrUnknownCustomer; a directory that
// cannot answer, ErrDirectoryDown.
func (e *Engine) Connect(ctx context.Context, state, customerID string) (Connected, error) {
	if !validConnectToken(state) {
		return Connected{}, ErrConnectUnknown
	}
	c, err := e.cfg.Directory.Customer(ctx, customerID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Connected{}, ErrUnknownCustomer
	case err != nil:
		return Connected{}, fmt.Errorf("%w: %w", ErrDirectoryDown, err)
	}
	var done Connected
	var tell bool
	err = e.cfg.Store.WithTx(ctx, func(tx Tx) error {
		done, tell = Connected{}, false
		now := e.now()
		st, err := tx.RedeemConnectState(ctx, hashConnectToken(state), now)
		switch {
		case errors.Is(err, ErrNotFound):
			return ErrConnectUnknown
		case err != nil:
			return err
		case !st.UsedAt.IsZero():
			return ErrConnectUsed
		case !now.Before(st.ExpiresAt):
			return ErrConnectExpired
		}
		done = Connected{Identity: st.Identity, CustomerID: c.ID, ConversationID: st.ConversationID}
		if err := tx.LinkIdentity(ctx, Link{Identity: st.Identity, CustomerID: c.ID, CreatedAt: now}); err != nil {
			return err
		}
		entry := AuditEntry{At: now, Actor: ActorOf(st.Identity), CustomerID: c.ID, Action: AuditConnect,
			Record: ActorOf(st.Identity), Outcome: AuditAllowed, Reason: "company_login", ConversationID: st.ConversationID}
		if err := tx.AppendAudit(ctx, &entry); err != nil {
			return fmt.Errorf("audit %s: %w", AuditConnect, err)
		}
		tell, err = e.tellConnected(ctx, tx, st, c.ID, now)
		return err
	})
	switch {
	case errors.Is(err, ErrConnectUnknown), errors.Is(err, ErrConnectUsed), errors.Is(err, ErrConnectExpired):
		return Connected{}, err
	case err != nil:
		return Connected{}, fmt.Errorf("bot: connect: %w", err)
	}
	if tell {
		e.cfg.Notify()
	}
	e.log.InfoContext(ctx, "chat identity connected to a customer by the company's login", "conversation", done.ConversationID)
	return done, nil
}

// tellConnected links the open conversation the state was offered in (if
// it is still open and the identity's) and tells the customer there.
func (e *Engine) tellConnected(ctx context.Context, tx Tx, st ConnectState, customerID string, now time.Time) (bool, error) {
	conv, err := tx.Conversation(ctx, st.ConversationID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil // erased meanwhile; the link stands
	case err != nil:
		return false, fmt.Errorf("load conversation: %w", err)
	case conv.Identity() != st.Identity || !conv.ClosedAt.IsZero():
		return false, nil
	}
	conv.CustomerID = customerID
	conv.LastMessageAt = now
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return false, fmt.Errorf("update conversation: %w", err)
	}
	set := e.cfg.Prompts()
	return true, e.say(ctx, tx, conv, "connect_done", nil, set)
}

// disconnect unlinks the customer's chat identity at their own request
// ("disconnect my account"), audits it and says so.
func (e *Engine) disconnect(ctx context.Context, tx Tx, conv *Conversation, set *prompts.Set) error {
	customer, err := tx.UnlinkIdentity(ctx, conv.Identity())
	switch {
	case errors.Is(err, ErrNotFound):
		return e.say(ctx, tx, *conv, "disconnect_none", nil, set)
	case err != nil:
		return fmt.Errorf("unlink: %w", err)
	}
	now := e.now()
	if err := e.audit(ctx, tx, conv, AuditDisconnect, customer, AuditAllowed, "customer_request", now); err != nil {
		return err
	}
	conv.CustomerID = ""
	e.log.InfoContext(ctx, "customer disconnected their chat from their account", "conversation", conv.ID)
	return e.say(ctx, tx, *conv, "disconnected", nil, set)
}

// asksToDisconnect reports whether text is a request to unlink the chat
// from the account (phrases.yaml's disconnect lists).
func (e *Engine) asksToDisconnect(set *prompts.Set, text string) (bool, error) {
	m, err := e.disconnectMatcher(set)
	if err != nil || m == nil {
		return false, err
	}
	_, ok := m.Match(text)
	return ok, nil
}

// disconnectMatcher returns the matcher of a prompt set's disconnect
// phrases, built once per prompt version; nil when no language has any.
func (e *Engine) disconnectMatcher(set *prompts.Set) (*human.Matcher, error) {
	if vm := e.disconnects.Load(); vm != nil && vm.version == set.Version {
		return vm.m, nil
	}
	var langs []human.Lang
	for _, p := range set.Phrases {
		if len(p.Disconnect) > 0 {
			langs = append(langs, human.Lang{Code: p.Code, Alone: p.Disconnect, Fillers: p.Fillers, Except: p.Except})
		}
	}
	var m *human.Matcher
	if len(langs) > 0 {
		var err error
		if m, err = human.NewMatcher(langs); err != nil {
			return nil, fmt.Errorf("bot: disconnect phrases: %w", err)
		}
	}
	e.disconnects.Store(&versionedMatcher{version: set.Version, m: m})
	return m, nil
}

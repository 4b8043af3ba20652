package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// POST /connect is how the company's back end tells Firstline that the
// customer who opened a "Connect your account" link logged in:
//
//	POST /connect
//	Content-Type: application/json
//	X-Firstline-Timestamp: 1767786000
//	X-Firstline-Signature: v1=HEX(HMAC-SHA256(FIRSTLINE_CONNECT_SECRET, "v1:" + timestamp + ":" + body))
//
//	{"state": "…", "customer_id": "C-1001"}
//
// The timestamp is Unix seconds and must be within five minutes of
// Firstline's clock; it is checked before the body is read. Answers, JSON:
//
//	200 {"status":"connected"}
//	400 malformed body            401 missing, stale or wrong signature
//	404 unknown state             409 state already used
//	410 state expired             413 body over 16 KiB
//	422 unknown customer_id       503 the customer directory is down
//
// Nothing changes unless the answer is 200.
const (
	// ConnectTimestampHeader and ConnectSignatureHeader carry the signature.
	ConnectTimestampHeader = "X-Firstline-Timestamp"
	ConnectSignatureHeader = "X-Firstline-Signature"
	// ConnectWindow is how far the timestamp may be from now, either way.
	ConnectWindow = 5 * time.Minute
	// maxConnectBody bounds the request body: a state and an id.
	maxConnectBody = 16 << 10
	// connectTimeout bounds the work behind one request.
	connectTimeout = 10 * time.Second
)

// Connector redeems connect states; *bot.Engine is one.
type Connector interface {
	Connect(ctx context.Context, state, customerID string) (bot.Connected, error)
}

// ConnectConfig configures the POST /connect handler.
type ConnectConfig struct {
	// Secret is FIRSTLINE_CONNECT_SECRET, the HMAC key.
	Secret    []byte
	Connector Connector
	Now       func() time.Time
	Logger    *slog.Logger
}

// SignConnect returns the X-Firstline-Signature value for body sent at
// timestamp (Unix seconds): what the company's back end computes.
func SignConnect(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v1:" + timestamp + ":"))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// ConnectHandler returns the POST /connect handler.
func ConnectHandler(cfg ConnectConfig) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(cfg.serve)
}

// connectRequest is the body of POST /connect.
type connectRequest struct {
	State      string `json:"state"`
	CustomerID string `json:"customer_id"`
}

func (cfg ConnectConfig) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		connectAnswer(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	ts := r.Header.Get(ConnectTimestampHeader)
	if err := fresh(ts, cfg.Now()); err != nil {
		cfg.Logger.WarnContext(r.Context(), "connect: refused a request", "reason", err.Error(), "remote", r.RemoteAddr)
		connectAnswer(w, http.StatusUnauthorized, err.Error())
		return
	}
	if r.ContentLength > maxConnectBody {
		connectAnswer(w, http.StatusRequestEntityTooLarge, "body over 16 KiB")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConnectBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			connectAnswer(w, http.StatusRequestEntityTooLarge, "body over 16 KiB")
			return
		}
		connectAnswer(w, http.StatusBadRequest, "could not read the body")
		return
	}
	want := SignConnect(cfg.Secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(ConnectSignatureHeader))) {
		cfg.Logger.WarnContext(r.Context(), "connect: refused a request", "reason", "bad signature", "remote", r.RemoteAddr)
		connectAnswer(w, http.StatusUnauthorized, "bad signature: check FIRSTLINE_CONNECT_SECRET and how the signature is computed")
		return
	}
	req, err := parseConnect(body)
	if err != nil {
		connectAnswer(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), connectTimeout)
	defer cancel()
	_, err = cfg.Connector.Connect(ctx, req.State, req.CustomerID)
	status, msg := connectStatus(err)
	if status == http.StatusOK {
		connectAnswerOK(w)
		return
	}
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	// The state is a credential and the customer id personal data: neither
	// is logged.
	cfg.Logger.Log(ctx, level, "connect: refused", "status", status, "err", err)
	connectAnswer(w, status, msg)
}

// fresh checks a timestamp header against now.
func fresh(ts string, now time.Time) error {
	if ts == "" {
		return fmt.Errorf("missing %s", ConnectTimestampHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not Unix seconds", ConnectTimestampHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > ConnectWindow || d < -ConnectWindow {
		return fmt.Errorf("%s is more than %s from now: a replay, or a clock to fix", ConnectTimestampHeader, ConnectWindow)
	}
	return nil
}

// parseConnect reads a body strictly: one JSON object with a string state
// and a valid customer id, nothing else.
func parseConnect(body []byte) (connectRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req connectRequest
	if err := dec.Decode(&req); err != nil {
		return connectRequest{}, errors.New(`the body must be {"state": "…", "customer_id": "…"}`)
	}
	if dec.More() {
		return connectRequest{}, errors.New("the body must be one JSON object")
	}
	if req.State == "" {
		return connectRequest{}, errors.New("state: missing")
	}
	if err := (bot.Customer{ID: req.CustomerID}).Validate(); err != nil {
		return connectRequest{}, fmt.Errorf("customer_id: missing, or not an id (printable, no spaces, at most %d bytes)", bot.MaxCustomerID)
	}
	return req, nil
}

// connectStatus maps Connect's outcome to an HTTP status and a message.
func connectStatus(err error) (int, string) {
	switch {
	case err == nil:
		return http.StatusOK, ""
	case errors.Is(err, bot.ErrConnectUnknown):
		return http.StatusNotFound, "unknown state"
	case errors.Is(err, bot.ErrConnectUsed):
		return http.StatusConflict, "state already used"
	case errors.Is(err, bot.ErrConnectExpired):
		return http.StatusGone, "state expired: the customer asks again in the chat for a new link"
	case errors.Is(err, bot.ErrUnknownCustomer):
		return http.StatusUnprocessableEntity, "customer_id unknown to the customer directory"
	case errors.Is(err, bot.ErrDirectoryDown):
		return http.StatusServiceUnavailable, "the customer directory is unavailable; try again"
	}
	return http.StatusInternalServerError, "internal error"
}

func connectAnswerOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"status":"connected"}`+"\n")
}

func connectAnswer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

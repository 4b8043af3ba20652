package companyapi

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// decodeSeeds are responses worth starting from: valid, nearly valid, and
// broken in the ways servers break.
var decodeSeeds = []string{
	`{"reference":"PAY-1001","customer_id":"C-1001","amount":"120.00","currency":"EUR","status":"settled","merchant":"Books","created_at":"2026-10-01T12:00:00Z","updated_at":"2026-10-02T12:00:00+02:00"}`,
	`{"reference":"PAY-1","customer_id":"C-1","amount":"-0.5","currency":"sek","status":"refunded","created_at":"2026-10-01T12:00:00.999999999-11:30","updated_at":null}`,
	`{"reference":"PAY-1","customer_id":"C-1","customer_id":"C-2","amount":"1","currency":"EUR","status":"pending","created_at":"2026-10-01T12:00:00Z"}`,
	`{"reference":"PAY-1","Customer_ID":"C-1","amount":"1","currency":"EUR","status":"failed","created_at":"2026-10-01T12:00:00Z"}`,
	`{"reference":"PAY-1","customer_id":"C-1","amount":1e400,"currency":"EUR","status":"failed","created_at":"2026-10-01T12:00:00Z"}`,
	`{"reference":"PAY-1","customer_id":"C-1","amount":"1","currency":"€UR","status":"failed","created_at":"0001-01-01T00:00:00Z"}`,
	`{"payments":[]}`,
	`[]`, `null`, `""`, `{}`, `{"a":`, `{"a":1}}`, "\xff", `{"reference":"\ud800"}`,
}

func FuzzDecodePayment(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePayment(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		checkValid(t, p)
		checkRoundTrip(t, p)
	})
}

func FuzzDecodePayments(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(`{"payments":[` + s + `]}`))
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := decodePayments(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if ps == nil {
			t.Fatalf("accepted %q as a nil list", data)
		}
		for _, p := range ps {
			checkValid(t, p)
		}
	})
}

// testAmountRe is the test's own idea of a decimal string.
var testAmountRe = regexp.MustCompile(`^-?\d+(\.\d+)?$`)

// checkValid fails unless p is a record the tool layer can rely on. It is
// written apart from decodeRecord, so a bug there is not mirrored here.
func checkValid(t *testing.T, p bot.Payment) {
	t.Helper()
	switch {
	case p.Reference == "":
		t.Fatalf("accepted an empty reference: %+v", p)
	case p.CustomerID == "":
		t.Fatalf("accepted an empty customer_id: %+v", p)
	case !p.Status.Valid():
		t.Fatalf("accepted status %q", p.Status)
	case !testAmountRe.MatchString(p.Amount):
		t.Fatalf("accepted amount %q", p.Amount)
	case len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency || strings.Trim(p.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		t.Fatalf("accepted currency %q", p.Currency)
	case p.CreatedAt.IsZero():
		t.Fatalf("accepted a zero created_at: %+v", p)
	}
}

// checkRoundTrip re-encodes an accepted record and decodes it again: the
// result must be the same payment.
func checkRoundTrip(t *testing.T, p bot.Payment) {
	t.Helper()
	w := map[string]string{
		"reference": p.Reference, "customer_id": p.CustomerID, "amount": p.Amount,
		"currency": p.Currency, "status": string(p.Status), "merchant": p.Merchant,
		"created_at": p.CreatedAt.Format(time.RFC3339Nano),
	}
	if !p.UpdatedAt.IsZero() {
		w["updated_at"] = p.UpdatedAt.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	q, err := decodePayment(b)
	if err != nil {
		t.Fatalf("an accepted record does not decode again: %v\n%s", err, b)
	}
	if q.Reference != p.Reference || q.CustomerID != p.CustomerID || q.Amount != p.Amount ||
		q.Currency != p.Currency || q.Status != p.Status || q.Merchant != p.Merchant ||
		!q.CreatedAt.Equal(p.CreatedAt) || !q.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("round trip changed the record:\n%+v\n%+v", p, q)
	}
}

// checkDecodeError fails if an error could not stand as one line of a log
// or handoff card: errors name a field, they do not echo the body.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); len(msg) > 200 || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error message is not a short single line (%d bytes): %q", len(msg), msg)
	}
}

package companyapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// maxBody bounds a response body. A customer's recent payments are a few
// kilobytes; anything near this size is a broken or hostile server.
const maxBody = 1 << 20

// amountRe is a decimal string: an optional minus sign (refunds may be sent
// as negative amounts), digits, and optionally a point and more digits. No
// exponent, no plus sign, no thousands separators.
var amountRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// maxAmountLen bounds an amount string.
const maxAmountLen = 32

// decodePayment parses the body of GET /payments/{reference}: one PAYMENT
// object, validated.
func decodePayment(data []byte) (bot.Payment, error) {
	return decodeRecord(data, "")
}

// decodePayments parses the body of GET /customers/{id}/payments:
// {"payments": [PAYMENT, ...]}, every record validated, order kept.
func decodePayments(data []byte) ([]bot.Payment, error) {
	fields, err := objectFields(data)
	if err != nil {
		return nil, err
	}
	raw, ok := fields["payments"]
	if !ok || string(raw) == "null" {
		return nil, errors.New(`"payments": missing`)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(raw, &records); err != nil {
		return nil, fmt.Errorf(`"payments": %s`, typeProblem(err, "an array"))
	}
	out := make([]bot.Payment, 0, len(records))
	for i, rec := range records {
		p, err := decodeRecord(rec, fmt.Sprintf("payments[%d].", i))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// decodeRecord parses and validates one PAYMENT object. Errors name the
// field (prefixed with prefix) and what is wrong with it, never the value:
// values come from a remote server and may hold personal data.
func decodeRecord(data []byte, prefix string) (bot.Payment, error) {
	fields, err := objectFields(data)
	if err != nil {
		if prefix != "" {
			return bot.Payment{}, fmt.Errorf("%s: %w", strings.TrimSuffix(prefix, "."), err)
		}
		return bot.Payment{}, err
	}
	fail := func(field, problem string) (bot.Payment, error) {
		return bot.Payment{}, fmt.Errorf("%s%s: %s", prefix, field, problem)
	}
	var w struct {
		reference, customerID, amount, currency, status, merchant, createdAt, updatedAt string
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"reference", &w.reference},
		{"customer_id", &w.customerID},
		{"amount", &w.amount},
		{"currency", &w.currency},
		{"status", &w.status},
		{"merchant", &w.merchant},
		{"created_at", &w.createdAt},
		{"updated_at", &w.updatedAt},
	} {
		raw, ok := fields[f.name]
		if !ok {
			continue
		}
		var s *string // null reads as absent
		if err := json.Unmarshal(raw, &s); err != nil {
			return fail(f.name, typeProblem(err, "a string"))
		}
		if s != nil {
			*f.dst = *s
		}
	}

	p := bot.Payment{
		Reference:  w.reference,
		CustomerID: w.customerID,
		Amount:     w.amount,
		Currency:   strings.ToUpper(w.currency),
		Status:     bot.PaymentStatus(w.status),
		Merchant:   w.merchant,
	}
	switch {
	case p.Reference == "":
		return fail("reference", "missing or empty")
	case p.CustomerID == "":
		return fail("customer_id", "missing or empty")
	case w.amount == "":
		return fail("amount", "missing or empty")
	case len(w.amount) > maxAmountLen || !amountRe.MatchString(w.amount):
		return fail("amount", `not a decimal string like "120.00"`)
	case w.currency == "":
		return fail("currency", "missing or empty")
	case !isCurrency(w.currency):
		return fail("currency", "not a 3-letter currency code")
	case w.status == "":
		return fail("status", "missing or empty")
	case !p.Status.Valid():
		return fail("status", "not one of settled, pending, failed, refunded")
	case w.createdAt == "":
		return fail("created_at", "missing or empty")
	}
	if p.CreatedAt, err = parseTime(w.createdAt); err != nil {
		return fail("created_at", err.Error())
	}
	if w.updatedAt != "" {
		if p.UpdatedAt, err = parseTime(w.updatedAt); err != nil {
			return fail("updated_at", err.Error())
		}
	}
	return p, nil
}

// parseTime parses an RFC 3339 time. The zero time is refused: it is what a
// server sends when it has no value and formats Go's zero anyway.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.IsZero() {
		return time.Time{}, errors.New(`not an RFC 3339 time like "2026-10-01T12:00:00Z"`)
	}
	return t, nil
}

// isCurrency reports whether s is three ASCII letters. Lower case is
// accepted (some APIs send "eur") and upper-cased by the caller.
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range len(s) {
		c := s[i] | 0x20 // ASCII lower case
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// objectFields parses data as exactly one JSON object and returns its
// members by exact key. Keys are matched exactly (encoding/json alone would
// also match "Customer_ID"), and a key that occurs twice is an error: a
// record whose customer_id depends on which parser reads it must not reach
// the authorization check.
func objectFields(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	fields := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonProblem(err)
		}
		key, _ := tok.(string) // inside an object, the decoder yields only string keys
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonProblem(err)
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("duplicate key %s", quoteShort(key))
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, jsonProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return fields, nil
}

// jsonProblem describes a syntax error without quoting the input.
func jsonProblem(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		// A number too large for float64: the message would quote it,
		// and a number literal can be arbitrarily long.
		kind, _, _ := strings.Cut(te.Value, " ")
		return fmt.Errorf("invalid JSON at byte %d: a %s out of range", te.Offset, kind)
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of data")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// typeProblem says what kind of JSON value was found where want was
// expected, without quoting it (a number literal can be arbitrarily long).
func typeProblem(err error, want string) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		kind, _, _ := strings.Cut(te.Value, " ")
		return fmt.Sprintf("want %s, got %s", want, kind)
	}
	return "want " + want
}

// quoteShort quotes s for an error message, cut to a few dozen bytes.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

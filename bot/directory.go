package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Directory is where the engine finds the company's customers: the
// company's API (FIRSTLINE_CUSTOMERS_URL) or the store's customers table
// (filled by `firstline customers import`). Implementations must be safe
// for concurrent use; they are called outside transactions, since an API
// may take seconds.
//
// Any error other than one wrapping ErrNotFound means the directory could
// not answer: callers fail closed (nothing is linked and no data shown)
// and never guess.
type Directory interface {
	// Customer returns the customer with this id, or an error wrapping
	// ErrNotFound.
	Customer(ctx context.Context, id string) (Customer, error)
	// CustomersByEmail returns the customers whose email is this one,
	// compared ignoring case; none is an empty list, not an error.
	CustomersByEmail(ctx context.Context, email string) ([]Customer, error)
}

// Limits on a customer record, wherever it comes from.
const (
	MaxCustomerID    = 128
	MaxCustomerName  = 200
	MaxCustomerEmail = 254 // RFC 5321's limit on a path
)

// ErrInvalidCustomer is wrapped by Customer.Validate's errors.
var ErrInvalidCustomer = errors.New("invalid customer")

// Validate checks a customer record from outside (an import file, the
// company's API): an id that fits in a URL path segment and a log line, a
// printable name, and an email that looks like one or is empty. Its errors
// name the field, never the value, which may be personal data.
func (c Customer) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: id: missing", ErrInvalidCustomer)
	case len(c.ID) > MaxCustomerID:
		return fmt.Errorf("%w: id: longer than %d bytes", ErrInvalidCustomer, MaxCustomerID)
	case c.ID == "." || c.ID == "..":
		return fmt.Errorf("%w: id: must not be %q", ErrInvalidCustomer, c.ID)
	case !printable(c.ID) || strings.ContainsFunc(c.ID, unicode.IsSpace):
		return fmt.Errorf("%w: id: must be printable text without spaces", ErrInvalidCustomer)
	case len(c.Name) > MaxCustomerName:
		return fmt.Errorf("%w: name: longer than %d bytes", ErrInvalidCustomer, MaxCustomerName)
	case !printable(c.Name):
		return fmt.Errorf("%w: name: must be printable text on one line", ErrInvalidCustomer)
	case len(c.Email) > MaxCustomerEmail:
		return fmt.Errorf("%w: email: longer than %d bytes", ErrInvalidCustomer, MaxCustomerEmail)
	case c.Email != "" && !ValidEmail(c.Email):
		return fmt.Errorf("%w: email: not an email address", ErrInvalidCustomer)
	}
	return nil
}

// ValidEmail reports whether s has the shape of an email address: one @
// with text on both sides, a dot in the domain, no spaces or controls.
// Whether it is delivered is the company's business.
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@") &&
		strings.Contains(strings.Trim(domain, "."), ".") && printable(s) &&
		!strings.ContainsFunc(s, unicode.IsSpace) && !strings.ContainsAny(s, "<>\",;:()[]\\")
}

// printable reports whether s is valid UTF-8 without control or invisible
// format characters (which could hide text in a log or on a card).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
	})
}

// OnlyCustomer picks the customer an email names: exactly one, else none.
// Two customers sharing an address is ambiguous, and a link to the wrong
// one would show someone else's payments.
func OnlyCustomer(cs []Customer) (Customer, bool) {
	if len(cs) != 1 {
		return Customer{}, false
	}
	return cs[0], true
}

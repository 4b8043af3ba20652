package companyapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/firstlinehq/firstline/bot"
)

// Customer implements bot.Directory: the customer with this id, or an error
// wrapping bot.ErrNotFound when the API answers 404. An id no customer can
// have (not a URL path segment, or failing bot.Customer.Validate) is not
// found too, without a request.
//
// The record must be the one asked for: one with another id is an invalid
// response, never a customer, since whoever is linked to it would see that
// customer's payments.
func (c *Client) Customer(ctx context.Context, id string) (bot.Customer, error) {
	if !validSegment(id) || (bot.Customer{ID: id}).Validate() != nil {
		return bot.Customer{}, c.scrub(fmt.Errorf("%s: customer id %s: %w", c.name, quoteShort(id), bot.ErrNotFound))
	}
	path := "/customers/" + escapeSegment(id)
	status, body, err := c.get(ctx, path)
	switch {
	case err != nil:
		return bot.Customer{}, err
	case status == http.StatusNotFound:
		return bot.Customer{}, c.fail(path, status, bot.ErrNotFound)
	}
	cu, err := decodeCustomer(body)
	if err != nil {
		return bot.Customer{}, c.fail(path, 0, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	if cu.ID != id {
		return bot.Customer{}, c.fail(path, 0, fmt.Errorf("%w: id: not the one asked for", ErrInvalidResponse))
	}
	return cu, nil
}

// emailShown is what errors call an email lookup: the address is personal
// data, and errors reach logs and agents' cards.
const emailShown = "/customers?email=[redacted]"

// CustomersByEmail implements bot.Directory: the customers whose email is
// this one (surrounding spaces ignored), in the API's order. None is an
// empty list, not an error, and so are a 404 and an address that is not one
// (bot.ValidEmail), which is not sent.
//
// Every record the API returns is validated, also those dropped below; more
// than 100 records is an invalid response.
//
// Records whose email is not the asked one are dropped: the API may match
// loosely (prefixes, dots, "+tags", Unicode look-alikes), and linking a chat
// identity on a near-match would show a stranger this customer's payments.
// The comparison ignores the case of ASCII letters only (see sameEmail).
func (c *Client) CustomersByEmail(ctx context.Context, email string) ([]bot.Customer, error) {
	email = strings.TrimSpace(email)
	if len(email) > bot.MaxCustomerEmail || !bot.ValidEmail(email) {
		return []bot.Customer{}, nil // no record could match it
	}
	status, body, err := c.getQuery(ctx, "/customers", "email="+url.QueryEscape(email), emailShown)
	switch {
	case err != nil:
		return nil, err
	case status == http.StatusNotFound:
		return []bot.Customer{}, nil
	}
	cs, err := decodeCustomers(body)
	if err != nil {
		return nil, c.fail(emailShown, 0, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	out := cs[:0]
	for _, cu := range cs {
		if sameEmail(cu.Email, email) {
			out = append(out, cu)
		}
	}
	return out, nil
}

// sameEmail reports whether a and b are the same address, surrounding
// spaces and the case of ASCII letters ignored. It is strings.EqualFold
// without Unicode folding: EqualFold also equates "K" with the Kelvin sign
// and "s" with "ſ" (long s), and an address crafted that way is a
// near-match, not the customer's. Non-ASCII text must be identical.
func sameEmail(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

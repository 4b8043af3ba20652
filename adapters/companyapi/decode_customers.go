package companyapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/firstlinehq/firstline/bot"
)

// maxCustomers bounds the records of one email lookup. An address names
// one customer; a few share one (a family, a shop's staff), and that is
// ambiguous already. A hundred is a server that ignored the query.
const maxCustomers = 100

// decodeCustomer parses the body of GET /customers/{id}: one CUSTOMER
// object, validated.
func decodeCustomer(data []byte) (bot.Customer, error) {
	return decodeCustomerRecord(data, "")
}

// decodeCustomers parses the body of GET /customers?email=:
// {"customers": [CUSTOMER, ...]}, at most maxCustomers, every record
// validated, no id twice, order kept.
func decodeCustomers(data []byte) ([]bot.Customer, error) {
	fields, err := objectFields(data)
	if err != nil {
		return nil, err
	}
	raw, ok := fields["customers"]
	if !ok || string(raw) == "null" {
		return nil, errors.New(`"customers": missing`)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(raw, &records); err != nil {
		return nil, fmt.Errorf(`"customers": %s`, typeProblem(err, "an array"))
	}
	if len(records) > maxCustomers {
		return nil, fmt.Errorf(`"customers": %d records, more than the %d accepted`, len(records), maxCustomers)
	}
	out := make([]bot.Customer, 0, len(records))
	seen := make(map[string]int, len(records)) // id → index
	for i, rec := range records {
		cu, err := decodeCustomerRecord(rec, fmt.Sprintf("customers[%d].", i))
		if err != nil {
			return nil, err
		}
		// The same customer twice is a broken server; which of the two
		// records is right cannot be known.
		if j, dup := seen[cu.ID]; dup {
			return nil, fmt.Errorf("customers[%d].id: the same as customers[%d].id", i, j)
		}
		seen[cu.ID] = i
		out = append(out, cu)
	}
	return out, nil
}

// decodeCustomerRecord parses and validates one CUSTOMER object:
// {"id": "C-1001", "name": "…", "email": "…"}, id required, name and email
// strings (null or absent read as empty), unknown fields ignored. Errors
// name the field (prefixed with prefix) and what is wrong with it, never
// the value: names and addresses are personal data.
func decodeCustomerRecord(data []byte, prefix string) (bot.Customer, error) {
	fields, err := objectFields(data)
	if err != nil {
		if prefix != "" {
			return bot.Customer{}, fmt.Errorf("%s: %w", strings.TrimSuffix(prefix, "."), err)
		}
		return bot.Customer{}, err
	}
	var cu bot.Customer
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"id", &cu.ID},
		{"name", &cu.Name},
		{"email", &cu.Email},
	} {
		raw, ok := fields[f.name]
		if !ok {
			continue
		}
		var s *string // null reads as absent
		if err := json.Unmarshal(raw, &s); err != nil {
			return bot.Customer{}, fmt.Errorf("%s%s: %s", prefix, f.name, typeProblem(err, "a string"))
		}
		if s != nil {
			*f.dst = *s
		}
	}
	if cu.ID == "" {
		return bot.Customer{}, fmt.Errorf("%sid: missing or empty", prefix)
	}
	// Validate's errors name the field ("invalid customer: email: not an
	// email address"), never the value.
	if err := cu.Validate(); err != nil {
		if prefix != "" {
			return bot.Customer{}, fmt.Errorf("%s: %w", strings.TrimSuffix(prefix, "."), err)
		}
		return bot.Customer{}, err
	}
	return cu, nil
}

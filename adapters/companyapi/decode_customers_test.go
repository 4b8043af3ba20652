package companyapi

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot"
)

// customerSeeds are CUSTOMER bodies worth starting from: valid, nearly
// valid, and broken in the ways servers break.
var customerSeeds = []string{
	`{"id":"C-1001","name":"Ada Lovelace","email":"ada@example.com"}`,
	`{"id":"C-1","name":null,"email":null,"phone":"+46 70 000 00 00","tags":["vip"]}`,
	`{"id":"C-1","name":"Åsa Öberg","email":"ÅSA@exempel.se"}`,
	`{"id":"C-1","email":""}`,
	`{"id":"C-1","id":"C-2"}`,
	`{"ID":"C-1","name":"Ada"}`,
	`{"id":"","name":"Ada"}`,
	`{"id":1001}`,
	`{"id":"C 1"}`,
	`{"id":".."}`,
	`{"id":"C-1","name":"Ada\nAgent: trust me"}`,
	`{"id":"C-1","name":"\u202eeca"}`,
	`{"id":"C-1","email":"ada at example"}`,
	`{"id":"C-1","email":"<ada@example.com>"}`,
	`{"id":"C-1","name":1e400}`,
	`{"id":"\ud800"}`,
	`{"customers":[]}`,
	`[]`, `null`, `""`, `{}`, `{"a":`, `{"id":"C-1"}}`, "\xff",
}

func FuzzDecodeCustomer(f *testing.F) {
	for _, s := range customerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cu, err := decodeCustomer(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		checkValidCustomer(t, cu)
		checkCustomerRoundTrip(t, cu)
	})
}

func FuzzDecodeCustomers(f *testing.F) {
	for _, s := range customerSeeds {
		f.Add([]byte(`{"customers":[` + s + `]}`))
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"customers":[{"id":"C-1"},{"id":"C-2","email":"a@b.se"}],"next":null}`))
	f.Add([]byte(`{"customers":[{"id":"C-1"},{"id":"C-1"}]}`))
	f.Add([]byte(`{"customers":null}`))
	f.Add([]byte(`{"customers":{"id":"C-1"}}`))
	f.Add([]byte(`{"customers":[],"customers":[{"id":"C-1"}]}`))
	f.Add([]byte(`{"customers":["C-1"]}`))
	f.Add([]byte(`{"customers":[` + strings.Repeat(`{"id":"C"},`, 100) + `{"id":"C"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := decodeCustomers(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if cs == nil {
			t.Fatalf("accepted %q as a nil list", data)
		}
		if len(cs) > 100 {
			t.Fatalf("accepted %d records", len(cs))
		}
		ids := make(map[string]bool, len(cs))
		for _, cu := range cs {
			checkValidCustomer(t, cu)
			if ids[cu.ID] {
				t.Fatalf("accepted id %q twice", cu.ID)
			}
			ids[cu.ID] = true
		}
	})
}

// checkValidCustomer fails unless cu is a record a chat identity may be
// linked to. It is written apart from decodeCustomerRecord and
// bot.Customer.Validate, so a bug there is not mirrored here.
func checkValidCustomer(t *testing.T, cu bot.Customer) {
	t.Helper()
	clean := func(s string) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
		})
	}
	switch {
	case cu.ID == "" || cu.ID == "." || cu.ID == "..":
		t.Fatalf("accepted id %q", cu.ID)
	case len(cu.ID) > 128 || !clean(cu.ID) || strings.ContainsFunc(cu.ID, unicode.IsSpace):
		t.Fatalf("accepted id %q", cu.ID)
	case len(cu.Name) > 200 || !clean(cu.Name):
		t.Fatalf("accepted name %q", cu.Name)
	case len(cu.Email) > 254 || !clean(cu.Email) || strings.ContainsFunc(cu.Email, unicode.IsSpace):
		t.Fatalf("accepted email %q", cu.Email)
	case cu.Email != "" && strings.Count(cu.Email, "@") != 1:
		t.Fatalf("accepted email %q", cu.Email)
	}
}

// checkCustomerRoundTrip re-encodes an accepted record and decodes it
// again: the result must be the same customer.
func checkCustomerRoundTrip(t *testing.T, cu bot.Customer) {
	t.Helper()
	b, err := json.Marshal(map[string]string{"id": cu.ID, "name": cu.Name, "email": cu.Email})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeCustomer(b)
	if err != nil {
		t.Fatalf("an accepted record does not decode again: %v\n%s", err, b)
	}
	if got != cu {
		t.Fatalf("round trip changed the record:\n%+v\n%+v", cu, got)
	}
}

func TestSameEmail(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"ada@example.com", "ada@example.com", true},
		{"Ada@Example.COM", "ada@example.com", true},
		{" ada@example.com\t", "ada@example.com", true},
		{"ÅSA@exempel.se", "ÅSA@EXEMPEL.SE", true},
		{"ÅSA@exempel.se", "åsa@exempel.se", false}, // non-ASCII must be identical
		{"\u212Aim@example.se", "kim@example.se", false},
		{"kim@example.\u017Fe", "kim@example.se", false},
		{"ada@example.co", "ada@example.com", false},
		{"ada+x@example.com", "ada@example.com", false},
		{"", "ada@example.com", false},
		{"[", "{", false}, // '[' | 0x20 == '{': only letters fold
		{"@", "`", false},
	}
	for _, tt := range tests {
		if got := sameEmail(tt.a, tt.b); got != tt.want {
			t.Errorf("sameEmail(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := sameEmail(tt.b, tt.a); got != tt.want {
			t.Errorf("sameEmail(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// Package directorytest holds the contract of bot.Directory, run on every
// source a company can configure: the company's API (adapters/companyapi,
// against internal/fakecompany, with and without the cache) and the
// store's customers table on SQLite and PostgreSQL. The engine treats them
// alike, so they must answer alike.
package directorytest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/firstlinehq/firstline/adapters/companyapi"
	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakecompany"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// customers are every source's data.
var customers = []bot.Customer{
	{ID: "C-1001", Name: "Ada Lovelace", Email: "ada@example.com"},
	{ID: "C-1002", Name: "Grace Hopper", Email: "Grace@Example.com"},
	{ID: "C-2001", Name: "Twin One", Email: "twins@example.com"},
	{ID: "C-2002", Name: "Twin Two", Email: "TWINS@example.com"},
	{ID: "C-3001", Name: "No Email"},
}

type source struct {
	name string
	open func(t *testing.T) bot.Directory
}

func sources() []source {
	store := func(open func(testing.TB) bot.CustomerTable) func(t *testing.T) bot.Directory {
		return func(t *testing.T) bot.Directory {
			st := open(t)
			res, err := st.ImportCustomers(context.Background(), customers, true)
			if err != nil {
				t.Fatal(err)
			}
			// The table keeps one customer per email: the second twin is
			// refused on import, which is the table's own rule.
			if len(res.Conflicts) != 1 || customers[res.Conflicts[0].Index].ID != "C-2002" {
				t.Fatalf("import conflicts = %+v; want the second twin", res.Conflicts)
			}
			return st
		}
	}
	api := func(cached bool) func(t *testing.T) bot.Directory {
		return func(t *testing.T) bot.Directory {
			fake := fakecompany.New("dir-token")
			t.Cleanup(fake.Close)
			for _, c := range customers {
				fake.AddCustomer(c)
			}
			c, err := companyapi.New(companyapi.Config{BaseURL: fake.URL(), Token: "dir-token", Name: "customers"})
			if err != nil {
				t.Fatal(err)
			}
			if cached {
				return companyapi.NewCachedDirectory(c, 0, nil)
			}
			return c
		}
	}
	return []source{
		{"sqlite", store(func(t testing.TB) bot.CustomerTable {
			st, err := sqlstore.OpenSQLite(context.Background(), t.TempDir()+"/dir.db")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})},
		{"postgres", store(func(t testing.TB) bot.CustomerTable { return testkit.Postgres(t) })},
		{"api", api(false)},
		{"api-cached", api(true)},
	}
}

func TestDirectoryContract(t *testing.T) {
	for _, src := range sources() {
		t.Run(src.name, func(t *testing.T) {
			d := src.open(t)
			ctx := context.Background()
			for _, tc := range []struct {
				id   string
				want bot.Customer
				err  error
			}{
				{"C-1001", customers[0], nil},
				{"C-1002", customers[1], nil},
				{"C-3001", customers[4], nil},
				{"C-9999", bot.Customer{}, bot.ErrNotFound},
				{"c-1001", bot.Customer{}, bot.ErrNotFound}, // ids are exact
				{"", bot.Customer{}, bot.ErrNotFound},
				{"..", bot.Customer{}, bot.ErrNotFound},
				{"C-1001/payments", bot.Customer{}, bot.ErrNotFound},
			} {
				for range 2 { // twice: a cache answers as the source did
					got, err := d.Customer(ctx, tc.id)
					if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || got != tc.want {
						t.Errorf("Customer(%q) = %+v, %v; want %+v, %v", tc.id, got, err, tc.want, tc.err)
					}
				}
			}
			for _, tc := range []struct {
				email string
				want  []string
			}{
				{"ada@example.com", []string{"C-1001"}},
				{"ADA@EXAMPLE.COM", []string{"C-1001"}},
				{"  ada@example.com ", []string{"C-1001"}},
				{"grace@example.com", []string{"C-1002"}},
				{"nobody@example.com", nil},
				{"", nil},
				{"ada", nil},
				{"ada@example.co", nil}, // never a near match
			} {
				got, err := d.CustomersByEmail(ctx, tc.email)
				if err != nil {
					t.Errorf("CustomersByEmail(%q): %v", tc.email, err)
					continue
				}
				var ids []string
				for _, c := range got {
					ids = append(ids, c.ID)
				}
				if !slices.Equal(ids, tc.want) {
					t.Errorf("CustomersByEmail(%q) = %v; want %v", tc.email, ids, tc.want)
				}
			}
			// An email on two customers: the API may have it (the table
			// refuses it on import), and then it names no single customer.
			got, err := d.CustomersByEmail(ctx, "twins@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := bot.OnlyCustomer(got); ok && len(got) != 1 {
				t.Errorf("an email on two customers named one: %+v", got)
			}
		})
	}
}

// A company API that is down is an error, never "not found": callers fail
// closed on errors, and would act on a not-found.
func TestDirectoryDownIsNotNotFound(t *testing.T) {
	fake := fakecompany.New("dir-token")
	t.Cleanup(fake.Close)
	fake.AddCustomer(customers[0])
	c, err := companyapi.New(companyapi.Config{BaseURL: fake.URL(), Token: "dir-token", Name: "customers"})
	if err != nil {
		t.Fatal(err)
	}
	d := companyapi.NewCachedDirectory(c, 0, nil)
	fake.SetDown(true)
	if _, err := d.Customer(context.Background(), "C-1001"); err == nil || errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Customer with the API down: err = %v; want an error that is not ErrNotFound", err)
	}
	if cs, err := d.CustomersByEmail(context.Background(), "ada@example.com"); err == nil {
		t.Errorf("CustomersByEmail with the API down = %v, nil; want an error", cs)
	}
	fake.SetDown(false)
	if got, err := d.Customer(context.Background(), "C-1001"); err != nil || got.ID != "C-1001" {
		t.Errorf("after the API is back: %+v, %v (errors must not be cached)", got, err)
	}
}

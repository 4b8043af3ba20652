package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/bot"
)

// The contract of the customers table as the directory and its admin
// (bot.Directory, bot.CustomerTable), and of the connect states of
// bot.ConnectStates.

// customerIDs returns the ids of cs in their order, [] rather than nil for
// none.
func customerIDs(cs []bot.Customer) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// mustImport imports cs, failing the test on an error.
func mustImport(t *testing.T, s Store, cs []bot.Customer, skipConflicts bool) bot.ImportResult {
	t.Helper()
	res, err := s.ImportCustomers(t.Context(), cs, skipConflicts)
	if err != nil {
		t.Fatalf("ImportCustomers(%d rows, skip %v): %v", len(cs), skipConflicts, err)
	}
	return res
}

// allCustomers reads the whole table in pages, as `firstline customers
// list` does.
func allCustomers(t *testing.T, s Store) []bot.Customer {
	t.Helper()
	const page = 1000
	out := []bot.Customer{}
	for after := ""; ; {
		cs, err := s.ListCustomers(t.Context(), after, page)
		if err != nil {
			t.Fatalf("ListCustomers(%q, %d): %v", after, page, err)
		}
		out = append(out, cs...)
		if len(cs) < page {
			return out
		}
		after = cs[len(cs)-1].ID
	}
}

// mustCount returns CustomerCount.
func mustCount(t *testing.T, s Store) int {
	t.Helper()
	n, err := s.CustomerCount(t.Context())
	if err != nil {
		t.Fatalf("CustomerCount: %v", err)
	}
	return n
}

// wantTable checks that the customers table holds exactly want (sorted by
// id byte by byte), as ListCustomers, CustomerCount, Customer and
// CustomersByEmail see it. Emails in want must not be shared.
func wantTable(t *testing.T, s Store, want []bot.Customer) {
	t.Helper()
	ctx := t.Context()
	wantDiff(t, "the customers table", want, allCustomers(t, s))
	if n := mustCount(t, s); n != len(want) {
		t.Errorf("CustomerCount = %d, want %d", n, len(want))
	}
	for _, c := range want {
		got, err := s.Customer(ctx, c.ID)
		if err != nil {
			t.Errorf("Customer(%s): %v", c.ID, err)
			continue
		}
		wantDiff(t, "Customer("+c.ID+")", c, got)
		if c.Email == "" {
			continue
		}
		byEmail, err := s.CustomersByEmail(ctx, c.Email)
		if err != nil {
			t.Errorf("CustomersByEmail(%s): %v", c.Email, err)
			continue
		}
		wantDiff(t, "CustomersByEmail("+c.Email+")", []bot.Customer{c}, byEmail)
	}
}

// testImportCustomers runs imports one after another on one store: each
// step starts from the table the step before left.
func testImportCustomers(t *testing.T, s Store) {
	ada := bot.Customer{ID: "C-1", Name: "Ada", Email: "ada@example.com"}
	grace := bot.Customer{ID: "C-2", Name: "Grace", Email: "grace@example.com"}
	linus := bot.Customer{ID: "C-3", Name: "Linus"} // no email
	adaRenamed := bot.Customer{ID: "C-1", Name: "Ada Lovelace", Email: "ada@example.com"}
	graceMoved := bot.Customer{ID: "C-2", Name: "Grace", Email: "grace.hopper@example.com"}
	ken := bot.Customer{ID: "C-4", Name: "Ken", Email: "ken@example.com"}
	adaUpper := bot.Customer{ID: "C-1", Name: "Ada Lovelace", Email: "ADA@Example.com"}
	graceNoEmail := bot.Customer{ID: "C-2", Name: "Grace"}

	steps := []struct {
		name  string
		rows  []bot.Customer
		want  bot.ImportResult
		table []bot.Customer // the whole table after the step
	}{
		{"into an empty store", []bot.Customer{grace, ada, linus},
			bot.ImportResult{Added: 3}, []bot.Customer{ada, grace, linus}},
		{"the same rows again", []bot.Customer{grace, ada, linus},
			bot.ImportResult{Unchanged: 3}, []bot.Customer{ada, grace, linus}},
		{"a new name, a new email and a new customer", []bot.Customer{adaRenamed, graceMoved, linus, ken},
			bot.ImportResult{Added: 1, Updated: 2, Unchanged: 1}, []bot.Customer{adaRenamed, graceMoved, linus, ken}},
		{"those rows again", []bot.Customer{adaRenamed, graceMoved, linus, ken},
			bot.ImportResult{Unchanged: 4}, []bot.Customer{adaRenamed, graceMoved, linus, ken}},
		// A customer's own email in another case is no conflict, and is
		// stored as given.
		{"an email in another case", []bot.Customer{adaUpper},
			bot.ImportResult{Updated: 1}, []bot.Customer{adaUpper, graceMoved, linus, ken}},
		{"an email removed", []bot.Customer{graceNoEmail},
			bot.ImportResult{Updated: 1}, []bot.Customer{adaUpper, graceNoEmail, linus, ken}},
		// An import adds and updates: customers it does not name stay.
		{"part of the table", []bot.Customer{ken},
			bot.ImportResult{Unchanged: 1}, []bot.Customer{adaUpper, graceNoEmail, linus, ken}},
		{"no rows", nil, bot.ImportResult{}, []bot.Customer{adaUpper, graceNoEmail, linus, ken}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantDiff(t, "ImportResult", st.want, mustImport(t, s, st.rows, false))
			wantTable(t, s, st.table)
		})
	}

	// Rows the import cannot take at all fail it, whatever skipConflicts:
	// nothing is written.
	table := []bot.Customer{adaUpper, graceNoEmail, linus, ken}
	for _, tc := range []struct {
		name string
		rows []bot.Customer
	}{
		{"the same id twice", []bot.Customer{{ID: "C-9", Name: "new"}, {ID: "C-1", Name: "changed"}, {ID: "C-9", Name: "again"}}},
		{"an empty id", []bot.Customer{{ID: "C-9", Name: "new"}, {Name: "no id"}}},
	} {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, skip %v", tc.name, skip), func(t *testing.T) {
				if res, err := s.ImportCustomers(t.Context(), tc.rows, skip); err == nil {
					t.Errorf("ImportCustomers = %+v, nil; want an error", res)
				}
				wantTable(t, s, table)
			})
		}
	}
}

// testImportConflicts checks the rule that an import never leaves one
// email on two customers. Each case has customers of its own in the one
// store: ids and emails get a prefix per case.
func testImportConflicts(t *testing.T, s Store) {
	ctx := t.Context()
	c := func(id, email string) bot.Customer { return bot.Customer{ID: id, Name: "Customer " + id, Email: email} }
	renamed := func(id, email string) bot.Customer { return bot.Customer{ID: id, Name: "Renamed " + id, Email: email} }
	tests := []struct {
		name   string
		stored []bot.Customer // put before the import
		rows   []bot.Customer
		skip   bool
		// want is the result. When there are conflicts and skip is false
		// only its Conflicts are compared: nothing is written, and what
		// the counts mean then is not the contract's.
		want bot.ImportResult
		// after is the state of the case's customers after the import;
		// ids of rows not in it must not be stored.
		after []bot.Customer
	}{
		{
			name:   "a stored customer's email, in another case, without skip",
			stored: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
			rows:   []bot.Customer{renamed("B", "A@EXAMPLE.COM"), c("N", "n@example.com")},
			want:   bot.ImportResult{Conflicts: []bot.ImportConflict{{Index: 0, Other: "A"}}},
			after:  []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
		},
		{
			name:   "a stored customer's email, in another case, with skip",
			stored: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
			rows:   []bot.Customer{renamed("B", "A@EXAMPLE.COM"), c("N", "n@example.com")},
			skip:   true,
			want:   bot.ImportResult{Added: 1, Conflicts: []bot.ImportConflict{{Index: 0, Other: "A"}}},
			after:  []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com"), c("N", "n@example.com")},
		},
		{
			name:  "one email on two rows: the later conflicts",
			rows:  []bot.Customer{c("N1", "n@example.com"), c("X", "x@example.com"), c("N2", "N@example.com")},
			skip:  true,
			want:  bot.ImportResult{Added: 2, Conflicts: []bot.ImportConflict{{Index: 2, Other: "N1"}}},
			after: []bot.Customer{c("N1", "n@example.com"), c("X", "x@example.com")},
		},
		{
			name: "one email on two rows, without skip",
			rows: []bot.Customer{c("N1", "n@example.com"), c("X", "x@example.com"), c("N2", "N@example.com")},
			want: bot.ImportResult{Conflicts: []bot.ImportConflict{{Index: 2, Other: "N1"}}},
		},
		{
			name:   "two stored customers swap emails",
			stored: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
			rows:   []bot.Customer{c("A", "b@example.com"), c("B", "a@example.com")},
			want:   bot.ImportResult{Updated: 2},
			after:  []bot.Customer{c("A", "b@example.com"), c("B", "a@example.com")},
		},
		{
			name:   "a new customer takes the email a stored one gives up, in a later row",
			stored: []bot.Customer{c("A", "a@example.com")},
			rows:   []bot.Customer{c("N", "a@example.com"), c("A", "a2@example.com")},
			want:   bot.ImportResult{Added: 1, Updated: 1},
			after:  []bot.Customer{c("A", "a2@example.com"), c("N", "a@example.com")},
		},
		{
			name:   "a stored customer renamed keeps its email",
			stored: []bot.Customer{c("A", "a@example.com")},
			rows:   []bot.Customer{renamed("A", "a@example.com")},
			want:   bot.ImportResult{Updated: 1},
			after:  []bot.Customer{renamed("A", "a@example.com")},
		},
		{
			name:   "customers without an email never conflict",
			stored: []bot.Customer{c("A", "")},
			rows:   []bot.Customer{c("N", ""), c("M", ""), renamed("A", "")},
			want:   bot.ImportResult{Added: 2, Updated: 1},
			after:  []bot.Customer{renamed("A", ""), c("M", ""), c("N", "")},
		},
		{
			// planImport's cascade: A's row is refused, so A keeps its
			// stored email, which N's row wanted.
			name:   "a refused row keeps its stored email, which a later row then conflicts with",
			stored: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
			rows:   []bot.Customer{c("A", "b@example.com"), c("N", "a@example.com"), c("M", "m@example.com")},
			skip:   true,
			want: bot.ImportResult{Added: 1, Conflicts: []bot.ImportConflict{
				{Index: 0, Other: "B"}, {Index: 1, Other: "A"},
			}},
			after: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com"), c("M", "m@example.com")},
		},
		{
			name:   "the cascade, without skip",
			stored: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
			rows:   []bot.Customer{c("A", "b@example.com"), c("N", "a@example.com"), c("M", "m@example.com")},
			want: bot.ImportResult{Conflicts: []bot.ImportConflict{
				{Index: 0, Other: "B"}, {Index: 1, Other: "A"},
			}},
			after: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
		},
		{
			// Two cascades deep: N is refused in the second round, and M's
			// row, refused in the first for N's, names the customer that
			// has the email in the end: A, not N, which is not written.
			name:   "the cascade names the customer that keeps the email",
			stored: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
			rows:   []bot.Customer{c("A", "b@example.com"), c("N", "a@example.com"), c("M", "a@example.com")},
			skip:   true,
			want: bot.ImportResult{Conflicts: []bot.ImportConflict{
				{Index: 0, Other: "B"}, {Index: 1, Other: "A"}, {Index: 2, Other: "A"},
			}},
			after: []bot.Customer{c("A", "a@example.com"), c("B", "b@example.com")},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fmt.Sprintf("t%02d.", i)
			pre := func(cs []bot.Customer) []bot.Customer {
				out := make([]bot.Customer, len(cs))
				for i, c := range cs {
					out[i] = c
					out[i].ID = p + c.ID
					if c.Email != "" {
						out[i].Email = p + c.Email
					}
				}
				return out
			}
			for _, c := range pre(tt.stored) {
				if err := s.PutCustomer(ctx, c); err != nil {
					t.Fatalf("PutCustomer(%s): %v", c.ID, err)
				}
			}
			want := tt.want
			want.Conflicts = nil
			for _, cf := range tt.want.Conflicts {
				want.Conflicts = append(want.Conflicts, bot.ImportConflict{Index: cf.Index, Other: p + cf.Other})
			}
			got := mustImport(t, s, pre(tt.rows), tt.skip)
			if len(want.Conflicts) > 0 && !tt.skip {
				wantDiff(t, "ImportResult.Conflicts", want.Conflicts, got.Conflicts)
			} else {
				wantDiff(t, "ImportResult", want, got)
			}

			after := map[string]bot.Customer{}
			for _, c := range pre(tt.after) {
				after[c.ID] = c
			}
			for _, c := range append(pre(tt.stored), pre(tt.rows)...) {
				stored, err := s.Customer(ctx, c.ID)
				want, ok := after[c.ID]
				switch {
				case !ok:
					wantNotFound(t, "Customer("+c.ID+"), a row not written", err)
				case err != nil:
					t.Errorf("Customer(%s): %v", c.ID, err)
				default:
					wantDiff(t, "Customer("+c.ID+")", want, stored)
				}
			}
		})
	}
}

// testImportAllOrNothing makes large imports fail part of the way through
// and checks that they leave the table as it was.
func testImportAllOrNothing(t *testing.T, s Store) {
	ctx := t.Context()
	const n = 5000
	rows := func(prefix, name string) []bot.Customer {
		cs := make([]bot.Customer, n)
		for i := range cs {
			cs[i] = bot.Customer{ID: fmt.Sprintf("%s-%05d", prefix, i), Name: name,
				Email: fmt.Sprintf("%s.%d@example.com", prefix, i)}
		}
		return cs
	}
	// wantAllOrNothing checks the table after an import of cs that
	// returned err: as before when it failed, holding cs when not.
	wantAllOrNothing := func(t *testing.T, before, cs []bot.Customer, err error) {
		t.Helper()
		if err != nil {
			after := allCustomers(t, s)
			if len(after) != len(before) {
				t.Fatalf("a failed import (%v) changed the table: %d customers, before %d", err, len(after), len(before))
			}
			wantDiff(t, "the table after a failed import", before, after)
			return
		}
		for _, i := range []int{0, len(cs) / 2, len(cs) - 1} {
			got, err := s.Customer(ctx, cs[i].ID)
			if err != nil {
				t.Fatalf("Customer(%s) after an import that succeeded: %v", cs[i].ID, err)
			}
			wantDiff(t, "Customer("+cs[i].ID+")", cs[i], got)
		}
	}

	// The table before: n customers. The import that wrote them is timed,
	// to cancel the next ones part of the way through.
	base := rows("B", "old")
	start := time.Now()
	mustImport(t, s, base, false)
	took := time.Since(start)

	t.Run("a context cancelled before", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		cs := append(rows("B", "new")[:n/2], rows("X", "")[n/2:]...)
		_, err := s.ImportCustomers(cctx, cs, false)
		if err == nil {
			t.Error("ImportCustomers with a cancelled context: no error")
		}
		wantAllOrNothing(t, base, cs, err)
	})

	// Updates of every stored customer and new ones, cancelled after part
	// of the time a whole import takes: once batches have been written, in
	// all likelihood. Whenever the cancellation lands, the import is
	// whole or not at all; an attempt that finished adds to the table.
	t.Run("a context cancelled part of the way", func(t *testing.T) {
		before := base
		failed := 0
		for i, frac := range []float64{0.5, 0.7, 0.3, 0.9, 0.2} {
			cs := append(rows("B", fmt.Sprintf("new %d", i)), rows(fmt.Sprintf("X%d", i), "")...)
			cctx, cancel := context.WithCancel(ctx)
			after := time.Duration(frac * float64(2*took))
			timer := time.AfterFunc(after, cancel)
			began := time.Now()
			_, err := s.ImportCustomers(cctx, cs, false)
			timer.Stop()
			cancel()
			t.Logf("cancelled after %v, the import ended after %v: %v", after, time.Since(began), err)
			wantAllOrNothing(t, before, cs, err)
			if t.Failed() {
				return
			}
			if err != nil {
				failed++
				continue
			}
			before = allCustomers(t, s)
		}
		if failed == 0 {
			t.Logf("every import finished before its cancellation (a whole import took %v)", took)
		}
		// The store is usable after the cancelled transactions.
		c := bot.Customer{ID: "B-after", Email: "after@example.com"}
		if err := s.PutCustomer(ctx, c); err != nil {
			t.Fatalf("PutCustomer after cancelled imports: %v", err)
		}
		if got, err := s.Customer(ctx, c.ID); err != nil || got != c {
			t.Errorf("Customer(%s) = %+v, %v", c.ID, got, err)
		}
	})

	// A row the database refuses near the end, after most batches were
	// written: PostgreSQL refuses NUL in text; SQLite stores it, and then
	// the whole import is written.
	t.Run("a row the database refuses", func(t *testing.T) {
		before := allCustomers(t, s)
		cs := append(rows("B", "refused"), rows("R", "")...)
		cs[len(cs)-n/10].Name = "nul\x00name"
		_, err := s.ImportCustomers(ctx, cs, false)
		if err == nil {
			t.Log("the database took a name with NUL in it")
		}
		wantAllOrNothing(t, before, cs, err)
	})
}

// testImportConcurrent runs imports at once that each give one email to a
// different new customer, beside rows of their own: the email ends up on
// one customer, as when the imports run one after another.
func testImportConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	const n, own = 8, 1000
	var (
		mu        sync.Mutex
		added     int
		conflicts int
		wg        sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range n {
		cs := []bot.Customer{{ID: fmt.Sprintf("C-%d", i), Email: "same@example.com"}}
		for j := range own {
			cs = append(cs, bot.Customer{ID: fmt.Sprintf("C-%d-%04d", i, j), Email: fmt.Sprintf("c%d.%d@example.com", i, j)})
		}
		wg.Go(func() {
			<-start
			res, err := s.ImportCustomers(ctx, cs, true)
			if err != nil {
				t.Errorf("ImportCustomers: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			added += res.Added - own
			conflicts += len(res.Conflicts)
		})
	}
	close(start)
	wg.Wait()
	if added != 1 || conflicts != n-1 {
		t.Errorf("of %d concurrent imports of one email, %d added it and %d conflicted; want 1 and %d", n, added, conflicts, n-1)
	}
	cs, err := s.CustomersByEmail(ctx, "same@example.com")
	if err != nil {
		t.Fatalf("CustomersByEmail: %v", err)
	}
	if len(cs) != 1 {
		t.Errorf("CustomersByEmail after concurrent imports = %v, want one customer", customerIDs(cs))
	}
	if got, want := mustCount(t, s), n*own+1; got != want {
		t.Errorf("CustomerCount = %d, want %d", got, want)
	}
}

func testListCustomers(t *testing.T, s Store) {
	ctx := t.Context()
	if cs, err := s.ListCustomers(ctx, "", 10); err != nil || len(cs) != 0 {
		t.Errorf("ListCustomers of an empty table = %v, %v", cs, err)
	}
	// Byte order: upper case before lower case, and UTF-8's multi-byte
	// letters after ASCII; digits as characters, not numbers.
	mustImport(t, s, []bot.Customer{{ID: "c-1"}, {ID: "Ä-1"}, {ID: "C-9"}, {ID: "C-10"}}, false)
	tests := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 10, []string{"C-10", "C-9", "c-1", "Ä-1"}},
		{"", 2, []string{"C-10", "C-9"}},
		{"C-9", 2, []string{"c-1", "Ä-1"}},
		{"C-10", 1, []string{"C-9"}},
		{"C-5", 10, []string{"C-9", "c-1", "Ä-1"}}, // a cursor not in the table
		{"C", 10, []string{"C-10", "C-9", "c-1", "Ä-1"}},
		{"c-1", 10, []string{"Ä-1"}},
		{"Ä-1", 10, []string{}},
		{"\U0010FFFF", 10, []string{}},
	}
	for _, tt := range tests {
		cs, err := s.ListCustomers(ctx, tt.after, tt.limit)
		if err != nil {
			t.Errorf("ListCustomers(%q, %d): %v", tt.after, tt.limit, err)
			continue
		}
		wantDiff(t, fmt.Sprintf("ListCustomers(%q, %d)", tt.after, tt.limit), tt.want, customerIDs(cs))
	}
	// Pages of one, each after the last id of the one before.
	var paged []string
	for after := ""; ; {
		cs, err := s.ListCustomers(ctx, after, 1)
		if err != nil {
			t.Fatalf("ListCustomers(%q, 1): %v", after, err)
		}
		if len(cs) == 0 {
			break
		}
		if len(cs) > 1 {
			t.Fatalf("ListCustomers(%q, 1) = %v: more than the limit", after, customerIDs(cs))
		}
		paged = append(paged, cs[0].ID)
		after = cs[0].ID
	}
	wantDiff(t, "pages of one", []string{"C-10", "C-9", "c-1", "Ä-1"}, paged)
}

func testCustomersByEmail(t *testing.T, s Store) {
	ctx := t.Context()
	for _, c := range []bot.Customer{
		{ID: "C-1", Name: "Ada", Email: "Ada@Example.com"},
		{ID: "C-9", Email: "shared@example.com"},
		{ID: "C-10", Email: "SHARED@example.com"},
		{ID: "C-4"},
		{ID: "C-5"},
	} {
		// PutCustomer, not an import: an import refuses a shared email,
		// but a table may hold one (and the company's API may).
		if err := s.PutCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		email string
		want  []string
	}{
		{"as stored", "Ada@Example.com", []string{"C-1"}},
		{"lower case", "ada@example.com", []string{"C-1"}},
		{"upper case", "ADA@EXAMPLE.COM", []string{"C-1"}},
		{"spaces around", " \tada@example.com\n", []string{"C-1"}},
		{"shared: both, by id byte by byte", "shared@EXAMPLE.com", []string{"C-10", "C-9"}},
		{"unknown", "nobody@example.com", []string{}},
		{"a prefix is not a match", "ada@example.co", []string{}},
		{"no LIKE patterns", "%@example.com", []string{}},
		{"no LIKE wildcard", "_da@example.com", []string{}},
		{"empty: not the customers without one", "", []string{}},
		{"only spaces", "   ", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := s.CustomersByEmail(ctx, tt.email)
			if err != nil {
				t.Fatalf("CustomersByEmail(%q): %v; none is an empty list, not an error", tt.email, err)
			}
			wantDiff(t, fmt.Sprintf("CustomersByEmail(%q)", tt.email), tt.want, customerIDs(cs))
		})
	}
	// The whole record comes back.
	cs, err := s.CustomersByEmail(ctx, "ADA@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantDiff(t, "CustomersByEmail record", []bot.Customer{{ID: "C-1", Name: "Ada", Email: "Ada@Example.com"}}, cs)
}

func testRemoveCustomer(t *testing.T, s Store) {
	ctx := t.Context()
	ada := bot.Customer{ID: "C-1", Name: "Ada", Email: "ada@example.com"}
	grace := bot.Customer{ID: "C-2", Name: "Grace", Email: "grace@example.com"}
	mustImport(t, s, []bot.Customer{ada, grace, {ID: "C-3"}}, false)
	pay := func(ref, customer string) bot.Payment {
		return bot.Payment{Reference: ref, CustomerID: customer, Amount: "9.99", Currency: "EUR",
			Status: bot.PaymentSettled, CreatedAt: at(0), UpdatedAt: at(0)}
	}
	for _, p := range []bot.Payment{pay("PAY-1", "C-1"), pay("PAY-2", "C-1"), pay("PAY-3", "C-2")} {
		if err := s.PutPayment(ctx, p); err != nil {
			t.Fatalf("PutPayment(%s): %v", p.Reference, err)
		}
	}
	slack := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}
	discord := bot.Identity{Platform: bot.Discord, User: "D1"}
	other := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U2"}
	links := []bot.Link{
		{Identity: slack, CustomerID: "C-1", CreatedAt: at(0)},
		{Identity: discord, CustomerID: "C-1", CreatedAt: at(time.Minute)},
		{Identity: other, CustomerID: "C-2", CreatedAt: at(2 * time.Minute)},
	}
	for _, l := range links {
		if err := s.Link(ctx, l); err != nil {
			t.Fatalf("Link: %v", err)
		}
	}
	// A verification about to link an identity to C-1.
	verifying := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U3"}
	v := bot.Verification{Identity: verifying, ConversationID: 4, Step: bot.VerifyCode, CustomerID: "C-1",
		CodeHash: "s:h", ExpiresAt: at(10 * time.Minute), Sends: 1, SendsSince: at(0), UpdatedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerification(ctx, v) })

	verification := func() bot.Verification {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) (bot.Verification, error) { return tx.Verification(ctx, verifying) })
	}
	audits := func(customer string) []bot.AuditEntry {
		t.Helper()
		return mustTx(t, s, func(tx bot.Tx) ([]bot.AuditEntry, error) {
			return tx.AuditEntries(ctx, bot.AuditQuery{CustomerID: customer})
		})
	}
	payments := func(customer string) []string {
		t.Helper()
		ps, err := s.CustomerPayments(ctx, customer, 10)
		if err != nil {
			t.Fatalf("CustomerPayments(%s): %v", customer, err)
		}
		refs := []string{}
		for _, p := range ps {
			refs = append(refs, p.Reference)
		}
		slices.Sort(refs)
		return refs
	}
	allLinks := func() []bot.Link {
		t.Helper()
		ls, err := s.Links(ctx)
		if err != nil {
			t.Fatalf("Links: %v", err)
		}
		return ls
	}
	entry := func() *bot.AuditEntry {
		return &bot.AuditEntry{At: at(time.Hour), Actor: "admin:root", CustomerID: "C-1",
			Action: bot.AuditCustomerRemove, Record: "C-1", Outcome: bot.AuditAllowed, Reason: "unlinked"}
	}

	t.Run("not found", func(t *testing.T) {
		for _, unlink := range []bool{false, true} {
			_, err := s.RemoveCustomer(ctx, "C-404", unlink, entry())
			wantNotFound(t, fmt.Sprintf("RemoveCustomer(C-404, unlink %v)", unlink), err)
		}
		if got := audits("C-404"); len(got) != 0 {
			t.Errorf("audit entries after refused removals: %+v", got)
		}
	})

	t.Run("linked, without unlink", func(t *testing.T) {
		r, err := s.RemoveCustomer(ctx, "C-1", false, entry())
		if !errors.Is(err, bot.ErrLinked) {
			t.Fatalf("RemoveCustomer(linked) = %+v, %v; want bot.ErrLinked", r, err)
		}
		if errors.Is(err, bot.ErrNotFound) {
			t.Errorf("RemoveCustomer(linked) = %v: also ErrNotFound", err)
		}
		if got, err := s.Customer(ctx, "C-1"); err != nil || got != ada {
			t.Errorf("Customer after a refused removal = %+v, %v", got, err)
		}
		wantDiff(t, "payments after a refused removal", []string{"PAY-1", "PAY-2"}, payments("C-1"))
		wantDiff(t, "links after a refused removal", []bot.Link{links[1], links[0], links[2]}, allLinks())
		wantDiff(t, "verification after a refused removal", v, verification())
		if got := audits("C-1"); len(got) != 0 {
			t.Errorf("audit entries after a refused removal: %+v", got)
		}
	})

	t.Run("with unlink", func(t *testing.T) {
		e := entry()
		r, err := s.RemoveCustomer(ctx, "C-1", true, e)
		if err != nil {
			t.Fatalf("RemoveCustomer(unlink): %v", err)
		}
		wantDiff(t, "Removed", bot.Removed{Payments: 2, Links: 2}, r)
		_, err = s.Customer(ctx, "C-1")
		wantNotFound(t, "Customer after removal", err)
		if cs, err := s.CustomersByEmail(ctx, ada.Email); err != nil || len(cs) != 0 {
			t.Errorf("CustomersByEmail after removal = %v, %v", customerIDs(cs), err)
		}
		wantDiff(t, "payments after removal", []string{}, payments("C-1"))
		_, err = s.Payment(ctx, "PAY-1")
		wantNotFound(t, "Payment(PAY-1) after removal", err)
		for _, id := range []bot.Identity{slack, discord} {
			_, err := mustTxErr(t, s, func(tx bot.Tx) (string, error) { return tx.CustomerFor(ctx, id) })
			wantNotFound(t, fmt.Sprintf("CustomerFor(%+v) after removal", id), err)
		}
		// The verification goes on, linking nobody: its code no longer
		// counts either.
		got := verification()
		if got.CustomerID != "" {
			t.Errorf("verification after removal names customer %q", got.CustomerID)
		}
		if got.CodeHash != "" {
			t.Errorf("verification after removal keeps its code hash %q", got.CodeHash)
		}
		if e.ID == 0 {
			t.Error("RemoveCustomer did not set the audit entry's ID")
		}
		wantDiff(t, "audit entries", []bot.AuditEntry{*e}, audits("C-1"))

		// The other customer's data is untouched.
		if got, err := s.Customer(ctx, "C-2"); err != nil || got != grace {
			t.Errorf("Customer(C-2) = %+v, %v", got, err)
		}
		wantDiff(t, "C-2's payments", []string{"PAY-3"}, payments("C-2"))
		wantDiff(t, "links", []bot.Link{links[2]}, allLinks())

		_, err = s.RemoveCustomer(ctx, "C-1", true, entry())
		wantNotFound(t, "RemoveCustomer twice", err)
		if got := audits("C-1"); len(got) != 1 {
			t.Errorf("%d audit entries after removing twice, want 1", len(got))
		}
	})

	t.Run("without an audit entry", func(t *testing.T) {
		r, err := s.RemoveCustomer(ctx, "C-2", true, nil)
		if err != nil {
			t.Fatalf("RemoveCustomer: %v", err)
		}
		wantDiff(t, "Removed", bot.Removed{Payments: 1, Links: 1}, r)
		if got := audits("C-2"); len(got) != 0 {
			t.Errorf("audit entries: %+v; none was given", got)
		}
	})

	t.Run("nothing linked, nothing paid", func(t *testing.T) {
		r, err := s.RemoveCustomer(ctx, "C-3", false, nil)
		if err != nil {
			t.Fatalf("RemoveCustomer: %v", err)
		}
		wantDiff(t, "Removed", bot.Removed{}, r)
		wantTable(t, s, []bot.Customer{})
	})
}

// testDirectoryLinks: links and verifications name customers of the
// directory, which may be the company's API: the table need not hold them.
func testDirectoryLinks(t *testing.T, s Store) {
	ctx := t.Context()
	mustImport(t, s, []bot.Customer{{ID: "C-1", Email: "ada@example.com"}}, false)
	viaAdmin := bot.Link{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}, CustomerID: "C-API-7", CreatedAt: at(0)}
	viaTx := bot.Link{Identity: bot.Identity{Platform: bot.Discord, User: "D1"}, CustomerID: "C-API-7", CreatedAt: at(time.Minute)}
	inTable := bot.Link{Identity: bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U2"}, CustomerID: "C-1", CreatedAt: at(2 * time.Minute)}
	if err := s.Link(ctx, viaAdmin); err != nil {
		t.Fatalf("Link(a customer the table does not hold): %v", err)
	}
	mustDo(t, s, func(tx bot.Tx) error { return tx.LinkIdentity(ctx, viaTx) })
	if err := s.Link(ctx, inTable); err != nil {
		t.Fatalf("Link: %v", err)
	}
	for _, l := range []bot.Link{viaAdmin, viaTx, inTable} {
		got, err := mustTxErr(t, s, func(tx bot.Tx) (string, error) { return tx.CustomerFor(ctx, l.Identity) })
		if err != nil || got != l.CustomerID {
			t.Errorf("CustomerFor(%+v) = %q, %v; want %q", l.Identity, got, err, l.CustomerID)
		}
	}
	verifying := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U3"}
	v := bot.Verification{Identity: verifying, Step: bot.VerifyCode, CustomerID: "C-API-7", CodeHash: "s:h",
		ExpiresAt: at(10 * time.Minute), UpdatedAt: at(0)}
	mustDo(t, s, func(tx bot.Tx) error { return tx.PutVerification(ctx, v) })

	links := func() []bot.Link {
		t.Helper()
		ls, err := s.Links(ctx)
		if err != nil {
			t.Fatalf("Links: %v", err)
		}
		return ls
	}
	wantLinks := []bot.Link{viaTx, viaAdmin, inTable}
	wantDiff(t, "Links", wantLinks, links())

	// `firstline customers remove` of a customer the table never held:
	// there is no such customer in the table, whatever links name it, and
	// nothing changes.
	for _, unlink := range []bool{false, true} {
		t.Run(fmt.Sprintf("remove a customer the table does not hold, unlink %v", unlink), func(t *testing.T) {
			e := &bot.AuditEntry{At: at(time.Hour), Actor: "admin:root", CustomerID: "C-API-7",
				Action: bot.AuditCustomerRemove, Record: "C-API-7", Outcome: bot.AuditAllowed}
			r, err := s.RemoveCustomer(ctx, "C-API-7", unlink, e)
			wantNotFound(t, "RemoveCustomer(C-API-7)", err)
			wantDiff(t, "Removed", bot.Removed{}, r)
			wantDiff(t, "Links after the removal", wantLinks, links())
			got := mustTx(t, s, func(tx bot.Tx) (bot.Verification, error) { return tx.Verification(ctx, verifying) })
			wantDiff(t, "Verification after the removal", v, got)
			entries := mustTx(t, s, func(tx bot.Tx) ([]bot.AuditEntry, error) {
				return tx.AuditEntries(ctx, bot.AuditQuery{CustomerID: "C-API-7"})
			})
			if len(entries) != 0 {
				t.Errorf("audit entries after a removal that did nothing: %+v", entries)
			}
		})
	}

	// Removing the table's customer takes only its own link.
	r, err := s.RemoveCustomer(ctx, "C-1", true, nil)
	if err != nil {
		t.Fatalf("RemoveCustomer(C-1): %v", err)
	}
	wantDiff(t, "Removed", bot.Removed{Links: 1}, r)
	wantDiff(t, "Links after removing C-1", []bot.Link{viaTx, viaAdmin}, links())

	// An import of the directory's customer later leaves its links alone.
	mustImport(t, s, []bot.Customer{{ID: "C-API-7", Email: "api@example.com"}}, false)
	wantDiff(t, "Links after importing C-API-7", []bot.Link{viaTx, viaAdmin}, links())
}

func testConnectStates(t *testing.T, s Store) {
	ctx := t.Context()
	id := bot.Identity{Platform: bot.Slack, Workspace: "T1", User: "U1"}
	state := func(hash string, expires time.Time) bot.ConnectState {
		return bot.ConnectState{Hash: hash, Identity: id, ConversationID: 7, CreatedAt: at(0), ExpiresAt: expires}
	}
	put := func(c bot.ConnectState) {
		t.Helper()
		mustDo(t, s, func(tx bot.Tx) error { return tx.PutConnectState(ctx, c) })
	}
	redeem := func(hash string, when time.Time) (bot.ConnectState, error) {
		var c bot.ConnectState
		err := s.WithTx(ctx, func(tx bot.Tx) error {
			var err error
			c, err = tx.RedeemConnectState(ctx, hash, when)
			return err
		})
		return c, err
	}
	mustRedeem := func(hash string, when time.Time) bot.ConnectState {
		t.Helper()
		c, err := redeem(hash, when)
		if err != nil {
			t.Fatalf("RedeemConnectState(%s): %v", hash, err)
		}
		return c
	}

	a := state("aa01", at(10*time.Minute))
	put(a)
	wantDiff(t, "first redemption", a, mustRedeem(a.Hash, at(time.Minute)))
	used := a
	used.UsedAt = at(time.Minute)
	wantDiff(t, "second redemption", used, mustRedeem(a.Hash, at(2*time.Minute)))
	// A replay changes nothing: the first use stays.
	wantDiff(t, "third redemption", used, mustRedeem(a.Hash, at(3*time.Minute)))

	_, err := redeem("ffff", at(time.Minute))
	wantNotFound(t, "RedeemConnectState(unknown)", err)

	// The same hash again does not make a used state new.
	_ = txErr(t, s, func(tx bot.Tx) error { return tx.PutConnectState(ctx, a) })
	wantDiff(t, "redemption after putting it again", used, mustRedeem(a.Hash, at(4*time.Minute)))

	if err := txErr(t, s, func(tx bot.Tx) error { return tx.PutConnectState(ctx, state("", at(time.Hour))) }); err == nil {
		t.Error("PutConnectState without a hash: no error")
	}

	t.Run("concurrent redemptions", func(t *testing.T) {
		b := state("bb02", at(10*time.Minute))
		put(b)
		const n = 8
		got := make([]bot.ConnectState, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c, err := redeem(b.Hash, at(time.Duration(i+1)*time.Second))
				if err != nil {
					t.Errorf("RedeemConnectState: %v", err)
				}
				got[i] = c
			})
		}
		wg.Wait()
		winner := -1
		for i, c := range got {
			if c.UsedAt.IsZero() {
				if winner >= 0 {
					t.Errorf("redemptions %d and %d both saw the state unused", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatal("no redemption saw the state unused")
		}
		// The others saw the winner's use.
		for i, c := range got {
			if i != winner && !c.UsedAt.Equal(at(time.Duration(winner+1)*time.Second)) {
				t.Errorf("redemption %d saw UsedAt %v, want the winner's %v", i, c.UsedAt, at(time.Duration(winner+1)*time.Second))
			}
		}
	})

	t.Run("purge", func(t *testing.T) {
		fresh := state("cc03", at(2*time.Hour))
		atCutoff := state("dd04", at(time.Hour))
		put(fresh)
		put(atCutoff)
		// aa01 and bb02 expired at 10 minutes.
		if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(time.Hour)) }); n != 2 {
			t.Errorf("PurgeVerifications = %d, want 2 (the expired connect states)", n)
		}
		for _, h := range []string{"aa01", "bb02"} {
			_, err := redeem(h, at(time.Hour))
			wantNotFound(t, "RedeemConnectState(expired "+h+") after purge", err)
		}
		wantDiff(t, "a state expiring at the cutoff", atCutoff, mustRedeem(atCutoff.Hash, at(time.Hour)))
		wantDiff(t, "a state not expired", fresh, mustRedeem(fresh.Hash, at(time.Hour)))
		if n := mustTx(t, s, func(tx bot.Tx) (int, error) { return tx.PurgeVerifications(ctx, at(time.Hour)) }); n != 0 {
			t.Errorf("PurgeVerifications again = %d, want 0", n)
		}
	})
}

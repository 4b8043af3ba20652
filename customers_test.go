package main

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/sqlstore"
	"github.com/firstlinehq/firstline/bot"
	"github.com/firstlinehq/firstline/internal/fakecompany"
)

// End-to-end tests of `firstline customers` and of `firstline link` against
// the customer directory (the store's customers table or the company's API),
// in process, each on a fresh SQLite file without the demo data.

// runCmdEnv is runCmd with more environment: env is added to FIRSTLINE_DB
// and USER (and may override them).
func runCmdEnv(t *testing.T, db string, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	all := map[string]string{"FIRSTLINE_DB": db, "USER": "dpo"}
	maps.Copy(all, env)
	var out, errb bytes.Buffer
	no := false
	sys := stdio{in: strings.NewReader(stdin), out: &out, err: &errb, getenv: func(k string) string { return all[k] }, interactive: &no}
	code = run(t.Context(), args, sys)
	return code, out.String(), errb.String()
}

// freshDB names a database file that does not exist yet.
func freshDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "f.db")
}

// mustSeedCustomers stores customers in the customers table directly,
// without the import command, creating the database if need be.
func mustSeedCustomers(t *testing.T, db string, cs ...bot.Customer) {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.ImportCustomers(t.Context(), cs, false)
	if err != nil || len(res.Conflicts) > 0 {
		t.Fatalf("seed customers: %+v, %v", res, err)
	}
}

func mustSeedPayment(t *testing.T, db string, p bot.Payment) {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutPayment(t.Context(), p); err != nil {
		t.Fatal(err)
	}
}

// mustImport imports file (path or "-") and returns the summary line.
func mustImport(t *testing.T, db string, env map[string]string, stdin, file string, flags ...string) string {
	t.Helper()
	code, out, errOut := runCmdEnv(t, db, env, stdin, append([]string{"customers", "import", file}, flags...)...)
	if code != 0 {
		t.Fatalf("customers import %s: exit %d\nstdout: %s\nstderr: %s", file, code, out, errOut)
	}
	return out
}

// mustList runs `customers list` with args and returns the rows as
// id, name, email (the name and email "-" when empty).
func mustList(t *testing.T, db string, env map[string]string, args ...string) [][]string {
	t.Helper()
	code, out, errOut := runCmdEnv(t, db, env, "", append([]string{"customers", "list"}, args...)...)
	if code != 0 {
		t.Fatalf("customers list %v: exit %d: %s", args, code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME EMAIL" {
		t.Fatalf("customers list %v: no header:\n%s", args, out)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		// The columns are padded with at least two spaces; a name may
		// hold one.
		var row []string
		for _, f := range strings.Split(l, "  ") {
			if f = strings.TrimSpace(f); f != "" {
				row = append(row, f)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func ids(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}

// mustLinks returns the CUSTOMER column of `link --list`.
func mustLinks(t *testing.T, db string, env map[string]string) []string {
	t.Helper()
	code, out, errOut := runCmdEnv(t, db, env, "", "link", "--list")
	if code != 0 {
		t.Fatalf("link --list: exit %d: %s", code, errOut)
	}
	var customers []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n")[1:] {
		if f := strings.Fields(l); len(f) >= 4 {
			customers = append(customers, f[3])
		}
	}
	return customers
}

func linkArgs(user, customer string) []string {
	return []string{"link", "--platform", "slack", "--team", "T1", "--user", user, "--customer", customer}
}

func TestCustomersImport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")

	csvFile := filepath.Join(dir, "customers.csv")
	mustWrite(t, csvFile, "\ufeffid,name,email\r\n"+
		"C-1,Ada Lovelace,ada@example.com\r\n"+
		"C-2,\"Hopper, Grace\",grace@example.com\r\n"+
		"\r\n"+
		"C-3,,\r\n")
	out := mustImport(t, db, nil, "", csvFile)
	if want := "imported " + csvFile + " into the customers table of " + db + ": 3 added, 0 updated, 0 unchanged, 0 rejected"; !strings.Contains(out, want) {
		t.Errorf("CSV import said %q, want %q", out, want)
	}
	want := [][]string{
		{"C-1", "Ada Lovelace", "ada@example.com"},
		{"C-2", "Hopper, Grace", "grace@example.com"},
		{"C-3", "-", "-"},
	}
	if got := mustList(t, db, nil); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after the CSV import (BOM and CR must not reach the values): %q, want %q", got, want)
	}

	jsonFile := filepath.Join(dir, "customers.jsonl")
	mustWrite(t, jsonFile, "\ufeff"+
		`{"id": "C-1", "name": "Ada Lovelace", "email": "ada@example.com"}`+"\r\n"+
		`{"id": "C-3", "name": "Charles Babbage", "email": "charles@example.com"}`+"\n"+
		"\n"+
		`{"id": "C-4", "email": "Alan@Example.com"}`+"\n")
	out = mustImport(t, db, nil, "", jsonFile)
	if want := ": 1 added, 1 updated, 1 unchanged, 0 rejected"; !strings.Contains(out, want) {
		t.Errorf("JSON-lines import said %q, want %q", out, want)
	}
	want = append(want[:2:2], []string{"C-3", "Charles Babbage", "charles@example.com"}, []string{"C-4", "-", "Alan@Example.com"})
	if got := mustList(t, db, nil); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after the JSON-lines import: %q, want %q", got, want)
	}

	// The same file again changes nothing.
	if out := mustImport(t, db, nil, "", jsonFile); !strings.Contains(out, ": 0 added, 0 updated, 3 unchanged, 0 rejected") {
		t.Errorf("re-import said %q, want everything unchanged", out)
	}

	// "-" is standard input.
	out = mustImport(t, db, nil, "id,name\nC-5,Edsger Dijkstra\n", "-")
	if !strings.Contains(out, "imported - into the customers table") || !strings.Contains(out, "1 added") {
		t.Errorf("import from standard input said %q", out)
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, []string{"C-1", "C-2", "C-3", "C-4", "C-5"}) {
		t.Errorf("after the import from standard input: %q", got)
	}
}

// An invalid row stops the import, reported as FILE:LINE: reason without
// the row's values; --skip-invalid imports the others.
func TestCustomersImportInvalidRows(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")
	file := filepath.Join(dir, "bad.csv")
	mustWrite(t, file, "id,name,email\n"+
		"C-1,Zelda Quux,zelda@quux.example\n"+
		"C-2,Yorick Wyvern,not-an-email-yorick\n"+
		"C-3,Xavier Vole,xavier@vole.example,extra\n"+
		"C-4,Wanda Umber,wanda@umber.example\n")
	personal := []string{"Zelda", "Quux", "zelda@", "Yorick", "Wyvern", "not-an-email", "Xavier", "Vole", "xavier@", "Wanda", "Umber", "wanda@"}

	code, out, errOut := runCmdEnv(t, db, nil, "", "customers", "import", file)
	if code != 1 {
		t.Fatalf("import with invalid rows: exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{
		file + ":3: email: not an email address\n",
		file + ":4: 4 fields where the header has 3\n",
		"2 of 4 rows rejected", "nothing imported", "--skip-invalid",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, v := range personal {
		if strings.Contains(out+errOut, v) {
			t.Errorf("the output quotes a value from the file (%q):\nstdout: %s\nstderr: %s", v, out, errOut)
		}
	}
	if strings.Contains(errOut, file+":2:") || strings.Contains(errOut, file+":5:") {
		t.Errorf("valid rows reported as rejected:\n%s", errOut)
	}
	// The database may or may not exist now; it holds no customer.
	if code, out, _ := runCmdEnv(t, db, nil, "", "customers", "list"); code == 0 && strings.Contains(out, "C-1") {
		t.Errorf("a valid row was imported with the invalid ones:\n%s", out)
	}

	code, out, errOut = runCmdEnv(t, db, nil, "", "customers", "import", file, "--skip-invalid")
	if code != 0 || !strings.Contains(out, ": 2 added, 0 updated, 0 unchanged, 2 rejected") {
		t.Fatalf("--skip-invalid: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(errOut, file+":3: ") || !strings.Contains(errOut, file+":4: ") {
		t.Errorf("--skip-invalid does not list the rejected rows:\n%s", errOut)
	}
	for _, v := range personal {
		if strings.Contains(errOut, v) {
			t.Errorf("stderr quotes a value from the file (%q):\n%s", v, errOut)
		}
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, []string{"C-1", "C-4"}) {
		t.Errorf("after --skip-invalid: %q, want C-1 and C-4", got)
	}

	// A JSON-lines file is reported the same way.
	jsonFile := filepath.Join(dir, "bad.jsonl")
	mustWrite(t, jsonFile, `{"id": "C-7", "name": "Vera Tansy"}`+"\n"+`{"id": "C-8", "name": 42}`+"\n")
	code, out, errOut = runCmdEnv(t, db, nil, "", "customers", "import", jsonFile)
	if code != 1 || !strings.Contains(errOut, jsonFile+":2: name: must be a string, not a number") || strings.Contains(out+errOut, "Vera") {
		t.Errorf("JSON lines with an invalid line: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// An email already on a stored customer is reported with the line and the
// other customer's id.
func TestCustomersImportEmailOnAnotherCustomer(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")
	mustSeedCustomers(t, db, bot.Customer{ID: "C-1", Name: "Ada Lovelace", Email: "ada@example.com"})
	file := filepath.Join(dir, "more.csv")
	mustWrite(t, file, "id,name,email\n"+
		"C-2,Grace Hopper,grace@example.com\n"+
		"C-3,Ada Impostor,ADA@example.com\n")

	code, out, errOut := runCmdEnv(t, db, nil, "", "customers", "import", file)
	if code != 1 || !strings.Contains(errOut, file+":3: email already on customer C-1 in the table") || !strings.Contains(errOut, "nothing imported") {
		t.Errorf("import of a taken email: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "ada@example.com") || strings.Contains(out+errOut, "ADA@") || strings.Contains(out+errOut, "Impostor") {
		t.Errorf("the output quotes a value:\nstdout: %s\nstderr: %s", out, errOut)
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, []string{"C-1"}) {
		t.Errorf("after a refused import: %q, want only C-1", got)
	}

	code, out, errOut = runCmdEnv(t, db, nil, "", "customers", "import", file, "--skip-invalid")
	if code != 0 || !strings.Contains(out, ": 1 added, 0 updated, 0 unchanged, 1 rejected") || !strings.Contains(errOut, file+":3: email already on customer C-1") {
		t.Errorf("--skip-invalid with a taken email: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, []string{"C-1", "C-2"}) {
		t.Errorf("after --skip-invalid: %q, want C-1 and C-2", got)
	}
}

func TestCustomersImportMissingFile(t *testing.T) {
	db := freshDB(t)
	missing := filepath.Join(t.TempDir(), "nope.csv")
	code, out, errOut := runCmdEnv(t, db, nil, "", "customers", "import", missing)
	if code != 1 || !strings.Contains(errOut, "firstline customers: customers import: open "+missing+": no such file or directory") {
		t.Errorf("missing file: exit %d, stdout %q, stderr %q; want exit 1 naming the file", code, out, errOut)
	}
}

func TestCustomersImportUsage(t *testing.T) {
	db := freshDB(t)
	for _, args := range [][]string{
		{"customers"},
		{"customers", "frobnicate"},
		{"customers", "import"},
		{"customers", "remove"},
	} {
		if code, _, errOut := runCmdEnv(t, db, nil, "", args...); code != 2 || !strings.Contains(errOut, "usage") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errOut)
		}
	}
}

// Importing 2,500 customers, then listing them all, in pages of 1,000
// under the hood.
func TestCustomersImportThenListMany(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")
	var b strings.Builder
	b.WriteString("id,email\n")
	var want []string
	for i := 2500; i >= 1; i-- { // neither the file's order nor numeric
		id := fmt.Sprintf("C-%d", i)
		fmt.Fprintf(&b, "%s,p%d@example.com\n", id, i)
		want = append(want, id)
	}
	slices.Sort(want)
	file := filepath.Join(dir, "many.csv")
	mustWrite(t, file, b.String())
	if out := mustImport(t, db, nil, "", file); !strings.Contains(out, ": 2500 added") {
		t.Errorf("import said %q", out)
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, want) {
		t.Errorf("listed %d customers, want all 2500 in id order", len(got))
	}
}

func TestCustomersList(t *testing.T) {
	db := freshDB(t)
	// A database that is not there is an error, not an empty list.
	if code, _, errOut := runCmdEnv(t, db, nil, "", "customers", "list"); code != 1 || !strings.Contains(errOut, "no database at "+db) {
		t.Errorf("list without a database: exit %d, %q", code, errOut)
	}

	// More than two pages of 1,000, stored in an order that is neither
	// the ids' nor numeric, listed byte by byte.
	var cs []bot.Customer
	var want []string
	for i := 2500; i >= 1; i-- {
		id := fmt.Sprintf("C-%d", i)
		cs = append(cs, bot.Customer{ID: id, Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i)})
		want = append(want, id)
	}
	cs = append(cs, bot.Customer{ID: "C-X", Name: "Ada Lovelace", Email: "Ada.Lovelace@Example.com"})
	want = append(want, "C-X")
	slices.Sort(want)
	mustSeedCustomers(t, db, cs...)

	code, _, errOut := runCmdEnv(t, db, nil, "", "customers", "list")
	if code != 0 || !strings.Contains(errOut, "2501 customers in the customers table of "+db) {
		t.Errorf("list: exit %d, stderr %q", code, errOut)
	}
	rows := mustList(t, db, nil)
	if got := ids(rows); !slices.Equal(got, want) {
		t.Fatalf("listed %d customers, want all %d in id order", len(got), len(want))
	}
	if i := slices.Index(ids(rows), "C-1000"); !slices.Equal(rows[i], []string{"C-1000", "Person 1000", "p1000@example.com"}) {
		t.Errorf("row of C-1000 = %q", rows[i])
	}

	// --email ignores case, and finds nothing for an unknown address.
	for _, email := range []string{"ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM", " Ada.Lovelace@Example.com "} {
		got := mustList(t, db, nil, "--email", email)
		if want := [][]string{{"C-X", "Ada Lovelace", "Ada.Lovelace@Example.com"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("--email %q: %q, want %q", email, got, want)
		}
	}
	if got := mustList(t, db, nil, "--email", "nobody@example.com"); len(got) != 0 {
		t.Errorf("--email nobody: %q, want none", got)
	}
}

func TestCustomersRemove(t *testing.T) {
	db := freshDB(t)
	mustSeedCustomers(t, db,
		bot.Customer{ID: "C-1", Name: "Ada Lovelace", Email: "ada@example.com"},
		bot.Customer{ID: "C-2", Name: "Grace Hopper", Email: "grace@example.com"},
		bot.Customer{ID: "C-3", Name: "Alan Turing"})
	mustSeedPayment(t, db, bot.Payment{Reference: "PAY-1", CustomerID: "C-1", Amount: "10.00", Currency: "EUR",
		Status: bot.PaymentSettled, Merchant: "Books", CreatedAt: time.Now().Add(-time.Hour)})
	if code, out, errOut := runCmdEnv(t, db, nil, "", linkArgs("U1", "C-1")...); code != 0 {
		t.Fatalf("link: exit %d, %q %q", code, out, errOut)
	}

	if code, _, errOut := runCmdEnv(t, db, nil, "", "customers", "remove", "--customer", "C-404"); code != 1 || !strings.Contains(errOut, "no customer C-404 in "+db) {
		t.Errorf("remove of an unknown id: exit %d, %q", code, errOut)
	}

	// Linked: refused, with the way out, and nothing removed.
	code, out, errOut := runCmdEnv(t, db, nil, "", "customers", "remove", "--customer", "C-1")
	if code != 1 || !strings.Contains(errOut, "customer C-1: chat identities are linked to it") ||
		!strings.Contains(errOut, "link --list") || !strings.Contains(errOut, "pass --unlink") {
		t.Errorf("remove of a linked customer: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, []string{"C-1", "C-2", "C-3"}) {
		t.Errorf("after a refused remove: %q", got)
	}
	if got := mustLinks(t, db, nil); !slices.Equal(got, []string{"C-1"}) {
		t.Errorf("links after a refused remove: %q", got)
	}

	// Not linked: removed without --unlink.
	if code, out, errOut := runCmdEnv(t, db, nil, "", "customers", "remove", "--customer", "C-3"); code != 0 || !strings.Contains(out, "removed customer C-3, 0 payments and 0 links") {
		t.Errorf("remove of an unlinked customer: exit %d, %q %q", code, out, errOut)
	}

	code, out, errOut = runCmdEnv(t, db, nil, "", "customers", "remove", "--customer", "C-1", "--unlink", "--by", "Dana (DPO)")
	if code != 0 || !strings.Contains(out, "removed customer C-1, 1 payments and 1 links") {
		t.Fatalf("remove --unlink: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := ids(mustList(t, db, nil)); !slices.Equal(got, []string{"C-2"}) {
		t.Errorf("after remove --unlink: %q, want C-2", got)
	}
	if got := mustLinks(t, db, nil); len(got) != 0 {
		t.Errorf("links after remove --unlink: %q, want none", got)
	}
	var found bool
	for _, e := range mustAudit(t, db) {
		if e.Action == string(bot.AuditCustomerRemove) && e.CustomerID == "C-1" {
			found = true
			if e.Actor != "admin:Dana (DPO)" || e.Outcome != "allowed" || e.Reason != "unlinked" {
				t.Errorf("audit entry of the removal: %+v; want by admin:Dana (DPO), allowed, unlinked", e)
			}
		}
		if e.Action == string(bot.AuditCustomerRemove) && e.CustomerID == "C-3" && e.Actor != "admin:dpo" {
			t.Errorf("audit entry of a removal without --by: actor %q, want admin:dpo ($USER)", e.Actor)
		}
	}
	if !found {
		t.Error("the removal of C-1 is not in the audit log")
	}
	if code, out, _ := runCmdEnv(t, db, nil, "", "audit"); code != 0 || !strings.Contains(out, "admin:Dana (DPO)") || !strings.Contains(out, "customer_remove") {
		t.Errorf("audit table: exit %d:\n%s", code, out)
	}

	// The link to a removed customer cannot be made again.
	if code, _, errOut := runCmdEnv(t, db, nil, "", linkArgs("U1", "C-1")...); code != 1 || !strings.Contains(errOut, "no customer C-1 in the customers table") {
		t.Errorf("link to a removed customer: exit %d, %q", code, errOut)
	}
}

// fakeAPI starts the company's API with Ada as C-1, accepting token.
func fakeAPI(t *testing.T, token string) *fakecompany.Server {
	t.Helper()
	s := fakecompany.New(token)
	t.Cleanup(s.Close)
	s.AddCustomer(bot.Customer{ID: "C-1", Name: "Ada Lovelace", Email: "Ada@Example.com"})
	return s
}

func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// saysAPI reports whether s has prefix followed by "the company's API" and
// a mention of the setting and the host it came from, whichever the order.
func saysAPI(s, prefix, setting, host string) bool {
	i := strings.Index(s, prefix+"the company's API")
	if i < 0 {
		return false
	}
	rest, _, _ := strings.Cut(s[i:], "\n")
	return strings.Contains(rest, setting) && strings.Contains(rest, host)
}

const apiToken = "customers-api-token-0123456789"

// With the company's API as the directory, the table is not changed: the
// commands that would are refused, naming the setting and the way back.
func TestCustomersCommandsWithTheAPI(t *testing.T) {
	api := fakeAPI(t, apiToken)
	env := map[string]string{"FIRSTLINE_CUSTOMERS_URL": api.URL(), "FIRSTLINE_CUSTOMERS_TOKEN": apiToken}
	db := freshDB(t)
	if code, _, errOut := runCmdEnv(t, db, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	refused := func(t *testing.T, code int, errOut string) {
		t.Helper()
		if code != 1 || !strings.Contains(errOut, "customers come from the company's API (FIRSTLINE_CUSTOMERS_URL)") ||
			!strings.Contains(errOut, "set FIRSTLINE_CUSTOMERS_URL=store to use the customers table") {
			t.Errorf("exit %d, stderr %q; want exit 1 naming FIRSTLINE_CUSTOMERS_URL and FIRSTLINE_CUSTOMERS_URL=store", code, errOut)
		}
		if strings.Contains(errOut, apiToken) {
			t.Errorf("the token is printed: %q", errOut)
		}
	}

	t.Run("import", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "c.csv")
		mustWrite(t, file, "id\nC-9\n")
		code, _, errOut := runCmdEnv(t, db, env, "", "customers", "import", file)
		refused(t, code, errOut)
	})
	t.Run("remove", func(t *testing.T) {
		code, _, errOut := runCmdEnv(t, db, env, "", "customers", "remove", "--customer", "C-1")
		refused(t, code, errOut)
	})
	t.Run("list", func(t *testing.T) {
		code, _, errOut := runCmdEnv(t, db, env, "", "customers", "list")
		if code != 2 || !strings.Contains(errOut, "FIRSTLINE_CUSTOMERS_URL") || !strings.Contains(errOut, "--email") {
			t.Errorf("list without --email: exit %d, stderr %q; want a usage error naming the setting and --email", code, errOut)
		}
	})
	t.Run("list --email", func(t *testing.T) {
		before := api.Requests("/customers?email=")
		got := mustList(t, db, env, "--email", "ada@example.com")
		if want := [][]string{{"C-1", "Ada Lovelace", "Ada@Example.com"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("list --email: %q, want %q", got, want)
		}
		if n := api.Requests("/customers?email=ada%40example.com") - before; n != 1 {
			t.Errorf("the API was asked %d times, want once", n)
		}
		code, _, errOut := runCmdEnv(t, db, env, "", "customers", "list", "--email", "ada@example.com")
		if code != 0 || !saysAPI(errOut, "1 customers in ", "FIRSTLINE_CUSTOMERS_URL", hostPort(t, api.URL())) {
			t.Errorf("list --email: exit %d, stderr %q", code, errOut)
		}

		api.SetDown(true)
		defer api.SetDown(false)
		code, out, errOut := runCmdEnv(t, db, env, "", "customers", "list", "--email", "ada@example.com")
		if code != 1 || !strings.Contains(errOut, "look up the company's API") || !strings.Contains(errOut, "HTTP 503") {
			t.Errorf("list --email with the API down: exit %d, stderr %q", code, errOut)
		}
		if strings.Contains(out+errOut, "ada@") {
			t.Errorf("the error quotes the email: %q", errOut)
		}
	})
	t.Run("list --email without a database", func(t *testing.T) {
		// The API answers: no database file is needed, and none is made.
		missing := filepath.Join(t.TempDir(), "none.db")
		got := mustList(t, missing, env, "--email", "ada@example.com")
		if len(got) != 1 || got[0][0] != "C-1" {
			t.Errorf("list --email without a database: %q", got)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Errorf("a database file was made: %v", err)
		}
	})
}

// `link` checks the customer in the company's API, on a database with no
// customers at all, and fails closed.
func TestLinkWithTheAPIDirectory(t *testing.T) {
	api := fakeAPI(t, apiToken)
	env := map[string]string{"FIRSTLINE_CUSTOMERS_URL": api.URL(), "FIRSTLINE_CUSTOMERS_TOKEN": apiToken}
	host := hostPort(t, api.URL())
	db := freshDB(t)

	code, out, errOut := runCmdEnv(t, db, env, "", linkArgs("U1", "C-1")...)
	if code != 0 || !saysAPI(out, "linked slack user U1 to customer C-1, found in ", "FIRSTLINE_CUSTOMERS_URL", host) {
		t.Errorf("link to a customer of the API: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCmdEnv(t, db, env, "", linkArgs("U2", "C-404")...)
	if code != 1 || !saysAPI(errOut, "no customer C-404 in ", "FIRSTLINE_CUSTOMERS_URL", host) {
		t.Errorf("link to an unknown customer: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	api.SetDown(true)
	code, out, errOut = runCmdEnv(t, db, env, "", linkArgs("U3", "C-1")...)
	api.SetDown(false)
	if code != 1 || !saysAPI(errOut, "could not check customer C-1 in ", "FIRSTLINE_CUSTOMERS_URL", host) || !strings.Contains(errOut, "nothing was linked") {
		t.Errorf("link with the API down: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, apiToken) {
		t.Errorf("the token is printed: %q", out+errOut)
	}
	if got := mustLinks(t, db, env); !slices.Equal(got, []string{"C-1"}) {
		t.Errorf("links: %q, want only U1's to C-1", got)
	}
	if !findAudit(mustAudit(t, db), "link", "C-1", "allowed", "") {
		t.Error("the link is not in the audit log")
	}
}

// A token the API refuses is named by its setting, never printed.
func TestLinkWithTheAPIWrongToken(t *testing.T) {
	const wrong = "wrong-token-abcdefghijklmnop"
	api := fakeAPI(t, apiToken)
	tests := []struct {
		name    string
		env     map[string]string
		setting string
	}{
		{"customers token", map[string]string{
			"FIRSTLINE_CUSTOMERS_URL": api.URL(), "FIRSTLINE_CUSTOMERS_TOKEN": wrong,
		}, "FIRSTLINE_CUSTOMERS_TOKEN"},
		{"customers token beside a payments token", map[string]string{
			"FIRSTLINE_CUSTOMERS_URL": api.URL(), "FIRSTLINE_CUSTOMERS_TOKEN": wrong,
			"FIRSTLINE_PAYMENTS_URL": api.URL(), "FIRSTLINE_PAYMENTS_TOKEN": apiToken,
		}, "FIRSTLINE_CUSTOMERS_TOKEN"},
		{"payments token for the customers URL", map[string]string{
			"FIRSTLINE_CUSTOMERS_URL": api.URL(),
			"FIRSTLINE_PAYMENTS_URL":  api.URL(), "FIRSTLINE_PAYMENTS_TOKEN": wrong,
		}, "FIRSTLINE_PAYMENTS_TOKEN"},
		{"payments URL and token", map[string]string{
			"FIRSTLINE_PAYMENTS_URL": api.URL(), "FIRSTLINE_PAYMENTS_TOKEN": wrong,
		}, "FIRSTLINE_PAYMENTS_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := freshDB(t)
			code, out, errOut := runCmdEnv(t, db, tt.env, "", linkArgs("U1", "C-1")...)
			if code != 1 || !strings.Contains(errOut, "could not check customer C-1") ||
				!strings.Contains(errOut, "refused the credentials: check "+tt.setting) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying to check %s", code, out, errOut, tt.setting)
			}
			if strings.Contains(out+errOut, wrong) || strings.Contains(out+errOut, apiToken) {
				t.Errorf("a token is printed: %q", out+errOut)
			}
			if got := mustLinks(t, db, tt.env); len(got) != 0 {
				t.Errorf("links: %q, want none", got)
			}
		})
	}
}

func TestLinkWithTheAPINoTokenNamesTheCustomersToken(t *testing.T) {
	api := fakeAPI(t, apiToken)
	env := map[string]string{"FIRSTLINE_CUSTOMERS_URL": api.URL()}
	code, out, errOut := runCmdEnv(t, freshDB(t), env, "", linkArgs("U1", "C-1")...)
	if code != 1 || !strings.Contains(errOut, "check FIRSTLINE_CUSTOMERS_TOKEN (it is not set)") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying to check FIRSTLINE_CUSTOMERS_TOKEN", code, out, errOut)
	}
}

// `link` checks the customer in the customers table when no API is
// configured.
func TestLinkWithTheTable(t *testing.T) {
	db := freshDB(t)
	mustSeedCustomers(t, db, bot.Customer{ID: "C-7", Name: "Grace Hopper", Email: "grace@example.com"})
	code, out, errOut := runCmdEnv(t, db, nil, "", linkArgs("U1", "C-7")...)
	if code != 0 || !strings.Contains(out, "linked slack user U1 to customer C-7, found in the customers table of "+db+"\n") {
		t.Errorf("link to a stored customer: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCmdEnv(t, db, nil, "", linkArgs("U2", "C-1001")...)
	if code != 1 || !strings.Contains(errOut, "no customer C-1001 in the customers table of "+db) {
		t.Errorf("link to an unknown customer (the demo's, not seeded here): exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := mustLinks(t, db, nil); !slices.Equal(got, []string{"C-7"}) {
		t.Errorf("links: %q, want only C-7", got)
	}
}

// FIRSTLINE_PAYMENTS_URL alone makes the company's API the directory too;
// FIRSTLINE_CUSTOMERS_URL=store keeps the table while payments use the API.
func TestCustomersDirectoryDefaultsToThePaymentsAPI(t *testing.T) {
	api := fakeAPI(t, apiToken)
	host := hostPort(t, api.URL())

	t.Run("payments URL", func(t *testing.T) {
		env := map[string]string{"FIRSTLINE_PAYMENTS_URL": api.URL(), "FIRSTLINE_PAYMENTS_TOKEN": apiToken}
		db := freshDB(t)
		code, out, errOut := runCmdEnv(t, db, env, "", linkArgs("U1", "C-1")...)
		if code != 0 || !saysAPI(out, "found in ", "FIRSTLINE_PAYMENTS_URL", host) {
			t.Errorf("link: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		code, _, errOut = runCmdEnv(t, db, env, "", "customers", "remove", "--customer", "C-1")
		if code != 1 || !strings.Contains(errOut, "the company's API (FIRSTLINE_PAYMENTS_URL)") || !strings.Contains(errOut, "FIRSTLINE_CUSTOMERS_URL=store") {
			t.Errorf("remove: exit %d, stderr %q", code, errOut)
		}
		code, _, errOut = runCmdEnv(t, db, env, "", "customers", "list")
		if code != 2 || !strings.Contains(errOut, "FIRSTLINE_PAYMENTS_URL") {
			t.Errorf("list: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("store", func(t *testing.T) {
		env := map[string]string{"FIRSTLINE_CUSTOMERS_URL": "store", "FIRSTLINE_PAYMENTS_URL": api.URL(), "FIRSTLINE_PAYMENTS_TOKEN": apiToken}
		db := freshDB(t)
		mustSeedCustomers(t, db, bot.Customer{ID: "C-7", Name: "Grace Hopper"})
		before := api.Requests("/customers")
		code, out, errOut := runCmdEnv(t, db, env, "", linkArgs("U1", "C-7")...)
		if code != 0 || !strings.Contains(out, "found in the customers table of "+db+"\n") {
			t.Errorf("link to a stored customer: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		// C-1 is the API's, not the table's.
		code, _, errOut = runCmdEnv(t, db, env, "", linkArgs("U2", "C-1")...)
		if code != 1 || !strings.Contains(errOut, "no customer C-1 in the customers table of "+db) {
			t.Errorf("link to the API's customer: exit %d, stderr %q", code, errOut)
		}
		if got := ids(mustList(t, db, env)); !slices.Equal(got, []string{"C-7"}) {
			t.Errorf("list: %q", got)
		}
		if n := api.Requests("/customers") - before; n != 0 {
			t.Errorf("the API was asked about customers %d times, want never", n)
		}
	})

	t.Run("store import", func(t *testing.T) {
		env := map[string]string{"FIRSTLINE_CUSTOMERS_URL": "store", "FIRSTLINE_PAYMENTS_URL": api.URL(), "FIRSTLINE_PAYMENTS_TOKEN": apiToken}
		db := freshDB(t)
		if out := mustImport(t, db, env, "id\nC-8\n", "-"); !strings.Contains(out, "1 added") {
			t.Errorf("import: %q", out)
		}
	})
}

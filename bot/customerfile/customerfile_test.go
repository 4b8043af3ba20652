package customerfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/firstlinehq/firstline/bot"
)

// The personal data in these tests is made of these words, none of which
// may be in a reason or an error.
var private = []string{"zelda", "quux", "7f3a", "example", "ünï"}

func mustNotLeak(t *testing.T, res Result, err error) {
	t.Helper()
	texts := []string{}
	if err != nil {
		texts = append(texts, err.Error())
	}
	for _, r := range res.Rejected {
		texts = append(texts, r.Reason)
	}
	for _, s := range texts {
		for _, p := range private {
			if strings.Contains(strings.ToLower(s), p) {
				t.Errorf("%q contains a value (%q)", s, p)
			}
		}
	}
}

func row(line int, id, name, email string) Row {
	return Row{Line: line, Customer: bot.Customer{ID: id, Name: name, Email: email}}
}

// rej is a rejected record: the line, and text its reason must contain.
type rej struct {
	line   int
	reason string
}

func TestParse(t *testing.T) {
	long := func(n int) string { return strings.Repeat("q", n) }
	tests := []struct {
		name    string
		in      string
		want    []Row
		reject  []rej
		wantErr string // text the error contains, if one is expected
	}{
		// Headers.
		{name: "header in another order and case, trimmed",
			in:   " Email ,ID,name\nzelda@example.com,cust-7f3a,Zelda Quux\n",
			want: []Row{row(2, "cust-7f3a", "Zelda Quux", "zelda@example.com")}},
		{name: "id column only",
			in:   "id\ncust-7f3a\n",
			want: []Row{row(2, "cust-7f3a", "", "")}},
		{name: "quoted header",
			in:   `"id","name"` + "\ncust-7f3a,Zelda\n",
			want: []Row{row(2, "cust-7f3a", "Zelda", "")}},
		{name: "header only", in: "id,name,email\n"},
		{name: "header only, no newline", in: "id,name,email"},
		{name: "empty file", in: "", wantErr: "empty"},
		{name: "blank lines only", in: "\n \r\n\t\n", wantErr: "empty"},
		{name: "BOM only", in: "\ufeff", wantErr: "empty"},
		{name: "missing id column", in: "name,email\nZelda,zelda@example.com\n", wantErr: "line 1: header: no id column"},
		{name: "unknown columns are named",
			in:      "id,Full Name,email,phone\ncust-7f3a,Zelda Quux,zelda@example.com,1\n",
			wantErr: `unknown columns 2 ("full name"), 4 ("phone")`},
		{name: "empty column name", in: "id,,email\n", wantErr: "unknown column 2;"},
		{name: "no header: the data is not quoted",
			in:      "cust-7f3a,Zelda Quux,zelda.quux@example.com\n",
			wantErr: "unknown columns 1, 2, 3; the columns are id, name and email (is the header row missing?)"},
		{name: "semicolons", in: "id;name;email\n", wantErr: "separated by commas, not semicolons"},
		{name: "duplicate column", in: "id,email,Email\n", wantErr: `column "email" twice (columns 2 and 3)`},
		{name: "header after blank lines", in: "\n\nid,email\nc-1,a@b.co\n", want: []Row{row(4, "c-1", "", "a@b.co")}},
		{name: "bad quote in header", in: "id,\"name\n", wantErr: "line 1: header:"},
		{name: "invalid UTF-8 in header", in: "id,n\xffame\nc-1,Zelda\n", wantErr: "header: not valid UTF-8"},
		{name: "UTF-16", in: "\xff\xfei\x00d\x00\n\x00", wantErr: "UTF-16"},

		// Line endings, BOM, blanks, quotes.
		{name: "BOM",
			in:   "\ufeffid,email\ncust-7f3a,zelda@example.com\n",
			want: []Row{row(2, "cust-7f3a", "", "zelda@example.com")}},
		{name: "CRLF and blank lines",
			in:   "id,name\r\n\r\ncust-7f3a-1,Zelda\r\n  \r\ncust-7f3a-2,Quux\r\n",
			want: []Row{row(3, "cust-7f3a-1", "Zelda", ""), row(5, "cust-7f3a-2", "Quux", "")}},
		{name: "BOM, CRLF, blank lines before the header",
			in:   "\ufeff\r\n\r\nid\r\ncust-7f3a\r\n",
			want: []Row{row(4, "cust-7f3a", "", "")}},
		{name: "fields trimmed, email case kept",
			in:   "id , name , email\n  cust-7f3a ,\t Zelda Quux\t,  Zelda.Quux@Example.com  \n",
			want: []Row{row(2, "cust-7f3a", "Zelda Quux", "Zelda.Quux@Example.com")}},
		{name: "quoted fields with commas, quotes and newlines; lines after them",
			in: "id,name,email\n" +
				"cust-7f3a-1,\"Quux, Zelda \"\"Z\"\"\",zelda@example.com\n" + // 2
				"cust-7f3a-2,\"Zelda\nQuux\",z2@example.com\n" + // 3-4
				"\"cust-7f3a-3\",\"Zelda\r\n\r\n\",z3@example.com\n" + // 5-7
				"cust-7f3a-4, \"Quux\",z4@example.com\n", // 8
			want:   []Row{row(2, "cust-7f3a-1", `Quux, Zelda "Z"`, "zelda@example.com"), row(8, "cust-7f3a-4", "Quux", "z4@example.com")},
			reject: []rej{{3, "name: must be printable text on one line"}, {5, "name: must be printable text on one line"}}},
		{name: "bare quote",
			in:     "id,name\ncust-7f3a,Zel\"da\ncust-7f3a-2,Quux\n",
			want:   []Row{row(3, "cust-7f3a-2", "Quux", "")},
			reject: []rej{{2, `CSV: bare " in non-quoted-field`}}},
		{name: "quote never closed takes the rest of the file",
			in:     "id,name\ncust-7f3a,Quux\ncust-7f3a-2,\"Zelda\ncust-7f3a-3,Quux\n",
			want:   []Row{row(2, "cust-7f3a", "Quux", "")},
			reject: []rej{{3, `CSV: extraneous or missing " in quoted-field`}}},
		{name: "wrong number of fields",
			in:     "id,name,email\ncust-7f3a-1,Zelda\ncust-7f3a-2,Zelda,zelda@example.com,Quux\ncust-7f3a-3,Quux,\n",
			want:   []Row{row(4, "cust-7f3a-3", "Quux", "")},
			reject: []rej{{2, "2 fields where the header has 3"}, {3, "4 fields where the header has 3"}}},

		// Records.
		{name: "duplicate ids",
			in:     "id,name\ncust-7f3a,Zelda\ncust-7f3b,Quux\ncust-7f3a,Quux\ncust-7f3a,Zelda\n",
			want:   []Row{row(2, "cust-7f3a", "Zelda", ""), row(3, "cust-7f3b", "Quux", "")},
			reject: []rej{{4, "duplicate id, first on line 2"}, {5, "duplicate id, first on line 2"}}},
		{name: "ids differing in case are different",
			in:   "id\ncust-7f3a\nCUST-7F3A\n",
			want: []Row{row(2, "cust-7f3a", "", ""), row(3, "CUST-7F3A", "", "")}},
		{name: "an email on two customers",
			in:     "id,email\ncust-7f3a,zelda.quux@example.com\ncust-7f3b,ZELDA.Quux@Example.COM\ncust-7f3c,\ncust-7f3d,\n",
			want:   []Row{row(2, "cust-7f3a", "", "zelda.quux@example.com"), row(4, "cust-7f3c", "", ""), row(5, "cust-7f3d", "", "")},
			reject: []rej{{3, "email already on line 2"}}},
		{name: "invalid emails",
			in:     "id,email\ncust-7f3a-1,zelda.quux\ncust-7f3a-2,zelda@quux\ncust-7f3a-3,zelda quux@example.com\ncust-7f3a-4,<zelda@example.com>\n",
			reject: []rej{{2, "email: not an email address"}, {3, "email: not an email address"}, {4, "email: not an email address"}, {5, "email: not an email address"}}},
		{name: "missing id",
			in:     "id,name\n,Zelda Quux\n",
			reject: []rej{{2, "id: missing"}}},
		{name: "id with a space or a control character",
			in:     "id,name\n\"cust 7f3a\",Zelda\ncust\x017f3a,Quux\ncust\u200b7f3a,Quux\n",
			reject: []rej{{2, "id: must be printable text without spaces"}, {3, "id: must be printable"}, {4, "id: must be printable"}}},
		{name: "over-long fields",
			in: "id,name,email\n" +
				long(bot.MaxCustomerID) + ",,\n" +
				"7f3a" + long(bot.MaxCustomerID) + ",,\n" +
				"cust-7f3a-1,Zelda" + long(bot.MaxCustomerName) + ",\n" +
				"cust-7f3a-2,,zelda@" + long(bot.MaxCustomerEmail) + ".example.com\n",
			want:   []Row{row(2, long(bot.MaxCustomerID), "", "")},
			reject: []rej{{3, "id: longer than 128 bytes"}, {4, "name: longer than 200 bytes"}, {5, "email: longer than 254 bytes"}}},
		{name: "invalid UTF-8",
			in:     "id,name,email\ncust-7f3a-1,Zel\xffda,\ncust-7f3a-2,,zelda\xc3@example.com\ncust-7f3a-3,Ünïcode Zelda,\n",
			want:   []Row{row(4, "cust-7f3a-3", "Ünïcode Zelda", "")},
			reject: []rej{{2, "name: not valid UTF-8"}, {3, "email: not valid UTF-8"}}},
		{name: "BOM on a later line is no BOM",
			in:     "id\n\ufeffcust-7f3a\n",
			reject: []rej{{2, "id: must be printable"}}},

		// JSON lines.
		{name: "JSON lines",
			in: `{"id": "cust-7f3a-1", "name": "Zelda Quux", "email": "zelda@example.com"}` + "\n" +
				`{"email":"quux@example.com","id":"cust-7f3a-2"}` + "\n" +
				"\n" +
				`  {"id": " cust-7f3a-3 ", "name": "Z\u00e9lda \"Q\" \/ \ud83d\ude00"}  ` + "\n" +
				`{"i\u0064": "cust-7f3a-4"}`, // no final newline
			want: []Row{row(1, "cust-7f3a-1", "Zelda Quux", "zelda@example.com"), row(2, "cust-7f3a-2", "", "quux@example.com"),
				row(4, "cust-7f3a-3", "Zélda \"Q\" / 😀", ""), row(5, "cust-7f3a-4", "", "")}},
		{name: "JSON lines with BOM, CRLF and blank lines first",
			in:   "\ufeff\r\n \r\n" + `{"id":"cust-7f3a"}` + "\r\n\r\n" + `{"id":"cust-7f3b"}` + "\r\n",
			want: []Row{row(3, "cust-7f3a", "", ""), row(5, "cust-7f3b", "", "")}},
		{name: "JSON lines rejected",
			in: `{"id": "cust-7f3a-1", "phone": "Zelda"}` + "\n" + // 1
				`{"id": "cust-7f3a-2", "ID": "Zelda"}` + "\n" + // 2
				`{"id": "cust-7f3a-3", "zelda@example.com": "x"}` + "\n" + // 3
				`{"id": "cust-7f3a-4", "name": "Zelda", "name": "Quux"}` + "\n" + // 4
				`{"id": 7}` + "\n" + // 5
				`{"id": "cust-7f3a-6", "name": null}` + "\n" + // 6
				`{"id": "cust-7f3a-7", "email": ["zelda@example.com"]}` + "\n" + // 7
				`{"id": "cust-7f3a-8"} {"id": "cust-7f3a-9"}` + "\n" + // 8
				`{"id": "cust-7f3a-10"},` + "\n" + // 9
				`["cust-7f3a-11", "Zelda"]` + "\n" + // 10
				`"cust-7f3a-12"` + "\n" + // 11
				`{"id": "cust-7f3a-13", "name": "Zelda"` + "\n" + // 12
				`{"id": "cust-7f3a-14", "name": "Zel` + "\t" + `da"}` + "\n" + // 13
				`{"id": "cust-7f3a-15", "name": "Zelda\q"}` + "\n" + // 14
				`{"id": "cust-7f3a-16", "name": "Zelda\ud800"}` + "\n" + // 15
				`{"id": "cust-7f3a-17", "name": "Zel\nda"}` + "\n" + // 16
				`{"id": "cust-7f3a-18", "name": "Zel` + "\xff" + `da"}` + "\n" + // 17
				`{"id": "cust-7f3a-19",}` + "\n" + // 18
				`{}` + "\n" + // 19
				`{"id": "cust-7f3a-20", "email": "zelda@example"}` + "\n" + // 20
				`{'id': 'cust-7f3a-21'}` + "\n" + // 21
				`{"id": "cust-7f3a-22", "email": "Zelda@Example.com"}` + "\n" + // 22
				`{"id": "cust-7f3a-23", "email": "zelda@example.COM"}` + "\n" + // 23
				`{"id": "cust-7f3a-22"}` + "\n", // 24
			want: []Row{row(22, "cust-7f3a-22", "", "Zelda@Example.com")},
			reject: []rej{
				{1, `unknown key "phone"`}, {2, `unknown key "ID"`}, {3, "unknown key;"},
				{4, `key "name" twice`}, {5, "id: must be a string, not a number"},
				{6, "name: must be a string, not null"}, {7, "email: must be a string, not an array"},
				{8, "more after the JSON object: one object per line"}, {9, "more after the JSON object"},
				{10, "not a JSON object"}, {11, "not a JSON object"},
				{12, "invalid JSON: the line ends inside the object"}, {13, "invalid JSON at byte 36"},
				{14, "invalid JSON at byte 38"}, {15, "invalid JSON at byte 38"},
				{16, "name: must be printable text on one line"}, {17, "not valid UTF-8"},
				{18, "invalid JSON at byte 23"}, {19, "id: missing"}, {20, "email: not an email address"},
				{21, "invalid JSON at byte 2"}, {23, "email already on line 22"}, {24, "duplicate id, first on line 22"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(tt.in))
			mustNotLeak(t, res, err)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Rows, tt.want) && (len(res.Rows) > 0 || len(tt.want) > 0) {
				t.Errorf("rows:\n got %+v\nwant %+v", res.Rows, tt.want)
			}
			if len(res.Rejected) != len(tt.reject) {
				t.Errorf("rejected %+v, want %+v", res.Rejected, tt.reject)
				return
			}
			for i, r := range res.Rejected {
				if w := tt.reject[i]; r.Line != w.line || !strings.Contains(r.Reason, w.reason) {
					t.Errorf("rejected %+v, want line %d with %q", r, w.line, w.reason)
				}
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	lim := limits{rows: 3, line: 40, file: 1000}
	tests := []struct {
		name, in string
		wantErr  string
	}{
		{"rows at the limit", "id\nc1\nc2\nc1\n", ""},
		{"rows over the limit, rejected ones too", "id\nc1\nc2\nc1\nc3\n", "more than 3 records"},
		{"JSON rows over the limit", "{\"id\":\"c1\"}\n{}\n{}\n{\"id\":\"c4\"}\n", "more than 3 records"},
		{"line at the limit", "id\n" + strings.Repeat("c", 40) + "\n", ""},
		{"line at the limit with CRLF", "id\r\n" + strings.Repeat("c", 40) + "\r\n", ""},
		{"line at the limit at the end", "id\n" + strings.Repeat("c", 40), ""},
		{"line over the limit", "id\nc\n" + strings.Repeat("c", 41) + "\n", "line 3 is longer than 40 bytes"},
		{"line over the limit at the end", "id\n" + strings.Repeat("c", 41), "line 2 is longer than 40 bytes"},
		{"line over the limit with a CR", "id\n" + strings.Repeat("c", 41) + "\r\n", "line 2 is longer than 40 bytes"},
		{"JSON line over the limit", "\n{\"id\": \"" + strings.Repeat("c", 40) + "\"}\n", "line 2 is longer than 40 bytes"},
		{"quoted lines each under the limit", "id,name\nc1,\"" + strings.Repeat("q\n", 100) + "\"\n", ""},
		{"file over the limit", "id\n" + strings.Repeat("\n", 1000), "larger than 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time, so that limits meet reads at every point.
			_, err := parse(iotest.OneByteReader(strings.NewReader(tt.in)), lim)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want ErrTooLarge with %q", err, tt.wantErr)
			}
			_, err2 := parse(strings.NewReader(tt.in), lim)
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Errorf("read at once: %v; one byte at a time: %v", err2, err)
			}
		})
	}

	t.Run("MaxLineBytes", func(t *testing.T) {
		id := strings.Repeat("c", MaxLineBytes)
		res, err := Parse(strings.NewReader("id\n" + id + "\n"))
		if err != nil || len(res.Rejected) != 1 {
			t.Fatalf("a line of MaxLineBytes: %+v, %v", res.Rejected, err)
		}
		_, err = Parse(strings.NewReader("id\n" + id + "c\n"))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("a line over MaxLineBytes: %v", err)
		}
	})
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []string{"", "id\nc1\n", `{"id":"c1"}` + "\n"} {
		if _, err := Parse(&errAfter{s: in, err: boom}); !errors.Is(err, boom) {
			t.Errorf("%q then an error: %v", in, err)
		}
	}
}

// errAfter reads s, then fails.
type errAfter struct {
	s   string
	err error
}

func (r *errAfter) Read(b []byte) (int, error) {
	if r.s == "" {
		return 0, r.err
	}
	n := copy(b, r.s)
	r.s = r.s[n:]
	return n, nil
}

// genCSV and genJSONL make n customers, the one at index bad with an
// invalid email.
func genCSV(n, bad int) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,email\r\n")
	for i := range n {
		email := fmt.Sprintf("zelda.quux.%d@example.com", i)
		if i == bad {
			email = "zelda.quux.example.com"
		}
		fmt.Fprintf(&b, "cust-7f3a-%d,\"Quux, Zelda %d\",%s\r\n", i, i, email)
	}
	return b.Bytes()
}

func genJSONL(n, bad int) []byte {
	var b bytes.Buffer
	for i := range n {
		email := fmt.Sprintf("zelda.quux.%d@example.com", i)
		if i == bad {
			email = "zelda.quux.example.com"
		}
		fmt.Fprintf(&b, `{"id": "cust-7f3a-%d", "name": "Zelda Quux %d", "email": %q}`+"\n", i, i, email)
	}
	return b.Bytes()
}

func TestParseManyRows(t *testing.T) {
	const n = 10_000
	for _, f := range []struct {
		name  string
		gen   func(n, bad int) []byte
		first int // line of the first record
	}{{"CSV", genCSV, 2}, {"JSONL", genJSONL, 1}} {
		t.Run(f.name, func(t *testing.T) {
			res, err := Parse(bytes.NewReader(f.gen(n, -1)))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != n || len(res.Rejected) != 0 {
				t.Fatalf("%d rows, %d rejected; want %d, 0", len(res.Rows), len(res.Rejected), n)
			}
			for i, r := range res.Rows {
				if r.Line != f.first+i || r.Customer.ID != fmt.Sprintf("cust-7f3a-%d", i) {
					t.Fatalf("row %d: %+v", i, r)
				}
			}

			bad := 5001 - f.first // the index on line 5,001
			res, err = Parse(bytes.NewReader(f.gen(n, bad)))
			mustNotLeak(t, res, err)
			if err != nil {
				t.Fatal(err)
			}
			want := []Rejected{{Line: 5001, Reason: "email: not an email address"}}
			if len(res.Rows) != n-1 || !reflect.DeepEqual(res.Rejected, want) {
				t.Fatalf("%d rows, rejected %+v; want %d, %+v", len(res.Rows), res.Rejected, n-1, want)
			}
			if r := res.Rows[bad]; r.Line != 5002 {
				t.Errorf("the row after the bad one: %+v", r)
			}
		})
	}
}

func BenchmarkParse100k(b *testing.B) {
	for _, f := range []struct {
		name string
		in   []byte
	}{{"CSV", genCSV(100_000, -1)}, {"JSONL", genJSONL(100_000, -1)}} {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(f.in)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := Parse(bytes.NewReader(f.in))
				if err != nil || len(res.Rows) != 100_000 {
					b.Fatal(len(res.Rows), err)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"id,name,email\ncust-1,Ada Lovelace,ada@example.com\ncust-2,\"Hopper, Grace\",grace@example.com\n",
		"\ufeffEmail,ID\r\nada@example.com,c1\r\n\r\nADA@example.com,c2\r\nx,c1\r\n",
		"id,name\nc1,\"multi\nline\"\nc2,\"a \"\"quote\"\"\"\nc3,bare\"quote\nc4\n",
		"id\n\"never closed\nc2\n",
		"id,,\n",
		"\n\n{\"id\": \"c1\", \"name\": \"A\\u00e9\\ud83d\\ude00\", \"email\": \"a@b.co\"}\r\n{\"id\":\"c1\"}\n{\"id\":1}\n{} {}\n",
		"{\"id\": \"c1\", \"id\": \"c2\"}\n{\"ID\": \"c1\"}\n[\"c1\"]\n{\"id\":\"a\\ud800\"}\n",
		"{\"i\\u0064\":\" c1 \"}\n{\"id\":\"\\u0000\"}\n{\"id\":\"c\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := parse(bytes.NewReader(in), limits{rows: 1000, line: 1024, file: 1 << 20})
		if err != nil {
			return
		}
		lines := bytes.Count(in, []byte("\n")) + 1
		if n := len(res.Rows) + len(res.Rejected); n > lines {
			t.Fatalf("%d records in %d lines", n, lines)
		}
		ids := map[string]bool{}
		emails := map[string]bool{}
		for _, r := range res.Rows {
			if err := r.Customer.Validate(); err != nil {
				t.Fatalf("line %d accepted: %v", r.Line, err)
			}
			if ids[r.Customer.ID] {
				t.Fatalf("line %d: id twice", r.Line)
			}
			ids[r.Customer.ID] = true
			if e := strings.ToLower(r.Customer.Email); e != "" {
				if emails[e] {
					t.Fatalf("line %d: email twice", r.Line)
				}
				emails[e] = true
			}
		}
		// Line numbers in order, one record to a line at most.
		last := 0
		for i, j := 0, 0; i < len(res.Rows) || j < len(res.Rejected); {
			var line int
			if j == len(res.Rejected) || i < len(res.Rows) && res.Rows[i].Line < res.Rejected[j].Line {
				line = res.Rows[i].Line
				i++
			} else {
				line, j = res.Rejected[j].Line, j+1
			}
			if line <= last || line > lines {
				t.Fatalf("line %d after line %d, of %d", line, last, lines)
			}
			last = line
		}
		for _, r := range res.Rejected {
			for _, c := range []byte(r.Reason) {
				if c < ' ' || c > '~' {
					t.Fatalf("line %d: reason %q is not printable ASCII", r.Line, r.Reason)
				}
			}
		}

		// What is accepted from JSON lines, encoding/json reads the same.
		if t := bytes.TrimLeft(bytes.TrimPrefix(in, utf8BOM), " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return
		}
		text := strings.Split(string(bytes.TrimPrefix(in, utf8BOM)), "\n")
		for _, r := range res.Rows {
			var m map[string]string
			if err := json.Unmarshal([]byte(text[r.Line-1]), &m); err != nil {
				t.Fatalf("line %d accepted, but encoding/json: %v", r.Line, err)
			}
			got := bot.Customer{ID: trim(m["id"]), Name: trim(m["name"]), Email: trim(m["email"])}
			if got != r.Customer || len(m) > 3 {
				t.Fatalf("line %d: encoding/json reads %+v, Parse %+v", r.Line, m, r.Customer)
			}
		}
	})
}

// The examples in the package comment, which the README quotes.
func TestPackageCommentExamples(t *testing.T) {
	for _, in := range []string{
		"id,name,email\nc-1001,Ada Lovelace,ada@example.com\nc-1002,\"Hopper, Grace\",grace@example.com\nc-1003,,\n",
		`{"id": "c-1001", "name": "Ada Lovelace", "email": "ada@example.com"}` + "\n" + `{"id": "c-1002", "email": "grace@example.com"}` + "\n",
	} {
		res, err := Parse(strings.NewReader(in))
		if err != nil || len(res.Rejected) != 0 || len(res.Rows) < 2 || res.Rows[1].Customer.Email != "grace@example.com" {
			t.Errorf("%q: %+v, %v", in, res, err)
		}
	}
}

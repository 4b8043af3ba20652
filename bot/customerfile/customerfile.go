// Package customerfile reads the files an admin loads with
// `firstline customers import FILE`: the company's customers, one record
// each, as CSV or as JSON lines. The format is told from the content: a file
// whose first non-blank character is "{" is JSON lines, any other is CSV.
//
// CSV (RFC 4180) starts with a header row naming the columns: id (required),
// name and email (optional), in any order and any case. Fields may be
// quoted, so that they can hold commas:
//
//	id,name,email
//	c-1001,Ada Lovelace,ada@example.com
//	c-1002,"Hopper, Grace",grace@example.com
//	c-1003,,
//
// JSON lines hold one object per line, with the keys id, name and email
// (lower case) and string values; only id is required:
//
//	{"id": "c-1001", "name": "Ada Lovelace", "email": "ada@example.com"}
//	{"id": "c-1002", "email": "grace@example.com"}
//
// Either may start with a UTF-8 byte order mark and use CRLF or LF line
// endings. Blank lines are skipped, and values are trimmed of surrounding
// spaces and tabs; the case of an email is kept. Every record must pass
// bot.Customer.Validate. A record that does not, that repeats the id of an
// earlier one, or that has the email of an earlier one (ignoring case), is
// rejected with its line number and the reason, and the others are kept.
// Reasons and errors never quote a value from the file, since values are
// personal data. A file is refused as a whole only when it cannot be read,
// lacks a valid CSV header, or is over a limit: MaxRows records, lines of
// MaxLineBytes, MaxFileBytes in all.
package customerfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot"
)

// Limits on an import file.
const (
	MaxRows      = 1_000_000 // records, accepted and rejected together
	MaxLineBytes = 64 << 10  // bytes on one line, without its CR LF or LF
	MaxFileBytes = 1 << 30   // bytes in the whole file
)

// ErrTooLarge is wrapped by Parse's errors for a file over a limit.
var ErrTooLarge = errors.New("customerfile: over a size limit")

// Row is an accepted record.
type Row struct {
	Line     int // 1-based line where the record starts
	Customer bot.Customer
}

// Rejected is a record that was not accepted.
type Rejected struct {
	Line   int    // 1-based line where the record starts
	Reason string // names fields and lines, never a value
}

// Result is what a file holds, in the order of the file.
type Result struct {
	Rows     []Row
	Rejected []Rejected
}

// Parse reads an import file (see the package comment). Records that are
// wrong are rejected one by one in the Result; the error is only for a
// file that cannot be taken as a whole: unreadable, without a valid CSV
// header, or over a limit (wrapping ErrTooLarge).
func Parse(r io.Reader) (Result, error) {
	return parse(r, limits{rows: MaxRows, line: MaxLineBytes, file: MaxFileBytes})
}

type limits struct {
	rows int
	line int
	file int64
}

var utf8BOM = []byte("\xef\xbb\xbf")

func parse(r io.Reader, lim limits) (Result, error) {
	src := &capReader{r: r, maxLine: lim.line, maxFile: lim.file, line: 1}
	// Larger than a line, so that a line that fits always fits the buffer.
	br := bufio.NewReaderSize(src, lim.line+4096)
	p := &parser{lim: lim, src: src, ids: make(map[string]int), emails: make(map[string]int)}

	start, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return Result{}, p.readErr(err)
	}
	switch {
	case bytes.HasPrefix(start, utf8BOM):
		_, _ = br.Discard(len(utf8BOM))
	case bytes.HasPrefix(start, []byte("\xff\xfe")) || bytes.HasPrefix(start, []byte("\xfe\xff")):
		return Result{}, errors.New("customerfile: the file is UTF-16; save it as UTF-8")
	}

	// Skip blank lines (and the blanks before the first value), counting
	// lines, to see the first character.
	skipped := 0
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return Result{}, errors.New("customerfile: the file is empty")
		}
		if err != nil {
			return Result{}, p.readErr(err)
		}
		if c == '\n' {
			skipped++
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' {
			continue
		}
		_ = br.UnreadByte()
		if c == '{' {
			err = p.jsonLines(br, skipped)
		} else {
			err = p.csv(br, skipped)
		}
		return p.res, err
	}
}

type parser struct {
	lim     limits
	src     *capReader
	res     Result
	records int
	ids     map[string]int // id → line of its first record
	emails  map[string]int // lower-case email → line of its first record
}

// readErr is the error for a failed read, ours (a limit) or the source's.
func (p *parser) readErr(err error) error {
	if p.src.err != nil {
		return p.src.err
	}
	return fmt.Errorf("customerfile: read: %w", err)
}

// count counts a record against the limit on records.
func (p *parser) count() error {
	if p.records >= p.lim.rows {
		return fmt.Errorf("%w: more than %d records", ErrTooLarge, p.lim.rows)
	}
	p.records++
	return nil
}

func (p *parser) reject(line int, reason string) error {
	if err := p.count(); err != nil {
		return err
	}
	p.res.Rejected = append(p.res.Rejected, Rejected{Line: line, Reason: reason})
	return nil
}

// add checks a record and accepts or rejects it.
func (p *parser) add(line int, c bot.Customer) error {
	c.ID, c.Name, c.Email = trim(c.ID), trim(c.Name), trim(c.Email)
	if err := c.Validate(); err != nil {
		return p.reject(line, strings.TrimPrefix(err.Error(), bot.ErrInvalidCustomer.Error()+": "))
	}
	if first, ok := p.ids[c.ID]; ok {
		return p.reject(line, fmt.Sprintf("duplicate id, first on line %d", first))
	}
	p.ids[c.ID] = line
	if c.Email != "" {
		key := strings.ToLower(c.Email)
		if first, ok := p.emails[key]; ok {
			return p.reject(line, fmt.Sprintf("email already on line %d", first))
		}
		p.emails[key] = line
	}
	if err := p.count(); err != nil {
		return err
	}
	if len(p.res.Rows) == cap(p.res.Rows) {
		// Doubled: append grows a large slice by a quarter, which copies
		// a file of rows several times over.
		p.res.Rows = slices.Grow(p.res.Rows, max(len(p.res.Rows), 256))
	}
	p.res.Rows = append(p.res.Rows, Row{Line: line, Customer: c})
	return nil
}

func trim(s string) string { return strings.Trim(s, " \t") }

// The columns and keys of a record.
const (
	colID = iota
	colName
	colEmail
	colUnknown
)

var fieldNames = [...]string{colID: "id", colName: "name", colEmail: "email"}

func field(name string) int {
	switch name {
	case "id":
		return colID
	case "name":
		return colName
	case "email":
		return colEmail
	}
	return colUnknown
}

// csv reads a CSV file whose first non-blank byte is after skipped lines.
func (p *parser) csv(br *bufio.Reader, skipped int) error {
	cr := csv.NewReader(br) // uses br itself, which is large enough
	cr.FieldsPerRecord = -1 // checked here, for a reason without values
	cr.ReuseRecord = true   // the strings are still new for each record
	cr.TrimLeadingSpace = true

	header, err := cr.Read()
	if err == io.EOF {
		return errors.New("customerfile: the file is empty")
	}
	var perr *csv.ParseError
	if p.src.err != nil || !errors.As(err, &perr) && err != nil {
		return p.readErr(err)
	}
	if perr != nil {
		return fmt.Errorf("customerfile: line %d: header: %v", skipped+perr.StartLine, perr.Err)
	}
	hline, _ := cr.FieldPos(0)
	cols, err := columns(header)
	if err != nil {
		return fmt.Errorf("customerfile: line %d: header: %w", skipped+hline, err)
	}

	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if p.src.err != nil {
			return p.src.err
		}
		if errors.As(err, &perr) {
			if err := p.reject(skipped+perr.StartLine, "CSV: "+perr.Err.Error()); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return p.readErr(err)
		}
		l, _ := cr.FieldPos(0)
		line := skipped + l
		if len(rec) == 1 && trim(rec[0]) == "" {
			continue // a line of blanks, or ""
		}
		if len(rec) != len(cols) {
			err = p.reject(line, fmt.Sprintf("%d fields where the header has %d", len(rec), len(cols)))
		} else {
			err = p.csvRecord(line, rec, cols)
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) csvRecord(line int, rec []string, cols []int) error {
	var c bot.Customer
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return p.reject(line, fieldNames[cols[i]]+": not valid UTF-8")
		}
		switch cols[i] {
		case colID:
			c.ID = f
		case colName:
			c.Name = f
		case colEmail:
			c.Email = f
		}
	}
	return p.add(line, c)
}

// columns maps a CSV header to the columns. A header cell is named in an
// error only if it looks like a column name: a file without a header has
// a record there.
func columns(header []string) ([]int, error) {
	cols := make([]int, len(header))
	unknown, looksLikeData := false, false
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, errors.New("not valid UTF-8")
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if strings.ContainsAny(h, "@0123456789") {
			looksLikeData = true
		}
		cols[i] = field(h)
		unknown = unknown || cols[i] == colUnknown
	}
	if unknown {
		var names []string
		for i, h := range header {
			if cols[i] != colUnknown {
				continue
			}
			name := fmt.Sprint(i + 1)
			if h := strings.ToLower(strings.TrimSpace(h)); !looksLikeData && isLabel(h) {
				name += fmt.Sprintf(" (%q)", h)
			}
			names = append(names, name)
		}
		s := "s"
		if len(names) == 1 {
			s = ""
		}
		msg := fmt.Sprintf("unknown column%s %s; the columns are id, name and email", s, strings.Join(names, ", "))
		switch {
		case len(header) == 1 && strings.Contains(header[0], ";"):
			msg += ", separated by commas, not semicolons"
		case looksLikeData:
			msg += " (is the header row missing?)"
		}
		return nil, errors.New(msg)
	}
	var at [colUnknown]int
	for i, c := range cols {
		if at[c] != 0 {
			return nil, fmt.Errorf("column %q twice (columns %d and %d)", fieldNames[c], at[c], i+1)
		}
		at[c] = i + 1
	}
	if at[colID] == 0 {
		return nil, errors.New("no id column")
	}
	return cols, nil
}

// isLabel reports whether s looks like a column or key name, not a value,
// so that it may be quoted in an error: short, of letters, spaces, '_',
// '-' and '.', without digits or '@' as in ids and emails.
func isLabel(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == ' ' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// jsonLines reads a JSON lines file whose first non-blank byte is after
// skipped lines.
func (p *parser) jsonLines(br *bufio.Reader, skipped int) error {
	line := skipped
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			line++
		}
		if p.src.err != nil {
			return p.src.err
		}
		if err == bufio.ErrBufferFull {
			// Not reached: capReader stops a long line first.
			return fmt.Errorf("%w: line %d is longer than %d bytes", ErrTooLarge, line, p.lim.line)
		}
		if err != nil && err != io.EOF {
			return p.readErr(err)
		}
		// Trimmed on the right only, so that a reason's byte offset counts
		// from the start of the line.
		if b = bytes.TrimRight(b, " \t\r\n"); len(bytes.TrimLeft(b, " \t")) > 0 {
			if e := p.jsonLine(line, b); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

func (p *parser) jsonLine(line int, b []byte) error {
	if !utf8.Valid(b) {
		return p.reject(line, "not valid UTF-8")
	}
	c, reason := decodeObject(string(b))
	if reason != "" {
		return p.reject(line, reason)
	}
	return p.add(line, c)
}

// decodeObject decodes one JSON object of string values with the keys id,
// name and email, each at most once, and nothing after it; else it returns
// why not. s is valid UTF-8. Values without escapes are slices of s, so a
// line is one allocation.
//
// It is written out rather than done with encoding/json, which takes
// duplicate keys (the last wins), matches keys ignoring case, and is
// slower; FuzzParse checks that what it accepts, encoding/json reads the
// same.
func decodeObject(s string) (bot.Customer, string) {
	var c bot.Customer
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return c, "not a JSON object"
	}
	var seen [colUnknown]bool
	if i = skipSpace(s, i+1); i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			if i == len(s) || s[i] != '"' {
				return c, invalidJSON(s, i)
			}
			key, j, ok := jsonString(s, i)
			if !ok {
				return c, invalidJSON(s, j)
			}
			if i = skipSpace(s, j); i == len(s) || s[i] != ':' {
				return c, invalidJSON(s, i)
			}
			i = skipSpace(s, i+1)
			f := field(key)
			switch {
			case f == colUnknown && isLabel(key):
				return c, fmt.Sprintf("unknown key %q; the keys are id, name and email", key)
			case f == colUnknown:
				return c, "unknown key; the keys are id, name and email"
			case seen[f]:
				return c, fmt.Sprintf("key %q twice", key)
			case i == len(s):
				return c, invalidJSON(s, i)
			case s[i] != '"':
				kind := jsonKind(s[i])
				if kind == "" {
					return c, invalidJSON(s, i)
				}
				return c, fmt.Sprintf("%s: must be a string, not %s", key, kind)
			}
			seen[f] = true
			v, j, ok := jsonString(s, i)
			if !ok {
				return c, invalidJSON(s, j)
			}
			switch f {
			case colID:
				c.ID = v
			case colName:
				c.Name = v
			case colEmail:
				c.Email = v
			}
			if i = skipSpace(s, j); i == len(s) {
				return c, invalidJSON(s, i)
			}
			if s[i] == '}' {
				i++
				break
			}
			if s[i] != ',' {
				return c, invalidJSON(s, i)
			}
			i = skipSpace(s, i+1)
		}
	}
	if i = skipSpace(s, i); i != len(s) {
		return c, "more after the JSON object: one object per line"
	}
	return c, ""
}

// invalidJSON is the reason for a line that is wrong at s[i].
func invalidJSON(s string, i int) string {
	if i >= len(s) {
		return "invalid JSON: the line ends inside the object"
	}
	return fmt.Sprintf("invalid JSON at byte %d of the line", i+1)
}

// jsonKind names the kind of JSON value that starts with c, if any.
func jsonKind(c byte) string {
	switch {
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	}
	return ""
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// jsonString decodes the JSON string starting at s[i] == '"'; it returns
// the index after its closing quote, or where it is wrong and false. A
// lone surrogate (\ud800) is refused, where encoding/json would put U+FFFD
// in its place.
func jsonString(s string, i int) (string, int, bool) {
	j := i + 1
	for ; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c == '\\':
			return jsonEscaped(s, i+1, j)
		case c < 0x20:
			return "", j, false
		}
	}
	return "", j, false
}

// jsonEscaped decodes the JSON string starting at s[start], whose first
// backslash is at s[j].
func jsonEscaped(s string, start, j int) (string, int, bool) {
	buf := make([]byte, 0, 2*(j-start)+16)
	buf = append(buf, s[start:j]...)
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			return string(buf), j + 1, true
		case c < 0x20:
			return "", j, false
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 == len(s) {
			return "", j + 1, false
		}
		switch e := s[j+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(s, j+2)
			if !ok {
				return "", j, false
			}
			if utf16.IsSurrogate(r) {
				// The second half must follow: \udc00 to \udfff.
				k := j + 6
				r2, ok := hex4(s, k+2)
				if !ok || s[k] != '\\' || s[k+1] != 'u' {
					return "", j, false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", j, false
				}
				j = k
			}
			buf = utf8.AppendRune(buf, r)
			j += 6
			continue
		default:
			return "", j, false
		}
		j += 2
	}
	return "", j, false
}

// hex4 decodes the 4 hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// capReader reads at most maxFile bytes in lines of at most maxLine
// (without CR LF or LF), so that a file over the limits is stopped at the
// line that is too long, before it is in memory. Its error stays.
type capReader struct {
	r       io.Reader
	maxLine int
	maxFile int64
	n       int64 // bytes read
	line    int   // the line being read, 1-based
	lineLen int   // its bytes so far
	lastCR  bool  // whether its last byte is '\r'
	err     error
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(b)
	if c.n += int64(n); c.n > c.maxFile {
		c.err = fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, c.maxFile)
		return 0, c.err
	}
	for rest := b[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			c.lineLen += len(rest)
			c.lastCR = rest[len(rest)-1] == '\r'
			break
		}
		cr := i > 0 && rest[i-1] == '\r' || i == 0 && c.lastCR
		if c.lineLen+i > c.maxLine && !(cr && c.lineLen+i == c.maxLine+1) {
			return 0, c.tooLong()
		}
		c.line++
		c.lineLen, c.lastCR = 0, false
		rest = rest[i+1:]
	}
	// A line may be one longer for now, with the CR before its LF.
	if c.lineLen > c.maxLine+1 || c.lineLen == c.maxLine+1 && (!c.lastCR || err != nil) {
		return 0, c.tooLong()
	}
	return n, err
}

func (c *capReader) tooLong() error {
	c.err = fmt.Errorf("%w: line %d is longer than %d bytes", ErrTooLarge, c.line, c.maxLine)
	return c.err
}

package prompts

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// maxSampleOutput bounds what a template may render with its sample data
// when it is checked. Checking runs on every reload, so a template that
// would print gigabytes must fail instead of stalling the reload.
const maxSampleOutput = 1 << 20

var errTooLong = errors.New("renders more than 1 MiB with sample data")

// parseTemplate parses a template that is a whole file (system.md,
// summary.md), checks its variables against sample and test-renders it.
func parseTemplate(file string, text []byte, sample any) (*template.Template, error) {
	s := string(text)
	return parseNamed(file, file, s, func() []int { return textLines(1, s) }, sample)
}

// parseNamed parses text as template name of file. lines maps a byte offset
// of text to its line in the file; it is called only to report an error.
//
// Beyond parsing, it rejects what would fail or misbehave later: a variable
// the sample data (the documented variables) does not have, in any branch;
// {{define}}, {{template}} and {{block}}, which would let one template call
// another without bound; ranging over a number; and a template that fails to
// render with its sample data.
func parseNamed(file, name, text string, lines func() []int, sample any) (*template.Template, error) {
	e := &tmplErrors{file: file, name: name, text: text, lines: lines}
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, e.parse(err)
	}
	if pos, msg, ok := checkTree(t, sample); !ok {
		return nil, e.at(int(pos), msg)
	}
	if err := render(t, sample); err != nil {
		return nil, e.exec(err)
	}
	return t, nil
}

// render executes t with data, discarding the output, and fails when the
// output exceeds maxSampleOutput.
func render(t *template.Template, data any) error {
	w := &limitWriter{n: maxSampleOutput}
	return t.Execute(w, data)
}

type limitWriter struct{ n int }

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		w.n = 0
		return 0, errTooLong
	}
	w.n -= len(p)
	return len(p), nil
}

// tmplErrors turns text/template's errors into Errors with file lines.
type tmplErrors struct {
	file, name, text string
	lines            func() []int
}

// at returns an Error for byte offset off of the template's text.
func (e *tmplErrors) at(off int, msg string) Error {
	ls := e.lines()
	off = min(max(off, 0), len(ls)-1)
	if e.name != e.file {
		msg = e.name + ": " + msg
	}
	return Error{File: e.file, Line: ls[off], Msg: msg}
}

// parse reports a parse error. text/template gives only the line within the
// template. In a YAML scalar that folds several lines of the file into one
// line of text (a quoted or plain scalar), that is not enough: the text is
// parsed again with the folded line breaks restored, and when it fails the
// same way, that line is the one in the file.
func (e *tmplErrors) parse(err error) Error {
	line, _, msg, ok := splitTemplateError(e.name, err)
	if !ok {
		return e.at(0, err.Error())
	}
	off := lineStart(e.text, line)
	if msg == "unexpected EOF" {
		// The end of the text is not where the mistake is: point at the
		// block that was never closed.
		if at, kw, ok := unclosedBlock(e.text); ok {
			return e.at(at, fmt.Sprintf("unexpected end of text: {{%s}} has no {{end}}", kw))
		}
	}
	if diag := unfold(e.text, e.lines()); diag != e.text {
		if _, derr := template.New(e.name).Parse(diag); derr != nil {
			if dline, _, dmsg, ok := splitTemplateError(e.name, derr); ok && dmsg == msg {
				off = lineStart(diag, dline)
			}
		}
	}
	return e.at(off, msg)
}

// exec reports an error from the test rendering.
func (e *tmplErrors) exec(err error) Error {
	if errors.Is(err, errTooLong) {
		return e.at(0, err.Error())
	}
	line, col, msg, ok := splitTemplateError(e.name, err)
	if !ok {
		return e.at(0, err.Error())
	}
	// "executing "name" at <.X>: ..." reads better as "<.X>: ...".
	if rest, found := strings.CutPrefix(msg, "executing "+strconv.Quote(e.name)+" at "); found {
		msg = rest
	}
	return e.at(lineStart(e.text, line)+col, msg)
}

// unclosedBlock finds the innermost {{if}}, {{range}}, {{with}}, {{block}}
// or {{define}} of text that has no {{end}}, reading the actions roughly
// (it is only used to explain a parse error).
func unclosedBlock(text string) (off int, keyword string, ok bool) {
	type open struct {
		off int
		kw  string
	}
	var stack []open
	for i := 0; ; {
		start := strings.Index(text[i:], "{{")
		if start < 0 {
			break
		}
		start += i
		body := text[start+2:]
		if strings.HasPrefix(strings.TrimLeft(strings.TrimPrefix(body, "-"), " \t\r\n"), "/*") {
			end := strings.Index(body, "*/")
			if end < 0 {
				break
			}
			i = start + 2 + end + 2
			continue
		}
		end := strings.Index(body, "}}")
		if end < 0 {
			break
		}
		var kw string
		if f := strings.Fields(strings.Trim(body[:end], "-")); len(f) > 0 {
			kw = f[0]
		}
		switch kw {
		case "if", "range", "with", "block", "define":
			stack = append(stack, open{start, kw})
		case "end":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
		i = start + 2 + end + 2
	}
	if len(stack) == 0 {
		return 0, "", false
	}
	top := stack[len(stack)-1]
	return top.off, top.kw, true
}

// splitTemplateError takes text/template's "template: NAME:LINE: msg" and
// "template: NAME:LINE:COL: msg" apart. The name is matched literally, since
// it may itself hold colons.
func splitTemplateError(name string, err error) (line, col int, msg string, ok bool) {
	rest, found := strings.CutPrefix(err.Error(), "template: "+name+":")
	if !found {
		return 0, 0, "", false
	}
	line, rest, ok = cutNumber(rest)
	if !ok {
		return 0, 0, "", false
	}
	if r, found := strings.CutPrefix(rest, ":"); found {
		if c, r, ok := cutNumber(r); ok {
			col, rest = c, r
		}
	}
	msg, ok = strings.CutPrefix(rest, ": ")
	return line, col, msg, ok
}

func cutNumber(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	return n, s[i:], err == nil
}

// lineStart returns the offset at which line n (1-based) of text starts.
func lineStart(text string, n int) int {
	off := 0
	for ; n > 1; n-- {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	return off
}

// textLines maps every byte offset of text, and the offset just past its
// end, to a file line, for text that starts at the beginning of line first.
func textLines(first int, text string) []int {
	ls := make([]int, len(text)+1)
	line := first
	for i := range len(text) {
		ls[i] = line
		if text[i] == '\n' {
			line++
		}
	}
	ls[len(text)] = line
	return ls
}

// unfold returns text with each space that stands for a line break of the
// file (the last byte of its line in the file) replaced by a line break, so
// that the text has as many lines as the file has. Lengths are unchanged.
func unfold(text string, lines []int) string {
	var b []byte
	for i := 0; i+1 < len(lines) && i < len(text); i++ {
		if text[i] == ' ' && lines[i+1] > lines[i] {
			if b == nil {
				b = []byte(text)
			}
			b[i] = '\n'
		}
	}
	if b == nil {
		return text
	}
	return string(b)
}

// checkTree looks for what a test rendering cannot see: an unknown variable
// in a branch the sample data does not take, {{define}}, {{template}} and
// {{block}}, and ranging over a number. It returns the offset of the first
// problem found and what is wrong, or ok.
//
// Variables are checked against the sample data, following dot into
// {{range}} and {{with}} where the sample says what dot becomes (the
// payments of .Payments, the FAQ entries of .FAQ); where it cannot tell,
// the test rendering has the last word.
func checkTree(t *template.Template, sample any) (pos parse.Pos, msg string, ok bool) {
	if t.Tree == nil || t.Tree.Root == nil {
		return 0, "", true
	}
	c := &checker{root: reflect.ValueOf(sample)}
	c.walk(t.Tree.Root, c.root)
	for _, other := range t.Templates() {
		if c.bad || other.Name() == t.Name() || other.Tree == nil {
			continue
		}
		c.fail(other.Tree.Root.Pos, "{{define}} and {{block}} are not supported in prompt files")
	}
	return c.pos, c.msg, !c.bad
}

type checker struct {
	root reflect.Value
	bad  bool
	pos  parse.Pos
	msg  string
}

func (c *checker) fail(pos parse.Pos, msg string) {
	if !c.bad {
		c.bad, c.pos, c.msg = true, pos, msg
	}
}

// walk checks n, with dot the sample value of dot there (invalid when the
// sample cannot tell).
func (c *checker) walk(n parse.Node, dot reflect.Value) {
	if c.bad || n == nil || reflect.ValueOf(n).IsNil() {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		for _, x := range n.Nodes {
			c.walk(x, dot)
		}
	case *parse.ActionNode:
		c.walk(n.Pipe, dot)
	case *parse.PipeNode:
		for _, cmd := range n.Cmds {
			for _, arg := range cmd.Args {
				c.walk(arg, dot)
			}
		}
	case *parse.IfNode:
		c.walk(n.Pipe, dot)
		c.walk(n.List, dot)
		c.walk(n.ElseList, dot)
	case *parse.RangeNode:
		c.walk(n.Pipe, dot)
		for _, cmd := range n.Pipe.Cmds {
			for _, arg := range cmd.Args {
				if _, num := arg.(*parse.NumberNode); num {
					c.fail(arg.Position(), "range over a number is not supported in prompt files")
				}
			}
		}
		c.walk(n.List, element(c.value(n.Pipe, dot)))
		c.walk(n.ElseList, dot)
	case *parse.WithNode:
		c.walk(n.Pipe, dot)
		c.walk(n.List, c.value(n.Pipe, dot))
		c.walk(n.ElseList, dot)
	case *parse.TemplateNode:
		c.fail(n.Position(), "{{template}} and {{block}} are not supported in prompt files")
	case *parse.FieldNode:
		c.path(n.Position(), dot, "", n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			c.path(n.Position(), c.root, "$", n.Ident[1:])
		}
	case *parse.ChainNode:
		c.walk(n.Node, dot)
	}
}

// value returns the sample value of a pipeline that is a plain reference
// (.A.B, $.A, .), or an invalid value.
func (c *checker) value(p *parse.PipeNode, dot reflect.Value) reflect.Value {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return reflect.Value{}
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		v, _ := lookup(dot, a.Ident)
		return v
	case *parse.VariableNode:
		if a.Ident[0] == "$" {
			v, _ := lookup(c.root, a.Ident[1:])
			return v
		}
	}
	return reflect.Value{}
}

// path checks that the fields idents exist in v, reporting the first one
// that does not.
func (c *checker) path(pos parse.Pos, v reflect.Value, prefix string, idents []string) {
	if _, missing := lookup(v, idents); missing >= 0 {
		parent, _ := lookup(v, idents[:missing])
		ref := prefix + "." + strings.Join(idents[:missing+1], ".")
		if missing > 0 && len(fieldNames(parent)) == 0 {
			c.fail(pos, fmt.Sprintf("unknown variable %s (%s%s has no fields)", ref, prefix, joinDot(idents[:missing])))
			return
		}
		known := knownList(fieldNames(parent), prefix+joinDot(idents[:missing]))
		c.fail(pos, fmt.Sprintf("unknown variable %s (known: %s)", ref, known))
	}
}

func joinDot(idents []string) string {
	if len(idents) == 0 {
		return ""
	}
	return "." + strings.Join(idents, ".")
}

// lookup follows idents from v. It returns the value reached (invalid when
// the sample cannot tell) and the index of the first ident v does not have,
// or -1.
func lookup(v reflect.Value, idents []string) (reflect.Value, int) {
	for i, id := range idents {
		v = indirect(v)
		if !v.IsValid() {
			return reflect.Value{}, -1
		}
		if m := v.MethodByName(id); m.IsValid() {
			return reflect.Value{}, -1 // a method's result is the rendering's business
		}
		switch v.Kind() {
		case reflect.Map:
			if v.Type().Key().Kind() != reflect.String {
				return reflect.Value{}, -1
			}
			x := v.MapIndex(reflect.ValueOf(id).Convert(v.Type().Key()))
			if !x.IsValid() {
				return reflect.Value{}, i
			}
			v = x
		case reflect.Struct:
			f, ok := v.Type().FieldByName(id)
			if !ok || !f.IsExported() {
				return reflect.Value{}, i
			}
			v = v.FieldByIndex(f.Index)
		default:
			return reflect.Value{}, i // a number, text or list has no fields
		}
	}
	return v, -1
}

// element returns a sample element of a list, or an invalid value.
func element(v reflect.Value) reflect.Value {
	v = indirect(v)
	if v.IsValid() && (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Len() > 0 {
		return v.Index(0)
	}
	return reflect.Value{}
}

func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// fieldNames lists the fields of a sample map or struct.
func fieldNames(v reflect.Value) []string {
	v = indirect(v)
	var names []string
	switch {
	case !v.IsValid():
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		for _, k := range v.MapKeys() {
			names = append(names, k.String())
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				names = append(names, f.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func knownList(names []string, prefix string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + "." + n
	}
	return strings.Join(out, ", ")
}

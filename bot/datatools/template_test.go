package datatools

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func mustURL(t testing.TB, src string, params map[string]*param) *urlTemplate {
	t.Helper()
	tm, _, err := parseTemplate(src, func(string) string { return "" }, params)
	if err != nil {
		t.Fatalf("parseTemplate(%q): %v", src, err)
	}
	u, err := parseURL(tm)
	if err != nil {
		t.Fatalf("parseURL(%q): %v", src, err)
	}
	return u
}

func strParams(names ...string) map[string]*param {
	m := make(map[string]*param)
	for _, n := range names {
		m[n] = &param{name: n, typ: typeString, maxLength: 200, required: true}
	}
	return m
}

func sv(s string) value { return value{typ: typeString, s: s} }

func TestURLEscaping(t *testing.T) {
	params := strParams("ref", "q")
	tests := []struct {
		name    string
		tmpl    string
		ref, q  string
		want    string
		wantErr string
	}{
		{name: "plain", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "ORD-1", want: "https://api.example.com/orders/ORD-1"},
		{name: "space and unicode", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "a b é", want: "https://api.example.com/orders/a%20b%20%C3%A9"},
		{name: "query chars in path", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "x?customer=C-2", want: "https://api.example.com/orders/x%3Fcustomer=C-2"},
		{name: "hash in path", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "x#y", want: "https://api.example.com/orders/x%23y"},
		{name: "template in value is data", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "{{.Customer.ID}}", want: "https://api.example.com/orders/%7B%7B.Customer.ID%7D%7D"},
		{name: "partial segment", tmpl: "https://api.example.com/orders/ORD-{{.Params.ref}}.json", ref: "12", want: "https://api.example.com/orders/ORD-12.json"},
		{name: "customer and param", tmpl: "https://api.example.com/customers/{{.Customer.ID}}/orders/{{.Params.ref}}", ref: "ORD-1", want: "https://api.example.com/customers/C-1001/orders/ORD-1"},
		{name: "slash refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "../customers/C-2", wantErr: "path"},
		{name: "dotdot refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "..", wantErr: "path"},
		{name: "dot refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: ".", wantErr: "path"},
		{name: "escaped slash refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "x%2Fy", wantErr: "path"},
		{name: "escaped slash lower case refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "x%2fy", wantErr: "path"},
		{name: "double escaped slash refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "x%252Fy", wantErr: "path"},
		{name: "escaped dotdot refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "%2E%2E", wantErr: "path"},
		{name: "backslash refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: `..\x`, wantErr: "path"},
		{name: "empty refused", tmpl: "https://api.example.com/orders/{{.Params.ref}}", ref: "", wantErr: "path"},
		{name: "query value", tmpl: "https://api.example.com/orders?ref={{.Params.ref}}&limit=5", ref: "a&customer=C-2", want: "https://api.example.com/orders?ref=a%26customer%3DC-2&limit=5"},
		{name: "query value with hash", tmpl: "https://api.example.com/orders?ref={{.Params.ref}}", ref: "a#b", want: "https://api.example.com/orders?ref=a%23b"},
		{name: "query value plus", tmpl: "https://api.example.com/orders?ref={{.Params.ref}}", ref: "a+b c", want: "https://api.example.com/orders?ref=a%2Bb+c"},
		{name: "query slash is fine", tmpl: "https://api.example.com/orders?q={{.Params.q}}", q: "../x", want: "https://api.example.com/orders?q=..%2Fx"},
		{name: "optional absent query left out", tmpl: "https://api.example.com/orders?status={{.Params.q}}&limit=5", want: "https://api.example.com/orders?limit=5"},
		{name: "bare key kept", tmpl: "https://api.example.com/orders?expand&ref={{.Params.ref}}", ref: "x", want: "https://api.example.com/orders?expand&ref=x"},
		{name: "port kept", tmpl: "http://127.0.0.1:8080/v1/orders/{{.Params.ref}}", ref: "x", want: "http://127.0.0.1:8080/v1/orders/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := mustURL(t, tt.tmpl, params)
			d := data{params: map[string]value{}, customer: "C-1001"}
			if tt.ref != "" || tt.wantErr != "" {
				d.params["ref"] = sv(tt.ref)
			}
			if tt.q != "" {
				d.params["q"] = sv(tt.q)
			}
			got, err := u.render(d)
			if tt.wantErr != "" {
				var ev *errValue
				if !errors.As(err, &ev) || ev.where != tt.wantErr {
					t.Fatalf("render = %q, %v; want an error in %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("render = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseURLRejects(t *testing.T) {
	params := strParams("ref")
	tests := []struct{ name, tmpl, want string }{
		{"param in host", "https://{{.Params.ref}}.example.com/x", "scheme, host or port"},
		{"param after host", "https://api.example.com{{.Params.ref}}/x", "scheme, host or port"},
		{"param in port", "https://api.example.com:{{.Params.ref}}/x", "scheme, host or port"},
		{"param as whole url", "{{.Params.ref}}", "http:// or https://"},
		{"customer in host", "https://{{.Customer.ID}}.example.com/", "scheme, host or port"},
		{"param in query key", "https://api.example.com/x?{{.Params.ref}}=1", "query key"},
		{"fragment", "https://api.example.com/x#{{.Params.ref}}", "fragment"},
		{"other scheme", "ftp://api.example.com/x", "http:// or https://"},
		{"no scheme", "api.example.com/x", "http:// or https://"},
		{"credentials", "https://user:pass@api.example.com/x", "credentials"},
		{"no host", "https:///x", "host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, _, err := parseTemplate(tt.tmpl, nil, params)
			if err == nil {
				_, err = parseURL(tm)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pass") {
				t.Errorf("error %q repeats the URL's credentials", err)
			}
		})
	}
}

func TestParseTemplateRestricted(t *testing.T) {
	params := strParams("ref")
	for _, src := range []string{
		"{{.Params.other}}",
		"{{.Customer.Email}}",
		"{{.Secret}}",
		`{{printf "%s" .Params.ref}}`,
		"{{.Params.ref | html}}",
		"{{if .Params.ref}}x{{end}}",
		"{{range .Params}}x{{end}}",
		"{{$x := .Params.ref}}",
		`{{define "x"}}y{{end}}`,
		`{{template "x"}}`,
		"{{.}}",
		"{{.Params}}",
		"{{.Params.ref",
		"${lower}",
		"${UNSET_VAR}",
		"x ${OPEN",
	} {
		t.Run(src, func(t *testing.T) {
			if _, _, err := parseTemplate(src, func(string) string { return "" }, params); err == nil {
				t.Fatalf("parseTemplate(%q) succeeded", src)
			}
		})
	}
}

func TestEnvValueIsLiteral(t *testing.T) {
	env := func(k string) string { return map[string]string{"TOKEN": "s3cr3t-{{.Customer.ID}}"}[k] }
	tm, secrets, err := parseTemplate("Bearer ${TOKEN}", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.renderHeader(data{customer: "C-1001"})
	if err != nil || got != "Bearer s3cr3t-{{.Customer.ID}}" {
		t.Fatalf("renderHeader = %q, %v", got, err)
	}
	if !slices.Equal(secrets, []string{"s3cr3t-{{.Customer.ID}}"}) {
		t.Fatalf("secrets = %q", secrets)
	}
}

func TestRenderHeader(t *testing.T) {
	params := strParams("ref")
	tm, _, err := parseTemplate("ref={{.Params.ref}}", nil, params)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"x\r\nX-Customer: C-2", "x\nfoo", "x\rfoo", "x\x00", "x\x7f"} {
		if got, err := tm.renderHeader(data{params: map[string]value{"ref": sv(v)}}); err == nil {
			t.Errorf("renderHeader(%q) = %q, want an error", v, got)
		}
	}
	got, err := tm.renderHeader(data{params: map[string]value{"ref": sv("{{.Customer.ID}} ok")}})
	if err != nil || got != "ref={{.Customer.ID}} ok" {
		t.Errorf("renderHeader = %q, %v", got, err)
	}
}

// FuzzTemplate checks that no value changes the request's host, the
// number of its path segments, or its query keys.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"ORD-1", "../x", "%2F", "%252F", "..", ".", "?customer=C-2", "a&b=c", "{{.Customer.ID}}",
		"x\r\nHost: evil", "#frag", "//evil.example.com", "@evil.example.com", "\\..\\", "%2e%2e", "a b", ";x=1", "é", ""} {
		f.Add(s, s)
	}
	params := strParams("ref", "q")
	u := mustURL(f, "https://api.example.com:8443/v1/customers/{{.Customer.ID}}/orders/{{.Params.ref}}/items?q={{.Params.q}}&limit=5", params)
	f.Fuzz(func(t *testing.T, ref, q string) {
		got, err := u.render(data{params: map[string]value{"ref": sv(ref), "q": sv(q)}, customer: "C-1001"})
		if err != nil {
			var ev *errValue
			if !errors.As(err, &ev) {
				t.Fatalf("render: not a value error: %v", err)
			}
			return
		}
		p, err := url.Parse(got)
		if err != nil {
			t.Fatalf("render made an invalid URL %q: %v", got, err)
		}
		if p.Host != "api.example.com:8443" || p.Scheme != "https" || p.User != nil || p.Fragment != "" {
			t.Fatalf("render(%q, %q) = %q: host, scheme, user or fragment changed", ref, q, got)
		}
		segs := strings.Split(p.EscapedPath(), "/")
		if len(segs) != 7 || segs[1] != "v1" || segs[2] != "customers" || segs[3] != "C-1001" || segs[4] != "orders" || segs[6] != "items" {
			t.Fatalf("render(%q, %q) = %q: path segments %q", ref, q, got, segs)
		}
		if dec, err := url.PathUnescape(segs[5]); err != nil || dec != ref {
			t.Fatalf("render(%q, %q): segment %q does not decode to the value", ref, q, segs[5])
		}
		vals, err := url.ParseQuery(p.RawQuery)
		if err != nil {
			t.Fatalf("render(%q, %q) = %q: query: %v", ref, q, got, err)
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"limit", "q"}) || vals.Get("q") != q || vals.Get("limit") != "5" || len(vals["q"]) != 1 {
			t.Fatalf("render(%q, %q) = %q: query %v", ref, q, got, vals)
		}
	})
}

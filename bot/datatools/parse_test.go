package datatools

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const secretToken = "tok-SUPERSECRET-123"

func testEnv(k string) string {
	return map[string]string{"ORDERS_API_URL": "https://orders.example.com", "ORDERS_API_TOKEN": secretToken}[k]
}

// validTool is a tool that parses; cases below change one thing.
const validTool = `tools:
  - name: order_status
    description: Look up an order.
    parameters:
      type: object
      properties:
        reference: {type: string, pattern: "ORD-[0-9]+", maxLength: 14}
      required: [reference]
    request:
      method: GET
      url: "${ORDERS_API_URL}/orders/{{.Params.reference}}"
      headers:
        Authorization: "Bearer ${ORDERS_API_TOKEN}"
    response:
      owner: customer_id
      id: reference
      fields: [reference, status]
`

func TestParseValid(t *testing.T) {
	s, err := Parse("tools.yaml", []byte(validTool), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	tl := s.byName["order_status"]
	if !tl.linked || !tl.private || tl.timeout != DefaultTimeout || tl.retries != DefaultRetries || tl.maxBytes != DefaultMaxResponseBytes {
		t.Errorf("defaults: linked %v private %v timeout %v retries %d max %d", tl.linked, tl.private, tl.timeout, tl.retries, tl.maxBytes)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, s); strings.Contains(out, secretToken) || strings.Contains(out, "orders.example.com") {
			t.Errorf("Sprintf(%s, set) = %q: shows the secret or URL", f, out)
		}
	}
	if got := s.String(); got != "datatools.Set{order_status}" {
		t.Errorf("String = %q", got)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "tools: []\n", "tools:\n"} {
		s, err := Parse("tools.yaml", []byte(src), nil)
		if err != nil || len(s.Defs()) != 0 {
			t.Errorf("Parse(%q) = %v, %v", src, s, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replaced in validTool
		want     string // file:line: message part
	}{
		{"bad name", "name: order_status", "name: Order-Status", "tools.yaml:2: tool \"Order-Status\": a name is"},
		{"builtin name", "name: order_status", "name: handoff_to_human", "tools.yaml:2: tool \"handoff_to_human\": the name is a built-in"},
		{"no description", "    description: Look up an order.\n", "", "tools.yaml:2: tool \"order_status\": description is required"},
		{"unknown key", "    description: Look up an order.\n", "    description: x\n    colour: red\n", "tools.yaml:4: tool: unknown key \"colour\""},
		{"missing env", "${ORDERS_API_TOKEN}", "${ORDERS_TOKEN_TYPO}", "tools.yaml:13: tool \"order_status\": request.headers.Authorization: environment variable ORDERS_TOKEN_TYPO is not set"},
		{"param in host", `"${ORDERS_API_URL}/orders/{{.Params.reference}}"`, `"https://{{.Params.reference}}.example.com/"`, "tools.yaml:11: tool \"order_status\": request.url: a parameter or the customer id may not stand in the scheme, host or port"},
		{"unknown param in template", `{{.Params.reference}}"`, `{{.Params.ref}}"`, "tools.yaml:11: tool \"order_status\": request.url: template: {{.Params.ref}} names no declared parameter"},
		{"function in template", `{{.Params.reference}}"`, `{{printf \"%s\" .Params.reference}}"`, "tools.yaml:11:"},
		{"optional param in path", "      required: [reference]\n", "", "tools.yaml:10: tool \"order_status\": request.url: parameter \"reference\" stands in the path, so it must be required"},
		{"unsupported type", "{type: string, pattern", "{type: array, pattern", "tools.yaml:7: tool \"order_status\": parameter \"reference\": type \"array\" is not supported"},
		{"unsupported keyword", "maxLength: 14}", "maxLength: 14, format: email}", "tools.yaml:7: tool \"order_status\": parameter \"reference\": \"format\" is not supported for type string"},
		{"bad pattern", `pattern: "ORD-[0-9]+"`, `pattern: "ORD-[0-9"`, "tools.yaml:7: tool \"order_status\": parameter \"reference\": pattern is not a valid regular expression"},
		{"customer as param", "        reference: {type: string", "        customer_id: {type: string}\n        reference: {type: string", "tools.yaml:7: tool \"order_status\": parameter \"customer_id\": the customer is never a parameter"},
		{"required unknown", "required: [reference]", "required: [reference, other]", "tools.yaml:8: tool \"order_status\": required names \"other\""},
		{"additional properties", "      required: [reference]\n", "      required: [reference]\n      additionalProperties: true\n", "tools.yaml:9: tool \"order_status\": additionalProperties may only be false"},
		{"method", "method: GET", "method: DELETE", "tools.yaml:10: tool \"order_status\": request.method: \"DELETE\" is not supported"},
		{"timeout too long", "      method: GET\n", "      method: GET\n      timeout: 1m\n", "tools.yaml:11: tool \"order_status\": request.timeout: expected a duration such as 5s, at most 30s"},
		{"retries", "      method: GET\n", "      method: GET\n      retries: 9\n", "tools.yaml:11: tool \"order_status\": request.retries: must be between 0 and 3"},
		{"body on GET", "      method: GET\n", "      method: GET\n      body: {a: 1}\n", "tools.yaml:11: tool \"order_status\": request.body needs method POST"},
		{"host header", "Authorization: \"Bearer", "Host: \"Bearer", "tools.yaml:13: tool \"order_status\": request.headers: header Host is set by Firstline"},
		{"no owner", "      owner: customer_id\n", "", "tools.yaml:14: tool \"order_status\": response.owner is required"},
		{"no fields", "      fields: [reference, status]\n", "", "tools.yaml:14: tool \"order_status\": response.fields is required"},
		{"field both ways", "fields: [reference, status]", "fields: [shipping, shipping.eta]", "tools.yaml:17: tool \"order_status\": response.fields: \"shipping\" is listed both whole and by its fields"},
		{"customer without linked", `"${ORDERS_API_URL}/orders/{{.Params.reference}}"`, `"${ORDERS_API_URL}/c/{{.Customer.ID}}"`, "{{.Customer.ID}} needs requires.linked: true"},
		{"duplicate key", "    description: Look up an order.\n", "    description: a\n    description: b\n", "tools.yaml:4: tool: key \"description\" is given twice"},
		{"invalid url escape", `"${ORDERS_API_URL}/orders/{{.Params.reference}}"`, `"${ORDERS_API_URL}/%zz/{{.Params.reference}}"`, "tools.yaml:11: tool \"order_status\": request.url: not a valid URL"},
		{"invalid yaml", "    description: Look up an order.\n", "    description: [unclosed\n", "tools.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(validTool, tt.old) {
				t.Fatalf("%q is not in validTool", tt.old)
			}
			src := strings.Replace(validTool, tt.old, tt.new, 1)
			if tt.name == "customer without linked" {
				src = strings.Replace(src, "    request:\n", "    requires: {linked: false}\n    request:\n", 1)
				src = strings.Replace(src, "      owner: customer_id\n", "", 1)
			}
			_, err := Parse("tools.yaml", []byte(src), testEnv)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse = %v, want Errors", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error:\n%v\nwant a line containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestParseCollectsAllErrors(t *testing.T) {
	src := `tools:
  - name: a
    description: x
    request: {url: "ftp://x/"}
  - name: BAD
    description: y
    request: {url: "https://x/"}
    requires: {linked: false}
  - name: c
    requires: {linked: false}
    description: z
    request: {url: "https://x/", method: PUT}
`
	_, err := Parse("tools.yaml", []byte(src), nil)
	var es Errors
	if !errors.As(err, &es) || len(es) < 4 {
		t.Fatalf("Parse = %v, want at least 4 errors", err)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Line < es[i-1].Line {
			t.Errorf("errors are not in line order: %v", err)
		}
	}
	for _, want := range []string{"tools.yaml:4:", "tools.yaml:5:", "tools.yaml:12:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestParseDuplicateName(t *testing.T) {
	src := validTool + strings.TrimPrefix(validTool, "tools:\n")
	_, err := Parse("tools.yaml", []byte(src), testEnv)
	if err == nil || !strings.Contains(err.Error(), "tools.yaml:18: tool \"order_status\": the name is used twice") {
		t.Fatalf("Parse = %v", err)
	}
}

// A secret that happens to appear in what an error quotes is redacted.
func TestParseRedactsSecrets(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"ORDERS_API_URL": "https://orders.example.com", "ORDERS_API_TOKEN": "Look"}[k]
	}
	src := strings.Replace(validTool, "name: order_status", "name: Look", 1)
	_, err := Parse("tools.yaml", []byte(src), env)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	if strings.Contains(err.Error(), "Look") {
		t.Fatalf("the error shows the secret: %v", err)
	}
}

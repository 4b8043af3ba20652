package datatools

import (
	"encoding/json"
	"strings"
	"testing"
)

const schemaYAML = `tools:
  - name: lookup
    description: test tool
    requires: {linked: false, private: false}
    parameters:
      type: object
      properties:
        ref: {type: string, pattern: "ORD-[0-9]{4}", maxLength: 8, description: an order}
        status: {type: string, enum: [open, closed]}
        note: {type: string, minLength: 2}
        qty: {type: integer, minimum: 1, maximum: 10}
        size: {type: integer, enum: [1, 2, 3]}
        gift: {type: boolean}
      required: [ref]
    request:
      url: "https://api.example.com/orders/{{.Params.ref}}"
`

func TestValidate(t *testing.T) {
	s, err := Parse("tools.yaml", []byte(schemaYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.byName["lookup"].params
	long := `"` + strings.Repeat("x", 201) + `"`
	tests := []struct {
		name, args string
		wantErr    string // "" means valid
	}{
		{"minimal", `{"ref":"ORD-1234"}`, ""},
		{"all", `{"ref":"ORD-1234","status":"open","note":"hi","qty":3,"size":2,"gift":true}`, ""},
		{"null optional", `{"ref":"ORD-1234","status":null}`, ""},
		{"whitespace", " \n{\"ref\" : \"ORD-1234\"}\n", ""},
		{"missing required", `{}`, `"ref" is required`},
		{"empty args", ``, `"ref" is required`},
		{"null required", `{"ref":null}`, "must be a string"},
		{"unknown property", `{"ref":"ORD-1234","customer_id":"C-2"}`, `unknown parameter "customer_id"`},
		{"unknown property Customer", `{"ref":"ORD-1234","Customer":{"ID":"C-2"}}`, `unknown parameter "Customer"`},
		{"case matters", `{"REF":"ORD-1234"}`, `unknown parameter "REF"`},
		{"duplicate", `{"ref":"ORD-1234","ref":"ORD-9999"}`, "given twice"},
		{"pattern anchored start", `{"ref":"xORD-123"}`, "must match"},
		{"pattern anchored end", `{"ref":"ORD-12345"}`, "must be at most 8"},
		{"pattern alternation anchored", `{"ref":"ORD-123"}`, "must match"},
		{"too long", `{"ref":"ORD-1234","note":` + long + `}`, "at most 200"},
		{"too short", `{"ref":"ORD-1234","note":"x"}`, "at least 2"},
		{"enum", `{"ref":"ORD-1234","status":"lost"}`, "one of open, closed"},
		{"string not number", `{"ref":1234}`, "must be a string"},
		{"integer as string", `{"ref":"ORD-1234","qty":"3"}`, "must be an integer"},
		{"integer fraction", `{"ref":"ORD-1234","qty":3.0}`, "must be an integer"},
		{"integer exponent", `{"ref":"ORD-1234","qty":1e1}`, "must be an integer"},
		{"integer too big", `{"ref":"ORD-1234","qty":11}`, "at most 10"},
		{"integer too small", `{"ref":"ORD-1234","qty":0}`, "at least 1"},
		{"integer enum", `{"ref":"ORD-1234","size":4}`, "one of the listed"},
		{"boolean as string", `{"ref":"ORD-1234","gift":"true"}`, "true or false"},
		{"control chars", `{"ref":"ORD-1234","note":"a\r\nb"}`, "control characters"},
		{"array", `[{"ref":"ORD-1234"}]`, "one JSON object"},
		{"trailing", `{"ref":"ORD-1234"} {}`, "trailing"},
		{"garbage", `{"ref":`, "not valid JSON"},
		{"object value", `{"ref":{"x":1}}`, "must be a string"},
		{"too long args", `{"ref":"` + strings.Repeat("x", 5000) + `"}`, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sc.validate(json.RawMessage(tt.args))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("validate(%s) = %v, want valid", tt.args, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("validate(%s) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestSchemaForModel(t *testing.T) {
	s, err := Parse("tools.yaml", []byte(schemaYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	defs := s.Defs()
	if len(defs) != 1 || defs[0].Name != "lookup" || defs[0].Description != "test tool" {
		t.Fatalf("Defs = %+v", defs)
	}
	var got map[string]any
	if err := json.Unmarshal(defs[0].Parameters, &got); err != nil {
		t.Fatal(err)
	}
	if got["type"] != "object" || got["additionalProperties"] != false {
		t.Errorf("schema = %s", defs[0].Parameters)
	}
	want := `"properties":{"ref":{"type":"string","description":"an order","pattern":"^(?:ORD-[0-9]{4})$","maxLength":8},` +
		`"status":{"type":"string","enum":["open","closed"],"maxLength":200},` +
		`"note":{"type":"string","minLength":2,"maxLength":200},` +
		`"qty":{"type":"integer","minimum":1,"maximum":10},"size":{"type":"integer","enum":[1,2,3]},"gift":{"type":"boolean"}},"required":["ref"]`
	if !strings.Contains(string(defs[0].Parameters), want) {
		t.Errorf("schema = %s\nwant it to contain %s", defs[0].Parameters, want)
	}
}

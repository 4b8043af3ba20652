package datatools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

type paramType string

const (
	typeString  paramType = "string"
	typeInteger paramType = "integer"
	typeBoolean paramType = "boolean"
	// typeNumber is only for MCP tools' arguments: an HTTP tool's
	// parameters are string, integer or boolean.
	typeNumber paramType = "number"
)

// Bounds of parameters.
const (
	defaultMaxLength = 200
	maxMaxLength     = 1000
	maxArgsBytes     = 4096
	maxParams        = 20
)

// param is one declared parameter: the JSON Schema subset Firstline checks
// in Go before any request is made.
type param struct {
	name        string
	typ         paramType
	description string
	required    bool

	enumS      []string
	enumI      []int64
	pattern    *regexp.Regexp
	patternSrc string // as the admin wrote it
	minLength  int
	maxLength  int
	minimum    *int64
	maximum    *int64
}

// schema is a tool's parameters.
type schema struct {
	params []*param // in file order
	byName map[string]*param
}

// jsonSchema is what the model sees: the declared parameters, nothing of
// the customer.
func (s schema) jsonSchema() json.RawMessage {
	type prop struct {
		Type        paramType `json:"type"`
		Description string    `json:"description,omitempty"`
		Enum        any       `json:"enum,omitempty"`
		Pattern     string    `json:"pattern,omitempty"`
		MinLength   int       `json:"minLength,omitempty"`
		MaxLength   int       `json:"maxLength,omitempty"`
		Minimum     *int64    `json:"minimum,omitempty"`
		Maximum     *int64    `json:"maximum,omitempty"`
	}
	// Properties keep the file's order: json.Marshal of a map would sort
	// them, so the object is written by hand.
	var props bytes.Buffer
	props.WriteByte('{')
	var required []string
	for i, p := range s.params {
		if i > 0 {
			props.WriteByte(',')
		}
		pr := prop{Type: p.typ, Description: p.description, MinLength: p.minLength, Minimum: p.minimum, Maximum: p.maximum}
		if p.typ == typeString {
			pr.MaxLength = p.maxLength
		}
		if p.pattern != nil {
			pr.Pattern = anchor(p.patternSrc)
		}
		if p.enumS != nil {
			pr.Enum = p.enumS
		} else if p.enumI != nil {
			pr.Enum = p.enumI
		}
		k, _ := json.Marshal(p.name)
		v, _ := json.Marshal(pr)
		props.Write(k)
		props.WriteByte(':')
		props.Write(v)
		if p.required {
			required = append(required, p.name)
		}
	}
	props.WriteByte('}')
	out := struct {
		Type                 string          `json:"type"`
		Properties           json.RawMessage `json:"properties"`
		Required             []string        `json:"required,omitempty"`
		AdditionalProperties bool            `json:"additionalProperties"`
	}{"object", props.Bytes(), required, false}
	b, _ := json.Marshal(out)
	return b
}

func anchor(src string) string { return `^(?:` + src + `)$` }

// validate checks a model's arguments against the schema, strictly: one
// JSON object, no unknown or duplicate properties, exact types, every
// rule. Errors name the parameter and the rule, never echo the value.
func (s schema) validate(raw json.RawMessage) (map[string]value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	if len(raw) > maxArgsBytes {
		return nil, errors.New("the arguments are too long")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("the arguments must be one JSON object")
	}
	out := make(map[string]value)
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("the arguments are not valid JSON")
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("the arguments are not valid JSON")
		}
		p, ok := s.byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q (this tool takes: %s)", truncate(name, 40), s.names())
		}
		if seen[name] {
			return nil, fmt.Errorf("parameter %q is given twice", name)
		}
		seen[name] = true
		if string(v) == "null" && !p.required {
			continue // an optional parameter left out
		}
		val, err := p.check(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", name, err)
		}
		out[name] = val
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("the arguments are not valid JSON")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("the arguments have trailing data")
	}
	for _, p := range s.params {
		if _, ok := out[p.name]; p.required && !ok {
			return nil, fmt.Errorf("parameter %q is required", p.name)
		}
	}
	return out, nil
}

func (s schema) names() string {
	if len(s.params) == 0 {
		return "no parameters"
	}
	ns := make([]string, len(s.params))
	for i, p := range s.params {
		ns[i] = p.name
	}
	return strings.Join(ns, ", ")
}

func (p *param) check(raw json.RawMessage) (value, error) {
	switch p.typ {
	case typeString:
		if len(raw) == 0 || raw[0] != '"' {
			return value{}, errors.New("must be a string")
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !utf8.ValidString(s) {
			return value{}, errors.New("must be a string")
		}
		if strings.ContainsFunc(s, isCtl) {
			return value{}, errors.New("must not contain control characters")
		}
		n := utf8.RuneCountInString(s)
		if n > p.maxLength {
			return value{}, fmt.Errorf("must be at most %d characters", p.maxLength)
		}
		if n < p.minLength {
			return value{}, fmt.Errorf("must be at least %d characters", p.minLength)
		}
		if p.enumS != nil && !slices.Contains(p.enumS, s) {
			return value{}, fmt.Errorf("must be one of %s", strings.Join(p.enumS, ", "))
		}
		if p.pattern != nil && !p.pattern.MatchString(s) {
			return value{}, fmt.Errorf("must match %s", anchor(p.patternSrc))
		}
		return value{typ: typeString, s: s}, nil
	case typeInteger:
		// Strict: digits with an optional minus sign, no fraction, no
		// exponent, no string.
		i, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return value{}, errors.New("must be an integer")
		}
		if p.minimum != nil && i < *p.minimum {
			return value{}, fmt.Errorf("must be at least %d", *p.minimum)
		}
		if p.maximum != nil && i > *p.maximum {
			return value{}, fmt.Errorf("must be at most %d", *p.maximum)
		}
		if p.enumI != nil && !slices.Contains(p.enumI, i) {
			return value{}, errors.New("must be one of the listed values")
		}
		return value{typ: typeInteger, i: i}, nil
	case typeBoolean:
		switch string(raw) {
		case "true":
			return value{typ: typeBoolean, b: true}, nil
		case "false":
			return value{typ: typeBoolean, b: false}, nil
		}
		return value{}, errors.New("must be true or false")
	case typeNumber:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) || !json.Valid(raw) || math.IsInf(f, 0) {
			return value{}, errors.New("must be a number")
		}
		return value{typ: typeNumber, s: string(raw)}, nil
	}
	return value{}, errors.New("has an unknown type")
}

package datatools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/firstlinehq/firstline/bot/mask"
)

// maxRecords bounds how many records one call returns, before the content
// bound.
const maxRecords = 20

// run makes the request and maps the response, for validated arguments
// and a caller that meets the tool's requirements.
func (s *Set) run(ctx context.Context, t *tool, d data) Result {
	req, err := t.build(ctx, d)
	if err != nil {
		var ev *errValue
		if errors.As(err, &ev) {
			return reply(OutcomeInvalid, ReasonInvalidArguments, map[string]any{
				"error": ReasonInvalidArguments, "message": ev.Error(),
			})
		}
		return unavailable(ReasonUpstreamError, "build request: "+err.Error())
	}
	body, status, err := s.do(ctx, t, req)
	host := t.url.host
	switch {
	case errors.Is(err, errTooLarge):
		return unavailable(ReasonTooLarge, fmt.Sprintf("%s %s: the response is larger than %d bytes", t.method, host, t.maxBytes))
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		return unavailable(ReasonTimeout, fmt.Sprintf("%s %s: timed out", t.method, host))
	case err != nil:
		return unavailable(ReasonUpstreamError, fmt.Sprintf("%s %s: %v", t.method, host, err))
	case status == http.StatusNotFound:
		return notFound(ReasonNotFound)
	case status < 200 || status > 299:
		return unavailable(ReasonUpstreamError, fmt.Sprintf("%s %s: status %d", t.method, host, status))
	}
	return s.mapResponse(t, d, body)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// build makes the request for d.
func (t *tool) build(ctx context.Context, d data) (*http.Request, error) {
	u, err := t.url.render(d)
	if err != nil {
		return nil, err
	}
	var body []byte
	if t.body != nil {
		v, _ := t.body.render(d)
		if body, err = json.Marshal(v); err != nil {
			return nil, errors.New("encode body")
		}
	}
	h := make(http.Header)
	for _, hd := range t.headers {
		v, err := hd.value.renderHeader(d)
		if err != nil {
			return nil, err
		}
		h.Set(hd.name, v)
	}
	if h.Get("Accept") == "" {
		h.Set("Accept", "application/json")
	}
	if body != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	req, err := http.NewRequestWithContext(ctx, t.method, u, nil)
	if err != nil {
		return nil, errors.New("invalid URL")
	}
	req.Header = h
	if body != nil {
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Body, _ = req.GetBody()
	}
	return req, nil
}

var errTooLarge = errors.New("response too large")

// do sends req, retrying on 5xx and transport errors, and reads the body
// up to the tool's limit.
func (s *Set) do(ctx context.Context, t *tool, req *http.Request) ([]byte, int, error) {
	client := http.Client{}
	if s.opts.Client != nil {
		client = *s.opts.Client
	}
	// Never follow a redirect: it could lead the request, headers and all,
	// somewhere the admin did not write.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var lastErr error
	for attempt := 0; attempt <= t.retries; attempt++ {
		if attempt > 0 {
			if err := s.opts.Sleep(ctx, s.opts.Backoff); err != nil {
				return nil, 0, err
			}
		}
		body, status, err := s.once(ctx, &client, t, req)
		switch {
		case errors.Is(err, errTooLarge):
			return nil, 0, err
		case err != nil:
			lastErr = err
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			continue
		case status >= 500:
			lastErr = nil
			if attempt == t.retries {
				return nil, status, nil
			}
			continue
		}
		return body, status, nil
	}
	return nil, 0, lastErr
}

func (s *Set) once(ctx context.Context, client *http.Client, t *tool, req *http.Request) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	r := req.Clone(ctx)
	if req.GetBody != nil {
		r.Body, _ = req.GetBody()
	}
	resp, err := client.Do(r)
	if err != nil {
		return nil, 0, cleanTransportErr(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, resp.StatusCode, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBytes+1))
	if err != nil {
		return nil, 0, cleanTransportErr(err)
	}
	if int64(len(b)) > t.maxBytes {
		return nil, 0, errTooLarge
	}
	return b, resp.StatusCode, nil
}

// cleanTransportErr drops the URL from a client error: it may hold a
// customer id or a value, which the operator's log does not need.
func cleanTransportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return timeoutErr{}
		}
		return transportErr{ue.Err}
	}
	return err
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type transportErr struct{ err error }

func (e transportErr) Error() string { return e.err.Error() }
func (e transportErr) Unwrap() error { return e.err }

// where names what a tool asks, for the operator's log: the method and
// host of an HTTP tool, the server and tool of an MCP tool.
func (t *tool) where() string {
	if t.mcp != nil {
		return "mcp " + t.mcp.server.name + "/" + t.mcp.remote
	}
	return t.method + " " + t.url.host
}

// mapResponse finds the records, keeps the caller's, projects them to the
// declared fields and masks them.
func (s *Set) mapResponse(t *tool, d data, body []byte) Result {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return unavailable(ReasonUpstreamInvalid, t.where()+": the response is not one JSON value")
	}
	if t.records == nil {
		obj, ok := doc.(map[string]any)
		if !ok {
			return unavailable(ReasonUpstreamInvalid, t.where()+": the response is not a JSON object")
		}
		if t.owner != nil && !owned(obj, t.owner, d.customer) {
			// Reads exactly like a 404: the customer must not learn the
			// record exists.
			r := notFound(ReasonNotYours)
			r.Dropped = 1
			return r
		}
		rec := mapValue(t.fields.project(obj))
		out, ok := s.bound(map[string]any{"record": rec})
		if !ok {
			return unavailable(ReasonTooLarge, t.where()+": one record is larger than what the model may see")
		}
		r := Result{Outcome: OutcomeOK, Content: out}
		if id, ok := idOf(obj, t.id); ok {
			r.Records = []string{id}
		}
		return r
	}
	var list []any
	switch v := lookupPath(doc, t.records).(type) {
	case []any:
		list = v
	case nil:
		if _, present := lookupPresent(doc, t.records); !present {
			return unavailable(ReasonUpstreamInvalid, fmt.Sprintf("%s: the response has no %s", t.where(), strings.Join(t.records, ".")))
		}
	default:
		return unavailable(ReasonUpstreamInvalid, fmt.Sprintf("%s: %s is not a list", t.where(), strings.Join(t.records, ".")))
	}
	var recs []any
	var ids []string
	dropped, extra := 0, 0
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok || (t.owner != nil && !owned(obj, t.owner, d.customer)) {
			dropped++
			continue
		}
		if len(recs) == maxRecords {
			extra++
			continue
		}
		recs = append(recs, mapValue(t.fields.project(obj)))
		id, _ := idOf(obj, t.id)
		ids = append(ids, id) // "" when the record has none: kept aligned with recs
	}
	out, kept := s.boundList(recs, extra)
	r := Result{Outcome: OutcomeOK, Content: out, Dropped: dropped}
	for _, id := range ids[:kept] {
		if id != "" {
			r.Records = append(r.Records, id)
		}
	}
	return r
}

// owned reports whether obj's owner field is the customer.
func owned(obj map[string]any, path []string, customer string) bool {
	if customer == "" {
		return false
	}
	id, ok := idOf(obj, path)
	return ok && id == customer
}

// idOf returns the scalar at path as text.
func idOf(obj map[string]any, path []string) (string, bool) {
	if path == nil {
		return "", false
	}
	switch v := lookupPath(obj, path).(type) {
	case string:
		return v, v != ""
	case json.Number:
		return v.String(), true
	}
	return "", false
}

func lookupPath(v any, path []string) any {
	v, _ = lookupPresent(v, path)
	return v
}

func lookupPresent(v any, path []string) (any, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// fieldTree is the allow-list of fields: a field maps to its sub-fields,
// or to nil for a leaf.
type fieldTree map[string]fieldTree

func newFieldTree() fieldTree { return fieldTree{} }

func (f fieldTree) add(path []string) error {
	cur := f
	for i, k := range path {
		sub, ok := cur[k]
		last := i == len(path)-1
		switch {
		case ok && sub == nil && !last, ok && sub != nil && last:
			return fmt.Errorf("%q is listed both whole and by its fields", strings.Join(path[:i+1], "."))
		case ok:
			cur = sub
		case last:
			cur[k] = nil
		default:
			cur[k] = fieldTree{}
			cur = cur[k]
		}
	}
	return nil
}

// project keeps only the listed fields of obj. A leaf keeps a scalar or a
// list of scalars; an object or a list of objects is kept only through
// its listed sub-fields, so nothing unlisted ever passes. A field missing
// from obj is left out.
func (f fieldTree) project(obj map[string]any) map[string]any {
	out := make(map[string]any, len(f))
	for k, sub := range f {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if sub == nil {
			if pv, ok := scalarOrScalars(v); ok {
				out[k] = pv
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			out[k] = sub.project(v)
		case []any:
			items := make([]any, 0, len(v))
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					items = append(items, sub.project(m))
				}
			}
			out[k] = items
		}
	}
	return out
}

func scalarOrScalars(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		return nil, false
	case []any:
		for _, e := range v {
			switch e.(type) {
			case map[string]any, []any:
				return nil, false
			}
		}
		return v, true
	}
	return v, true
}

// maxString bounds one string the model sees, in bytes.
const maxString = 500

// mapValue masks every string in v (card numbers, IBANs, labelled codes)
// and bounds its length.
func mapValue(v any) any {
	switch v := v.(type) {
	case string:
		return maskString(v)
	case json.Number:
		// A card number may come as a JSON number.
		if m, n := mask.Text(v.String()); n > 0 {
			return m
		}
		return v
	case map[string]any:
		for k, e := range v {
			v[k] = mapValue(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = mapValue(e)
		}
		return v
	}
	return v
}

func maskString(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	m, _ := mask.Text(s)
	return truncate(m, maxString)
}

// bound marshals v, reporting false when it is larger than MaxContent.
func (s *Set) bound(v any) (string, bool) {
	b, err := json.Marshal(v)
	if err != nil || len(b) > s.opts.MaxContent {
		return "", false
	}
	return string(b), true
}

// boundList marshals as many records as fit in MaxContent, with a note
// saying how many were left out, and says how many were kept.
func (s *Set) boundList(recs []any, extra int) (string, int) {
	if recs == nil {
		recs = []any{}
	}
	for n := len(recs); n >= 0; n-- {
		v := map[string]any{"records": recs[:n]}
		if left := len(recs) - n + extra; left > 0 {
			v["note"] = fmt.Sprintf("%d more records were left out to keep the answer short; ask the customer for a reference to see one.", left)
		}
		if out, ok := s.bound(v); ok {
			return out, n
		}
	}
	return `{"records":[],"note":"the records were too large to show"}`, 0
}

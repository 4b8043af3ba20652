package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/firstlinehq/firstline/bot/stats"
)

type fakeSource struct {
	report stats.Report
	queue  []QueueItem
}

func (f fakeSource) Report(context.Context, time.Time, time.Time) (stats.Report, error) {
	return f.report, nil
}
func (f fakeSource) Queue(context.Context) ([]QueueItem, error) { return f.queue, nil }

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	return newHandlerWith(t, nil)
}

// newHandlerWith is newHandler with its Config changed by mod first.
func newHandlerWith(t *testing.T, mod func(*Config)) *Handler {
	t.Helper()
	days := make([]stats.Day, 7)
	for i := range days {
		days[i] = stats.Day{Date: now.Add(time.Duration(i-7) * 24 * time.Hour).Truncate(24 * time.Hour), Conversations: 10, Automated: 5 + i%3, Handoffs: i % 4}
	}
	src := fakeSource{
		report: stats.Report{
			Since: now.Add(-7 * 24 * time.Hour), Until: now, Conversations: 70, Closed: 60, Automated: 42,
			AutomationRate: 0.7, HandoffRate: 0.3, FirstResponseP50: 2 * time.Second, FirstResponseP90: 9 * time.Second,
			TimeToClaimP50: 4 * time.Minute, ResolutionP50: 35 * time.Minute, CSATAverage: 4.25, CSATCount: 12,
			RepeatRate: 0.05, TokensPerConversation: 812, Helpful: 9, NotHelpful: 3, HelpfulRate: 0.75, Days: days,
			HelpArticles: []stats.TopicCount{{Topic: "help:refund-times", Conversations: 6, HandedOff: 1, Helpful: 4}},
			HelpGaps:     4,
		},
		queue: []QueueItem{
			{HandoffID: 7, Platform: "slack", Customer: "C-1001", Reason: "The customer asked for a person.", Since: now.Add(-12 * time.Minute)},
			{HandoffID: 8, Platform: "discord", Reason: `<script>alert("x")</script>`, Claimed: true, Agent: "Alex", Since: now.Add(-3 * time.Minute)},
		},
	}
	cfg := Config{Source: src, Token: "s3cret-token", Now: func() time.Time { return now }}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRejectedWithoutToken(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"no token", func() *http.Request { return httptest.NewRequest("GET", "/", nil) }},
		{"wrong bearer", func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer nope")
			return r
		}},
		{"wrong cookie", func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.AddCookie(&http.Cookie{Name: cookieName, Value: "nope"})
			return r
		}},
		{"wrong query token", func() *http.Request { return httptest.NewRequest("GET", "/?token=nope", nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req())
			if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "automation") {
				t.Errorf("got %d %q; want 401 and no figures", w.Code, w.Body.String())
			}
		})
	}
}

func TestTokenInQuerySetsCookieAndRedirects(t *testing.T) {
	h := newHandler(t)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/?token=s3cret-token", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("got %d to %q; want a redirect to / without the token", w.Code, w.Header().Get("Location"))
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie = %+v", cookies)
	}
	if c := cookies[0]; strings.Contains(c.Value, "s3cret-token") || c.Path != "/" || c.MaxAge != int(defaultSessionTTL/time.Second) || c.Secure {
		t.Errorf("cookie = %+v; want a session id, not the token, for / only, lasting the session, not Secure over plain HTTP", c)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookies[0])
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("with the cookie: %d", w.Code)
	}
}

// The page's HTML parses, shows the figures, draws both charts and lists
// the queue with customer-supplied text escaped.
func TestPageContent(t *testing.T) {
	h := newHandler(t)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer s3cret-token")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	doc, err := html.Parse(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	counts := map[string]int{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			counts[n.Data]++
			if n.Data == "script" || n.Data == "link" || (n.Data == "img" && attr(n, "src") != "") {
				t.Errorf("page loads or runs something: <%s>", n.Data)
			}
		}
		if n.Type == html.TextNode {
			texts = append(texts, strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	all := strings.Join(texts, " | ")
	for _, want := range []string{"70", "70%", "30%", "2.0s", "9.0s", "4m00s", "35m00s", "4.2 / 5", "5%", "812", "75%", "9 👍, 3 👎",
		"claimed by Alex", "waiting", "12m00s", "C-1001", "not linked", `<script>alert("x")</script>`,
		"help:refund-times", "4 conversations found nothing in the help center"} {
		if !strings.Contains(all, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if counts["svg"] != 2 || counts["polyline"] != 1 || counts["rect"] == 0 || counts["circle"] != 7 {
		t.Errorf("charts: %d svg, %d polyline, %d rect, %d circle", counts["svg"], counts["polyline"], counts["rect"], counts["circle"])
	}
	if counts["tr"] != 5 {
		t.Errorf("%d table rows; want a header and 2 handoffs, a header and 1 article", counts["tr"])
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

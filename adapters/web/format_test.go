package web

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/firstlinehq/firstline/bot/stats"
	"github.com/firstlinehq/firstline/internal/testkit"
)

// TestFormatFigures pins how the page prints a figure: "–" without data,
// durations in the unit that fits (as `firstline stats` prints them).
func TestFormatFigures(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		data any
		want string
	}{
		{"no duration sample", `{{dur .}}`, time.Duration(0), "–"},
		{"milliseconds", `{{dur .}}`, 7 * time.Millisecond, "7ms"},
		{"under a millisecond", `{{dur .}}`, 300 * time.Microsecond, "1ms"},
		{"just under a second", `{{dur .}}`, 999 * time.Millisecond, "999ms"},
		{"seconds", `{{dur .}}`, 1500 * time.Millisecond, "1.5s"},
		{"minutes", `{{dur .}}`, 4*time.Minute + 5*time.Second, "4m05s"},
		{"hours", `{{dur .}}`, 3*time.Hour + 20*time.Minute, "3h20m"},
		{"days", `{{dur .}}`, 52 * time.Hour, "2d04h"},
		{"age", `{{age .Now .Since}}`, struct{ Now, Since time.Time }{now, now.Add(-12 * time.Minute)}, "12m00s"},
		{"rate of nothing", `{{rate .F .N}}`, struct {
			F float64
			N int
		}{0, 0}, "–"},
		{"zero rate of something", `{{rate .F .N}}`, struct {
			F float64
			N int
		}{0, 4}, "0%"},
		{"rate", `{{rate .F .N}}`, struct {
			F float64
			N int
		}{0.7, 60}, "70%"},
		{"tokens of nothing closed", `{{perClosed .F .N}}`, struct {
			F float64
			N int
		}{0, 0}, "–"},
		{"tokens", `{{perClosed .F .N}}`, struct {
			F float64
			N int
		}{812.4, 3}, "812"},
		{"no ratings", `{{csat .A .N}}`, struct {
			A float64
			N int
		}{0, 0}, "–"},
		{"ratings", `{{csat .A .N}}`, struct {
			A float64
			N int
		}{4.25, 12}, "4.2 / 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := template.New(tt.name).Funcs(funcs).Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, tt.data); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("%s = %q; want %q", tt.tmpl, got, tt.want)
			}
		})
	}
}

// TestPageWithoutData: on an empty store every rate, median and average
// reads "–", not a 0 that looks measured; with conversations none of which
// has closed, the automation rate still reads "–" and a 7 ms median reads
// 7ms, not 1s.
func TestPageWithoutData(t *testing.T) {
	h := testkit.New(t, testkit.Empty())
	empty := StatsSource{Records: h.Store, Idle: time.Hour}
	open := fakeSource{report: stats.Report{
		Since: now.Add(-30 * 24 * time.Hour), Until: now, Conversations: 3, HandoffRate: 1.0 / 3, Handoffs: 1,
		FirstResponseP50: 7 * time.Millisecond, FirstResponseP90: 40 * time.Millisecond,
	}}
	tests := []struct {
		name string
		src  Source
		now  time.Time
		want map[string]string // card label prefix → its value
	}{
		{"empty store", empty, h.Clock.Now(), map[string]string{
			"conversations":    "0",
			"automation rate":  "–",
			"handoff rate":     "–",
			"first response":   "–",
			"time to claim":    "–",
			"resolution":       "–",
			"satisfaction":     "–",
			"repeat inquiries": "–",
			"model tokens":     "–",
		}},
		{"nothing closed yet", open, now, map[string]string{
			"conversations":    "3",
			"automation rate":  "–",
			"handoff rate":     "33%",
			"first response":   "7ms",
			"repeat inquiries": "0%",
			"model tokens":     "–",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hd, err := New(Config{Source: tt.src, Token: "s3cret-token", Now: func() time.Time { return tt.now }})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer s3cret-token")
			w := httptest.NewRecorder()
			hd.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			cards := mustCards(t, w.Body.String())
			for label, want := range tt.want {
				got, ok := cardValue(cards, label)
				if !ok {
					t.Errorf("no %q card in %v", label, cards)
				} else if got != want {
					t.Errorf("%s = %q; want %q", label, got, want)
				}
			}
			if tt.name == "empty store" && !strings.Contains(w.Body.String(), "(p90 –)") {
				t.Error("the p90 of no sample does not read –")
			}
		})
	}
}

// mustCards returns the page's figure cards, label → value.
func mustCards(t *testing.T, page string) map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]string{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "div" && attr(n, "class") == "card" {
			var v, k string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.FirstChild != nil {
					switch attr(c, "class") {
					case "v":
						v = c.FirstChild.Data
					case "k":
						k = c.FirstChild.Data
					}
				}
			}
			cards[k] = v
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(cards) == 0 {
		t.Fatal("no figure cards on the page")
	}
	return cards
}

// cardValue finds the card whose label starts with prefix.
func cardValue(cards map[string]string, prefix string) (string, bool) {
	for k, v := range cards {
		if strings.HasPrefix(k, prefix) {
			return v, true
		}
	}
	return "", false
}

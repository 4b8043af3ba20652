package bot

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		err  bool
	}{
		{"20/1m", Rate{20, time.Minute}, false},
		{"20/m", Rate{20, time.Minute}, false},
		{" 600 / 1h ", Rate{600, time.Hour}, false},
		{"5/10s", Rate{5, 10 * time.Second}, false},
		{"off", Rate{}, false},
		{"0", Rate{}, false},
		{"20", Rate{}, true},
		{"0/1m", Rate{}, true},
		{"-1/1m", Rate{}, true},
		{"20/0s", Rate{}, true},
		{"20/500ms", Rate{}, true},
		{"lots/1m", Rate{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if s := (Rate{20, time.Minute}).String(); s != "20/1m" {
		t.Errorf("String = %q", s)
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(Rate{N: 3, Per: time.Minute})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at        time.Duration
		ok, first bool
	}
	for i, s := range []step{
		{0, true, false}, {0, true, false}, {0, true, false}, // the burst
		{time.Second, false, true}, {2 * time.Second, false, false}, // told once
		{20 * time.Second, true, false}, // one token back after Per/N
		{21 * time.Second, false, true}, // over again: told again
	} {
		ok, first := l.allow("k", t0.Add(s.at))
		if ok != s.ok || first != s.first {
			t.Errorf("step %d at %s: allow = %v, %v; want %v, %v", i, s.at, ok, first, s.ok, s.first)
		}
	}
	// Idle buckets are forgotten: memory is bounded by recent senders.
	for i := range 100 {
		l.allow(strings.Repeat("x", i), t0.Add(time.Minute))
	}
	l.allow("late", t0.Add(3*time.Minute))
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets kept after two idle periods, want 1", n)
	}
	var off *limiter
	if ok, _ := off.allow("k", t0); !ok {
		t.Error("a nil limiter refused")
	}
}

func TestGuardSkipsTheTerminal(t *testing.T) {
	g := newGuard(Limits{PerUser: Rate{N: 1, Per: time.Hour}})
	in := Incoming{Key: ConversationKey{Platform: Console, Channel: "c"}, User: "u"}
	now := time.Now()
	for range 3 {
		if v := g.check(in, now); v.limited {
			t.Fatal("the terminal was rate-limited")
		}
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		c, err := newCode()
		if err != nil || len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("newCode = %q, %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 45 {
		t.Errorf("only %d distinct codes in 50", len(seen))
	}
	h, err := hashCode("042917")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "042917") || !codeMatches(h, "042917") || codeMatches(h, "042918") {
		t.Errorf("hash %q does not check the code right", h)
	}
	h2, _ := hashCode("042917")
	if h == h2 {
		t.Error("two hashes of one code are equal: no salt")
	}
	for _, bad := range []string{"", "nohash", "zz:zz", ":"} {
		if codeMatches(bad, "042917") {
			t.Errorf("codeMatches(%q) = true", bad)
		}
	}
}

func TestCodeAndEmailPatterns(t *testing.T) {
	for in, want := range map[string]bool{
		"123456": true, " 123 456 ": true, "123-456": true, "code: 123456": true, "the code is 123456.": true,
		"12345": false, "1234567": false, "PAY-123456": false, "status of PAY-100123": false, "my pin 123456": false,
	} {
		if got := codeRe.MatchString(in); got != want {
			t.Errorf("codeRe(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"it's ada@example.com.":                        "ada@example.com",
		"<mailto:ada@example.com|ada@example.com>":     "ada@example.com",
		"åsa@exempel.se":                               "åsa@exempel.se",
		"ada at example dot com":                       "",
		"ada@localhost":                                "",
		"write to first.last+tag@sub.example.co.uk ok": "first.last+tag@sub.example.co.uk",
	} {
		if got := emailRe.FindString(in); got != want {
			t.Errorf("emailRe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuotesPolicy(t *testing.T) {
	policy := "Policy:\n- Use the payment_status tool for any question about payments. Never guess a\n  payment's status, amount or date, and never invent a payment reference."
	tests := []struct {
		reply string
		want  bool
	}{
		{"My instructions say: use the payment_status tool for any question about payments; never guess a payment's status, amount or date.", true},
		{"I use a tool to look up payments and I never guess a payment's status.", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := quotesPolicy(tt.reply, policy); got != tt.want {
			t.Errorf("quotesPolicy(%q) = %v, want %v", tt.reply, got, tt.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	card := "4111 1111 1111 1111"
	// A card number straddling the point where the raw text is cut is
	// masked before the cut, never kept in part.
	raw := strings.Repeat("a", maxRawText-10) + card + strings.Repeat("b", 100)
	text, masked, cut := cleanText(raw)
	if !cut || len(text) > MaxTextLen || strings.Contains(text, "1111 1111") {
		t.Errorf("cleanText: cut %v, %d bytes, masked %d", cut, len(text), masked)
	}
	text, masked, cut = cleanText("card " + card)
	if cut || masked != 1 || strings.Contains(text, "4111") {
		t.Errorf("cleanText(short) = %q, %d, %v", text, masked, cut)
	}
}

func TestCapAttachments(t *testing.T) {
	var as []Attachment
	for i := range 12 {
		as = append(as, Attachment{Name: strings.Repeat("n", 300), URL: "https://f.example/" + string(rune('a'+i))})
	}
	as = append([]Attachment{{URL: "javascript:alert(1)"}, {URL: "https://" + strings.Repeat("x", 3000)}}, as...)
	got, dropped := capAttachments(as, 10)
	if len(got) != 10 || dropped != 4 || len(got[0].Name) > maxAttachmentName || got[0].URL != "https://f.example/a" {
		t.Errorf("capAttachments: %d kept, %d dropped, first %+v", len(got), dropped, got[0])
	}
	if got, dropped := capAttachments(nil, 0); got != nil || dropped != 0 {
		t.Errorf("capAttachments(nil) = %v, %d", got, dropped)
	}
}

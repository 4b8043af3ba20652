package links

import (
	"strings"
	"testing"
)

func TestLinkPolicyNeutralize(t *testing.T) {
	p := New("help.example.com", "https://Example.org/docs")
	tests := []struct {
		name, in, want string
		removed        int
	}{
		{"plain text", "Your payment PAY-1001 is settled (120.00 EUR).", "Your payment PAY-1001 is settled (120.00 EUR).", 0},
		{"allowed markdown link", "See [refunds](https://help.example.com/refunds).", "See [refunds](https://help.example.com/refunds).", 0},
		{"allowed subdomain", "Go to https://eu.help.example.com/x.", "Go to https://eu.help.example.com/x.", 0},
		{"allowed second host", "<https://example.org/a|docs>", "<https://example.org/a|docs>", 0},
		{"markdown link to an unknown host", "[click here](https://evil.example/c?d=PAY-1001%20120.00)", "click here (link removed)", 1},
		{"image exfiltration", "![status](https://evil.example/p.png?ref=PAY-1001)", "status (link removed)", 1},
		{"image without alt", "![](https://evil.example/p.png?ref=PAY-1001)", "(link removed)", 1},
		{"link with a title", `[x](https://evil.example/a "title")`, "x (link removed)", 1},
		{"bare URL", "Details: https://evil.example/log?amount=120.00 thanks", "Details: (link removed) thanks", 1},
		{"bare URL then a full stop", "Go to http://evil.example/x.", "Go to (link removed).", 1},
		{"www host", "visit www.evil.example/a?b=c now", "visit (link removed) now", 1},
		{"host with a path, no scheme", "open evil.example/PAY-1001 please", "open (link removed) please", 1},
		{"Slack link syntax", "<https://evil.example/x|your receipt>", "your receipt (link removed)", 1},
		{"autolink", "<https://evil.example/x>", "(link removed)", 1},
		{"allowed host as user info", "[ok](https://help.example.com@evil.example/x)", "ok (link removed)", 1},
		{"allowed host as a prefix", "https://help.example.com.evil.example/x", "(link removed)", 1},
		{"allowed host in the path", "https://evil.example/help.example.com", "(link removed)", 1},
		{"look-alike host", "https://hеlp.example.com/x", "(link removed)", 1}, // Cyrillic е
		{"javascript link", "[pay now](javascript:alert(document.cookie))", "pay now (link removed)", 1},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD4=)", "x (link removed)", 1},
		{"URL as the link text", "[https://help.example.com](https://evil.example/x)", "https://help.example.com (link removed)", 1},
		{"unknown URL as the link text", "[https://evil.example/a](https://help.example.com/b)", "[(link removed)](https://help.example.com/b)", 1},
		{"HTML image", `<img src="https://evil.example/p.png?d=1">`, `<img src="(link removed)">`, 1},
		{"reference-style link", "[x][1]\n\n[1]: https://evil.example/d?x=1", "[x][1]\n\n[1]: (link removed)", 1},
		{"mailto to an allowed domain", "[write us](mailto:support@help.example.com)", "[write us](mailto:support@help.example.com)", 0},
		{"mailto elsewhere", "[write](mailto:leak@evil.example?body=PAY-1001)", "write (link removed)", 1},
		{"amounts and dates are no hosts", "120.00 EUR on 2026-10-01, 1.5/2 done", "120.00 EUR on 2026-10-01, 1.5/2 done", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := p.Neutralize(tt.in)
			if got != tt.want || n != tt.removed {
				t.Errorf("Neutralize(%q) =\n  %q, %d\nwant\n  %q, %d", tt.in, got, n, tt.want, tt.removed)
			}
		})
	}
}

func TestZeroLinkPolicyAllowsNothing(t *testing.T) {
	got, n := Policy{}.Neutralize("see https://example.com/x and [y](https://example.org)")
	if n != 2 || strings.Contains(got, "example") {
		t.Errorf("Neutralize = %q, %d", got, n)
	}
}

func TestHostsIn(t *testing.T) {
	text := "See [refunds](https://Help.Example.com/refunds), https://status.example.org/ and www.example.net/x. Not 120.00 or PAY-1001."
	got := strings.Join(HostsIn(text), ",")
	if got != "help.example.com,status.example.org,www.example.net" {
		t.Errorf("HostsIn = %s", got)
	}
}

// Neutralize must never panic, and its output must hold no link to a host
// outside the policy, whatever the input.
func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{
		"[a](https://evil.example/x)", "![a](http://e.x/p.png)", "<https://e.x|t>", "https://help.example.com/a",
		"[[nested]](https://e.x)", "www.e.x/x", "a.b/c", "[x](<https://e.x/a b>)", "<mailto:a@e.x|a>",
	} {
		f.Add(s)
	}
	p := New("help.example.com")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			// Replies are short; long inputs only slow the fuzzer's
			// minimizing down, and the patterns are linear anyway.
			return
		}
		out, _ := p.Neutralize(s)
		for _, m := range bareLinkRe.FindAllString(out, -1) {
			if !p.Allowed(strings.TrimRight(m, ".,;:!?)]}*_~")) {
				t.Fatalf("Neutralize(%q) = %q still links to %q", s, out, m)
			}
		}
		again, n := p.Neutralize(out)
		if n != 0 || again != out {
			t.Fatalf("Neutralize is not idempotent: %q -> %q -> %q", s, out, again)
		}
	})
}

package slack

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestToMrkdwn(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Hello there.", "Hello there."},
		{"bold", "Payment **PAY-1** is **pending**.", "Payment *PAY-1* is *pending*."},
		{"bold underscores", "__bold__ words", "*bold* words"},
		{"italics with stars", "an *important* note", "an _important_ note"},
		{"italics with underscores", "an _important_ note", "an _important_ note"},
		{"bold and italics", "***both***", "_*both*_"},
		{"strike", "~~old~~ new", "~old~ new"},
		{"stars that are not emphasis", "5 * 3 * 2 = 30, a*b", "5 * 3 * 2 = 30, a*b"},
		{"snake_case stays", "set max_retry_count", "set max_retry_count"},
		{"link", "See [the docs](https://example.com/a_b?x=1&y=2).", "See <https://example.com/a_b?x=1&amp;y=2|the docs>."},
		{"link with a pipe", "[x](https://example.com/a|b)", "<https://example.com/a%7Cb|x>"},
		{"link whose label is its address", "[https://example.com](https://example.com)", "<https://example.com>"},
		{"mail link", "[write us](mailto:help@example.com)", "<mailto:help@example.com|write us>"},
		{"bare address", "Go to https://example.com/x_y_z. Then", "Go to <https://example.com/x_y_z>. Then"},
		{"link to a mention is words", "[boss](@U123) and [all](!channel)", "boss (@U123) and all (!channel)"},
		{"list", "- one\n* two\n+ three", "• one\n• two\n• three"},
		{"nested list", "- one\n  - one.a", "• one\n  • one.a"},
		{"numbered list stays", "1. one\n2. two", "1. one\n2. two"},
		{"heading", "## Your **payments**", "*Your payments*"},
		{"quote", "> customer: hi <there>", "> customer: hi &lt;there&gt;"},
		{"rule", "a\n---\nb", "a\n──────────\nb"},
		{"code span", "run `a **b** <c>` now", "run `a **b** &lt;c&gt;` now"},
		{"unmatched backtick", "it`s **fine**", "it`s *fine*"},
		{"code block", "```go\nx := a && b // **not bold**\n```", "```\nx := a &amp;&amp; b // **not bold**\n```"},
		{"unclosed code block", "```\ncode", "```\ncode\n```"},
		{"one-line triple backticks", "```inline```", "```inline```"},
		{"escaping", "a & b < c > d", "a &amp; b &lt; c &gt; d"},
		{"entities are text", "&amp; &lt;", "&amp;amp; &amp;lt;"},
		{"mentions are text", "<!channel> <!here> <@U123> <!subteam^S1|@team> <#C1>", "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;!subteam^S1|@team&gt; &lt;#C1&gt;"},
		{"slack link syntax is text", "<https://evil.example|innocent>", "&lt;<https://evil.example>|innocent&gt;"},
		{"crlf", "a\r\nb", "a\nb"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toMrkdwn(tt.in); got != tt.want {
				t.Errorf("toMrkdwn(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFromSlack(t *testing.T) {
	names := map[string]string{"U1": "ada", "U2": "sam"}
	user := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	tests := []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"entities", "a &amp; b &lt;3 &gt;", "a & b <3 >"},
		{"user", "ask <@U1> or <@U9>", "ask @ada or @U9"},
		{"user with label", "<@U1|ada.l>", "@ada.l"},
		{"channel", "in <#C1|general> and <#C2>", "in #general and #C2"},
		{"special mentions", "<!here> <!channel> <!everyone>", "@here @channel @everyone"},
		{"user group", "<!subteam^S1|@oncall> <!subteam^S2>", "@oncall @S2"},
		{"date", "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"link", "<https://example.com/a?b=1&amp;c=2|the page>", "[the page](https://example.com/a?b=1&c=2)"},
		{"bare link", "<https://example.com>", "https://example.com"},
		{"mail", "<mailto:a@example.com|a@example.com>", "a@example.com"},
		{"bold", "*very* important", "**very** important"},
		{"strike", "~gone~", "~~gone~~"},
		{"italics", "_quiet_", "_quiet_"},
		{"code keeps stars", "`*x*` and *y*", "`*x*` and **y**"},
		{"literal mention typed", "&lt;!channel&gt;", "<!channel>"},
		{"transfer command", "transfer <@U2>", "transfer @sam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromSlack(tt.in, user); got != tt.want {
				t.Errorf("fromSlack(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	para := strings.Repeat("x", 60)
	code := "```\n" + strings.Repeat("line of code\n", 20) + "```"
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"fits", "short", 100, []string{"short"}},
		{"empty", "", 100, []string{""}},
		{"paragraphs", para + "\n\n" + para, 100, []string{para, para}},
		{"lines", strings.Repeat("abcdefghi\n", 15), 100, []string{strings.TrimSpace(strings.Repeat("abcdefghi\n", 9)), strings.TrimSpace(strings.Repeat("abcdefghi\n", 6))}},
		{"words", strings.Repeat("word ", 30), 100, []string{strings.TrimSpace(strings.Repeat("word ", 19)), strings.TrimSpace(strings.Repeat("word ", 11))}},
		{"no spaces", strings.Repeat("a", 250), 100, []string{strings.Repeat("a", 96), strings.Repeat("a", 96), strings.Repeat("a", 58)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := split(tt.in, tt.limit)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("split\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	t.Run("code block reopened", func(t *testing.T) {
		parts := split(code, 120)
		if len(parts) < 2 {
			t.Fatalf("parts = %q", parts)
		}
		for i, p := range parts {
			if !strings.HasPrefix(p, "```") || !strings.HasSuffix(p, "```") || utf16Len(p) > 120 {
				t.Errorf("part %d is not a closed code block within the limit: %q", i, p)
			}
		}
	})
	t.Run("code span kept whole", func(t *testing.T) {
		in := strings.Repeat("a ", 30) + "`some code span here`" + strings.Repeat(" b", 30)
		for _, p := range split(in, 80) {
			if strings.Count(p, "`")%2 != 0 {
				t.Errorf("cut inside a code span: %q", p)
			}
		}
	})
	t.Run("runes", func(t *testing.T) {
		in := strings.Repeat("é😀ü", 100)
		parts := split(in, 50)
		if strings.Join(parts, "") != in {
			t.Error("text lost")
		}
		for _, p := range parts {
			if !utf8.ValidString(p) || utf16Len(p) > 50 {
				t.Errorf("bad part %q (%d units)", p, utf16Len(p))
			}
		}
	})
}

func TestTruncate(t *testing.T) {
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
	got := truncate(strings.Repeat("abc ", 1000), 100)
	if utf16Len(got) > 100 || !strings.HasSuffix(got, "…") {
		t.Errorf("truncate = %q", got)
	}
	got = truncate("```\n"+strings.Repeat("code\n", 100), 50)
	if utf16Len(got) > 50 || !strings.HasSuffix(got, "```") {
		t.Errorf("truncated code block not closed: %q", got)
	}
}

// FuzzMrkdwn: whatever the product's text, the converter does not panic,
// writes valid UTF-8, lets no mention, channel link or foreign link syntax
// through (the only < it writes opens a web or mail link), and its split
// parts fit the limit and add up to the whole.
func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{
		"**bold** *it* _it_ ~~s~~ `code` [x](https://e.com) https://e.com/a_b",
		"<!channel> <@U1> <#C1|x> <!subteam^S1> <https://e|x> &amp; &lt;!here&gt;",
		"```go\ncode <!here>\n```", "- a\n  - b\n> q\n# h", "[a](@U1) [b](!here) [c](javascript:x)",
		"[x](https://e.com/<!here>) [y](https://e.com/|<@U1>)", "\xff\xfe", "é😀", "*`*`*", "[](https://)",
	} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, in string, limit int) {
		out := toMrkdwn(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		checkNoForeignSyntax(t, out)
		limit = 12 + abs(limit)%3000
		parts := split(out, limit)
		for _, p := range parts {
			if utf16Len(p) > limit {
				t.Fatalf("part of %d units over the limit %d", utf16Len(p), limit)
			}
			if !utf8.ValidString(p) {
				t.Fatalf("part not UTF-8: %q", p)
			}
		}
		c := truncate(out, limit)
		if utf16Len(c) > limit || !utf8.ValidString(c) {
			t.Fatalf("truncate: %d units, limit %d", utf16Len(c), limit)
		}
		// What comes back from Slack is escaped again on the way out.
		back := toMrkdwn(fromSlack(in, func(id string) string { return id }))
		checkNoForeignSyntax(t, back)
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // the smallest int
			return 0
		}
		return -n
	}
	return n
}

// checkNoForeignSyntax fails when out holds a < that does not open a link
// the converter writes (<https://…>, <http://…>, <mailto:…>).
func checkNoForeignSyntax(t *testing.T, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		if out[i] != '<' {
			continue
		}
		rest := strings.ToLower(out[i+1:])
		if !strings.HasPrefix(rest, "https://") && !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "mailto:") {
			t.Fatalf("unescaped < at %d: %q", i, out)
		}
		end := strings.IndexByte(out[i:], '>')
		if end < 0 {
			t.Fatalf("unclosed link at %d: %q", i, out)
		}
		inner := out[i+1 : i+end]
		if strings.ContainsAny(inner, "<\n") {
			t.Fatalf("link holds < or a line break: %q", inner)
		}
	}
	for _, bad := range []string{"<!", "<@", "<#"} {
		if strings.Contains(out, bad) {
			t.Fatalf("%q survived: %q", bad, out)
		}
	}
}

package console

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRender(t *testing.T) {
	const (
		b  = sgrBold
		xb = sgrBoldOff
		e  = sgrEm
		xe = sgrEmOff
	)
	tests := []struct {
		name  string
		in    string
		plain string
		tty   string
	}{
		{"bold", "Payment **PAY-1004** is **pending**.", "Payment PAY-1004 is pending.", "Payment " + b + "PAY-1004" + xb + " is " + b + "pending" + xb + "."},
		{"underscore bold", "__done__", "done", b + "done" + xb},
		{"star italics", "it is *really* late", "it is really late", "it is " + e + "really" + xe + " late"},
		{"underscore italics", "_note_: soon", "note: soon", e + "note" + xe + ": soon"},
		{"bold label with colon", "**Status:** claimed", "Status: claimed", b + "Status:" + xb + " claimed"},
		{"italics in bold", "**a *b* c**", "a b c", b + "a " + e + "b" + xe + " c" + xb},
		{"bold in bold stays", "**a __b__ c**", "a __b__ c", b + "a __b__ c" + xb},
		{"code", "run `firstline prompts check` now", "run firstline prompts check now", "run firstline prompts check now"},
		{"code keeps markers", "`**x**` and `a_b_`", "**x** and a_b_", "**x** and a_b_"},
		{"double backtick code", "``a ` b``", "a ` b", "a ` b"},
		{"bold around code", "**`15:04` Ada:** hi", "15:04 Ada: hi", b + "15:04 Ada:" + xb + " hi"},
		{"link", "see [the help page](https://example.com/help) please", "see the help page (https://example.com/help) please", "see the help page (https://example.com/help) please"},
		{"link label is address", "[https://example.com](https://example.com)", "https://example.com", "https://example.com"},
		{"link label bold", "[**docs**](https://x.test/a_b_c)", "docs (https://x.test/a_b_c)", b + "docs" + xb + " (https://x.test/a_b_c)"},
		{"bare address keeps markers", "go to https://x.test/_a_/*b* now", "go to https://x.test/_a_/*b* now", "go to https://x.test/_a_/*b* now"},
		{"bold around link", "**[a](https://x.test)**", "a (https://x.test)", b + "a (https://x.test)" + xb},
		{"heading", "## Your **payments**", "Your payments", b + "Your payments" + xb},
		{"heading closing hashes", "# Title ##", "Title", b + "Title" + xb},
		{"hash without space", "#1 in the queue", "#1 in the queue", "#1 in the queue"},
		{"dash bullets", "Here:\n- **PAY-1**: 5 EUR\n- PAY-2", "Here:\n• PAY-1: 5 EUR\n• PAY-2", "Here:\n• " + b + "PAY-1" + xb + ": 5 EUR\n• PAY-2"},
		{"star bullets nested", "* one\n  * two\n+ three", "• one\n  • two\n• three", "• one\n  • two\n• three"},
		{"numbered list", "1. **first**\n2) second", "1. first\n2) second", "1. " + b + "first" + xb + "\n2) second"},
		{"quote kept", "> my payment is *stuck*", "> my payment is stuck", "> my payment is " + e + "stuck" + xe},
		{"rule", "a\n---\nb", "a\n" + ruleLine + "\nb", "a\n" + ruleLine + "\nb"},
		{"fenced code", "```sh\nrm -rf **x**\n```\n**y**", "rm -rf **x**\ny", "rm -rf **x**\n" + b + "y" + xb},
		{"unclosed fence", "```\n**y**", "```\ny", "```\n" + b + "y" + xb},

		// Markers that pair with nothing are left alone.
		{"lone double star", "a ** b", "a ** b", "a ** b"},
		{"lone double star at end", "wait**", "wait**", "wait**"},
		{"unclosed bold", "**open and never closed", "**open and never closed", "**open and never closed"},
		{"arithmetic", "2*3*4 = 24", "2*3*4 = 24", "2*3*4 = 24"},
		{"spaced arithmetic", "5 * 3 * 2", "5 * 3 * 2", "5 * 3 * 2"},
		{"snake case", "set snake_case_words and __init__x", "set snake_case_words and __init__x", "set snake_case_words and __init__x"},
		{"triple stars", "***x***", "***x***", "***x***"},
		{"lone backtick", "it`s", "it`s", "it`s"},
		{"unfinished link", "[a](b", "[a](b", "[a](b"},
		{"bold across lines", "**a\nb**", "**a\nb**", "**a\nb**"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (renderer{}).render(tt.in); got != tt.plain {
				t.Errorf("plain render(%q) = %q; want %q", tt.in, got, tt.plain)
			}
			if got := (renderer{ansi: true}).render(tt.in); got != tt.tty {
				t.Errorf("tty render(%q) = %q; want %q", tt.in, got, tt.tty)
			}
		})
	}
}

// A hostile reply cannot reach the terminal with control sequences of its
// own: they are removed before the renderer adds its SGR codes.
func TestRenderRemovesControls(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"csi", "\x1b[2J\x1b[31m **red**", "[2J[31m red"},
		{"osc hyperlink", "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\", "]8;;https://evil.test\\click]8;;\\"},
		{"escape between markers", "*\x1b*x**", "x"},
		{"c1 csi", "a\u009b31mb", "a31mb"},
		{"raw c1 byte", "a\x9bb", "a\uFFFDb"},
		{"bel nul del cr", "a\x07\x00\x7f\r\nb", "a\nb"},
		{"tab kept", "a\tb", "a\tb"},
		{"bidi overrides", "pay \u202eSUE\u202c now \u2066x\u2069", "pay SUE now x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := (renderer{ansi: true}).render(tt.in)
			if strip := stripSGR(got); strip != tt.want {
				t.Errorf("render(%q) = %q; want %q without SGR", tt.in, got, tt.want)
			}
			if plain := (renderer{}).render(tt.in); plain != tt.want {
				t.Errorf("plain render(%q) = %q; want %q", tt.in, plain, tt.want)
			}
		})
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"Payment **PAY-1004** is **pending**.",
		"- **a**: *b* `c`\n1. [d](https://e.test/_f_)\n# g",
		"2*3*4 snake_case ** _a_b_ __x__ ***y***",
		"\x1b[31m**\x1b]8;;x\x07**\u009b\u202e",
		"```\n**x**\n```",
		"**a *b **c** d* e**",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain := (renderer{}).render(s)
		tty := (renderer{ansi: true}).render(s)
		if strings.ContainsRune(plain, '\x1b') {
			t.Fatalf("plain output holds ESC: %q", plain)
		}
		rest := stripSGR(tty)
		if strings.ContainsRune(rest, '\x1b') {
			t.Fatalf("tty output holds ESC outside the renderer's SGR codes: %q", tty)
		}
		if rest != plain {
			t.Fatalf("tty output without its codes differs from plain:\n%q\n%q", rest, plain)
		}
		for _, out := range []string{plain, tty} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8: %q", out)
			}
			if strings.ContainsFunc(strings.ReplaceAll(out, "\x1b", ""), func(r rune) bool { return clean(string(r)) == "" }) {
				t.Fatalf("output holds a control character: %q", out)
			}
		}
		// Every line closes what it opens, so no style leaks into the
		// prefix of the next line.
		for _, l := range strings.Split(tty, "\n") {
			if strings.Count(l, sgrBold) != strings.Count(l, sgrBoldOff) || strings.Count(l, sgrEm) != strings.Count(l, sgrEmOff) {
				t.Fatalf("unbalanced SGR codes in line %q", l)
			}
		}
	})
}

func stripSGR(s string) string {
	return strings.NewReplacer(sgrBold, "", sgrBoldOff, "", sgrEm, "", sgrEmOff, "").Replace(s)
}

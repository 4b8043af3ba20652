package discord

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{name: "fits", text: "hello **there**", limit: 40, want: []string{"hello **there**"}},
		{name: "exactly the limit", text: strings.Repeat("a", 40), limit: 40, want: []string{strings.Repeat("a", 40)}},
		{name: "empty", text: "", limit: 40, want: nil},
		{name: "only whitespace", text: " \n\n \t", limit: 40, want: nil},
		{
			name:  "paragraph break preferred",
			text:  "first paragraph is here.\n\nsecond paragraph is here, longer one.",
			limit: 40,
			want:  []string{"first paragraph is here.", "second paragraph is here, longer one."},
		},
		{
			name:  "then a line break",
			text:  "line one\nline two is a bit longer\nline three",
			limit: 40,
			want:  []string{"line one\nline two is a bit longer", "line three"},
		},
		{
			name:  "then a space",
			text:  "alpha beta gamma delta epsilon zeta eta theta",
			limit: 40,
			want:  []string{"alpha beta gamma delta epsilon zeta", "eta theta"},
		},
		{
			name:  "then anywhere",
			text:  strings.Repeat("x", 100),
			limit: 40,
			want:  []string{strings.Repeat("x", 36), strings.Repeat("x", 36), strings.Repeat("x", 28)},
		},
		{
			name:  "never inside a rune",
			text:  strings.Repeat("é", 50) + strings.Repeat("😀", 10),
			limit: 40,
			want:  []string{strings.Repeat("é", 36), strings.Repeat("é", 14) + strings.Repeat("😀", 10)},
		},
		{
			name:  "a code block cut in two is closed and reopened",
			text:  "```go\nfmt.Println(1)\nfmt.Println(2)\nfmt.Println(3)\n```",
			limit: 40,
			want:  []string{"```go\nfmt.Println(1)\nfmt.Println(2)\n```", "```go\nfmt.Println(3)\n```"},
		},
		{
			name:  "a short break early in the window is not taken",
			text:  "a\n" + strings.Repeat("b", 30) + " " + strings.Repeat("c", 20),
			limit: 40,
			want:  []string{"a\n" + strings.Repeat("b", 30), strings.Repeat("c", 20)},
		},
	}
	for _, tt := range tests {
		got := split(tt.text, tt.limit)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: split (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSplitDiscordLimit(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Lorem ipsum dolor sit amet. ", 300) // 8,400 characters
	parts := split(text, MaxMessageLen)
	if len(parts) != 5 {
		t.Errorf("%d parts, want 5", len(parts))
	}
	for i, p := range parts {
		if n := utf8.RuneCountInString(p); n > MaxMessageLen || n < MaxMessageLen/2 && i < len(parts)-1 {
			t.Errorf("part %d: %d characters", i, n)
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, seed := range []string{
		"", "hello", strings.Repeat("word ", 100), strings.Repeat("é😀\n", 60),
		"```go\n" + strings.Repeat("x := 1\n", 30) + "```\ntext after",
		"```\nunclosed " + strings.Repeat("y", 80), "\xff\xfe" + strings.Repeat("z", 90),
	} {
		f.Add(seed, uint16(0))
	}
	f.Fuzz(func(t *testing.T, text string, extra uint16) {
		limit := minSplitLimit + int(extra%200)
		parts := split(text, limit)
		for i, p := range parts {
			if n := utf8.RuneCountInString(p); n > limit {
				t.Fatalf("part %d has %d characters, limit %d", i, n, limit)
			}
			if strings.TrimSpace(p) == "" {
				t.Fatalf("part %d is empty", i)
			}
			if utf8.ValidString(text) && !utf8.ValidString(p) {
				t.Fatalf("part %d is not valid UTF-8: %q", i, p)
			}
		}
		if strings.TrimSpace(text) != "" && len(parts) == 0 {
			t.Fatalf("no parts for %q", text)
		}
		// Without code fences nothing is added: only whitespace at the
		// cuts may go.
		if !strings.Contains(text, "`") {
			if got, want := strings.Join(strings.Fields(strings.Join(parts, "")), ""), strings.Join(strings.Fields(text), ""); got != want {
				t.Fatalf("content changed:\n got %q\nwant %q", got, want)
			}
		}
	})
}

func TestFitOne(t *testing.T) {
	t.Parallel()
	if got := fitOne("short", 40); got != "short" {
		t.Errorf("fitOne(short) = %q", got)
	}
	long := strings.Repeat("card line\n", 10) + "**Status:** resolved"
	got := fitOne(long, 60)
	if utf8.RuneCountInString(got) > 60 || !strings.HasSuffix(got, "…\n**Status:** resolved") {
		t.Errorf("fitOne = %q, want ≤ 60 characters ending with the status", got)
	}
	got = fitOne(strings.Repeat("é", 100), 60)
	if utf8.RuneCountInString(got) != 60 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("fitOne = %q", got)
	}
}

func TestToDiscord(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"**bold**, _italics_, `code`, [link](https://x.example)", "**bold**, _italics_, `code`, [link](https://x.example)"},
		{"# Title\n### Kept", "# Title\n### Kept"},
		{"#### Deeper heading ##", "**Deeper heading**"},
		{"see ![receipt](https://x.example/r.png)", "see [receipt](https://x.example/r.png)"},
		{"hey @everyone and @here", "hey @\u200beveryone and @\u200bhere"},
		{"```\n@everyone\n#### not a heading\n```", "```\n@everyone\n#### not a heading\n```"},
		{"mail me at a@here.example", "mail me at a@here.example"},
	}
	for _, tt := range tests {
		if got := toDiscord(tt.in); got != tt.want {
			t.Errorf("toDiscord(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRelayTextEscapesName(t *testing.T) {
	t.Parallel()
	if got, want := relayText("*Bob*_the_agent", "hi **there**"), `\*Bob\*\_the\_agent (support): hi **there**`; got != want {
		t.Errorf("relayText = %q, want %q", got, want)
	}
}

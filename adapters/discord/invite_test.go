package discord

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestInviteURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, clientID string
	}{
		{"snowflake", "1100000000000000001"},
		{"escaped", "a&b=c"},
	}
	for _, tt := range tests {
		got := InviteURL(tt.clientID)
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if u.Scheme != "https" || u.Host != "discord.com" || u.Path != "/oauth2/authorize" {
			t.Errorf("%s: %s: want https://discord.com/oauth2/authorize", tt.name, got)
		}
		q := u.Query()
		if q.Get("client_id") != tt.clientID || q.Get("scope") != "bot applications.commands" || len(q) != 3 {
			t.Errorf("%s: query %v: want client_id, scope=bot applications.commands, permissions only", tt.name, q)
		}
		// View Channels, Send Messages, Read Message History, Create
		// Public Threads, Create Private Threads, Send Messages in
		// Threads; nothing else.
		if want := "377957190656"; q.Get("permissions") != want {
			t.Errorf("%s: permissions = %s, want %s", tt.name, q.Get("permissions"), want)
		}
	}
	if Permissions != 1<<10|1<<11|1<<16|1<<35|1<<36|1<<38 {
		t.Errorf("Permissions = %d", Permissions)
	}
}

func TestClientIDFromToken(t *testing.T) {
	t.Parallel()
	id := "1100000000000000001"
	std := base64.StdEncoding.EncodeToString([]byte(id))
	raw := base64.RawStdEncoding.EncodeToString([]byte(id))
	short := base64.RawURLEncoding.EncodeToString([]byte("80351110224678912"))
	tests := []struct {
		name, token, want string
		wantErr           bool
	}{
		{name: "bare", token: raw + ".GhJkLm.secretpart", want: id},
		{name: "with Bot prefix and spaces", token: "  Bot " + raw + ".GhJkLm.secretpart\n", want: id},
		{name: "padded", token: std + ".x.y", want: id},
		{name: "shorter id", token: short + ".x.y", want: "80351110224678912"},
		{name: "empty", token: "", wantErr: true},
		{name: "no dots", token: raw, wantErr: true},
		{name: "not base64", token: "!!!.x.secretpart", wantErr: true},
		{name: "not an id", token: base64.RawStdEncoding.EncodeToString([]byte("hello")) + ".x.secretpart", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ClientIDFromToken(tt.token)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: got %q, want an error", tt.name, got)
			} else if strings.Contains(err.Error(), "secretpart") {
				t.Errorf("%s: the error repeats the token: %v", tt.name, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: ClientIDFromToken = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

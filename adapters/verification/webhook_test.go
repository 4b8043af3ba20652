package verification_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firstlinehq/firstline/adapters/verification"
	"github.com/firstlinehq/firstline/bot"
)

var code = bot.VerificationCode{CustomerID: "C-1001", Email: "ada@example.com", Code: "042917"}

func TestSendCode(t *testing.T) {
	var got map[string]string
	var auth, ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, ctype = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("decode body: %v", err)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	w, err := verification.New(verification.Config{URL: srv.URL + "/codes", Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SendCode(t.Context(), code); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	want := map[string]string{"customer_id": "C-1001", "email": "ada@example.com", "code": "042917"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("body[%s] = %q, want %q", k, got[k], v)
		}
	}
	if auth != "Bearer s3cret" || ctype != "application/json" {
		t.Errorf("headers: Authorization %q, Content-Type %q", auth, ctype)
	}
}

// Failures say what went wrong, and never repeat the code, the email, the
// token or what the webhook answered.
func TestSendCodeFailures(t *testing.T) {
	release := make(chan struct{}) // ends the slow handler once the client gave up
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "cannot mail ada@example.com code 042917", http.StatusInternalServerError)
		}, "HTTP 500"},
		{"refused", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		}, "FIRSTLINE_VERIFY_TOKEN"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			<-release
		}, "call the webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			w, err := verification.New(verification.Config{URL: srv.URL + "/?key=s3cret", Token: "s3cret", Timeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = w.SendCode(t.Context(), code)
			if tt.name == "slow" {
				close(release)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SendCode = %v, want an error mentioning %q", err, tt.want)
			}
			for _, secret := range []string{"042917", "ada@example.com", "s3cret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds %q", err, secret)
				}
			}
		})
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com", "example.com/codes", "https://"} {
		if _, err := verification.New(verification.Config{URL: u}); err == nil {
			t.Errorf("New(%q): no error", u)
		}
	}
}

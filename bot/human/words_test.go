package human

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Where's my RÉFUND?!", []string{"wheres", "my", "refund"}},
		{"  människa, bitte…  ", []string{"manniska", "bitte"}},
		{"!!!", []string{}},
		{"PAY-1001 status", []string{"pay", "1001", "status"}},
	}
	for _, tt := range tests {
		if got := Words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

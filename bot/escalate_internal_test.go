package bot

import "testing"

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float64
	}{
		{"Where is my refund?", "where is my refund", 1, 1},
		{"Where's my refund??", "where is my refund", 0.8, 0.95},
		{"how long does a refund take", "how long does the refund take", 0.8, 0.95},
		{"how long does a refund take", "what is the status of PAY-1001", 0, 0.4},
		{"status of PAY-1001", "status of PAY-1002", 0.8, 0.95}, // alike, but see TestSameQuestion
		{"", "anything", 0, 0},
	}
	for _, tt := range tests {
		got := similarity(normalized(tt.a), normalized(tt.b))
		if got < tt.min || got > tt.max {
			t.Errorf("similarity(%q, %q) = %.2f, want %.2f to %.2f", tt.a, tt.b, got, tt.min, tt.max)
		}
		if back := similarity(normalized(tt.b), normalized(tt.a)); back != got {
			t.Errorf("similarity is not symmetric: %.3f, %.3f", got, back)
		}
	}
}

func TestCutCannotHelp(t *testing.T) {
	tests := []struct {
		in, want string
		marked   bool
	}{
		{"I can't help with that. [cannot_help]", "I can't help with that.", true},
		{"[Cannot Help] Sorry.", "Sorry.", true},
		{"Sorry [ cannot-help ]", "Sorry", true},
		{"Your payment is settled.", "Your payment is settled.", false},
		{"[cannot_help]", "", true},
	}
	for _, tt := range tests {
		got, marked := cutCannotHelp(tt.in)
		if got != tt.want || marked != tt.marked {
			t.Errorf("cutCannotHelp(%q) = %q, %v; want %q, %v", tt.in, got, marked, tt.want, tt.marked)
		}
	}
}

func TestSameQuestion(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Where's my refund??", "where is my refund", true},
		{"status of PAY-1001", "status of PAY-1002", false},
		{"status of PAY-1001", "Status of pay-1001?", true},
		{"how long does a refund take", "can I change my address", false},
	}
	for _, tt := range tests {
		if got := sameQuestion(normalized(tt.a), normalized(tt.b), 0.8); got != tt.same {
			t.Errorf("sameQuestion(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

// sameQuestion reports whether two normalized messages ask the same thing:
// alike enough, and with the same numbers ("status of PAY-1001" and
// "status of PAY-1002" are two questions, however alike they read).
func sameQuestion(a, b string, threshold float64) bool {
	return newQuestion(a).same(b, threshold)
}

// similarity is the Dice coefficient of the character bigrams of a and b:
// 1 for equal texts, near 1 for a word dropped or a typo ("wheres my
// refund" and "where is my refund" score 0.88), low for different
// questions.
func similarity(a, b string) float64 {
	if a == b {
		return 1
	}
	return newQuestion(a).dice(b)
}

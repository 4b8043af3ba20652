package prompts

import "testing"

func TestMatchFAQ(t *testing.T) {
	entries := []FAQEntry{
		{ID: "refund-time", Keywords: []string{"refund", "money back"}},
		{ID: "change-card", Keywords: []string{"card", "payment method"}},
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"one word", "When do I get my REFUND?", "refund-time"},
		{"several words", "I want my money back now", "refund-time"},
		{"words must be consecutive", "money, I want it back", ""},
		{"whole words only", "discard this", ""},
		{"first entry wins", "refund to my card", "refund-time"},
		{"multi-word keyword across punctuation", "update the payment-method? no: payment method", "change-card"},
		{"nothing", "hello there", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := MatchFAQ(entries, tc.text)
			if got := e.ID; got != tc.want || ok != (tc.want != "") {
				t.Errorf("MatchFAQ(%q) = %q, %v; want %q", tc.text, got, ok, tc.want)
			}
		})
	}
}

// The shipped FAQ's keywords all select their own entry, so that neither
// the offline model nor the topic labels lose an entry to an earlier one.
func TestDefaultFAQKeywordsSelectTheirEntry(t *testing.T) {
	set := Default()
	for _, e := range set.FAQ {
		for _, k := range e.Keywords {
			got, ok := MatchFAQ(set.FAQ, k)
			if !ok {
				t.Errorf("keyword %q of %s matches nothing", k, e.ID)
				continue
			}
			if got.ID != e.ID {
				t.Errorf("keyword %q of %s selects %s first", k, e.ID, got.ID)
			}
		}
	}
}

package bot

import "testing"

func TestDetectLang(t *testing.T) {
	tests := []struct {
		text string
		want string
		ok   bool
	}{
		{"what is the status of my payment?", "en", true},
		{"why did my payment fail, please help", "en", true},
		{"varför har min betalning inte gått igenom?", "sv", true},
		{"hej, jag vill veta vad som hände med min betalning", "sv", true},
		{"warum ist meine Zahlung nicht angekommen?", "de", true},
		{"Hallo, ich habe eine Frage zu meiner Zahlung", "de", true},
		{"¿por qué mi pago no está listo?", "es", true},
		{"hola, quiero saber el estado de mis pagos", "es", true},
		{"pourquoi mon paiement est bloqué ?", "fr", true},
		{"bonjour, je ne comprends pas mes paiements", "fr", true},
		{"PAY-1002", "", false},
		{"ok", "", false},
		{"", "", false},
		{"12345 !!!", "", false},
	}
	for _, tt := range tests {
		got, ok := DetectLang(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DetectLang(%q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzDetectLang(f *testing.F) {
	f.Add("what is the status of my payment?")
	f.Add("varför har min betalning inte gått igenom?")
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := DetectLang(s)
		if ok != (code != "") {
			t.Fatalf("DetectLang(%q) = %q, %v", s, code, ok)
		}
		if _, known := langStopwords[code]; ok && !known {
			t.Fatalf("unknown code %q", code)
		}
	})
}

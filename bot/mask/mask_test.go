package mask

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		wantN int
	}{
		// Card numbers.
		{"card plain", "my card is 4111111111111111", "my card is [card ••••1111]", 1},
		{"card spaces", "4111 1111 1111 1111", "[card ••••1111]", 1},
		{"card dashes", "4111-1111-1111-1111", "[card ••••1111]", 1},
		{"card amex 4-6-5", "amex 3782 822463 10005 ok", "amex [card ••••0005] ok", 1},
		{"card 13 digits", "old visa 4222222222222", "old visa [card ••••2222]", 1},
		{"card 19 digits", "6011 0009 9013 9424 009", "[card ••••4009]", 1},
		{"card at start", "5555555555554444 is my card", "[card ••••4444] is my card", 1},
		{"card at end with period", "Card: 5555-5555-5555-4444.", "Card: [card ••••4444].", 1},
		{"card in parentheses", "(4111 1111 1111 1111)", "([card ••••1111])", 1},
		{"card in quotes", `"4111111111111111"`, `"[card ••••1111]"`, 1},
		{"card glued to letters", "nr4111111111111111x", "nr[card ••••1111]x", 1},
		{"card after hash", "#4111111111111111", "#[card ••••1111]", 1},
		{"card after unrelated number", "ref 12 4111 1111 1111 1111", "ref 12 [card ••••1111]", 1},
		{"card with unicode around", "Kortnummer: 4111 1111 1111 1111 — tack! 🙏", "Kortnummer: [card ••••1111] — tack! 🙏", 1},
		{"card between CJK", "卡号4111111111111111谢谢", "卡号[card ••••1111]谢谢", 1},
		{"two cards", "4111111111111111 or 5555 5555 5555 4444?", "[card ••••1111] or [card ••••4444]?", 2},
		{"two cards in one chain", "4111 1111 1111 1111 5105 1051 0510 5100", "[card ••••1111] [card ••••5100]", 2},
		// 5555 4444 4111 1111 is Luhn-valid too: overlapping windows are masked as one.
		{"overlapping card windows", "5555 5555 5555 4444 4111 1111 1111 1111", "[card ••••1111]", 1},
		{"card and newline", "card\n4111111111111111\nthanks", "card\n[card ••••1111]\nthanks", 1},

		// Card numbers in other formats (issue 17).
		{"card dots", "4111.1111.1111.1111", "[card ••••1111]", 1},
		{"card slashes", "kort 4111/1111/1111/1111 tack", "kort [card ••••1111] tack", 1},
		{"card underscores", "Karte 4111_1111_1111_1111 bitte", "Karte [card ••••1111] bitte", 1},
		{"card mixed separators", "4111 1111-1111 1111", "[card ••••1111]", 1},
		{"card over two lines", "my card is 4111 1111\n1111 1111 thanks", "my card is [card ••••1111] thanks", 1},
		{"card over two lines crlf", "Mi tarjeta: 4111 1111\r\n1111 1111, gracias", "Mi tarjeta: [card ••••1111], gracias", 1},
		{"card one group a line", "4111\n1111\n1111\n1111", "[card ••••1111]", 1},
		{"card tab", "4111\t1111\t1111\t1111", "[card ••••1111]", 1},
		{"card full-width", "Mon numéro : ４１１１ １１１１ １１１１ １１１１, merci", "Mon numéro : [card ••••1111], merci", 1},
		{"card full-width compact", "卡号４１１１１１１１１１１１１１１１谢谢", "卡号[card ••••1111]谢谢", 1},
		{"card zero-width space", "Kortnummer 4111\u200b1111\u200b1111\u200b1111 tack", "Kortnummer [card ••••1111] tack", 1},
		{"card zero-width non-joiner", "4111\u200c1111\u200c1111\u200c1111", "[card ••••1111]", 1},
		{"card zero-width joiner", "Kartennummer: 41\u200d11111111111111.", "Kartennummer: [card ••••1111].", 1},
		{"card word joiner", "4111\u20601111\u20601111\u20601111", "[card ••••1111]", 1},
		{"card byte order mark", "\ufeff4111111111111111", "\ufeff[card ••••1111]", 1},
		{"card soft hyphen", "4111\u00ad1111\u00ad1111\u00ad1111", "[card ••••1111]", 1},
		{"card invisible and separator", "4111 \u200b1111 1111 1111", "[card ••••1111]", 1},
		{"card no-break spaces", "numéro 4111\u00a01111\u00a01111\u00a01111", "numéro [card ••••1111]", 1},
		// Text around a secret hidden by normalization is normalized too;
		// text around a plain secret is kept as written.
		{"hidden card normalizes the rest", "Min kort… 4111\u200b1111\u200b1111\u200b1111", "Min kort... [card ••••1111]", 1},
		{"plain card keeps the rest", "Min kort… 4111 1111 1111 1111 👨\u200d👩\u200d👧", "Min kort… [card ••••1111] 👨\u200d👩\u200d👧", 1},

		// Digit runs that are not card numbers.
		{"order number", "Bestellung PAY-1004 ist offen", "Bestellung PAY-1004 ist offen", 0},
		{"date slashes", "paid 2026/12/07", "paid 2026/12/07", 0},
		{"date dots", "betalt 07.12.2026 kl. 10.30", "betalt 07.12.2026 kl. 10.30", 0},
		{"luhn valid date list over lines", "2024-04-30\n2024-05-01", "2024-04-30\n2024-05-01", 0},
		{"luhn valid date list slashes", "2024/04/30 2024/05/01", "2024/04/30 2024/05/01", 0},
		{"amount with thousands", "Ich habe 1.234.567,89 EUR bezahlt", "Ich habe 1.234.567,89 EUR bezahlt", 0},
		{"phone dots", "ring 070.123.45.67", "ring 070.123.45.67", 0},
		{"full-width order", "注文ＰＡＹ－１００４", "注文ＰＡＹ－１００４", 0},

		{"luhn invalid", "4111 1111 1111 1112", "4111 1111 1111 1112", 0},
		{"luhn invalid plain", "order 4111111111111112", "order 4111111111111112", 0},
		{"payment reference", "payment PAY-1002 failed", "payment PAY-1002 failed", 0},
		{"phone number", "call me on +46 70 123 45 67", "call me on +46 70 123 45 67", 0},
		{"date", "paid on 2024-01-15", "paid on 2024-01-15", 0},
		{"luhn valid date list", "2024-04-30 2024-05-01", "2024-04-30 2024-05-01", 0},
		{"amount", "I paid 120.00 EUR", "I paid 120.00 EUR", 0},
		{"short run", "order 123456", "order 123456", 0},
		{"12 digits", "411111111111", "411111111111", 0},
		{"20 digits luhn valid", "41111111111111111115", "41111111111111111115", 0},
		{"25 digits containing a card", "4111111111111111123456785", "4111111111111111123456785", 0},
		{"double spaces split groups", "4111  1111  1111  1111", "4111  1111  1111  1111", 0},
		{"mixed separators between short groups", "41 11 11-11 11 11 11 11", "41 11 11-11 11 11 11 11", 0},
		{"timestamp", "2024-01-15 10:30:00", "2024-01-15 10:30:00", 0},

		// IBANs.
		{"iban grouped", "IBAN DE89 3704 0044 0532 0130 00", "IBAN [iban ••••3000]", 1},
		{"iban compact", "GB82WEST12345698765432", "[iban ••••5432]", 1},
		{"iban lower case", "gb82 west 1234 5698 7654 32", "[iban ••••5432]", 1},
		{"iban shortest", "NO9386011117947", "[iban ••••7947]", 1},
		{"iban longest", "LC55 HEMM 0001 0001 0012 0012 0002 3015", "[iban ••••3015]", 1},
		{"iban ends in letter", "MT84MALT011000012345MTLCAST001S", "[iban ••••001S]", 1},
		{"iban then short word", "BE68 5390 0754 7034 ok", "[iban ••••7034] ok", 1},
		{"iban then punctuation", "SE45 5000 0000 0583 9825 7466, tack!", "[iban ••••7466], tack!", 1},
		{"iban in unicode text", "Mitt IBAN är «SE4550000000058398257466».", "Mitt IBAN är «[iban ••••7466]».", 1},
		{"iban bad checksum", "DE88 3704 0044 0532 0130 00", "DE88 3704 0044 0532 0130 00", 0},
		{"iban check digits 00", "GB00WEST12345698765432", "GB00WEST12345698765432", 0},
		{"iban glued to word", "xGB82WEST12345698765432", "xGB82WEST12345698765432", 0},
		{"iban too short", "DE89 3704 0044", "DE89 3704 0044", 0},
		{"iban and card", "DE89370400440532013000 4111111111111111", "[iban ••••3000] [card ••••1111]", 2},

		// Labelled CVV codes and PINs.
		{"cvv", "cvv 123", "cvv [redacted]", 1},
		{"cvc colon", "CVC: 1234", "CVC: [redacted]", 1},
		{"cvv2 equals", "cvv2=987", "cvv2=[redacted]", 1},
		{"security code", "the security code is 321.", "the security code is [redacted].", 1},
		{"pin", "pin 4321", "pin [redacted]", 1},
		{"my pin is", "my pin is 1234", "my pin is [redacted]", 1},
		{"pin code", "PIN code: 987654!", "PIN code: [redacted]!", 1},
		{"pin with unicode", "Min PIN är… nej: pin 4321 🙂", "Min PIN är… nej: pin [redacted] 🙂", 1},
		{"cvv too long", "cvv 12345", "cvv 12345", 0},
		{"pin too short", "pin 12", "pin 12", 0},
		{"pin without digits", "drop a pin on the map", "drop a pin on the map", 0},
		{"pin inside word", "spin 1234 times", "spin 1234 times", 0},
		{"pin digits glued to letters", "pin 1234abc", "pin 1234abc", 0},
		{"unlabelled digits", "code 123", "code 123", 0},

		// Labelled passwords.
		{"password colon", "password: hunter2", "password: [redacted]", 1},
		{"my password is", "my password is hunter2", "my password is [redacted]", 1},
		{"password equals", "Password=\"s3cr€t\" thanks", "Password=[redacted] thanks", 1},
		{"password with unicode", "lösenord? password: pässwörd✓ tack", "lösenord? password: [redacted] tack", 1},
		{"password is wrong", "my password is wrong.", "my password is wrong.", 0},
		{"password without label", "I reset my password yesterday", "I reset my password yesterday", 0},
		{"password question", "What is my password?", "What is my password?", 0},
		{"password at end", "password:", "password:", 0},
		{"password is a card", "password: 4111111111111111", "password: [card ••••1111]", 1},
		{"pw space", "my pw hunter2 thanks", "my pw [redacted] thanks", 1},
		{"pw colon", "PW: hunter2", "PW: [redacted]", 1},
		{"pwd space", "pwd hunter2", "pwd [redacted]", 1},
		{"pwd is", "pwd is hunter2", "pwd is [redacted]", 1},
		{"pass colon", "user anna pass: hunter2", "user anna pass: [redacted]", 1},
		{"pass equals", "pass=hunter2", "pass=[redacted]", 1},
		{"passwd space", "passwd hunter2", "passwd [redacted]", 1},
		{"password zero-width", "pass\u200bword: hunter2", "password: [redacted]", 1},
		{"losenord colon", "Hej! Mitt lösenord: hunter2, tack", "Hej! Mitt lösenord: [redacted] tack", 1},
		{"losenord ar", "mitt lösenord är hunter2", "mitt lösenord är [redacted]", 1},
		{"passwort ist", "Mein Passwort ist hunter2 – danke", "Mein Passwort ist [redacted] – danke", 1},
		{"passwort equals", "Passwort=hunter2", "Passwort=[redacted]", 1},
		{"contrasena es", "Mi contraseña es hunter2, gracias", "Mi contraseña es [redacted] gracias", 1},
		{"contrasena colon", "contraseña: hunter2", "contraseña: [redacted]", 1},
		{"mot de passe est", "Mon mot de passe est hunter2, merci", "Mon mot de passe est [redacted] merci", 1},
		{"mot de passe colon", "Mot de passe : hunter2", "Mot de passe : [redacted]", 1},
		{"pass the salt", "please pass the salt", "please pass the salt", 0},
		{"pass without label", "I could not pass the check", "I could not pass the check", 0},
		{"pw forgotten", "I forgot my pw", "I forgot my pw", 0},
		{"pw is wrong", "my pw is wrong", "my pw is wrong", 0},
		{"losenord fel", "mitt lösenord är fel", "mitt lösenord är fel", 0},
		{"passwort falsch", "Mein Passwort ist falsch", "Mein Passwort ist falsch", 0},
		{"contrasena incorrecta", "mi contraseña es incorrecta", "mi contraseña es incorrecta", 0},
		{"mot de passe oublie", "mot de passe oublié", "mot de passe oublié", 0},
		{"mot alone", "un mot de plus", "un mot de plus", 0},

		// Email addresses are kept.
		{"email kept", "mail me at anna@example.com", "mail me at anna@example.com", 0},

		// Several secrets.
		{
			"everything",
			"Card 4111 1111 1111 1111, cvv 123, IBAN DE89 3704 0044 0532 0130 00, pin 9876, password: p@ss — tack 😊",
			"Card [card ••••1111], cvv [redacted], IBAN [iban ••••3000], pin [redacted], password: [redacted] — tack 😊",
			5,
		},
		{"empty", "", "", 0},
		{"no secrets", "Hej! Var är min betalning? 💸", "Hej! Var är min betalning? 💸", 0},
		{"no secrets german", "Grüß Gott, wo ist meine Zahlung? Straße 12…", "Grüß Gott, wo ist meine Zahlung? Straße 12…", 0},
		{"no secrets decomposed", "Fo\u0308rsta betalningen", "Fo\u0308rsta betalningen", 0},
		{"no secrets full-width", "ｆｉｌｅ　ＰＡＹ－１００４ ﬁx ①", "ｆｉｌｅ　ＰＡＹ－１００４ ﬁx ①", 0},
		{"no secrets emoji", "Tack 👨\u200d👩\u200d👧 🇸🇪 ❤\ufe0f", "Tack 👨\u200d👩\u200d👧 🇸🇪 ❤\ufe0f", 0},
		{"no secrets CJK", "我的付款在哪里？ありがとう 감사합니다", "我的付款在哪里？ありがとう 감사합니다", 0},
		{"no secrets invisible", "soft\u00adhyphen and zero\u200bwidth", "soft\u00adhyphen and zero\u200bwidth", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := Text(tt.in)
			if got != tt.want || n != tt.wantN {
				t.Errorf("Text(%q) = %q, %d; want %q, %d", tt.in, got, n, tt.want, tt.wantN)
			}
			if again, n := Text(got); again != got || n != 0 {
				t.Errorf("Text(%q) = %q, %d; want it unchanged, 0", got, again, n)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "from anna@example.com:", "from [email]:"},
		{"plus and subdomain", "<anna.svensson+test@mail.example.co.uk>", "<[email]>"},
		{"sentence end", "Write to support@firstline.example.", "Write to [email]."},
		{"two", "a@b.se, c@d.se", "[email], [email]"},
		{"unicode", "åsa@exempel.se skrev", "[email] skrev"},
		{"mailto", "mailto:x@y.io", "mailto:[email]"},
		{"quoted", "email='x@y.io'", "email='[email]'"},
		{"leading dot", ".a@b.se", ".[email]"},
		{"no domain dot", "a@localhost", "a@localhost"},
		{"one letter tld", "a@b.c", "a@b.c"},
		{"numeric tld", "a@1.2.3.4", "a@1.2.3.4"},
		{"handle", "ping @anna", "ping @anna"},
		{"no local part", "@example.com", "@example.com"},
		{"double at", "a@@b.se", "a@@b.se"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Email(tt.in)
			if got != tt.want {
				t.Errorf("Email(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if again := Email(got); again != got {
				t.Errorf("Email(%q) = %q; want it unchanged", got, again)
			}
		})
	}
}

func TestTextAllocations(t *testing.T) {
	// Text copies nothing when there is nothing to mask.
	clean := "Hi! I paid 120.00 EUR on 2024-01-15 (PAY-1002), call +46 70 123 45 67. Thanks 🙂"
	if n := testing.AllocsPerRun(100, func() { Text(clean) }); n != 0 {
		t.Errorf("Text(%q) made %v allocations; want 0", clean, n)
	}
}

// pieces are fragments of messages that exercise the boundaries between the
// kinds of secrets: glued together, they must still be masked consistently.
var pieces = []string{
	"4111111111111111", "4111 1111 1111 1111", "5105-1051-0510-5100",
	"DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "gb82west12345698765432",
	"MT84MALT011000012345MTLCAST001S", "NO9386011117947",
	"cvv", "pin", "password", "security code", "is", ":", " ", "-",
	"123", "1234", "7", "x", "é", "\xff", "[card ••••1111]", "[redacted]",
}

func checkText(t *testing.T, s string) {
	t.Helper()
	got, n := Text(s)
	if n < 0 || (n == 0) != (got == s) {
		t.Fatalf("Text(%q) = %q, %d: count does not match the change", s, got, n)
	}
	if utf8.ValidString(s) && !utf8.ValidString(got) {
		t.Fatalf("Text(%q) = %q: not valid UTF-8", s, got)
	}
	if again, n := Text(got); again != got || n != 0 {
		t.Fatalf("Text(%q) = %q, but Text(%q) = %q, %d", s, got, got, again, n)
	}
	if runs := luhnRuns(got); len(runs) > 0 {
		t.Fatalf("Text(%q) = %q: card numbers %q survive", s, got, runs)
	}
}

// TestTextPieces checks the properties of FuzzText on every concatenation of
// up to four pieces, which random fuzzing is unlikely to build: valid IBANs
// and card numbers glued to each other and to labels.
func TestTextPieces(t *testing.T) {
	depth := 4
	if testing.Short() {
		depth = 3
	}
	var build func(prefix string, left int)
	build = func(prefix string, left int) {
		checkText(t, prefix)
		if left == 0 {
			return
		}
		for _, p := range pieces {
			build(prefix+p, left-1)
		}
	}
	build("", depth)
}

// luhnRuns returns the maximal runs of 13 to 19 ASCII digits in s that pass
// the Luhn check.
func luhnRuns(s string) []string {
	var runs []string
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if n := j - i; n >= minCardDigits && n <= maxCardDigits && luhn([]byte(s[i:j])) {
			runs = append(runs, s[i:j])
		}
		i = j
	}
	return runs
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"4111 1111 1111 1111, cvv 123",
		"4111111111111111DE89370400440532013000",
		"GB82WEST123456987654324111111111111111",
		"IBAN DE89 3704 0044 0532 0130 00 pin 1234",
		"password: hunter2 and my password is s3cret",
		"pin 1234 5678 9012 3456 7",
		"security code 123",
		"+46 70 123 45 67 2024-01-15 120.00 PAY-1002",
		"Kortnummer: 4111-1111-1111-1111 — tack! 🙏",
		"password: abc4111111111111111",
		"\xff4111111111111111\xfe",
		"4111.1111.1111.1111", "4111/1111/1111/1111", "4111_1111_1111_1111",
		"4111 1111\n1111 1111", "4111 1111\r\n1111 1111", "2026/12/07 PAY-1004",
		"４１１１ １１１１ １１１１ １１１１", "4111\u200b1111\u200c1111\u200d1111",
		"4111\u20601111\ufeff1111\u00ad1111", "4111111111111111\u200b1",
		"pw hunter2", "pwd hunter2", "pass: hunter2", "lösenord är hunter2",
		"Passwort ist hunter2", "contraseña: hunter2", "mot de passe est hunter2",
		"Min kort… 4111\u200b1111 1111 1111 👨\u200d👩\u200d👧",
	} {
		f.Add(s)
	}
	for _, p := range pieces {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkText(t, s)
		checkSeparatedCard(t, s)
	})
}

// cardSeparators are the separators a customer may put between the groups
// of a card number, visible or not.
var cardSeparators = []string{
	"", " ", "-", ".", "/", "_", "\n", "\r\n", "\t", "\u00a0", "\u3000",
	"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", " \u200b",
}

// checkSeparatedCard checks that the Luhn-valid 4111 1111 1111 1111, its
// groups joined by separators that the bytes of s choose, in ASCII or in
// full-width digits, and set in a sentence, is masked.
func checkSeparatedCard(t *testing.T, s string) {
	t.Helper()
	first, group := "4111", "1111"
	if len(s) > 3 && s[3]&1 == 1 {
		first, group = "４１１１", "１１１１"
	}
	card := first
	for i := range 3 {
		sep := cardSeparators[0]
		if i < len(s) {
			sep = cardSeparators[int(s[i])%len(cardSeparators)]
		}
		card += sep + group
	}
	in := "Card " + card + " — tack"
	got, n := Text(in)
	if n != 1 || strings.ContainsAny(strings.Replace(got, "1111]", "", 1), "0123456789") {
		t.Fatalf("Text(%q) = %q, %d: the card number survives", in, got, n)
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"a@b.se", "x@y.z.a@b.com", "åsa@exempel.se.", "a@b@c.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Email(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Email(%q) = %q: not valid UTF-8", s, got)
		}
		if again := Email(got); again != got {
			t.Fatalf("Email(%q) = %q, but Email(%q) = %q", s, got, got, again)
		}
	})
}

func BenchmarkText(b *testing.B) {
	inputs := []struct{ name, text string }{
		{"clean", "Hi! I paid 120.00 EUR on 2024-01-15 (PAY-1002) but the order still says pending. Can you check? Thanks 🙂"},
		{"secrets", "Card 4111 1111 1111 1111, cvv 123, IBAN DE89 3704 0044 0532 0130 00, pin 9876, password: hunter2 — tack!"},
		{"clean unicode", "Hej! Jag betalade 120,00 kr den 7/12 (PAY-1004) men ordern står som väntande… Grüße, ありがとう 🙂"},
		{"hidden card", "Kort: ４１１１\u200b１１１１\u200b１１１１\u200b１１１１, lösenord är hunter2 — tack!"},
		{"long", strings.Repeat("Hej, min order 123456 från 2024-01-15 gick inte igenom, kort 4111 1111 1111 1111. ", 200)},
		{"digit chain", strings.Repeat("1 ", 10000)},
		{"iban-like", strings.Repeat("DE89", 10000)},
		{"labels", strings.Repeat("pin is is password ", 5000)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				Text(in.text)
			}
		})
	}
}

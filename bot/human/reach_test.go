package human

import "testing"

// TestReach checks the reach-and-target rule (reach.go) with the shipped
// phrase file, on phrasings that no phrase of it lists.
func TestReach(t *testing.T) {
	m := mustDefaultMatcher(t)
	tests := []struct {
		text string
		want bool
	}{
		// Intent, connecting words, target.
		{"how do i get hold of your support team", true},
		{"could you connect me with one of your advisors", true},
		{"hello i would like to talk to an advisor", true},
		{"im so done with this bot, get me a representitive", true}, // two typos in a long word
		{"i need to spaek with someone", true},                      // one in a five-letter one
		{"I'd like a call from one of your staff", true},
		{"escalate this to a supervisor please", true},
		{"hand me over to one of your colleagues", true},
		{"i need help from customer service, not a bot", true},
		{"hur nar jag er kundtjanst", true},
		{"jag vill eskalera det har till en chef", true},
		{"wie nehme ich kontakt mit dem kundenservice auf", true},
		{"gibt es einen ansprechpartner fur mich", true},
		{"quiero hablar con el encargado", true},
		{"me comunicas con un ejecutivo", true},
		{"je veux parler au responsable", true},
		{"comment contacter le service clientele", true},
		// The verb last (German).
		{"kann ich mit ihrem vorgesetzten sprechen", true},
		{"kann ich einen berater erreichen", true},
		{"ich habe nicht darum gebeten, mit jemandem zu sprechen", false}, // governed by a negated clause
		{"ich will mit keinem menschen sprechen", false},                  // negated
		// A target, then a verb of helping.
		{"can a human call me back", true},
		{"can someone from your team help me", true},
		{"kann mir jemand vom kundenservice helfen", true},
		{"me puede ayudar un asesor", true},
		{"un conseiller peut m'aider", true},
		{"une personne peut regarder ca", true},
		{"someone used my card", false},
		{"someone called me claiming to be you", false},
		{"alguien me llamó, ¿es real?", false},
		{"is a human check needed for big transfers", false},
		// Whom, not a bot, complaints.
		{"who can I talk to about my refund", true},
		{"con quien puedo hablar", true},
		{"mit wem kann ich sprechen", true},
		{"who did you talk to", false},
		{"jag vill prata med er, inte med en robot", true},
		{"je veux vous parler, pas a un robot", true},
		{"I talked to the bot, it was fine", false},
		{"quiero poner una queja con un supervisor", true},
		{"vart ringer jag kundtjanst", true},
		{"donde llamo a atencion al cliente", true},
		{"ich will mich bei einem vorgesetzten beschweren", true},
		// Bare targets.
		{"advisor?", true},
		{"support agent pls", true},
		{"customer service?", true},
		{"support?", false}, // a team word alone may be about the product
		{"my manager", false},
		// Other questions that mention people.
		{"can I add another person to my account?", false},
		{"how do I contact the merchant?", false},
		{"can a person have two cards?", false},
		{"who is the account holder", false},
		{"how do I reach the settings page", false},
		{"can someone else use my card", false},
		{"how do i send money to another person", false},
		{"need to transfer to a person in spain", false},
		{"can i transfer to someone without their account number", false},
		{"i need to talk to my manager first", false},
		{"ich mochte mit meinem berater bei der bank sprechen", false},
		{"is there a person limit on group payments", false},
		{"I need customer service hours", false},
		{"i need an operator code for the terminal", false},
		{"I need support with a chargeback", false},
		{"finns det nagon avgift for att byta kort", false}, // "någon" before a noun is "any"
		{"kan nagon annan se mitt saldo", false},
		{"quiero pagar a otra persona", false},
		{"comment contacter l'autre personne de la transaction", false},
		{"how do I change the person on the account", false}, // "change" is not French "échanger"
		{"the app says \"contact support\", what does that mean?", false},
		{"\"can i contact someone", true}, // a stray quotation mark quotes nothing
		// Protected look-alikes.
		{"je veux de l'argent", false}, // not "agent"
		{"i need to get stuff done", false},
		{"i want to manage my account", false},
		{"need my statement for my employer", false},
		{"finns det nagot satt att sanka avgiften", false}, // "något", not "någon"
		// Negations and Except phrases apply.
		{"I don't want to contact anyone", false},
		{"I didn't ask to talk to an advisor", false},
		{"I can't reach an advisor", true},
		{"no puedo comunicarme con un asesor", true},
	}
	for _, tt := range tests {
		got, ok := m.Match(tt.text)
		if ok != tt.want {
			t.Errorf("Match(%q) = %v %+v, want %v", tt.text, ok, got, tt.want)
		}
	}
}

// TestReachOffForOtherLists checks that the rule is off for a list that
// names no target in its Alone phrases, as the disconnect and frustration
// matchers are built.
func TestReachOffForOtherLists(t *testing.T) {
	for _, l := range []Lang{
		{Code: "en", Alone: []string{"disconnect my account"}, Fillers: []string{"please"}},
		{Code: "en", Phrases: []string{"this is useless"}, Negations: []string{"not"}},
	} {
		m, err := NewMatcher([]Lang{l})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"could you connect me with one of your advisors", "advisor?"} {
			if got, ok := m.Match(s); ok {
				t.Errorf("%+v: Match(%q) = %+v, want no match", l, s, got)
			}
		}
	}
	m, err := NewMatcher([]Lang{{Code: "en", Alone: []string{"agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Match("could you connect me with one of your advisors"); !ok || got.Lang != "en" ||
		got.Phrase != "connect me with one of your advisors" {
		t.Errorf("with a target among Alone: Match = %+v, %v; want the reach rule's words", got, ok)
	}
}

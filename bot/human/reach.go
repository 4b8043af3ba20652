package human

import "strings"

// The reach-and-target rule: phrase lists do not generalize (a table tuned
// to 100% found three in four requests written after it), so a request is
// also recognized by its structure, for the languages below:
//
//   - Reach: an intent to reach someone ("talk", "contact", "get hold of",
//     "put me through", "is there", "quiero", "ich möchte") followed, in the
//     same clause and with at most reachWindow connecting words in between
//     ("to", "one of your", "a real", "mit einem"), by a target, a support
//     person ("human", "agent", "someone", "customer service", "Mitarbeiter").
//     German also puts the verb last: a target followed by a verb of
//     speaking ("mit einem Mitarbeiter sprechen", "einen Berater erreichen").
//   - Helper: a target followed, within a few connecting words, by a verb of
//     helping or calling ("can a human help me", "kann mir jemand vom
//     Kundenservice helfen", "un conseiller peut m'aider").
//   - Bare: a short sentence, or the short last clause of one, that is
//     nothing but targets and connecting words ("advisor?", "support agent
//     pls", "the manager").
//   - Whom: the customer asking whom to speak to, at the start of a clause
//     or after a preposition ("who can I talk to", "con quién puedo
//     hablar", "mit wem kann ich sprechen"; not "who did you talk to").
//   - Not a bot: a verb of speaking or contact, and in another clause of the
//     sentence a negated machine ("jag vill prata med er, inte med en
//     robot").
//
// The pairing is what keeps other questions out: "contact the merchant" and
// "reach the settings page" name no target; "add another person", "someone
// used my card" and "can a person have two cards" have no intent before the
// target (and "add", "used" and "have" are not connecting words, so they end
// an intent's reach). Three kinds of target are told apart:
//
//   - role targets (human, agent, manager, Berater) are a support person
//     wherever they stand;
//   - person targets (person, someone, jemand, alguien, quelqu'un) are one
//     only when no determiner or qualifier makes them a particular or other
//     person ("the person who sent it", "another person", "someone else",
//     "la persona equivocada"), and Swedish "någon", which is also "any",
//     only when no noun follows it ("finns det någon avgift");
//   - team targets (support, service, team) only after a verb of contact,
//     not after "want" or "need" ("I need support with ..."), unless the
//     word for customer goes with them ("I need customer service").
//
// After "want", "need" and "is there", a target must end its clause or be
// followed by a word that cannot be the noun it qualifies (en, sv, de, es,
// fr lists of followers): "is there a person limit", "I need an operator
// code", "I need customer service hours" are not requests. A person target
// followed by a relative clause ("contact a person who sent me money") is
// one only after a verb of speaking or when the clause says the person can
// help ("contact someone who can help"). A first-person possessive makes a
// role target one's own ("my manager", "mein Berater bei der Bank").
//
// Verbs that move something ("transfer", "connect", "pasar", "passer") count
// only with a role target or an object pronoun near them ("transfer me to
// someone", not "transfer money to someone").
//
// Typos: intent and target words of 5 to 7 letters match within one edit, of
// 8 or more within two, shorter ones only exactly; protected words never
// match by typo, being other words one edit away ("argent" is not "agent",
// "stuff" is not "staff", "manage" is not "manager", "något" is not
// "någon"). Connecting words and qualifiers match exactly.
//
// The negation, ability and Except rules of the phrase file apply as to a
// phrase starting at the intent (or, for the helper and verb-last shapes, at
// the target): "I don't want to talk to someone" and "I didn't ask to talk
// to someone" are not requests, "I can't reach anyone" is.
//
// The words are a fixed list for the shipped languages, like ability: the
// phrase file's format is validated by other parts of Firstline. The rule
// is on for a language of the phrase file only when its Alone list names one
// of the language's targets, so that the matchers built from other lists
// (disconnect and frustration phrases) never use it; and it is tried only
// when no phrase and no Alone phrase matched, so it only ever adds matches.
//
// Known limits: a request with more than reachWindow words between intent
// and target ("je veux être pris en charge par une personne"); a target the
// tables lack; a request that names nobody ("talk to you, not the app");
// words run together ("Ineed", "tospeak"); a past or third-person verb one
// edit from an intent that is not protected; and other people named by a
// role word with no possessive ("contact the manager of the shop").

// reachWindow is how many connecting words may stand between an intent and
// its target, and between a target and its verb of helping.
const reachWindow = 6

// Roles of a word in a language's reach table.
const (
	rComm       uint32 = 1 << iota // talk, contact, reach: takes any target
	rWant                          // want, need, get: not a team target
	rMove                          // transfer, connect: a role target, or an object pronoun near
	rEscalate                      // escalate: any words may stand before the target
	rLast                          // a verb of speaking that may also come after the target (German)
	rRole                          // human, agent, manager
	rPerson                        // person, someone: unless qualified
	rTeam                          // support, service, team
	rDetPron                       // Swedish "någon": a person only when no noun follows
	rCustomer                      // customer: makes a team target a role target
	rHelp                          // help, call: after a target
	rConn                          // connecting word: to, with, a, the, one of your
	rObj                           // object pronoun: me, mig, mich
	rQualBefore                    // the, another, my: before a person target
	rQualAfter                     // else: after a person target
	rFollower                      // what may follow "någon", or a target after "want"
	rSpeak                         // talk, speak: a person target may be followed by a relative clause
	rRel                           // who, som, die, que, qui: a relative clause
	rMine                          // my, mein, mi, mon: before a role target, one's own (manager)
	rWhom                          // who, vem, wem, quien, qui: "who can I talk to"
)

const (
	rIntent = rComm | rWant | rMove | rEscalate
	rTarget = rRole | rPerson | rTeam
	// rFuzzy are the roles a typo may stand for.
	rFuzzy = rIntent | rLast | rTarget | rHelp | rSpeak
)

// reachTable is one language's words, normalized as messages are, separated
// by spaces. An intent of two words ("is there") is written joined by "+":
// the role goes to the last word, and only when the word before it is the
// first.
type reachTable struct {
	comm, speak, want, move, escalate, last string
	role, person, team, detPron, customer   string
	help, conn, obj, qualBefore, qualAfter  string
	followers, rel, mine, whom              string
	// verbLast: a target followed by an rLast verb is a request.
	verbLast bool
	// helpFirst: a verb of helping may come before its target ("me puede
	// ayudar un asesor").
	helpFirst bool
	// wantFollowers: a person target after an rWant intent must be followed
	// by the end of its clause or a follower.
	wantFollowers bool
}

var reachTables = map[string]reachTable{
	"en": {
		speak: "talk talking speak speaking chat chatting converse",
		rel:   "who that which",
		mine:  "my",
		whom:  "who whom",
		comm: "contact contacting reach reaching call calling a+word " +
			"ring phone hold touch communicate converse callback complain complaint",
		want:     "want wanna need like prefer demand request get give gimme find is+there are+there theres",
		move:     "connect connected transfer transferred put pass send switch hand forward redirect",
		escalate: "escalate escalated",
		role: "human humans agent agents representative representatives rep reps operator operators staff " +
			"employee employees manager managers supervisor supervisors advisor advisors adviser advisers " +
			"consultant consultants specialist specialists personnel colleague colleagues assistant assistants",
		person:   "person people someone somebody anyone anybody individual",
		team:     "support service team care desk helpdesk department",
		customer: "customer customers client",
		help:     "help assist call contact look answer ring phone reach",
		conn: "to with from of one your ur you some a an the me us i in on through for please pls plz " +
			"now right just real actual live proper human back line help touch over directly again there " +
			"here member members able be speak talk who can could that around online w preferably ideally " +
			"fucking fuckin freaking frigging effing damn bloody goddamn f cking", // "a f*cking agent"
		obj:        "me us",
		qualBefore: "the this that my his her their our another other wrong same different each every",
		qualAfter:  "else elses",
		// After "want", "need", "is there": "is there a person limit" is
		// not "is there a person".
		followers: "who that to i you on at in with from for please pls plz available here there now asap " +
			"so and or but thanks thank today right immediately again being help support assistance",
		wantFollowers: true,
	},
	"sv": {
		speak: "prata pratar snacka snackar tala talar chatta",
		rel:   "som",
		mine:  "min mitt mina",
		whom:  "vem",
		comm: "kontakta kontaktar kontakt ringa ringer ring na nar uppringd uppringt aterringning klagomal klaga " +
			"samtal fa+tag fram",
		want:     "vill behover onskar fa ge finns",
		move:     "koppla kopplad kopplas skicka satt slussa",
		escalate: "eskalera",
		role: "manniska manniskor agent agenter agenten handlaggare handlaggaren operator personal " +
			"personalen medarbetare anstalld chef chefen ansvarig radgivare kundtjanst kundtjansten " +
			"kundservice kundsupport kundtjanstmedarbetare supportagent",
		person:   "person",
		detPron:  "nagon nan ngn",
		team:     "support supporten team teamet",
		customer: "kund",
		help:     "hjalpa hjalper titta kolla ringa kontakta svara",
		conn:     "med till en ett er ert era din ditt jag pa av fran hos riktig riktiga levande verklig hjalp tack snalla du ni kan som mig oss att det dar har nagon",
		obj:      "mig oss",
		followers: "som att jag pa hos fran av med dar har tack snalla nu direkt ni i kan ringa for idag " +
			"snarast omgaende",
		wantFollowers: true,
		// "den", "min", "annan", "fel", "samma".
		qualBefore: "den denna min mitt hans hennes deras annan andra fel samma",
		qualAfter:  "annan annat annans",
	},
	"de": {
		speak:         "sprechen spreche reden rede chatten quatschen telefonieren gesprach",
		rel:           "der die das den dem welche welcher",
		mine:          "mein meinem meinen meine meiner",
		whom:          "wem wen",
		followers:     "bitte jetzt sofort der die das fur zum am an ans schnell mal endlich da hier",
		wantFollowers: true,
		comm: "schreiben erreichen erreiche " +
			"kontaktieren kontaktiere kontakt anrufen anruf ruckruf gesprach ruft ruf beschwerde beschweren ist+da sind+da",
		want:     "will mochte mochten brauche brauchen hatte gib geben bekomme bekommen wunsche gibt+es",
		move:     "verbinden verbinde verbindet weiterleiten leite leiten stell stellen stellt durchstellen",
		escalate: "eskalieren",
		last: "sprechen reden chatten schreiben telefonieren quatschen erreichen kontaktieren anrufen " +
			"eskalieren weiterleiten verbinden beschweren",
		role: "mensch menschen agent agenten mitarbeiter mitarbeiterin mitarbeitern berater beraterin " +
			"kundenberater ansprechpartner ansprechpartnerin sachbearbeiter sachbearbeiterin operator " +
			"vorgesetzten vorgesetzter vorgesetzte chef chefin kundenservice kundendienst supportmitarbeiter " +
			"servicemitarbeiter verantwortlichen angestellten angestellter angestellte",
		person:   "person personen jemand jemanden jemandem",
		team:     "support service team hotline",
		customer: "kunden zum", // "ich will zum Support"
		help:     "helfen hilft ansehen anschauen anrufen zuruckrufen kontaktieren melden kummern",
		conn: "mit zu zum zur an einen einem einer eine ein den dem der die mal bitte echten echter echte " +
			"richtigen vom von aus ihrem ihren ihr euren eurem nem nen ner ne gerne gern ans am hilfe kann " +
			"konnte mir mich sich soll das es ich sie du doch jetzt sofort verdammten verdammte scheiss",
		obj:        "mich uns mir",
		qualBefore: "andere anderen anderer anderes weitere weiteren falsche falschen meine meinen meinem mein dieser diese diesen der die den dem",
		qualAfter:  "anderes anders sonst",
		verbLast:   true,
	},
	"es": {
		speak: "hablar hablo hablemos conversar chatear",
		rel:   "que quien",
		mine:  "mi mis",
		whom:  "quien",
		followers: "que de del para ya ahora por porfa porfavor real verdad urgente ahi aqui con disponible " +
			"humano gracias",
		wantFollowers: true,
		comm: "llamo queja quejarme reclamar reclamo contactar contactarme contacto comunicarme " +
			"comunicar comunicame comuniqueme comunico comunicas comunicarse llamar llamen llame llamarme llamada " +
			"atienda atiendan atender pasame paseme pasarme ponme pongame ponerme transfiereme transferirme " +
			"conectame derivame",
		want:     "quiero quisiera necesito necesitamos deseo dame deme denme busco hay ocupo gustaria urge",
		move:     "pasar transferir transfiera conectar derivar",
		escalate: "escalar",
		role: "humano humanos agente agentes asesor asesora asesores operador operadora representante " +
			"representantes ejecutivo ejecutiva encargado encargada gerente supervisor supervisora " +
			"empleado empleada empleados jefe",
		person:   "persona personas alguien",
		team:     "soporte servicio atencion equipo",
		customer: "cliente clientes",
		help: "ayudar ayude ayuden ayudarme ayudeme revisar revise revisarlo revisen atender atienda " +
			"llamar llame llamarme contactar contactarme",
		conn: "con a al el la los las un una de del por favor porfa ya ahora real verdad alguna algun su " +
			"sus tu me nos puede pueda podria que cliente hable maldito maldita puto puta",
		obj:        "me nos ayudarme ayudeme llamarme contactarme revisarlo",
		qualBefore: "otra otro otras otros misma mismo equivocada equivocado esa ese esta este mi mis la el",
		qualAfter:  "mas otra",
		helpFirst:  true,
	},
	"fr": {
		speak: "parler discuter mentretenir entretenir",
		rel:   "qui que",
		mine:  "mon ma mes",
		whom:  "qui",
		followers: "svp stp qui pour au a de du tout maintenant vite disponible en ici la merci sil " +
			"humain reel reelle",
		wantFollowers: true,
		comm: "plainte reclamation contacter contacte joindre appeler appelle mappeler rappeler rappele " +
			"rappelee en+relation en+contact",
		want: "veux voudrais voudrai aimerais jaimerais souhaite souhaiterais besoin donnez donne avoir " +
			"obtenir y+a ya faut cherche",
		move:     "passer passez passe transferer transferez mettre mettez rediriger orienter",
		escalate: "remonter escalader",
		role: "humain humains agent agents conseiller conseillere conseillers operateur operatrice " +
			"interlocuteur interlocutrice responsable superviseur directeur directrice employe employes " +
			"gestionnaire personnel",
		person:   "personne personnes quelquun quelqu qqn",
		team:     "support service equipe lequipe",
		customer: "client clients clientele",
		help:     "aider maider aide regarder verifier appeler mappeler rappeler contacter soccuper",
		conn: "a au aux avec un une le la les l d de du des dun dune laide aide quun que svp stp vrai " +
			"vraie reel reelle en chez vous votre vos tout suite moi me nous peut pourrait puisse qui pour " +
			"etre client parle par pris charge putain foutu aupres daupres",
		obj:        "moi me nous maider mappeler",
		qualBefore: "la le cette ce cet mon ma mes son sa autre mauvaise meme",
		qualAfter:  "dautre autre",
	},
}

// reachProtected are words one or two edits from an intent or target word
// that are other words; they match only themselves. Kept per language, but
// applied to every language, since customers mix them.
var reachProtected = map[string]bool{
	// English.
	"persona": true, "personal": true, "personally": true, "personality": true, "agenda": true,
	"urgent": true, "stuff": true, "contract": true, "contracts": true, "contacts": true, "teach": true,
	"someones": true, "somebodys": true, "anyones": true, "manage": true, "managed": true,
	"manages": true, "managing": true, "operate": true, "operated": true, "operation": true,
	"operations": true, "supported": true, "supports": true, "employer": true, "employers": true,
	"employed": true, "advise": true, "advised": true, "humane": true, "transfers": true,
	"persons": true, // "a person's account"
	// Swedish.
	"nagot": true, "personlig": true, "personliga": true, "handlare": true, "handlaren": true,
	// German.
	"argent": true, "personlich": true, "sprache": true, "sprachen": true, "erreichbar": true,
	"kontakte": true,
	// Spanish.
	"personales": true, "personalizado": true, "contactos": true, "empleo": true, "operacion": true,
	// Spanish and French past tenses of intents, one edit from them: "ya
	// hablé con un agente", "alguien me llamó", "j'ai parlé à quelqu'un".
	"hable": true, "llama": true, "llamaron": true, "contacte": true,
	"parle": true, "parlee": true, "appele": true,
	// German past participles: "ich habe mit einem Mitarbeiter telefoniert".
	"telefoniert": true, "kontaktiert": true, "erreicht": true, "geredet": true, "gesprochen": true,
	// French.
	"personnelle": true, "personnelles": true, "personnaliser": true,
}

// reachLang is a reach table compiled against the Matcher's vocabulary.
type reachLang struct {
	lang          int32 // index in Matcher.langs
	verbLast      bool
	helpFirst     bool
	wantFollowers bool
	// lead maps a word's id to the words (ids) that must come right before
	// it for its intent role to count ("there" after "is").
	lead map[int32][]int32
}

// reachRole is a vocabulary word's roles in one language's table.
type reachRole struct {
	lang  int32 // index in Matcher.reach
	roles uint32
	// led: the intent roles count only after a lead word (see reachLang.lead).
	led bool
}

// reachTolerance is how many typos an intent or target word of n letters
// absorbs in the reach rule.
func reachTolerance(n int) uint8 {
	switch {
	case n < 5:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// compileReach adds the reach tables of the languages that use them to the
// vocabulary, which must have all its other words already and not be
// finished, and returns them compiled: by table, and each vocabulary word's
// roles. alone holds each language's Alone phrases, normalized.
func compileReach(tk *tokenizer, v *vocabulary, langs []Lang, alone [][][]string) ([]reachLang, [][]reachRole) {
	type entry struct {
		lang  int32
		words []string
		roles uint32
	}
	var entries []entry
	for li, l := range langs {
		t, ok := reachTables[strings.ToLower(strings.TrimSpace(l.Code))]
		if !ok {
			continue
		}
		var mine []entry
		targets := make(map[string]bool)
		add := func(list string, roles uint32) {
			for _, item := range strings.Fields(list) {
				var ws []string
				for _, part := range strings.Split(item, "+") {
					tk.reset()
					tk.run(part, 0)
					for j := range tk.toks {
						ws = append(ws, string(tk.word(j)))
					}
				}
				if len(ws) == 0 {
					continue
				}
				if roles&rTarget != 0 || roles&rDetPron != 0 {
					targets[ws[len(ws)-1]] = true
				}
				mine = append(mine, entry{int32(li), ws, roles})
			}
		}
		add(t.comm, rComm)
		add(t.speak, rComm|rSpeak)
		add(t.rel, rRel)
		add(t.mine, rMine)
		add(t.whom, rWhom)
		add(t.want, rWant)
		add(t.move, rMove)
		add(t.escalate, rEscalate|rComm)
		add(t.last, rLast)
		add(t.role, rRole)
		add(t.person, rPerson)
		add(t.team, rTeam)
		add(t.detPron, rPerson|rDetPron)
		add(t.customer, rCustomer)
		add(t.help, rHelp)
		add(t.conn, rConn)
		add(t.obj, rObj|rConn)
		add(t.qualBefore, rQualBefore)
		add(t.qualAfter, rQualAfter)
		add(t.followers, rFollower)
		// On only for a list of requests for a person: one whose Alone
		// phrases name a target.
		on := false
		for _, p := range alone[li] {
			for _, w := range p {
				if targets[w] {
					on = true
				}
			}
		}
		if on {
			entries = append(entries, mine...)
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	// Qualifiers of every language apply to each: customers mix them, and
	// a filler of one language connects words of another ("change the
	// person" is not French "échanger" with a person).
	var quals []entry
	langsOn := make(map[int32]bool)
	for _, e := range entries {
		langsOn[e.lang] = true
		if e.roles&(rQualBefore|rQualAfter) != 0 {
			quals = append(quals, e)
		}
	}
	for li := range langsOn {
		for _, q := range quals {
			if q.lang != li {
				entries = append(entries, entry{li, q.words, q.roles})
			}
		}
	}
	var reach []reachLang
	index := make(map[int32]int32) // Matcher.langs index → Matcher.reach index
	for _, e := range entries {
		if _, ok := index[e.lang]; !ok {
			index[e.lang] = int32(len(reach))
			reach = append(reach, reachLang{
				lang:          e.lang,
				verbLast:      reachTables[strings.ToLower(strings.TrimSpace(langs[e.lang].Code))].verbLast,
				helpFirst:     reachTables[strings.ToLower(strings.TrimSpace(langs[e.lang].Code))].helpFirst,
				wantFollowers: reachTables[strings.ToLower(strings.TrimSpace(langs[e.lang].Code))].wantFollowers,
				lead:          make(map[int32][]int32),
			})
		}
		for _, w := range e.words {
			v.addReach(w, e.roles&rFuzzy != 0)
		}
	}
	roles := make([][]reachRole, len(v.words))
	for _, e := range entries {
		ri := index[e.lang]
		last := v.index[e.words[len(e.words)-1]]
		led := len(e.words) > 1
		if led {
			rl := &reach[ri]
			for _, w := range e.words[:len(e.words)-1] {
				rl.lead[last] = append(rl.lead[last], v.index[w])
			}
		}
		rs := roles[last]
		found := false
		for k := range rs {
			if rs[k].lang == ri && rs[k].led == led {
				rs[k].roles |= e.roles
				found = true
			}
		}
		if !found {
			rs = append(rs, reachRole{lang: ri, roles: e.roles, led: led})
		}
		roles[last] = rs
	}
	return reach, roles
}

// reachRolesOf fills sc.roles with each message word's roles in reach table
// ri.
func (m *Matcher) reachRolesOf(sc *scratch, ri int32) (seen uint32) {
	toks := sc.tk.toks
	rl := &m.reach[ri]
	if cap(sc.roles) < len(toks) {
		sc.roles = make([]uint32, len(toks))
	}
	sc.roles = sc.roles[:len(toks)]
	v := m.vocab
	for i := range toks {
		t := &toks[i]
		// What a word is exactly beats what it may be a typo of: "person"
		// is not a typo of Swedish "personal".
		var roles, fuzzy uint32
		for _, h := range sc.hits[t.hitLo:t.hitHi] {
			for _, r := range m.reachRoles[h.id] {
				if r.lang != ri {
					continue
				}
				rs := r.roles
				if h.dist > 0 {
					if h.dist > reachTolerance(len(v.words[h.id].runes)) {
						continue
					}
					rs &= rFuzzy
				}
				if r.led {
					ok := false
					if i > 0 && toks[i-1].clause == t.clause {
						for _, id := range rl.lead[h.id] {
							if _, hit := sc.hitDist0(i-1, id); hit {
								ok = true
							}
						}
					}
					if !ok {
						continue
					}
				}
				if h.dist > 0 {
					fuzzy |= rs
				} else {
					roles |= rs
				}
			}
		}
		if roles == 0 && fuzzy != 0 && !reachProtected[string(sc.tk.word(i))] {
			roles = fuzzy
		}
		if t.filler {
			roles |= rConn
		}
		sc.roles[i] = roles
		seen |= roles
	}
	return seen
}

// hitDist0 reports whether message word i is exactly vocabulary word id.
func (sc *scratch) hitDist0(i int, id int32) (int32, bool) {
	d, ok := sc.hitDist(i, id)
	return d, ok && d == 0
}

// findReach applies the reach-and-target rule (see the top of this file)
// and records at most one candidate.
func (m *Matcher) findReach(sc *scratch) (reachMatch, bool) {
	for ri := range m.reach {
		// Every shape needs a target, "who" or a verb of speaking.
		if m.reachRolesOf(sc, int32(ri))&(rTarget|rWhom|rSpeak|rComm) == 0 {
			continue
		}
		if s, e, ok := m.reachIn(sc, int32(ri)); ok {
			return reachMatch{lang: m.reach[ri].lang, start: s, end: e}, true
		}
	}
	return reachMatch{}, false
}

type reachMatch struct {
	lang       int32
	start, end int
}

// reachIn finds the first span of the message that the rule accepts in
// reach table ri, whose roles are in sc.roles.
func (m *Matcher) reachIn(sc *scratch, ri int32) (int, int, bool) {
	toks := sc.tk.toks
	roles := sc.roles
	rl := &m.reach[ri]
	l := &m.langs[rl.lang]
	same := func(i, j int) bool { return toks[i].clause == toks[j].clause && toks[i].seg == toks[j].seg }
	ok := func(s, e int) bool { return !m.negated(sc, l, s) && !m.excepted(sc, s, e) && !toks[s].quoted }
	for i := range toks {
		r := roles[i]
		if rl.helpFirst && r&rHelp != 0 {
			r |= rHelp
		} else {
			r &^= rHelp
		}
		// Reach: intent, connecting words, target.
		if r&(rIntent|rHelp) != 0 {
			for j := i + 1; j < len(toks) && j <= i+reachWindow+1 && same(i, j); j++ {
				if roles[j]&rTarget != 0 && m.reachTargetOK(sc, rl, i, j, r) && ok(i, j+1) {
					return i, j + 1, true
				}
				// An intent between them has a scan of its own: "need to
				// transfer to a person" is "transfer to a person".
				if roles[j]&rIntent != 0 && r&rEscalate == 0 {
					break
				}
				if roles[j]&(rConn|rCustomer|rTarget|rLast) == 0 && r&rEscalate == 0 {
					break
				}
			}
		}
		// "who can I talk to", "con quién puedo hablar", "à qui je peux
		// parler": asking whom to speak to, at the start of a clause or
		// after a preposition.
		if r&rWhom != 0 && (i == 0 || toks[i-1].clause != toks[i].clause || roles[i-1]&rConn != 0) {
			// Asked by the customer: "who did you talk to" is not.
			first := false
			for k := i + 1; k < len(toks) && k <= i+3 && same(i, k); k++ {
				if roles[k]&rSpeak != 0 && first && ok(i, k+1) {
					return i, k + 1, true
				}
				first = first || firstPerson[string(sc.tk.word(k))]
			}
		}
		if r&rTarget == 0 || !m.personOK(sc, i) {
			continue
		}
		r = roles[i]
		// Helper, and the verb last: target, connecting words, verb.
		for k := i + 1; k < len(toks) && k <= i+reachWindow && same(i, k); k++ {
			// A person target needs an object pronoun ("someone help me")
			// or a word of ability ("une personne peut regarder ça").
			if roles[k]&rHelp != 0 && (r&rRole != 0 || sc.objNear(i-2, k+4) || sc.ableIn(i-2, k)) &&
				roles[i]&rTeam == 0 && !m.qualified(sc, i) && ok(i, k+1) {
				return i, k + 1, true
			}
			if rl.verbLast && roles[k]&rLast != 0 && m.reachTargetOK(sc, rl, k, i, rComm) && ok(i, k+1) &&
				!m.dependent(sc, l, k) {
				return i, k + 1, true
			}
			if roles[k]&(rConn|rCustomer|rTarget) == 0 {
				break
			}
		}
	}
	// Not a bot: a verb of speaking or contact, and in another clause a
	// negated machine ("jag vill prata med er, inte med en robot", "je veux
	// vous parler, pas à un robot").
	for n := range toks {
		if !toks[n].negation {
			continue
		}
		for b := n + 1; b < len(toks) && b <= n+3 && toks[b].clause == toks[n].clause; b++ {
			if botWords[string(sc.tk.word(b))] {
				for i := range toks {
					if roles[i]&(rSpeak|rComm) != 0 && toks[i].clause != toks[b].clause &&
						toks[i].sentence == toks[b].sentence && ok(i, i+1) {
						return min(i, n), max(i, b) + 1, true
					}
				}
				break
			}
			if roles[b]&rConn == 0 {
				break
			}
		}
	}
	// Bare: a short sentence, or the short last clause of one, of targets and
	// connecting words.
	for a := 0; a < len(toks); {
		b := a + 1
		for b < len(toks) && toks[b].sentence == toks[a].sentence {
			b++
		}
		c := b - 1
		for c > a && toks[c-1].clause == toks[b-1].clause {
			c--
		}
		if b-a <= 4 && m.bare(sc, a, b) {
			return a, b, true
		}
		if c > a && b-c <= maxLastClauseWords && m.bare(sc, c, b) {
			return c, b, true
		}
		a = b
	}
	return 0, 0, false
}

// dependent reports whether verb k is an infinitive ("zu sprechen") in a
// clause that a negated clause before it governs: "ich habe nicht darum
// gebeten, mit jemandem zu sprechen".
func (m *Matcher) dependent(sc *scratch, l *language, k int) bool {
	toks := sc.tk.toks
	if k == 0 || string(sc.tk.word(k-1)) != "zu" {
		return false
	}
	for j := k - 1; j >= 0 && toks[j].sentence == toks[k].sentence; j-- {
		if toks[j].clause != toks[k].clause && toks[j].exact >= 0 && l.negation[toks[j].exact] {
			return true
		}
	}
	return false
}

// bare reports whether the words [a, b) are targets and connecting words,
// with at least one target that stands on its own.
func (m *Matcher) bare(sc *scratch, a, b int) bool {
	found := false
	for i := a; i < b; i++ {
		r := sc.roles[i]
		switch {
		case r&rTarget != 0 && (r&rTeam == 0 || m.teamAsRole(sc, i)) && m.personOK(sc, i):
			found = true
		case r&(rConn|rCustomer|rTarget) != 0 && !sc.tk.toks[i].negation:
		default:
			return false
		}
	}
	return found && !m.excepted(sc, a, b)
}

// reachTargetOK reports whether target j goes with intent i, whose roles
// are r.
func (m *Matcher) reachTargetOK(sc *scratch, rl *reachLang, i, j int, r uint32) bool {
	t := sc.roles[j]
	if !m.personOK(sc, j) {
		return false
	}
	role := t&rRole != 0 || (t&rTeam != 0 && m.teamAsRole(sc, j))
	toks := sc.tk.toks
	next := uint32(0) // roles of the word after the target, in its clause
	if j+1 < len(toks) && toks[j+1].clause == toks[j].clause {
		next = sc.roles[j+1]
	}
	// "my manager", "mein Berater bei der Bank": one's own, not support.
	if j > 0 && sc.roles[j-1]&rMine != 0 && toks[j-1].clause == toks[j].clause {
		return false
	}
	// "contact a person who sent me money" is not "talk to someone who
	// works there" or "contact someone who can help".
	if !role && next&rRel != 0 && r&rSpeak == 0 && !sc.ableAfter(j+2) {
		return false
	}
	switch {
	case r&(rComm|rEscalate) != 0:
	case r&rMove != 0:
		// "transfer me to someone", "connect me with support", not
		// "transfer money to someone".
		if !role && !sc.objNear(i-2, i+3) {
			return false
		}
	case r&rWant != 0:
		if !role && t&rPerson == 0 {
			return false // "I need support with ..."
		}
		if rl.wantFollowers && j+1 < len(toks) && toks[j+1].clause == toks[j].clause &&
			next&(rFollower|rTarget|rLast) == 0 {
			return false // "is there a person limit", "I need an operator code"
		}
	case r&rHelp != 0:
		// "me puede ayudar un asesor", "puede revisarlo una persona", not
		// "¿puedo ayudar a alguien a pagar?".
		if t&rTeam != 0 || !role && !sc.objNear(i-2, i+1) {
			return false
		}
	default:
		return false
	}
	return true
}

// ableAfter reports whether a word of ability or of helping stands among
// the three message words from s on ("someone who can help", "alguien que
// sepa").
func (sc *scratch) ableAfter(s int) bool {
	for k := s - 1; k < s+3 && k < len(sc.roles); k++ {
		if k < 0 {
			continue
		}
		if sc.roles[k]&rHelp != 0 || sc.ability(k) || knows[string(sc.tk.word(k))] {
			return true
		}
	}
	return false
}

// botWords name a machine, which a customer who wants a person refuses.
var botWords = map[string]bool{
	"bot": true, "bots": true, "robot": true, "robots": true, "chatbot": true, "roboter": true,
	"maskin": true, "maskinen": true, "botten": true, "maquina": true, "machine": true, "ki": true,
	"ia": true, "ai": true, "automat": true,
}

// firstPerson are the words that make a question the customer's own: "who
// can I talk to", and Spanish verbs that carry their subject ("con quién
// puedo hablar").
var firstPerson = map[string]bool{
	"i": true, "we": true, "jag": true, "vi": true, "ich": true, "wir": true, "yo": true,
	"puedo": true, "debo": true, "tengo": true, "podemos": true, "je": true, "j": true, "nous": true,
}

// knows are words of knowing, which make a relative clause name a helper:
// "someone who knows", "alguien que sepa".
var knows = map[string]bool{
	"knows": true, "know": true, "understands": true, "vet": true, "kan": true, "weiss": true,
	"kennt": true, "sepa": true, "sabe": true, "entienda": true, "sait": true, "connait": true,
	"comprend": true,
}

// teamAsRole reports whether team target j goes with a word for customer
// ("customer service", "servicio al cliente", "service client").
func (m *Matcher) teamAsRole(sc *scratch, j int) bool {
	toks := sc.tk.toks
	for k := max(0, j-1); k <= j+2 && k < len(toks); k++ {
		if k != j && sc.roles[k]&rCustomer != 0 && toks[k].clause == toks[j].clause {
			return true
		}
	}
	return false
}

// personOK reports whether target j, when a person target, is not qualified
// as a particular or another person, and, when Swedish "någon", is not
// followed by a noun.
func (m *Matcher) personOK(sc *scratch, j int) bool {
	r := sc.roles[j]
	if r&rPerson == 0 || r&rRole != 0 {
		return true
	}
	if m.qualified(sc, j) {
		return false
	}
	toks := sc.tk.toks
	if j+1 < len(toks) && toks[j+1].clause == toks[j].clause {
		if sc.roles[j+1]&rQualAfter != 0 {
			return false
		}
		if r&rDetPron != 0 && sc.roles[j+1]&(rFollower|rTarget) == 0 {
			return false // "finns det någon avgift"
		}
	}
	return true
}

// qualified reports whether a qualifier stands right before target j, or
// one word before that ("the other person", "la persona", "this person").
func (m *Matcher) qualified(sc *scratch, j int) bool {
	toks := sc.tk.toks
	for k := j - 1; k >= 0 && k >= j-2 && toks[k].clause == toks[j].clause; k-- {
		if sc.roles[k]&rQualBefore != 0 {
			return true
		}
	}
	return false
}

// ableIn reports whether a word of ability stands among the message words
// [s, e).
func (sc *scratch) ableIn(s, e int) bool {
	for k := max(0, s); k < e && k < len(sc.roles); k++ {
		if sc.ability(k) {
			return true
		}
	}
	return false
}

// objNear reports whether an object pronoun stands among the message words
// [s, e).
func (sc *scratch) objNear(s, e int) bool {
	for k := max(0, s); k < e && k < len(sc.roles); k++ {
		if sc.roles[k]&rObj != 0 {
			return true
		}
	}
	return false
}

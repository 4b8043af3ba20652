package human

import (
	"bytes"
	"hash/maphash"
	"math"
	"strings"
)

// hit is a vocabulary word that a message word matches, and at what distance.
type hit struct {
	id   int32
	dist uint8
}

// candidate is a match before the best one is chosen.
type candidate struct {
	lang, idx  int32
	alone      bool
	start, end int32 // the message words it covers
	dist       int32 // typos, summed over its words
	words      int32 // length of the phrase, in words
}

// placement is one Alone phrase found inside a sentence.
type placement struct {
	lang, idx  int32
	start, end int32
	dist       int32
}

type span struct{ start, end int32 }

// scratch is the per-call working memory of Match, pooled by the Matcher.
type scratch struct {
	tk     tokenizer
	hits   []hit
	runes  []rune
	key    []byte
	tried  []int32
	rows   []int32 // for distance
	cands  []candidate
	places []placement
	roles  []uint32 // by message word, in one reach table (see reach.go)
	// Computed on first need in a call.
	exceptDone  bool
	exceptSpans []span
	evidence    []int32 // by language; -1: not computed
	// seen is an open-addressing set of the message's distinct words (token
	// index + 1; 0 is empty), so a repeated word ("the", "payment") is looked
	// up in the vocabulary once.
	seen []int32
	// The Alone dynamic programme, by words covered and "has an Alone phrase".
	dpCost  [][2]int32
	dpFirst [][2]int32
}

func (sc *scratch) reset(nlangs int) {
	sc.tk.reset()
	if sc.rows == nil {
		sc.rows = make([]int32, 3*64)
	}
	sc.hits = sc.hits[:0]
	sc.cands = sc.cands[:0]
	sc.exceptDone = false
	sc.exceptSpans = sc.exceptSpans[:0]
	if cap(sc.evidence) < nlangs {
		sc.evidence = make([]int32, nlangs)
	}
	sc.evidence = sc.evidence[:nlangs]
	for i := range sc.evidence {
		sc.evidence[i] = -1
	}
}

// Match reports whether text explicitly asks for a person, and which
// language's phrase it matched. When several match, it prefers the language
// most of the message's words belong to, then the longest phrase, then the
// one with fewer typos, then the earliest language and phrase in the file; so the
// result depends only on text and the phrase lists. It is safe for
// concurrent use.
func (m *Matcher) Match(text string) (Match, bool) {
	sc := m.pool.Get().(*scratch)
	defer m.pool.Put(sc)
	sc.reset(len(m.langs))

	head, tail := window(text, windowRunes)
	sc.tk.run(head, 0)
	if tail != "" {
		sc.tk.run(tail, 1)
	}
	if len(sc.tk.toks) == 0 {
		return Match{}, false
	}
	m.annotate(sc)
	m.findPhrases(sc)
	m.findAlone(sc)
	c, ok := m.best(sc)
	if !ok {
		// Only when no phrase matched: the reach rule adds matches and
		// changes none.
		if r, ok := m.findReach(sc); ok {
			return Match{Lang: m.langs[r.lang].code, Phrase: sc.spanText(r.start, r.end)}, true
		}
		return Match{}, false
	}
	l := &m.langs[c.lang]
	list := l.phrases
	if c.alone {
		list = l.alone
	}
	return Match{Lang: l.code, Phrase: list[c.idx].text}, true
}

// spanText returns the message words [s, e), normalized, joined by spaces.
func (sc *scratch) spanText(s, e int) string {
	var b strings.Builder
	b.Grow(int(sc.tk.toks[e-1].end-sc.tk.toks[s].start) + e - s)
	for i := s; i < e; i++ {
		if i > s {
			b.WriteByte(' ')
		}
		b.Write(sc.tk.word(i))
	}
	return b.String()
}

// annotate looks every message word up in the vocabulary.
func (m *Matcher) annotate(sc *scratch) {
	toks := sc.tk.toks
	size := 16
	for size < 2*len(toks) {
		size *= 2
	}
	if cap(sc.seen) < size {
		sc.seen = make([]int32, size)
	}
	sc.seen = sc.seen[:size]
	clear(sc.seen)
	mask := uint64(size - 1)

	for i := range toks {
		w := sc.tk.word(i)
		slot := maphash.Bytes(m.seed, w) & mask
		for sc.seen[slot] != 0 {
			if j := int(sc.seen[slot] - 1); bytes.Equal(sc.tk.word(j), w) {
				break
			}
			slot = (slot + 1) & mask
		}
		if j := sc.seen[slot]; j != 0 {
			// Seen before: same word, same hits.
			prev := &toks[j-1]
			t := &toks[i]
			t.exact, t.negation, t.filler = prev.exact, prev.negation, prev.filler
			t.hitLo, t.hitHi = prev.hitLo, prev.hitHi
			continue
		}
		sc.seen[slot] = int32(i + 1)
		m.annotateWord(sc, i, w)
	}
}

// annotateWord looks message word i, w, up in the vocabulary.
func (m *Matcher) annotateWord(sc *scratch, i int, w []byte) {
	v := m.vocab
	t := &sc.tk.toks[i]
	exact, ok := v.index[string(w)]
	if !ok {
		exact = -1
	}
	// A word only of the reach tables is looked up exactly, but the message
	// word stays unknown to the phrase rules, as before those tables.
	id := exact
	if exact >= 0 && !v.words[exact].listed {
		exact = -1
	}
	// A negation only ever matches itself: "keinen" is one edit from
	// "einen", "nicht" from "nich", and neither may pass for a filler or a
	// phrase word.
	neg := exact >= 0 && v.words[exact].negation
	t.hitLo = int32(len(sc.hits))
	v.lookup(sc, w, id, !neg)
	t.hitHi = int32(len(sc.hits))
	t.exact, t.negation = exact, neg
	switch {
	case neg:
	case exact >= 0:
		// A known word is what it is, not a typo of a filler: "pratat" (an
		// Except word) is not "prata".
		t.filler = v.words[exact].filler
	default:
		for _, h := range sc.hits[t.hitLo:t.hitHi] {
			if v.words[h.id].filler {
				t.filler = true
				break
			}
		}
	}
}

// hitDist returns the distance at which message word i matches vocabulary id.
func (sc *scratch) hitDist(i int, id int32) (int32, bool) {
	t := &sc.tk.toks[i]
	for _, h := range sc.hits[t.hitLo:t.hitHi] {
		if h.id == id {
			return int32(h.dist), true
		}
	}
	return 0, false
}

// matchAt reports whether words match the message words from i on, all before
// end and in one window segment, and with how many typos in total.
func (sc *scratch) matchAt(words []int32, i, end int) (int32, bool) {
	if i+len(words) > end {
		return 0, false
	}
	toks := sc.tk.toks
	var total int32
	for k, id := range words {
		if toks[i+k].seg != toks[i].seg {
			return 0, false
		}
		d, ok := sc.hitDist(i+k, id)
		if !ok {
			return 0, false
		}
		total += d
	}
	return total, true
}

// findPhrases collects the Phrases matches that no negation or Except vetoes.
func (m *Matcher) findPhrases(sc *scratch) {
	toks := sc.tk.toks
	for i := range toks {
		for _, h := range sc.hits[toks[i].hitLo:toks[i].hitHi] {
			for _, r := range m.starts[h.id] {
				l := &m.langs[r.lang]
				p := &l.phrases[r.idx]
				d, ok := sc.matchAt(p.words, i, len(toks))
				if !ok {
					continue
				}
				end := i + len(p.words)
				if m.negated(sc, l, i) || m.excepted(sc, i, end) {
					continue
				}
				sc.cands = append(sc.cands, candidate{
					lang: r.lang, idx: r.idx,
					start: int32(i), end: int32(end),
					dist: d, words: int32(len(p.words)),
				})
			}
		}
	}
}

// negated reports whether a negation of l governs a phrase starting at word
// s: one in the same clause, right before it or with at most two fillers in
// between ("don't [want to] talk to a human"). Any other word in between ends
// the negation's reach ("not working, get me an agent" is a request, and so
// is "not working get me an agent"), and so does a word of ability (see
// ability) between them or right before the negation, give or take fillers:
// "I can not reach a human", "kan jag inte prata med en människa?", "no puedo
// hablar con una persona" and "je n'arrive pas à joindre quelqu'un" are
// complaints that no person is reachable, which is a request.
func (m *Matcher) negated(sc *scratch, l *language, s int) bool {
	toks := sc.tk.toks
	for k := 1; k <= 3; k++ {
		j := s - k
		if j < 0 || toks[j].clause != toks[s].clause || sc.ability(j) {
			return false
		}
		if toks[j].exact >= 0 && l.negation[toks[j].exact] {
			// "can [I] not", "kann [ich] nicht", "ne peux pas".
			for i := j - 1; i >= 0 && i >= j-2 && toks[i].clause == toks[j].clause; i-- {
				if sc.ability(i) {
					return false
				}
				if !toks[i].filler {
					break
				}
			}
			return true
		}
		if !toks[j].filler {
			return false
		}
	}
	return false
}

// ability lists the words, normalized, that turn a negation into a
// complaint that no one can be reached ("I can not reach a human", "kann ich
// nicht mit einem Menschen sprechen?"): a customer who writes that wants a
// person, and the promise is that one is always reachable. They are a fixed
// list for the shipped languages rather than a list of the phrase file,
// whose format other parts of Firstline validate; a language without them
// only loses the exemption, and negations there veto as before.
var ability = map[string]bool{
	// English ("can't", "cannot" are no negations, so need no entry).
	"can": true, "could": true, "able": true, "unable": true,
	// Swedish.
	"kan": true, "kunde": true, "kunna": true, "lyckas": true, "gar": true,
	// German.
	"kann": true, "kannst": true, "konnen": true, "konnte": true, "konnten": true, "schaffe": true,
	// Spanish.
	"puedo": true, "puede": true, "puedes": true, "pueden": true, "podemos": true,
	"podria": true, "podrias": true, "poder": true, "pude": true, "consigo": true, "logro": true,
	// French ("n'arrive" is one word, "narrive", once the apostrophe is dropped).
	"peux": true, "peut": true, "pouvez": true, "pouvons": true, "peuvent": true, "pourrais": true,
	"pourriez": true, "pouvoir": true, "arrive": true, "narrive": true, "arrivons": true,
	"narrivons": true, "reussis": true, "parviens": true,
}

// ability reports whether message word i is a word of ability.
func (sc *scratch) ability(i int) bool { return ability[string(sc.tk.word(i))] }

// excepted reports whether an Except phrase (of any language) overlaps the
// message words [s, e).
func (m *Matcher) excepted(sc *scratch, s, e int) bool {
	if !sc.exceptDone {
		sc.exceptDone = true
		for i, t := range sc.tk.toks {
			if t.exact < 0 {
				continue
			}
			for _, x := range m.exceptFirst[t.exact] {
				if words := m.except[x]; sc.matchExact(words, i) {
					sc.exceptSpans = append(sc.exceptSpans, span{int32(i), int32(i + len(words))})
				}
			}
		}
	}
	for _, sp := range sc.exceptSpans {
		if int(sp.start) < e && s < int(sp.end) {
			return true
		}
	}
	return false
}

// matchExact reports whether words are exactly the message words from i on,
// all in one clause (and so in one window segment: a segment starts a clause).
func (sc *scratch) matchExact(words []int32, i int) bool {
	toks := sc.tk.toks
	if i+len(words) > len(toks) {
		return false
	}
	for k, id := range words {
		// An Except phrase is read within one clause: "no human" vetoes "no
		// human please" but not "No. Human please" or "no, human please".
		if toks[i+k].exact != id || toks[i+k].clause != toks[i].clause {
			return false
		}
	}
	return true
}

// findAlone applies the Alone rule to each short sentence of the message.
func (m *Matcher) findAlone(sc *scratch) {
	toks := sc.tk.toks
	for a := 0; a < len(toks); {
		b := a + 1
		for b < len(toks) && toks[b].sentence == toks[a].sentence {
			b++
		}
		if b-a <= maxAloneWords {
			m.aloneIn(sc, a, b)
		}
		// A short last clause of a sentence may be a request of its own
		// after a complaint: "this is not helping, human", "not a bot,
		// human", "das hilft nicht, Mensch". Short, because a longer one is
		// more often what the clause before governs ("ich habe nicht darum
		// gebeten, mit jemandem zu sprechen"). Not the first clause:
		// "Mensch, warum dauert das so lange?" and "Hi agent, my card ..."
		// address the bot.
		c := b - 1
		for c > a && toks[c-1].clause == toks[b-1].clause {
			c--
		}
		if c > a && b-c <= maxLastClauseWords {
			m.aloneIn(sc, c, b)
		}
		a = b
	}
}

// consumable reports whether message word i may stand around an Alone phrase:
// a filler, or a negation that is a clause of its own ("No, human please").
func (sc *scratch) consumable(i int) bool {
	toks := sc.tk.toks
	t := &toks[i]
	if t.filler {
		return true
	}
	return t.negation &&
		(i == 0 || toks[i-1].clause != t.clause) &&
		(i == len(toks)-1 || toks[i+1].clause != t.clause)
}

// aloneIn finds, for each language, the cheapest way to read the words
// [a, b) as fillers and Alone phrases of that language with at least one
// Alone phrase, and records it as a candidate.
func (m *Matcher) aloneIn(sc *scratch, a, b int) {
	toks := sc.tk.toks
	sc.places = sc.places[:0]
	for i := a; i < b; i++ {
		for _, h := range sc.hits[toks[i].hitLo:toks[i].hitHi] {
			for _, r := range m.aloneStarts[h.id] {
				p := &m.langs[r.lang].alone[r.idx]
				d, ok := sc.matchAt(p.words, i, b)
				if !ok || m.excepted(sc, i, i+len(p.words)) {
					continue
				}
				sc.places = append(sc.places, placement{
					lang: r.lang, idx: r.idx,
					start: int32(i), end: int32(i + len(p.words)), dist: d,
				})
			}
		}
	}
	if len(sc.places) == 0 {
		return
	}
	n := b - a
	if cap(sc.dpCost) < n+1 {
		sc.dpCost = make([][2]int32, n+1)
		sc.dpFirst = make([][2]int32, n+1)
	}
	cost, first := sc.dpCost[:n+1], sc.dpFirst[:n+1]
	const inf = math.MaxInt32
	for li := range m.langs {
		has := false
		for _, p := range sc.places {
			if p.lang == int32(li) {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		for k := range cost {
			cost[k] = [2]int32{inf, inf}
			first[k] = [2]int32{-1, -1}
		}
		cost[0][0] = 0
		relax := func(k, u int, c, f int32) {
			if c < cost[k][u] {
				cost[k][u], first[k][u] = c, f
			}
		}
		for k := range n {
			for u := range 2 {
				c := cost[k][u]
				if c == inf {
					continue
				}
				if sc.consumable(a + k) {
					relax(k+1, u, c, first[k][u])
				}
				for _, p := range sc.places {
					if p.lang != int32(li) || int(p.start) != a+k {
						continue
					}
					f := first[k][u]
					if u == 0 {
						f = p.idx
					}
					relax(int(p.end)-a, 1, c+p.dist, f)
				}
			}
		}
		if cost[n][1] == inf {
			continue
		}
		idx := first[n][1]
		sc.cands = append(sc.cands, candidate{
			lang: int32(li), idx: idx, alone: true,
			start: int32(a), end: int32(b),
			dist: cost[n][1], words: int32(len(m.langs[li].alone[idx].words)),
		})
	}
}

// best picks the candidate to report; see Match for the order.
func (m *Matcher) best(sc *scratch) (candidate, bool) {
	if len(sc.cands) == 0 {
		return candidate{}, false
	}
	multi := false
	for _, c := range sc.cands[1:] {
		if c.lang != sc.cands[0].lang {
			multi = true
			break
		}
	}
	if multi {
		for _, c := range sc.cands {
			if sc.evidence[c.lang] < 0 {
				sc.evidence[c.lang] = m.evidence(sc, c.lang)
			}
		}
	}
	b := sc.cands[0]
	for _, c := range sc.cands[1:] {
		if better(c, b, sc.evidence) {
			b = c
		}
	}
	return b, true
}

// evidence counts the message words that belong to language li.
func (m *Matcher) evidence(sc *scratch, li int32) int32 {
	l := &m.langs[li]
	var n int32
	for _, t := range sc.tk.toks {
		if t.exact >= 0 && l.member[t.exact] {
			n++
		}
	}
	return n
}

// better reports whether a beats b. evidence holds -1 for languages it was
// not computed for, which happens only when all candidates share one.
func better(a, b candidate, evidence []int32) bool {
	if ea, eb := evidence[a.lang], evidence[b.lang]; ea != eb {
		return ea > eb
	}
	if a.words != b.words {
		return a.words > b.words
	}
	if a.dist != b.dist {
		return a.dist < b.dist
	}
	if a.lang != b.lang {
		return a.lang < b.lang
	}
	if a.alone != b.alone {
		return !a.alone
	}
	if a.idx != b.idx {
		return a.idx < b.idx
	}
	return a.start < b.start
}

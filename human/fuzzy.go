package human

import "unicode/utf8"

// tolerance is how many typos a phrase word of n letters (runes, after
// normalizing) absorbs: none below 4 letters, where one edit turns most words
// into other words ("to"/"too", "a"/"i"), one up to 7 letters ("humna",
// "tlak"), two from 8 ("representitive").
func tolerance(n int) uint8 {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// vocabulary holds every distinct normalized word of a phrase file, so that a
// message word is compared with each of them once, not once per phrase.
type vocabulary struct {
	index map[string]int32 // normalized word → id
	words []vword

	// dels maps every word that allows typos, and each string obtained by
	// deleting up to maxDist of its runes, to the ids it came from. Two words
	// within Damerau–Levenshtein distance k share such a string when both are
	// reduced by at most k deletions (a substitution or an adjacent
	// transposition is one deletion on each side), so a message word need
	// only generate its own deletions and look them up: the "symmetric
	// delete" method, which avoids comparing a message word with the whole
	// vocabulary.
	dels map[string][]int32

	// depth[n] is how many deletions a message word of n runes must try: the
	// largest tolerance among fuzzy words it could be within reach of.
	depth []uint8
}

type vword struct {
	runes    []rune
	maxDist  uint8 // typos absorbed; 0: exact match only
	filler   bool  // a filler in some language
	negation bool  // a negation in some language
}

func newVocabulary() *vocabulary {
	return &vocabulary{index: make(map[string]int32)}
}

// add returns the id of w, adding it if new. Words from phrases, Alone
// phrases and fillers are fuzzy; negation and Except words match exactly.
func (v *vocabulary) add(w string, fuzzy bool) int32 {
	id, ok := v.index[w]
	if !ok {
		id = int32(len(v.words))
		v.index[w] = id
		v.words = append(v.words, vword{runes: []rune(w)})
	}
	if fuzzy {
		v.words[id].maxDist = tolerance(len(v.words[id].runes))
	}
	return id
}

// finish builds the deletion index once every word is in.
func (v *vocabulary) finish() {
	v.dels = make(map[string][]int32)
	maxLen := 0
	for id := range v.words {
		w := &v.words[id]
		if w.maxDist == 0 {
			continue
		}
		maxLen = max(maxLen, len(w.runes))
		seen := make(map[string]bool)
		var walk func(r []rune, left uint8)
		walk = func(r []rune, left uint8) {
			k := string(r)
			if seen[k] {
				return
			}
			seen[k] = true
			v.dels[k] = append(v.dels[k], int32(id))
			if left == 0 || len(r) <= 1 {
				return
			}
			for i := range r {
				d := make([]rune, 0, len(r)-1)
				d = append(append(d, r[:i]...), r[i+1:]...)
				walk(d, left-1)
			}
		}
		walk(w.runes, w.maxDist)
	}
	v.depth = make([]uint8, maxLen+3)
	for _, w := range v.words {
		if w.maxDist == 0 {
			continue
		}
		k := int(w.maxDist)
		for n := max(1, len(w.runes)-k); n <= len(w.runes)+k; n++ {
			v.depth[n] = max(v.depth[n], w.maxDist)
		}
	}
}

// lookup appends to sc.hits the vocabulary words that the message word w
// matches: exact (its own id, or -1) and, when fuzzy, every word within that
// word's tolerance.
func (v *vocabulary) lookup(sc *scratch, w []byte, exact int32, fuzzy bool) {
	lo := len(sc.hits) // this word's hits start here
	if exact >= 0 {
		sc.hits = append(sc.hits, hit{id: exact, dist: 0})
	}
	if !fuzzy {
		return
	}
	n := utf8.RuneCount(w)
	if n >= len(v.depth) || v.depth[n] == 0 {
		return
	}
	sc.runes = sc.runes[:0]
	for _, r := range string(w) {
		sc.runes = append(sc.runes, r)
	}
	sc.tried = sc.tried[:0]
	r := sc.runes
	v.probe(sc, w, lo)
	if v.depth[n] >= 1 {
		for i := range r {
			sc.key = appendWithout(sc.key[:0], r, i, -1)
			v.probe(sc, sc.key, lo)
		}
	}
	if v.depth[n] >= 2 {
		for i := range r {
			for j := i + 1; j < len(r); j++ {
				sc.key = appendWithout(sc.key[:0], r, i, j)
				v.probe(sc, sc.key, lo)
			}
		}
	}
}

// probe verifies the words that share deletion key with the message word in
// sc.runes and appends those within tolerance to sc.hits (from index lo on,
// the hits of this message word, so none is added twice).
func (v *vocabulary) probe(sc *scratch, key []byte, lo int) {
	ids, ok := v.dels[string(key)]
	if !ok {
		return
	}
next:
	for _, id := range ids {
		for _, h := range sc.hits[lo:] {
			if h.id == id {
				continue next
			}
		}
		for _, t := range sc.tried {
			if t == id {
				continue next
			}
		}
		sc.tried = append(sc.tried, id)
		w := &v.words[id]
		if d := distance(sc.runes, w.runes, int(w.maxDist)); d <= int(w.maxDist) {
			sc.hits = append(sc.hits, hit{id: id, dist: uint8(d)})
		}
	}
}

// appendWithout appends r without the runes at indexes i and j (j < 0: only i).
func appendWithout(b []byte, r []rune, i, j int) []byte {
	for k, c := range r {
		if k != i && k != j {
			b = utf8.AppendRune(b, c)
		}
	}
	return b
}

// distance returns the optimal-string-alignment distance between a and b:
// Damerau–Levenshtein where an adjacent transposition costs one edit ("humna"
// is one from "human"). Once the result is certain to exceed limit it stops
// and returns limit+1.
func distance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	const stackCols = 48
	var stack [3][stackCols]int
	var prev2, prev, cur []int
	if len(b)+1 <= stackCols {
		prev2, prev, cur = stack[0][:len(b)+1], stack[1][:len(b)+1], stack[2][:len(b)+1]
	} else {
		prev2, prev, cur = make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

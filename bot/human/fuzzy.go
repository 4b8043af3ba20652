package human

import (
	"math/bits"
	"unicode/utf8"
)

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
//
// Comparing a message word with all of them would be slow, so candidates are
// found through two indexes and only those are measured with distance:
//
//   - Words that absorb one typo (4–7 letters) are found by the "symmetric
//     delete" method: dels maps each such word, and each string obtained by
//     deleting one of its runes, to the word. Two words within
//     Damerau–Levenshtein distance 1 share such a string (a substitution or
//     an adjacent transposition is one deletion on each side), so a message
//     word of n runes needs n+1 lookups.
//   - Words that absorb two (8 letters or more) are fewer, and deleting two
//     runes of a long word makes too many strings; they are listed by length
//     with a bit set of their letters, and a message word scans those within
//     two letters of its length, skipping any with more than two letters the
//     other lacks (each edit adds at most one to either side).
type vocabulary struct {
	index map[string]int32 // normalized word → id
	words []vword
	dels  map[string][]int32
	// depth1[n] reports whether a message word of n runes may be within one
	// edit of a one-typo word.
	depth1 []bool
	long   [][]int32 // by length in runes: the ids of two-typo words
}

type vword struct {
	runes    []rune
	letters  uint64 // letterSet(runes)
	maxDist  uint8  // typos absorbed; 0: exact match only
	filler   bool   // a filler in some language
	negation bool   // a negation in some language
	// listed: a word of the phrase file, not only of a reach table; only
	// those make a message word known (see Matcher.annotateWord).
	listed bool
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
		r := []rune(w)
		v.words = append(v.words, vword{runes: r, letters: letterSet(r)})
	}
	if fuzzy {
		v.words[id].maxDist = tolerance(len(v.words[id].runes))
	}
	v.words[id].listed = true
	return id
}

// addReach adds a word of a reach table, fuzzy for intent and target words
// (reachRolesOf narrows the tolerance), without making it a listed word.
func (v *vocabulary) addReach(w string, fuzzy bool) {
	id, ok := v.index[w]
	if !ok {
		id = int32(len(v.words))
		v.index[w] = id
		r := []rune(w)
		v.words = append(v.words, vword{runes: r, letters: letterSet(r)})
	}
	if fuzzy && v.words[id].maxDist == 0 {
		v.words[id].maxDist = tolerance(len(v.words[id].runes))
	}
}

// finish builds the indexes once every word is in.
func (v *vocabulary) finish() {
	v.dels = make(map[string][]int32)
	for id, w := range v.words {
		switch w.maxDist {
		case 1:
			n := len(w.runes)
			v.addDel(string(w.runes), int32(id))
			for i := range w.runes {
				v.addDel(string(appendWithout(nil, w.runes, i)), int32(id))
			}
			for len(v.depth1) <= n+1 {
				v.depth1 = append(v.depth1, false)
			}
			v.depth1[n-1], v.depth1[n], v.depth1[n+1] = true, true, true
		case 2:
			n := len(w.runes)
			for len(v.long) <= n {
				v.long = append(v.long, nil)
			}
			v.long[n] = append(v.long[n], int32(id))
		}
	}
}

func (v *vocabulary) addDel(key string, id int32) {
	ids := v.dels[key]
	if len(ids) > 0 && ids[len(ids)-1] == id { // "aab" minus either "a"
		return
	}
	v.dels[key] = append(ids, id)
}

// letterSet returns the set of r's letters, one bit per rune modulo 64: a-z
// get bits of their own; other runes may share one, which only lets more
// candidates through.
func letterSet(r []rune) uint64 {
	var s uint64
	for _, c := range r {
		s |= 1 << (uint32(c) % 64)
	}
	return s
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
	sc.runes = sc.runes[:0]
	for _, r := range string(w) {
		sc.runes = append(sc.runes, r)
	}
	r := sc.runes
	n := len(r)
	sc.tried = sc.tried[:0]
	if n < len(v.depth1) && v.depth1[n] {
		v.verify(sc, v.dels[string(w)], lo)
		for i := range r {
			sc.key = appendWithout(sc.key[:0], r, i)
			v.verify(sc, v.dels[string(sc.key)], lo)
		}
	}
	if n+2 >= 8 && n-2 < len(v.long) {
		set := letterSet(r)
		for l := max(8, n-2); l <= n+2 && l < len(v.long); l++ {
			for _, id := range v.long[l] {
				// Each edit adds at most one letter to either side's
				// difference.
				vs := v.words[id].letters
				if bits.OnesCount64(set&^vs) <= 2 && bits.OnesCount64(vs&^set) <= 2 {
					v.verify(sc, []int32{id}, lo)
				}
			}
		}
	}
}

// verify measures the candidates ids against the message word in sc.runes
// and appends those within tolerance to sc.hits (from index lo on: the hits
// of this message word, so none is added twice).
func (v *vocabulary) verify(sc *scratch, ids []int32, lo int) {
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
		if d := distance(sc.runes, w.runes, int(w.maxDist), sc.rows); d <= int(w.maxDist) {
			sc.hits = append(sc.hits, hit{id: id, dist: uint8(d)})
		}
	}
}

// appendWithout appends r without the rune at index i.
func appendWithout(b []byte, r []rune, i int) []byte {
	for k, c := range r {
		if k != i {
			b = utf8.AppendRune(b, c)
		}
	}
	return b
}

// distance returns the optimal-string-alignment distance between a and b:
// Damerau–Levenshtein where an adjacent transposition costs one edit ("humna"
// is one from "human"). It only computes the band of cells within limit of
// the diagonal, and once the result is certain to exceed limit it stops and
// returns limit+1. buf is reused for the three rows when large enough.
func distance(a, b []rune, limit int, buf []int32) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	w := len(b) + 1
	if len(buf) < 3*w {
		buf = make([]int32, 3*w)
	}
	prev2, prev, cur := buf[:w], buf[w:2*w], buf[2*w:3*w]
	far := int32(limit + 1) // stands for every value above limit
	for j := range prev {
		prev[j] = int32(j)
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-limit), min(len(b), i+limit)
		rowMin := far
		if lo == 1 {
			cur[0] = int32(i)
			rowMin = min(rowMin, cur[0])
		} else {
			cur[lo-1] = far
		}
		for j := lo; j <= hi; j++ {
			cost := int32(1)
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			d = min(d, far)
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if hi+1 < w {
			cur[hi+1] = far // the next row reads one cell beyond this band
		}
		if rowMin >= far {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return int(min(prev[len(b)], far))
}

package human

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// windowRunes is how much of each end of a long message Match reads. A
// message of at most 2*windowRunes runes is read whole; a longer one (a pasted
// log, a forwarded e-mail) is read as its first and its last windowRunes runes.
// People put a request for a person first ("Hi, I need a human: …") or last
// ("… can I talk to someone?"), rarely in the middle of a long paste, and
// bounding the input bounds the work: Match stays in microseconds whatever a
// customer sends.
const windowRunes = 2000

// token is one normalized word of a message, or of a phrase at NewMatcher time.
type token struct {
	start, end int32 // the word's bytes in tokenizer.buf
	clause     int32 // clause number; a negation reaches only within its clause
	sentence   int32 // sentence number; an Alone request may be a sentence of its own
	seg        int32 // window segment (head or tail); phrases never span two
	quoted     bool  // between quotation marks: quoted, not said ("it says \"contact support\"")

	// Set by the matcher (see Matcher.annotate).
	exact        int32 // vocabulary id of exactly this word, or -1
	hitLo, hitHi int32 // this word's vocabulary hits: scratch.hits[hitLo:hitHi]
	filler       bool  // the word may stand around an Alone phrase
	negation     bool  // the word is a negation in some language
}

// tokenizer splits text into normalized words. Normalizing is: Unicode
// lower-case, diacritics folded away (so "manniska" and "människa", typed on
// any keyboard, are the same word), apostrophes inside a word dropped ("don't"
// → "dont"), every other non-letter a word separator. Sentence and clause
// punctuation is remembered per word, for the negation and Alone rules.
type tokenizer struct {
	buf      []byte
	toks     []token
	clause   int32
	sentence int32
	quoted   bool
	// quoteFrom is the first token after the last opening quotation mark.
	quoteFrom int
}

func (t *tokenizer) reset() {
	t.buf = t.buf[:0]
	t.toks = t.toks[:0]
	t.clause, t.sentence = 0, 0
	t.quoted = false
}

// word returns the normalized bytes of token i.
func (t *tokenizer) word(i int) []byte {
	tk := &t.toks[i]
	return t.buf[tk.start:tk.end]
}

// run appends the words of s, tagged with window segment seg.
func (t *tokenizer) run(s string, seg int32) {
	// A new segment is a new sentence: nothing reads across the cut.
	t.sentence++
	t.clause++
	t.quoted = false
	s = compatFold(s)
	inWord := false
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && isASCIIWordByte(c) {
			// Fast path for the common case, ASCII letters and digits.
			if !inWord {
				inWord, start = true, len(t.buf)
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			t.buf = append(t.buf, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case isWordRune(r):
			if !inWord {
				inWord, start = true, len(t.buf)
			}
			t.buf = appendFolded(t.buf, r)
		case inWord && isIgnorable(r):
			// A combining diacritic typed separately ("a" U+0308), a soft
			// hyphen, a zero-width joiner: part of the word, and dropped,
			// which folds decomposed text the same as precomposed text.
		case inWord && isApostrophe(r) && i < len(s) && startsWithWordRune(s[i:]):
			// "don't" → "dont", "i'm" → "im", "quelqu'un" → "quelquun".
			// Phrases are normalized the same way, so "don't" in the phrase
			// file matches "don't", "don’t" and "dont" in a message.
		default:
			if inWord {
				t.add(start, seg)
				inWord = false
			}
			switch {
			case isQuote(r):
				t.quoted = !t.quoted
				if t.quoted {
					t.quoteFrom = len(t.toks)
				}
			case isSentenceBreak(r):
				t.sentence++
				t.clause++
			case isClauseBreak(r):
				t.clause++
			}
		}
	}
	if inWord {
		t.add(start, seg)
	}
	// A quotation never closed is a stray mark, not a quotation.
	if t.quoted {
		for i := t.quoteFrom; i < len(t.toks); i++ {
			t.toks[i].quoted = false
		}
		t.quoted = false
	}
}

func (t *tokenizer) add(start int, seg int32) {
	t.toks = append(t.toks, token{
		start:    int32(start),
		end:      int32(len(t.buf)),
		clause:   t.clause,
		sentence: t.sentence,
		seg:      seg,
		quoted:   t.quoted,
		exact:    -1,
	})
}

// window returns the parts of s that Match reads (with size windowRunes): all
// of s when it is at most 2*size runes long; otherwise its first and its last
// size runes (head and tail), each cut back to a word boundary so that half a
// word, which could be one typo away from a phrase word, is never read. The
// work is proportional to size, not to len(s).
func window(s string, size int) (head, tail string) {
	if len(s) <= 2*size { // bytes >= runes
		return s, ""
	}
	h := 0
	for n := 0; n < size && h < len(s); n++ {
		_, w := utf8.DecodeRuneInString(s[h:])
		h += w
	}
	t := len(s)
	for n := 0; n < size && t > h; n++ {
		_, w := utf8.DecodeLastRuneInString(s[:t])
		t -= w
	}
	if t <= h {
		return s, ""
	}
	// If the cut falls inside a word, leave that word out of the head ...
	if r, _ := utf8.DecodeRuneInString(s[h:]); isWordish(r) {
		for h > 0 {
			r, w := utf8.DecodeLastRuneInString(s[:h])
			if !isWordish(r) {
				break
			}
			h -= w
		}
	}
	// ... and out of the tail.
	if r, _ := utf8.DecodeLastRuneInString(s[:t]); isWordish(r) {
		for t < len(s) {
			r, w := utf8.DecodeRuneInString(s[t:])
			if !isWordish(r) {
				break
			}
			t += w
		}
	}
	return s[:h], s[t:]
}

// compatFold returns s in compatibility decomposition (NFKD), so that
// full-width "ｈｕｍａｎ", mathematical bold "𝐡𝐮𝐦𝐚𝐧", ligatures and the like
// read as the plain letters they stand for, and every diacritic becomes a
// combining mark that the tokenizer drops. ASCII text, and text already in
// NFKD, is returned as is without allocating.
func compatFold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if norm.NFKD.IsNormalString(s[i:]) {
				return s
			}
			return s[:i] + norm.NFKD.String(s[i:])
		}
	}
	return s
}

// confusable maps Cyrillic and Greek letters that look like a Latin letter to
// that letter (the Latin part of a Unicode TR39 skeleton), so "tаlk to а
// humаn" typed with Cyrillic а is "talk to a human". golang.org/x/text has no
// skeleton API; this is the small table the phrase files need. Upper-case
// look-alikes are mapped before lower-casing (Cyrillic Н looks like H, its
// lower case н does not look like h). It returns r unchanged otherwise.
func confusable(r rune) rune {
	switch r {
	// Cyrillic, lower case.
	case 'а':
		return 'a'
	case 'е', 'ё':
		return 'e'
	case 'о':
		return 'o'
	case 'р':
		return 'p'
	case 'с':
		return 'c'
	case 'у':
		return 'y'
	case 'х':
		return 'x'
	case 'і', 'ї':
		return 'i'
	case 'ј':
		return 'j'
	case 'ѕ':
		return 's'
	case 'һ':
		return 'h'
	case 'ԁ':
		return 'd'
	case 'ԛ':
		return 'q'
	case 'ԝ':
		return 'w'
	// Cyrillic, upper case.
	case 'А':
		return 'a'
	case 'В':
		return 'b'
	case 'Е', 'Ё':
		return 'e'
	case 'К':
		return 'k'
	case 'М':
		return 'm'
	case 'Н':
		return 'h'
	case 'О':
		return 'o'
	case 'Р':
		return 'p'
	case 'С':
		return 'c'
	case 'Т':
		return 't'
	case 'Х':
		return 'x'
	case 'І', 'Ї':
		return 'i'
	case 'Ј':
		return 'j'
	case 'Ѕ':
		return 's'
	// Greek.
	case 'ο', 'Ο':
		return 'o'
	case 'α', 'Α':
		return 'a'
	case 'ι', 'Ι':
		return 'i'
	case 'κ', 'Κ':
		return 'k'
	case 'ν':
		return 'v'
	case 'Ν':
		return 'n'
	case 'ρ', 'Ρ':
		return 'p'
	case 'υ':
		return 'u'
	case 'Β':
		return 'b'
	case 'Ε':
		return 'e'
	case 'Ζ':
		return 'z'
	case 'Η':
		return 'h'
	case 'Μ':
		return 'm'
	case 'Τ':
		return 't'
	case 'Υ':
		return 'y'
	case 'Χ':
		return 'x'
	}
	return r
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isASCIIWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isIgnorable reports runes that belong to the word they appear in but carry
// nothing to match on: combining marks and invisible format characters.
func isIgnorable(r rune) bool { return unicode.IsMark(r) || unicode.Is(unicode.Cf, r) }

func isWordish(r rune) bool { return isWordRune(r) || isIgnorable(r) || isApostrophe(r) }

func startsWithWordRune(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordRune(r)
}

// isQuote reports quotation marks; an apostrophe is not one.
func isQuote(r rune) bool {
	switch r {
	case '"', '“', '”', '„', '«', '»', '＂':
		return true
	}
	return false
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʼ', '`', '´', '′':
		return true
	}
	return false
}

// isSentenceBreak reports punctuation that ends a sentence (and so a clause).
// Line breaks count: chat users often put one thought on each line.
func isSentenceBreak(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '¿', '¡', '\n', '\r', '\u2028', '\u2029', '。', '！', '？', '．':
		return true
	}
	return false
}

// isClauseBreak reports punctuation that ends a clause inside a sentence, so
// that in "no, I want a human" or "I don't want a bot, I want a human" the
// negation does not reach the request.
func isClauseBreak(r rune) bool {
	switch r {
	case ',', ';', ':', '，', '；', '：', '、':
		return true
	}
	return false
}

// latin1Fold maps U+00E0..U+00FF (after lower-casing) to a base letter; '*'
// marks letters that fold to two (æ, þ) and 0 a non-letter (÷).
const latin1Fold = "aaaaaa*ceeeeiiiidnooooo\x00ouuuuy*y"

// latinAFold maps Latin Extended-A, U+0100..U+017F, to a base letter; '*'
// marks ĳ and œ, which fold to two.
const latinAFold = "aaaaaa" + "cccccccc" + "dddd" + "eeeeeeeeee" + "gggggggg" + "hhhh" +
	"iiiiiiiiii" + "**" + "jj" + "kkk" + "llllllllll" + "nnnnnnn" + "nn" + "oooooo" +
	"**" + "rrrrrr" + "ssssssss" + "tttttt" + "uuuuuuuuuuuu" + "ww" + "yyy" + "zzzzzz" + "s"

// appendFolded appends r lower-cased and, for Latin letters, without
// diacritics ("Ü" → "u", "ß" → "ss", "Œ" → "oe"). A small table rather than
// golang.org/x/text for the common letters (tokenizer.run has already
// applied NFKD, see compatFold, so this table mostly sees precomposed letters
// that have no decomposition: ß, æ, ø, đ, ł, œ, þ). Cyrillic and Greek
// look-alikes become Latin (confusable); other letters are lower-cased only.
func appendFolded(b []byte, r rune) []byte {
	r = unicode.ToLower(confusable(r))
	switch {
	case r < utf8.RuneSelf:
		return append(b, byte(r))
	case r == 'ß':
		return append(b, 's', 's')
	case r >= 0xE0 && r <= 0xFF:
		switch c := latin1Fold[r-0xE0]; c {
		case '*':
			if r == 'æ' {
				return append(b, 'a', 'e')
			}
			return append(b, 't', 'h') // þ
		case 0:
		default:
			return append(b, c)
		}
	case r >= 0x100 && r <= 0x17F:
		switch c := latinAFold[r-0x100]; c {
		case '*':
			if r == 'ĳ' || r == 'Ĳ' {
				return append(b, 'i', 'j')
			}
			return append(b, 'o', 'e') // œ
		default:
			return append(b, c)
		}
	}
	switch r {
	case 'ș', 'ş':
		return append(b, 's')
	case 'ț', 'ţ':
		return append(b, 't')
	case 'ǎ':
		return append(b, 'a')
	case 'ǐ':
		return append(b, 'i')
	case 'ǒ':
		return append(b, 'o')
	case 'ǔ':
		return append(b, 'u')
	}
	return utf8.AppendRune(b, r)
}

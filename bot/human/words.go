package human

// Words returns the words of text normalized as the matcher reads them:
// lower-case, Latin diacritics folded, apostrophes inside words dropped,
// any other non-letter a separator ("Where's my RÉFUND?!" → "wheres",
// "my", "refund"). Other parts of Firstline compare
// customer messages with it (a repeated question), so that what counts as
// "the same words" is the same everywhere.
func Words(text string) []string {
	var tk tokenizer
	tk.run(text, 0)
	out := make([]string, len(tk.toks))
	for i := range tk.toks {
		out[i] = string(tk.word(i))
	}
	return out
}

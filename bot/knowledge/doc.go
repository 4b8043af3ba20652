// Package knowledge reads a help center, a folder of Markdown articles, and
// searches it.
//
// # Articles
//
// One file per article, ending in .md (README.md, and files or folders whose
// names start with "." or "_", are skipped; sub-folders are read), with YAML
// front matter between two "---" lines:
//
//	---
//	title: How long does a refund take?                    # required
//	url: https://help.example.com/en/articles/refund-times # required, absolute http(s)
//	language: en                 # optional: en (the default), sv, de, es or fr
//	tags: [refund, money back]   # optional: words customers use that the text may not
//	---
//	Refunds are sent back to the original payment method ...
//
//	## When the refund does not show up
//	...
//
// The body is split into passages at headings (#, ## and ###; a # inside a
// fenced code block is not a heading; a heading with no text under it is
// dropped). A section longer than [MaxPassage] bytes is split further at
// paragraph boundaries, a very long paragraph between words. Every passage
// carries its article's title, URL, language and tags, its heading, and the
// file and line it starts on.
//
// [LoadDir] reports every problem rather than the first, each as
// "file:line: message": no front matter or front matter not closed, front
// matter that is not YAML (with YAML's line), a missing or empty title, a
// missing, relative or non-http(s) url, an unknown key or language, an
// article with no text, a url used by two files (naming both), a file that
// is not UTF-8 or is larger than [MaxFileSize]. It also returns the valid
// articles, so a caller may choose between serving them and keeping the last
// good index. CRLF line endings and a byte order mark are accepted.
//
// # Search
//
// [Build] indexes the passages in memory with bleve
// (github.com/blevesearch/bleve/v2). Each passage is indexed twice:
//
//   - in a title field (the title and the tags) and a text field (the heading
//     and the text) analyzed for its own language, with
//     the token filters of bleve's language analyzers (analysis/lang/en, sv,
//     de, es, fr: elision, stop words, normalisation) and the Snowball
//     stemmer of each language (bleve's own analyzers use lighter stemmers
//     for de, es and fr; Snowball found more of the eval questions);
//   - in one language-neutral field: lower case, the stop words of all five
//     languages, and folding to ASCII ("Rückerstattung" matches
//     "ruckerstattung"; "Apple Pay" or "IBAN" match in every language).
//
// Words are runs of letters, digits and apostrophes: bleve's Unicode
// tokenizer and ASCII-folding character filter allocated so much that they
// took half of the time to index.
//
// A query is searched in the fields of the customer's language (the title
// weighs 2, the text 1) and in the language-neutral field (0.7), so a
// passage in another language is still found when the customer's language
// has none. A query word of five letters or more that the help center does
// not contain is also looked up with one typo (0.3), at most four such words
// a query. An unknown or empty language searches the fields of all five.
//
// Ranking is BM25, bleve's "bm25" scoring model. bleve computes BM25 only with
// its scorch index type: bleve.NewMemOnly builds the older upsidedown type,
// which silently falls back to TF-IDF. So the index is a scorch index with no
// path, which lives in memory and touches no disk. Note that bleve
// approximates a field's average length (distinct terms over documents), so
// its BM25 favours short passages more than the textbook formula; on the
// shipped suite BM25 and TF-IDF score within 0.01 of each other.
//
// # Evaluation
//
// [Evaluate] runs retrieval cases (questions with the URLs of the articles
// that answer them, see prompts/evals/retrieval/cases.yaml and
// [ParseCases]) and reports recall@1, recall@3 and MRR, overall and per
// language, counting articles rather than passages.
//
// # Import
//
// [Import] turns a help-center export, a folder of HTML and Markdown pages,
// into article files. The title is an HTML page's first <h1> (dropped from
// the text) or else its <title>, a Markdown page's front matter title or
// else its first # heading; the url its <link rel="canonical"> or og:url,
// else [ImportOptions.BaseURL] and the page's path; the language its
// <html lang> (or front matter), else [ImportOptions.Lang]. The text of
// <main>, else <article>, else <body>, becomes simple Markdown: headings
// (h4 to h6 in bold, which do not start passages), paragraphs, nested
// lists, links (made absolute when the page's URL is known), emphasis,
// code, table rows as "cell | cell"; scripts, styles, navigation, headers,
// footers, asides, forms and buttons are dropped. Pages with no title, no
// text, no URL, an unsupported language or the URL of an earlier page,
// and files that are not pages, are returned as skipped, with the reason.
// Every article returned parses with [ParseArticle].
package knowledge

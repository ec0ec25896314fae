//! The words of a search query, the query with misspellings corrected, and
//! the snippet of a result with the query's words marked.

use std::{collections::HashSet, sync::LazyLock};

use rust_stemmers::{Algorithm, Stemmer};

/// The words of a query worth checking for spelling: lowercase, letters
/// only, four letters or more, not the `or` operator; a leading `-` (not)
/// and quotes are ignored.
pub fn query_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == '"')
        .map(|word| word.trim_start_matches('-').to_lowercase())
        .filter(|word| word.chars().count() >= 4 && word.chars().all(char::is_alphabetic))
        .collect();
    words.dedup();
    words
}

/// Most words a query may have for [`most_of`] to rewrite it.
const MOST_OF_LIMIT: usize = 6;

/// For a query of two to six plain words (no quotes, `-` or `or`), the query
/// that matches postmortems having all of them but one: `a b c` becomes
/// `b c or a c or a b`. Postmortems with every word match it too; the
/// search page lists them first.
pub fn most_of(query: &str) -> Option<String> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let plain = words.iter().all(|word| {
        !word.contains('"') && !word.starts_with('-') && !word.eq_ignore_ascii_case("or")
    });
    if !plain || !(2..=MOST_OF_LIMIT).contains(&words.len()) {
        return None;
    }
    let groups: Vec<String> = (0..words.len())
        .map(|left_out| {
            words
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != left_out)
                .map(|(_, word)| *word)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Some(groups.join(" or "))
}

/// Whether a query uses `or` or a `-word` exclusion, so that its matches
/// need not hold every word.
pub fn has_operators(query: &str) -> bool {
    query
        .split_whitespace()
        .any(|word| word.eq_ignore_ascii_case("or") || (word.starts_with('-') && word.len() > 1))
}

/// The query with each misspelled word replaced, keeping everything else
/// (quotes, `-`, `or`) as typed.
pub fn corrected(query: &str, corrections: &[(String, String)]) -> String {
    let mut out = String::with_capacity(query.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let lower = word.to_lowercase();
        match corrections.iter().find(|(from, _)| *from == lower) {
            Some((_, to)) => out.push_str(to),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in query.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The stemmer of Postgres's `english` search configuration (Snowball), so
/// that a snippet marks the words the database matched.
static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Words the `english` configuration of Postgres leaves out of documents
/// and queries (its Snowball stop list).
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "s",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Whether a query looks for anything: a query of stop words alone (or
/// of nothing) lists every postmortem.
pub fn has_words(query: &str) -> bool {
    query
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| !word.is_empty() && !STOP_WORDS.contains(&word.to_lowercase().as_str()))
}

/// Whether a query may hold a phrase: quotes, or words joined by a hyphen
/// (which Postgres matches as a phrase of their parts).
pub fn may_have_phrase(query: &str) -> bool {
    let chars: Vec<char> = query.chars().collect();
    query.contains('"')
        || chars
            .windows(3)
            .any(|w| w[0].is_alphanumeric() && w[1] == '-' && w[2].is_alphanumeric())
}

/// The distinct words of `text` worth comparing, each with its stem (as
/// the `english` configuration stems it): no stop words, no word shorter
/// than three letters, no bare numbers. First occurrence first.
pub fn stemmed_words(text: &str) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() < 3
            || word.chars().all(|c| c.is_ascii_digit())
            || STOP_WORDS.contains(&word.as_str())
        {
            continue;
        }
        let stem = STEMMER.stem(&word).into_owned();
        if seen.insert(stem.clone()) {
            out.push((stem, word));
        }
    }
    out
}

/// Words marked in a snippet, and words shown.
const SNIPPET_WORDS: usize = 30;

/// A piece of a snippet: plain text, or a word the query matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnippetPart {
    Text(String),
    Match(String),
}

/// The stems of the words a query looks for (not those after `-`).
fn query_stems(query: &str) -> HashSet<String> {
    let mut stems = HashSet::new();
    for term in query.split(|c: char| c.is_whitespace() || c == '"') {
        if term.starts_with('-') {
            continue;
        }
        for word in term.split(|c: char| !c.is_alphanumeric()) {
            let word = word.to_lowercase();
            if !word.is_empty() && !STOP_WORDS.contains(&word.as_str()) {
                stems.insert(STEMMER.stem(&word).into_owned());
            }
        }
    }
    stems
}

/// What a query's snippets mark: the stems of its words, and each stem's
/// first three letters (worked out once for a page of results).
pub struct SnippetQuery {
    stems: HashSet<String>,
    openings: Vec<String>,
}

impl SnippetQuery {
    pub fn new(query: &str) -> SnippetQuery {
        let stems = query_stems(query);
        let openings = stems
            .iter()
            .map(|stem| stem.chars().take(3).collect())
            .collect();
        SnippetQuery { stems, openings }
    }

    fn matches(&self, word: &str) -> bool {
        // Stemming changes the ends of words: only a word that starts like
        // a stem is worth stemming (this keeps long texts cheap).
        self.openings
            .iter()
            .any(|opening| starts_like(word, opening))
            && self
                .stems
                .contains(STEMMER.stem(&word.to_lowercase()).as_ref())
    }
}

/// Up to two short passages of `text` around the first words `query`
/// matches (the opening words when none does), with those words marked.
pub fn snippet(text: &str, query: &SnippetQuery) -> Vec<SnippetPart> {
    let half = SNIPPET_WORDS / 2;
    let mut words: Vec<(usize, usize, bool)> = Vec::new();
    // Word indexes, the end past the last word shown.
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for (start, end) in word_spans(text) {
        // Both passages found, and a word past the second (so it is known
        // that more follows): nothing further is shown.
        if windows.len() == 2 && windows[1].1 < words.len() {
            break;
        }
        let index = words.len();
        let matched = query.matches(&text[start..end]);
        words.push((start, end, matched));
        let covered = windows.last().is_some_and(|&(_, end)| index < end);
        if matched && !covered && windows.len() < 2 {
            let first = index.saturating_sub(4);
            windows.push((first, first + half));
        }
    }
    for window in &mut windows {
        window.1 = window.1.min(words.len());
    }
    if windows.is_empty() {
        windows.push((0, SNIPPET_WORDS.min(words.len())));
    }
    let mut parts = Vec::new();
    for (number, &(first, end)) in windows.iter().enumerate() {
        if first > 0 || number > 0 {
            parts.push(SnippetPart::Text("… ".to_owned()));
        }
        let mut position = words.get(first).map_or(text.len(), |word| word.0);
        for &(start, stop, matched) in &words[first..end] {
            push_text(&mut parts, &text[position..start]);
            if matched {
                parts.push(SnippetPart::Match(text[start..stop].to_owned()));
            } else {
                push_text(&mut parts, &text[start..stop]);
            }
            position = stop;
        }
    }
    match windows.last() {
        Some(&(_, end)) if end < words.len() => push_text(&mut parts, " …"),
        // The text's last word is shown: so is what follows it.
        _ => push_text(&mut parts, &text[words.last().map_or(0, |word| word.1)..]),
    }
    parts
}

/// Whether `word` begins with `opening` (lowercase), ignoring case.
fn starts_like(word: &str, opening: &str) -> bool {
    let mut letters = word.chars().flat_map(char::to_lowercase);
    opening.chars().all(|c| letters.next() == Some(c))
}

/// Byte ranges of the words (runs of letters and digits) of `text`.
fn word_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = None;
    text.char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .filter_map(move |(index, c)| match (c.is_alphanumeric(), start) {
            (true, None) => {
                start = Some(index);
                None
            }
            (false, Some(from)) => {
                start = None;
                Some((from, index))
            }
            _ => None,
        })
}

/// Adds text to the snippet, with line breaks as spaces.
fn push_text(parts: &mut Vec<SnippetPart>, text: &str) {
    if text.is_empty() {
        return;
    }
    let text = text.replace(['\n', '\r'], " ");
    match parts.last_mut() {
        Some(SnippetPart::Text(last)) => last.push_str(&text),
        _ => parts.push(SnippetPart::Text(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_and_exclusions_are_operators() {
        assert!(has_operators("kiam OR ingress"));
        assert!(has_operators("dns -kiam"));
        assert!(!has_operators("expired certficate - ingress"));
        assert!(!has_operators("oracle order"));
    }

    #[test]
    fn most_of_the_words_leaves_out_one_at_a_time() {
        assert_eq!(
            most_of("pool exhaustion kubernetes").as_deref(),
            Some("exhaustion kubernetes or pool kubernetes or pool exhaustion")
        );
        assert_eq!(most_of("pool").as_deref(), None, "one word");
        assert_eq!(most_of("\"connection pool\" leak"), None, "a phrase");
        assert_eq!(most_of("pool -redis"), None, "an exclusion");
        assert_eq!(most_of("pool or redis"), None, "already an or");
    }

    fn marked(parts: &[SnippetPart]) -> String {
        parts
            .iter()
            .map(|part| match part {
                SnippetPart::Text(text) => text.clone(),
                SnippetPart::Match(word) => format!("[{word}]"),
            })
            .collect()
    }

    #[test]
    fn queries_of_stop_words_look_for_nothing() {
        assert!(!has_words("  "));
        assert!(!has_words("the OR and"));
        assert!(has_words("the kiam"));
        assert!(has_words("-kiam"));
        assert!(has_words("503"));
    }

    #[test]
    fn phrases_are_quoted_or_hyphenated() {
        assert!(may_have_phrase("\"connection pool\""));
        assert!(may_have_phrase("kafka-events lag"));
        assert!(!may_have_phrase("kafka events -lag"));
    }

    #[test]
    fn snippets_mark_the_stems_the_query_matched() {
        let text = "The certificates expired.\nRenewal of the certificate failed, so ingress returned 503.";
        assert_eq!(
            marked(&snippet(text, &SnippetQuery::new("certificate 503"))),
            "The [certificates] expired. Renewal of the [certificate] failed, so ingress returned [503]."
        );
    }

    #[test]
    fn snippets_leave_out_excluded_words_and_stop_words() {
        let text = "The kiam upgrade broke the pods";
        assert_eq!(
            marked(&snippet(text, &SnippetQuery::new("the upgrade -kiam"))),
            "The kiam [upgrade] broke the pods"
        );
    }

    #[test]
    fn snippets_open_a_long_text_near_the_first_match() {
        let text = format!(
            "{}kubernetes upgrade {}",
            "word ".repeat(40),
            "tail ".repeat(40)
        );
        let shown = marked(&snippet(&text, &SnippetQuery::new("kubernetes")));
        assert!(
            shown.starts_with("… word word word word [kubernetes] upgrade tail"),
            "{shown}"
        );
        assert!(shown.ends_with(" …"), "{shown}");
    }

    #[test]
    fn snippets_show_two_passages_with_every_match_inside_them_marked() {
        let text = format!(
            "{}pool {}pool word pool {}pool {}",
            "word ".repeat(20),
            "word ".repeat(20),
            "word ".repeat(20),
            "word ".repeat(5)
        );
        let shown = marked(&snippet(&text, &SnippetQuery::new("pool")));
        assert!(
            shown.starts_with("… word word word word [pool] word"),
            "{shown}"
        );
        assert!(
            shown.contains("… word word word word [pool] word [pool] word"),
            "{shown}"
        );
        assert_eq!(shown.matches("[pool]").count(), 3, "{shown}");
        assert!(shown.ends_with(" …"), "{shown}");
    }

    #[test]
    fn a_text_without_matches_shows_its_opening_words() {
        let text = "word ".repeat(50);
        let shown = marked(&snippet(&text, &SnippetQuery::new("absent")));
        assert_eq!(shown.matches("word").count(), SNIPPET_WORDS);
        assert!(shown.ends_with(" …"));
    }

    #[test]
    fn words_to_check_skip_operators_short_words_and_numbers() {
        assert_eq!(
            query_words("\"expired certficate\" -kiam or ingress 503 dns"),
            vec!["expired", "certficate", "kiam", "ingress"]
        );
    }

    #[test]
    fn corrections_keep_the_rest_of_the_query() {
        let fixes = vec![("certficate".to_owned(), "certificate".to_owned())];
        assert_eq!(
            corrected("\"expired Certficate\" -kiam", &fixes),
            "\"expired certificate\" -kiam"
        );
    }
}

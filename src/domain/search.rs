//! The words of a search query, and the query with misspellings corrected.

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

#[cfg(test)]
mod tests {
    use super::*;

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

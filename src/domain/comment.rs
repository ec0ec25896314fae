//! Review comments: where a comment points (a section, a quoted passage),
//! whether the passage it quotes is still there, and the rules for its text.

use super::section::Section;

/// The anchor of a comment on the postmortem as a whole.
pub const GENERAL: &str = "general";

/// Longest comment, in characters.
pub const MAX_BODY: usize = 10_000;

/// Longest quoted passage kept with a comment.
pub const MAX_QUOTE: usize = 2_000;

/// Where a comment may point: a section's field or [`GENERAL`].
pub fn is_anchor(section: &str) -> bool {
    section == GENERAL || Section::from_field(section).is_some()
}

/// What people read for an anchor: "Summary", "The postmortem as a whole".
pub fn anchor_label(section: &str) -> &'static str {
    Section::from_field(section).map_or("The postmortem as a whole", Section::heading)
}

/// Whether the passage a comment quotes is gone from the section's text (so
/// the comment is shown as outdated, with its quote). Spacing and line
/// breaks do not count as changes.
pub fn is_outdated(quote: Option<&str>, section_text: &str) -> bool {
    let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    match quote.map(squash) {
        Some(quote) if !quote.is_empty() => !squash(section_text).contains(&quote),
        _ => false,
    }
}

/// A comment's text checked: trimmed, not empty, not too long.
pub fn parse_body(text: &str) -> Result<String, String> {
    let body = text.replace("\r\n", "\n").trim().to_owned();
    if body.is_empty() {
        return Err("Write the comment first.".to_owned());
    }
    if body.chars().count() > MAX_BODY {
        return Err(format!(
            "Keep a comment under {MAX_BODY} characters (this one has {}).",
            body.chars().count()
        ));
    }
    Ok(body)
}

/// The quoted passage, trimmed and cut to [`MAX_QUOTE`]; `None` when empty.
pub fn parse_quote(text: &str) -> Option<String> {
    let quote = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!quote.is_empty()).then(|| quote.chars().take(MAX_QUOTE).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_outdated_only_when_its_passage_is_gone() {
        let text = "The pool was lowered\nfrom 50 to 5 by a config change.";
        assert!(
            !is_outdated(Some("lowered from 50 to 5"), text),
            "line breaks do not count"
        );
        assert!(is_outdated(Some("from 50 to 2"), text));
        assert!(
            !is_outdated(None, text),
            "a comment on a section is never outdated"
        );
    }

    #[test]
    fn bodies_and_anchors_are_checked() {
        assert_eq!(parse_body("  Why 5?\r\n "), Ok("Why 5?".to_owned()));
        assert!(parse_body("   ").is_err());
        assert!(
            parse_body(&"x".repeat(MAX_BODY + 1))
                .unwrap_err()
                .contains("10000")
        );
        assert!(is_anchor("trigger") && is_anchor(GENERAL) && !is_anchor("nope"));
        assert_eq!(parse_quote("  a \n b "), Some("a b".to_owned()));
    }
}

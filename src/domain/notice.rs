//! What people are told by email as the review goes on: the kinds of
//! notification, each of which a person can switch off, and `@mentions`.

/// A kind of notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ReviewRequested,
    ChangesRequested,
    Mentioned,
    ItemAssigned,
    ItemDueChanged,
    FollowedPublished,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::ReviewRequested,
        Kind::ChangesRequested,
        Kind::Mentioned,
        Kind::ItemAssigned,
        Kind::ItemDueChanged,
        Kind::FollowedPublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ReviewRequested => "review_requested",
            Kind::ChangesRequested => "changes_requested",
            Kind::Mentioned => "mentioned",
            Kind::ItemAssigned => "item_assigned",
            Kind::ItemDueChanged => "item_due_changed",
            Kind::FollowedPublished => "followed_published",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// How the account page names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::ReviewRequested => "I am asked to review a postmortem",
            Kind::ChangesRequested => "A reviewer requests changes on my postmortem",
            Kind::Mentioned => "Someone mentions me (@name) in a comment or a section",
            Kind::ItemAssigned => "An action item is given to me",
            Kind::ItemDueChanged => "The due date of my action item changes",
            Kind::FollowedPublished => {
                "A postmortem of a team, service or tag I follow is published"
            }
        }
    }
}

/// What a mention is matched on: letters and digits only, lower case, so
/// that `@Ana.Lopez`, `@ana-lopez` and `@AnaLopez` are one handle.
pub fn handle(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The handles `@mentioned` in a text: an `@` at the start or after a
/// character that is not part of a word (so `ana@example.com` is an
/// address, not a mention), then letters, digits, `.`, `_` or `-`.
pub fn mentions(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !previous.is_some_and(|p| p.is_alphanumeric() || p == '_');
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .unwrap_or(rest.len());
        // A trailing full stop ends the sentence, not the name.
        let name = rest[..end].trim_end_matches(['.', '-', '_']);
        let handle = handle(name);
        if handle.len() >= 2 && !found.contains(&handle) {
            found.push(handle);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("digest"), None);
    }

    #[test]
    fn mentions_are_handles_after_an_at_sign_not_addresses() {
        assert_eq!(
            mentions("@ana.lopez can you check? Thanks, cc @Bo_Chen."),
            vec!["analopez", "bochen"]
        );
        assert_eq!(
            mentions("mail ana@example.com about it"),
            Vec::<String>::new()
        );
        assert_eq!(mentions("(@sam) and @sam again"), vec!["sam"]);
        assert_eq!(mentions("an @ alone, or @x"), Vec::<String>::new());
    }

    #[test]
    fn a_handle_ignores_case_and_punctuation() {
        assert_eq!(handle("Ana López"), "analópez");
        assert_eq!(handle("ana.lopez"), handle("Ana-Lopez"));
    }
}

//! Short names typed by people: display names and team names.

/// A display name or team name: trimmed, 1 to `max` characters, no control characters.
pub fn parse_name(input: &str, max: usize) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() {
        return Err("Enter a name.".to_owned());
    }
    if name.chars().count() > max {
        return Err(format!("Keep it to {max} characters or fewer."));
    }
    if name.chars().any(char::is_control) {
        return Err("Use letters, digits and punctuation only.".to_owned());
    }
    Ok(name.to_owned())
}

/// Longest display name accepted.
pub const DISPLAY_NAME_MAX: usize = 100;
/// Longest team name accepted.
pub const TEAM_NAME_MAX: usize = 80;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(parse_name("  Ada Lovelace ", 100).unwrap(), "Ada Lovelace");
    }

    #[test]
    fn empty_long_and_control_names_are_refused() {
        assert!(parse_name("   ", 100).is_err());
        assert!(parse_name(&"x".repeat(101), 100).is_err());
        assert!(parse_name("a\u{7}b", 100).is_err());
    }
}

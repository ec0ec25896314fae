//! What kind of event an incident was and how bad it was.

crate::closed_set! {
    /// Incidents get the full review; near misses and chaos experiments a lighter one.
    IncidentKind as "incident_kind" {
        Incident = "incident", "Incident";
        NearMiss = "near_miss", "Near miss";
        ChaosExperiment = "chaos_experiment", "Chaos experiment";
    }
}

crate::closed_set! {
    /// SEV1 is the worst.
    Severity as "severity" {
        Sev1 = "sev1", "SEV1";
        Sev2 = "sev2", "SEV2";
        Sev3 = "sev3", "SEV3";
        Sev4 = "sev4", "SEV4";
    }
}

crate::closed_set! {
    /// How two incidents relate.
    LinkKind as "incident_link_kind" {
        Related = "related", "Related";
        /// The incident happened before: this one repeats it.
        RepeatOf = "repeat_of", "Repeat of";
    }
}

/// The human number of an incident, `INC-42`.
pub fn display_number(number: i32) -> String {
    format!("INC-{number}")
}

/// Parses `INC-42` (any case) or `42` back into 42.
pub fn parse_number(text: &str) -> Option<i32> {
    let text = text.trim();
    let digits = match text.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("inc-") => &text[4..],
        _ => text,
    };
    digits.parse().ok().filter(|number| *number > 0)
}

/// Splits a comma-separated list of services or tags: trimmed, lowercased
/// words with spaces turned into dashes, duplicates and empties dropped.
pub fn parse_labels(input: &str) -> Result<Vec<String>, String> {
    let mut labels: Vec<String> = Vec::new();
    for raw in input.split(',') {
        let label = raw
            .trim()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        if label.is_empty() || labels.contains(&label) {
            continue;
        }
        if label.chars().count() > 60 {
            return Err(format!(
                "“{label}” is too long; keep each to 60 characters."
            ));
        }
        if label
            .chars()
            .any(|c| c.is_control() || c == '<' || c == '>')
        {
            return Err(format!("“{label}” has characters that are not allowed."));
        }
        labels.push(label);
    }
    if labels.len() > 20 {
        return Err("List at most 20.".to_owned());
    }
    Ok(labels)
}

/// Whether a typed link is a web address (the only kind Debrief links to).
pub fn is_web_link(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://"))
        && !text.chars().any(char::is_whitespace)
}

/// A stored address as something to link to: only a web link is (an
/// archive written elsewhere may hold `javascript:` or `data:` addresses in
/// any of its URL fields, and every one of them passes through here).
pub fn web_link(address: Option<&str>) -> Option<&str> {
    address.filter(|address| is_web_link(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_numbers_round_trip() {
        assert_eq!(display_number(42), "INC-42");
        assert_eq!(parse_number("INC-42"), Some(42));
        assert_eq!(parse_number("inc-7"), Some(7));
        assert_eq!(parse_number("12"), Some(12));
        assert_eq!(parse_number("INC-"), None);
        assert_eq!(parse_number("INC-0"), None);
    }

    #[test]
    fn labels_are_normalized() {
        assert_eq!(
            parse_labels(" Checkout API, postgres-main,,checkout api ").unwrap(),
            vec!["checkout-api", "postgres-main"]
        );
        assert!(parse_labels(&"x".repeat(61)).is_err());
        assert!(parse_labels("<script>").is_err());
    }

    #[test]
    fn closed_sets_round_trip_through_their_names() {
        for kind in IncidentKind::ALL {
            assert_eq!(IncidentKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(Severity::parse("sev2"), Some(Severity::Sev2));
        assert_eq!(Severity::Sev1.label(), "SEV1");
        assert_eq!(Severity::parse("SEV2"), None);
    }
}

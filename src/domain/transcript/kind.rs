//! Guessing the phase a line marks from its words, so an imported timeline
//! (a chat log, or the timeline of an imported postmortem) arrives with its
//! detection, escalation, mitigation and resolution already picked out
//! (the author can change each one).

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::postmortem::TimelineKind;

/// Phrases per kind, most decisive first: "the alert resolved" is a
/// resolution, "paged after the alert" an escalation.
static RULES: LazyLock<Vec<(TimelineKind, Regex)>> = LazyLock::new(|| {
    let rule = |kind, words: &str| {
        let pattern = format!(r"(?i)\b(?:{words})\b");
        (kind, Regex::new(&pattern).expect("a valid pattern"))
    };
    vec![
        rule(
            TimelineKind::Resolution,
            r"resolved|fixed|all[- ]clear|fully (?:recovered|restored)|recovered fully|back to normal|back within|permanently|incident (?:is )?(?:closed|over)|clos(?:ed|ing) (?:the |this )?incident|stand(?:ing)? down",
        ),
        rule(
            TimelineKind::Mitigation,
            r"roll(?:ed|ing)?[- ]?back|rollback|revert(?:ed|ing)?|downgraded|restored|workaround|recovering|fail(?:ed|ing)?[- ]?over|failover|mitigat(?:ed|es|ing|ion)|restart(?:ed|ing)?|reboot(?:ed|ing)?|scal(?:ed|ing) (?:up|out)|drain(?:ed|ing)|disabl(?:ed|ing) (?:the )?(?:flag|feature|job|cron)|hotfix|block(?:ed|ing) (?:the )?(?:traffic|ips?)|rate[- ]limit(?:ed|ing)",
        ),
        rule(
            TimelineKind::Escalation,
            r"paged|paging|war room|escalat(?:ed|es|ing|ion)|declar(?:ed|ing) (?:an? )?(?:incident|sev\s?\d|major)|incident declared|loop(?:ed|ing) in|call(?:ed|ing) in|pull(?:ed|ing) in|woke (?:up )?(?:the )?on-?call|incident commander",
        ),
        rule(
            TimelineKind::Detection,
            r"alert(?:s|ed|ing)?|firing|fired|fires|detected|detection|discovered|noticed|notified|reported|spotted|reports? of|climbing|elevated|degraded|high latency|(?:customers?|users?) (?:report|complain)(?:ed|ing|s)?|error rate|spike|seeing (?:errors|timeouts|5\d\d)|monitor(?:ing)? (?:shows|caught)",
        ),
        rule(
            TimelineKind::Trigger,
            r"deploy(?:ed|ing|ment)? (?:started|began|of|to)|start(?:ed|ing) (?:the |a )?deploy|config(?:uration)? (?:change|push(?:ed)?)|push(?:ed)? (?:a |the )?config|migration (?:started|ran|began)",
        ),
    ]
});

/// The kind `text` most likely marks; `source` is where it was read from
/// ("alert", "deploy", "Slack", ...). A deploy record with no other clue is
/// a trigger, an alert record a detection; anything else without a clue is
/// a note.
pub fn guess(text: &str, source: &str) -> TimelineKind {
    if let Some((kind, _)) = RULES.iter().find(|(_, pattern)| pattern.is_match(text)) {
        return *kind;
    }
    match source.to_ascii_lowercase().as_str() {
        "deploy" => TimelineKind::Trigger,
        "alert" => TimelineKind::Detection,
        _ => TimelineKind::Note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_words() {
        let cases = [
            (
                "Alert firing: checkout 5xx above 2%",
                TimelineKind::Detection,
            ),
            (
                "customers reporting failed payments",
                TimelineKind::Detection,
            ),
            ("checkout p99 is climbing", TimelineKind::Detection),
            ("Paged the database on-call", TimelineKind::Escalation),
            ("declaring an incident, I'm IC", TimelineKind::Escalation),
            ("Rolled back to v2.3.1", TimelineKind::Mitigation),
            ("rolling back the config now", TimelineKind::Mitigation),
            ("failed over to the replica", TimelineKind::Mitigation),
            (
                "Error rate back to normal, resolved",
                TimelineKind::Resolution,
            ),
            ("The alert resolved", TimelineKind::Resolution),
            ("deploy of api v2.4 started", TimelineKind::Trigger),
            ("anyone seen my coffee?", TimelineKind::Note),
        ];
        for (text, kind) in cases {
            assert_eq!(guess(text, "Slack"), kind, "{text}");
        }
    }

    #[test]
    fn the_source_decides_when_the_words_do_not() {
        assert_eq!(guess("api v2.4 to prod", "deploy"), TimelineKind::Trigger);
        assert_eq!(
            guess("HighLatency on api", "alert"),
            TimelineKind::Detection
        );
        assert_eq!(guess("rolled back api", "deploy"), TimelineKind::Mitigation);
        // "Rolled" is not "rolled back"; "alerting" inside a longer word is not a word.
        assert_eq!(guess("rolled the dice", "chat log"), TimelineKind::Note);
    }
}

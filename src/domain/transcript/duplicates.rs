//! Spotting imported lines the timeline already has: the same moment (give
//! or take two minutes) and the same words (give or take a few typos,
//! punctuation, case, or the speaker written in front).

use chrono::{DateTime, Duration, Utc};

/// How far apart two times may be and still be the same event.
const NEAR: Duration = Duration::minutes(2);
/// How alike two texts must be, from 0 (nothing shared) to 1 (the same).
const ALIKE: f64 = 0.85;

/// An entry already in the timeline, as compared.
pub struct Existing {
    pub at: DateTime<Utc>,
    pub speaker: Option<String>,
    pub text: String,
}

/// The index of the first existing entry that `text` at `at` repeats.
pub fn find(
    at: DateTime<Utc>,
    speaker: Option<&str>,
    text: &str,
    existing: &[Existing],
) -> Option<usize> {
    let typed = words(text);
    let with_speaker = speaker.map(|speaker| words(&format!("{speaker} {text}")));
    existing.iter().position(|entry| {
        if (entry.at - at).abs() > NEAR {
            return false;
        }
        let theirs = words(&entry.text);
        let theirs_with_speaker = entry
            .speaker
            .as_deref()
            .map(|speaker| words(&format!("{speaker} {}", entry.text)));
        alike(&typed, &theirs)
            || with_speaker
                .as_deref()
                .is_some_and(|mine| alike(mine, &theirs))
            || theirs_with_speaker
                .as_deref()
                .is_some_and(|theirs| alike(&typed, theirs))
    })
}

/// Lowercased words, joined by single spaces.
fn words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The same words give or take a few typos, or one message that goes on
/// where the other stops (a chat line continued on the next lines).
fn alike(a: &str, b: &str) -> bool {
    let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    !shorter.is_empty()
        && (strsim::normalized_levenshtein(a, b) >= ALIKE
            || (shorter.len() >= 15 && longer.starts_with(shorter)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 3, 1, 14, minute, 0)
            .single()
            .expect("a time")
    }

    #[test]
    fn the_same_event_written_a_little_differently_is_a_duplicate() {
        let existing = vec![
            Existing {
                at: at(5),
                speaker: None,
                text: "Rolled back to v2.3.1.".to_owned(),
            },
            Existing {
                at: at(20),
                speaker: None,
                text: "sam: paged the database on-call".to_owned(),
            },
        ];
        assert_eq!(
            find(at(6), None, "rolled back to v2.3.1", &existing),
            Some(0)
        );
        assert_eq!(
            find(at(5), None, "Rolled bak to v2.3.1", &existing),
            Some(0)
        );
        assert_eq!(
            find(at(20), Some("sam"), "Paged the database on-call", &existing),
            Some(1),
            "the speaker written in front of the old entry's text"
        );
        assert_eq!(
            find(
                at(5),
                None,
                "Rolled back to v2.3.1\nwatching the graphs",
                &existing
            ),
            Some(0),
            "a message continued on more lines"
        );
        assert_eq!(
            find(at(9), None, "rolled back to v2.3.1", &existing),
            None,
            "too far apart"
        );
        assert_eq!(find(at(5), None, "rolled forward to v2.4", &existing), None);
    }
}

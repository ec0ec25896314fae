//! The postmortem's workflow, its contributing factors and timeline kinds.

use chrono::{DateTime, Duration, Utc};

crate::closed_set! {
    /// Draft, then in review, then published for everyone.
    PostmortemStatus as "postmortem_status" {
        Draft = "draft", "Draft";
        InReview = "in_review", "In review";
        Published = "published", "Published";
    }
}

crate::closed_set! {
    /// The phase a timeline entry marks.
    TimelineKind as "timeline_kind" {
        Trigger = "trigger", "Trigger";
        Detection = "detection", "Detection";
        Escalation = "escalation", "Escalation";
        Mitigation = "mitigation", "Mitigation";
        Resolution = "resolution", "Resolution";
        Note = "note", "Note";
    }
}

/// Default number of days after resolution by which the review should be done.
pub const DEFAULT_REVIEW_DUE_DAYS: i64 = 5;

/// When the review of an incident resolved at `resolved_at` is due.
pub fn review_due(resolved_at: Option<DateTime<Utc>>, days: i64) -> Option<DateTime<Utc>> {
    resolved_at.map(|resolved| resolved + Duration::days(days))
}

/// Who may move a postmortem from `from` to `to`: the transitions that exist.
pub fn can_move(from: PostmortemStatus, to: PostmortemStatus) -> bool {
    use PostmortemStatus::*;
    matches!(
        (from, to),
        (Draft, InReview) | (InReview, Draft) | (InReview, Published) | (Published, InReview)
    )
}

/// Where the rows of a timeline sort when some have no known time: each at
/// the time of the row before it that has one, rows before the first known
/// time at that time, so every row keeps its place. `None` for all when no
/// row has a time.
pub fn sort_times(times: &[Option<DateTime<Utc>>]) -> Vec<Option<DateTime<Utc>>> {
    let mut last = times.iter().flatten().next().copied();
    times
        .iter()
        .map(|at| {
            last = at.or(last);
            last
        })
        .collect()
}

/// The key moments of an incident, from its key times or, where one is
/// missing, from the first timeline entry of the matching kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyTimes {
    pub started: Option<DateTime<Utc>>,
    pub detected: Option<DateTime<Utc>>,
    pub mitigated: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
}

impl KeyTimes {
    /// Fills the gaps from timeline entries `(kind, at)`.
    pub fn filled_from(mut self, entries: &[(TimelineKind, DateTime<Utc>)]) -> KeyTimes {
        let first = |kind: TimelineKind| {
            entries
                .iter()
                .filter(|(entry_kind, _)| *entry_kind == kind)
                .map(|(_, at)| *at)
                .min()
        };
        self.started = self.started.or_else(|| first(TimelineKind::Trigger));
        self.detected = self.detected.or_else(|| first(TimelineKind::Detection));
        self.mitigated = self.mitigated.or_else(|| first(TimelineKind::Mitigation));
        self.resolved = self.resolved.or_else(|| first(TimelineKind::Resolution));
        self
    }

    pub fn time_to_detect(&self) -> Option<Duration> {
        since(self.started, self.detected)
    }

    pub fn time_to_mitigate(&self) -> Option<Duration> {
        since(self.started, self.mitigated)
    }

    pub fn time_to_resolve(&self) -> Option<Duration> {
        since(self.started, self.resolved)
    }
}

fn since(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<Duration> {
    match (from, to) {
        (Some(from), Some(to)) if to >= from => Some(to - from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, hour, minute, 0).unwrap()
    }

    #[test]
    fn durations_come_from_key_times() {
        let times = KeyTimes {
            started: Some(at(10, 0)),
            detected: Some(at(10, 13)),
            mitigated: Some(at(11, 0)),
            resolved: Some(at(12, 5)),
        };
        assert_eq!(times.time_to_detect(), Some(Duration::minutes(13)));
        assert_eq!(times.time_to_resolve(), Some(Duration::minutes(125)));
    }

    #[test]
    fn missing_key_times_come_from_the_timeline() {
        let entries = [
            (TimelineKind::Note, at(9, 0)),
            (TimelineKind::Trigger, at(10, 0)),
            (TimelineKind::Detection, at(10, 20)),
            (TimelineKind::Detection, at(10, 30)),
        ];
        let times = KeyTimes::default().filled_from(&entries);
        assert_eq!(times.time_to_detect(), Some(Duration::minutes(20)));
        assert_eq!(times.time_to_mitigate(), None);
    }

    #[test]
    fn times_out_of_order_give_no_duration() {
        let times = KeyTimes {
            started: Some(at(10, 0)),
            detected: Some(at(9, 0)),
            ..KeyTimes::default()
        };
        assert_eq!(times.time_to_detect(), None);
    }

    #[test]
    fn only_real_transitions_are_allowed() {
        use PostmortemStatus::*;
        assert!(can_move(Draft, InReview));
        assert!(can_move(InReview, Published));
        assert!(!can_move(Draft, Published));
        assert!(!can_move(Published, Draft));
    }
}

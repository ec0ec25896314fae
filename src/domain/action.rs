//! Action items: what they are for, how urgent, and where they stand.

use chrono::NaiveDate;

crate::closed_set! {
    ActionKind as "action_kind" {
        Prevent = "prevent", "Prevent";
        Mitigate = "mitigate", "Mitigate";
        Detect = "detect", "Detect";
        Process = "process", "Process";
        Investigate = "investigate", "Investigate";
    }
}

crate::closed_set! {
    /// P0 is the most urgent.
    Priority as "action_priority" {
        P0 = "p0", "P0";
        P1 = "p1", "P1";
        P2 = "p2", "P2";
        P3 = "p3", "P3";
    }
}

crate::closed_set! {
    ActionStatus as "action_status" {
        Open = "open", "Open";
        InProgress = "in_progress", "In progress";
        Done = "done", "Done";
        /// Consciously dropped: it was the wrong fix.
        WontDo = "wont_do", "Won't do";
        /// Consciously dropped: right, but not worth doing now.
        Deprioritized = "deprioritized", "Deprioritized";
    }
}

impl ActionStatus {
    /// Still to be done.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }

    /// Closing this way needs a written reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, ActionStatus::WontDo | ActionStatus::Deprioritized)
    }
}

/// Whether an item is past its due date on `today`.
pub fn is_overdue(status: ActionStatus, due_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    status.is_open() && due_on.is_some_and(|due| due < today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_items_past_their_date_are_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 10).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2026, 5, 9).unwrap();
        assert!(is_overdue(ActionStatus::Open, Some(yesterday), today));
        assert!(is_overdue(ActionStatus::InProgress, Some(yesterday), today));
        assert!(
            !is_overdue(ActionStatus::Open, Some(today), today),
            "due today is not late yet"
        );
        assert!(!is_overdue(ActionStatus::Done, Some(yesterday), today));
        assert!(!is_overdue(ActionStatus::Open, None, today));
    }

    #[test]
    fn dropping_an_item_needs_a_reason() {
        assert!(ActionStatus::WontDo.needs_reason());
        assert!(ActionStatus::Deprioritized.needs_reason());
        assert!(!ActionStatus::Done.needs_reason());
    }
}

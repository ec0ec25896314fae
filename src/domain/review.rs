//! The quarterly review's rules: the decision a reviewer records for an
//! overdue or stale action item, and what it does to the item.

use chrono::NaiveDate;

use super::{action::ActionStatus, incident::is_web_link};

crate::closed_set! {
    DecisionKind as "review_decision" {
        /// It shipped: the evidence link shows where.
        Done = "done", "Done";
        /// Still right and still wanted, by a new date.
        Keep = "keep", "Keep";
        /// It was the wrong fix.
        WontDo = "wont_do", "Won't do";
        /// Right, but not worth doing now.
        Deprioritized = "deprioritized", "Deprioritized";
    }
}

impl DecisionKind {
    /// What the choice means, for the form.
    pub fn help(self) -> &'static str {
        match self {
            DecisionKind::Done => "it shipped; link the evidence",
            DecisionKind::Keep => "still wanted; set a new due date",
            DecisionKind::WontDo => "it was the wrong fix; say why",
            DecisionKind::Deprioritized => "right, but not now; say why",
        }
    }
}

/// A decision as recorded: each kind carries what it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Done { evidence_url: String },
    Keep { new_due_on: NaiveDate },
    WontDo { reason: String },
    Deprioritized { reason: String },
}

/// The longest reason kept.
const REASON_MAX_CHARS: usize = 2000;

impl Decision {
    /// Parses a decision as typed. `today` is the organization's date: a
    /// kept item must be due after it. Errors name the field at fault.
    pub fn parse(
        kind: &str,
        evidence_url: &str,
        new_due_on: &str,
        reason: &str,
        today: NaiveDate,
    ) -> Result<Decision, (&'static str, &'static str)> {
        let reason = reason.trim();
        let needs_reason = |reason: &str| {
            if reason.is_empty() {
                Err(("reason", "Say why: dropping an item needs a reason."))
            } else if reason.chars().count() > REASON_MAX_CHARS {
                Err(("reason", "Keep the reason under 2,000 characters."))
            } else {
                Ok(reason.to_owned())
            }
        };
        match DecisionKind::parse(kind) {
            None => Err(("decision", "Pick a decision.")),
            Some(DecisionKind::Done) => {
                let url = evidence_url.trim();
                if !is_web_link(url) {
                    return Err((
                        "evidence_url",
                        "Link the evidence that it shipped (a pull request, a ticket, a dashboard), starting with https://.",
                    ));
                }
                Ok(Decision::Done {
                    evidence_url: url.to_owned(),
                })
            }
            Some(DecisionKind::Keep) => {
                let due = NaiveDate::parse_from_str(new_due_on.trim(), "%Y-%m-%d")
                    .map_err(|_| ("new_due_on", "Set the new due date, such as 2027-01-31."))?;
                if due <= today {
                    return Err(("new_due_on", "The new due date must be after today."));
                }
                Ok(Decision::Keep { new_due_on: due })
            }
            Some(DecisionKind::WontDo) => Ok(Decision::WontDo {
                reason: needs_reason(reason)?,
            }),
            Some(DecisionKind::Deprioritized) => Ok(Decision::Deprioritized {
                reason: needs_reason(reason)?,
            }),
        }
    }

    pub fn kind(&self) -> DecisionKind {
        match self {
            Decision::Done { .. } => DecisionKind::Done,
            Decision::Keep { .. } => DecisionKind::Keep,
            Decision::WontDo { .. } => DecisionKind::WontDo,
            Decision::Deprioritized { .. } => DecisionKind::Deprioritized,
        }
    }

    /// The item's status after the decision.
    pub fn status_after(&self, before: ActionStatus) -> ActionStatus {
        match self {
            Decision::Done { .. } => ActionStatus::Done,
            Decision::Keep { .. } => before,
            Decision::WontDo { .. } => ActionStatus::WontDo,
            Decision::Deprioritized { .. } => ActionStatus::Deprioritized,
        }
    }

    pub fn evidence_url(&self) -> Option<&str> {
        match self {
            Decision::Done { evidence_url } => Some(evidence_url),
            _ => None,
        }
    }

    pub fn new_due_on(&self) -> Option<NaiveDate> {
        match self {
            Decision::Keep { new_due_on } => Some(*new_due_on),
            _ => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::WontDo { reason } | Decision::Deprioritized { reason } => Some(reason),
            _ => None,
        }
    }

    /// One line for the item's history.
    pub fn describe(&self) -> String {
        match self {
            Decision::Done { evidence_url } => format!("done (evidence: {evidence_url})"),
            Decision::Keep { new_due_on } => format!("keep, now due {new_due_on}"),
            Decision::WontDo { .. } => "won't do".to_owned(),
            Decision::Deprioritized { .. } => "deprioritized".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn each_decision_needs_its_own_detail() {
        let parse = |kind, url, due, reason| Decision::parse(kind, url, due, reason, today());
        assert_eq!(
            parse("done", " https://git.example/pr/1 ", "", ""),
            Ok(Decision::Done {
                evidence_url: "https://git.example/pr/1".to_owned()
            })
        );
        assert_eq!(parse("done", "", "", "").unwrap_err().0, "evidence_url");
        assert_eq!(
            parse("done", "javascript:alert(1)", "", "").unwrap_err().0,
            "evidence_url"
        );
        assert_eq!(
            parse("keep", "", "2027-01-31", ""),
            Ok(Decision::Keep {
                new_due_on: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()
            })
        );
        assert_eq!(parse("keep", "", "", "").unwrap_err().0, "new_due_on");
        assert_eq!(
            parse("keep", "", "2026-11-28", "").unwrap_err().0,
            "new_due_on"
        );
        assert_eq!(parse("wont_do", "", "", "  ").unwrap_err().0, "reason");
        assert_eq!(parse("deprioritized", "", "", "").unwrap_err().0, "reason");
        assert_eq!(
            parse("deprioritized", "", "", " Replaced by the new queue. "),
            Ok(Decision::Deprioritized {
                reason: "Replaced by the new queue.".to_owned()
            })
        );
        assert_eq!(parse("", "", "", "").unwrap_err().0, "decision");
        assert_eq!(parse("close", "", "", "x").unwrap_err().0, "decision");
        assert_eq!(
            parse("wont_do", "", "", &"x".repeat(2001)).unwrap_err().0,
            "reason"
        );
    }

    #[test]
    fn a_decision_sets_the_status_it_names() {
        let keep = Decision::Keep {
            new_due_on: today(),
        };
        assert_eq!(
            keep.status_after(ActionStatus::InProgress),
            ActionStatus::InProgress
        );
        let done = Decision::Done {
            evidence_url: "https://x".to_owned(),
        };
        assert_eq!(done.status_after(ActionStatus::Open), ActionStatus::Done);
        let dropped = Decision::WontDo {
            reason: "wrong".to_owned(),
        };
        assert_eq!(
            dropped.status_after(ActionStatus::Open),
            ActionStatus::WontDo
        );
        assert_eq!(dropped.reason(), Some("wrong"));
    }
}

//! What the API sends: the archive's records as JSON, each described in the
//! OpenAPI document.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        action::{ActionKind, ActionStatus, Priority},
        incident::{IncidentKind, Severity, display_number},
        postmortem::{PostmortemStatus, TimelineKind},
    },
    store::{
        action_items::ActionItem, comments::Comment, incidents::Incident,
        incidents::IncidentSummary, postmortems::FactorRow, postmortems::Postmortem,
        timeline::TimelineEntry,
    },
};

/// Most results one page holds, and how many it holds unless asked.
const MAX_PER_PAGE: i64 = 100;
const DEFAULT_PER_PAGE: i64 = 25;

/// An optional text parameter, trimmed; blank counts as not given.
pub fn given(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// The page (from 1) and its size (1 to 100, 25 unless asked), refused
/// when out of range.
pub fn resolve_page(
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<(i64, i64), super::Problem> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=100_000).contains(&page) {
        return Err(super::Problem::bad_request("`page` is from 1 to 100000."));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(super::Problem::bad_request("`per_page` is from 1 to 100."));
    }
    Ok((page, per_page))
}

/// One page of a list. `has_more` says whether a next page exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub has_more: bool,
}

impl<T: ToSchema> Page<T> {
    /// A page from up to `per_page + 1` rows (the extra one only tells that
    /// there are more).
    pub fn from_rows(mut items: Vec<T>, page: i64, per_page: i64) -> Page<T> {
        let has_more = items.len() as i64 > per_page;
        items.truncate(usize::try_from(per_page).unwrap_or(0));
        Page {
            items,
            page,
            per_page,
            has_more,
        }
    }
}

/// An incident as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentItem {
    pub number: i32,
    /// `INC-12`.
    pub key: String,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub status: PostmortemStatus,
    pub services: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub open_action_items: i64,
    /// Readable only by its access list.
    pub restricted: bool,
}

impl From<IncidentSummary> for IncidentItem {
    fn from(row: IncidentSummary) -> IncidentItem {
        IncidentItem {
            key: display_number(row.number),
            number: row.number,
            title: row.title,
            kind: row.kind,
            severity: row.severity,
            status: row.status,
            services: row.services,
            started_at: row.started_at,
            resolved_at: row.resolved_at,
            open_action_items: row.open_actions,
            restricted: row.restricted,
        }
    }
}

/// An incident with its whole postmortem.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetail {
    pub number: i32,
    pub key: String,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The zone the incident's times were written in (an IANA name).
    pub time_zone: String,
    pub postmortem: PostmortemView,
}

/// A postmortem: its sections, timeline, contributing factors and items.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostmortemView {
    pub status: PostmortemStatus,
    /// Changes with every save; send it back to detect a concurrent edit.
    pub version: i32,
    pub restricted: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub sections: SectionsView,
    pub timeline: Vec<TimelineView>,
    pub factors: Vec<FactorView>,
    pub action_items: Vec<ActionItemView>,
}

/// The standard template's sections, as Markdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionsView {
    pub summary: String,
    pub impact: String,
    pub users_affected: Option<i64>,
    pub failed_requests: Option<i64>,
    pub revenue_lost_cents: Option<i64>,
    /// Percent of the SLO error budget.
    pub slo_budget_consumed: Option<f64>,
    pub trigger: String,
    pub detection: String,
    pub resolution: String,
    pub went_well: String,
    pub went_poorly: String,
    pub got_lucky: String,
    pub lessons: String,
    pub other_notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// True when the source gave no readable time (`occurred_at` only sorts).
    pub time_unknown: bool,
    pub kind: TimelineKind,
    pub speaker: Option<String>,
    pub text: String,
    /// Where the entry came from (`manual`, `alertmanager`, an import).
    pub source: String,
    pub link: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FactorView {
    pub id: Uuid,
    /// The main category's slug (the first of `categories`).
    pub category: String,
    /// Every category's slug, the main one first.
    pub categories: Vec<String>,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionItemView {
    pub id: Uuid,
    pub incident_number: i32,
    pub incident_title: String,
    pub title: String,
    pub description: String,
    pub kind: ActionKind,
    pub priority: Priority,
    pub status: ActionStatus,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub team_id: Option<Uuid>,
    pub team_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub tracker_url: Option<String>,
    pub factor_id: Option<Uuid>,
    pub closing_reason: Option<String>,
    /// Send it back with a change, to detect a concurrent edit.
    pub version: i32,
}

impl From<ActionItem> for ActionItemView {
    fn from(item: ActionItem) -> ActionItemView {
        ActionItemView {
            id: item.id,
            incident_number: item.incident_number,
            incident_title: item.incident_title,
            title: item.title,
            description: item.description,
            kind: item.kind,
            priority: item.priority,
            status: item.status,
            owner_id: item.owner_id,
            owner_name: item.owner_name,
            team_id: item.team_id,
            team_name: item.team_name,
            due_on: item.due_on,
            tracker_url: item.tracker_url,
            factor_id: item.factor_id,
            closing_reason: item.closing_reason,
            version: item.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub id: Uuid,
    /// The thread's first comment, for a reply.
    pub parent_id: Option<Uuid>,
    pub author: String,
    /// The section it is anchored to (`general` for the whole postmortem).
    pub section: String,
    /// The passage it was written about, as it read then.
    pub quote: Option<String>,
    /// Markdown.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<Comment> for CommentView {
    fn from(comment: Comment) -> CommentView {
        CommentView {
            id: comment.id,
            parent_id: comment.parent_id,
            author: comment.author,
            section: comment.section,
            quote: comment.quote,
            body: comment.body,
            created_at: comment.created_at,
            edited_at: comment.edited_at,
            resolved_at: comment.resolved_at,
        }
    }
}

/// Puts an incident and its postmortem's parts together.
pub fn incident_detail(
    incident: Incident,
    postmortem: Postmortem,
    (timeline, factors, items): (Vec<TimelineEntry>, Vec<FactorRow>, Vec<ActionItem>),
) -> IncidentDetail {
    let sections = postmortem.sections;
    IncidentDetail {
        key: display_number(incident.number),
        number: incident.number,
        title: incident.title,
        kind: incident.kind,
        severity: incident.severity,
        services: incident.services,
        tags: incident.tags,
        started_at: incident.started_at,
        detected_at: incident.detected_at,
        mitigated_at: incident.mitigated_at,
        resolved_at: incident.resolved_at,
        time_zone: incident.time_zone,
        postmortem: PostmortemView {
            status: postmortem.status,
            version: postmortem.version,
            restricted: postmortem.restricted,
            published_at: postmortem.published_at,
            updated_at: postmortem.updated_at,
            sections: SectionsView {
                summary: sections.summary,
                impact: sections.impact,
                users_affected: sections.users_affected,
                failed_requests: sections.failed_requests,
                revenue_lost_cents: sections.revenue_lost_cents,
                slo_budget_consumed: sections.slo_budget_consumed,
                trigger: sections.trigger,
                detection: sections.detection,
                resolution: sections.resolution,
                went_well: sections.went_well,
                went_poorly: sections.went_poorly,
                got_lucky: sections.got_lucky,
                lessons: sections.lessons,
                other_notes: sections.other_notes,
            },
            timeline: timeline
                .into_iter()
                .map(|entry| TimelineView {
                    id: entry.id,
                    occurred_at: entry.occurred_at,
                    time_unknown: entry.time_unknown,
                    kind: entry.kind,
                    speaker: entry.speaker,
                    text: entry.text,
                    source: entry.source,
                    link: entry.link,
                })
                .collect(),
            factors: factors
                .into_iter()
                .map(|factor| FactorView {
                    id: factor.id,
                    category: factor.categories.first().cloned().unwrap_or_default(),
                    categories: factor.categories,
                    description: factor.description,
                })
                .collect(),
            action_items: items.into_iter().map(ActionItemView::from).collect(),
        },
    }
}

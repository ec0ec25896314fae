//! Every table of the review page as CSV, with all its rows.

use axum::{
    extract::{Path, Query, State},
    response::Response,
};

use super::{Loaded, TeamQuery, load, page::percent, parse_quarter};
use crate::{
    domain::{incident::display_number, quarter::Quarter},
    store::review::{AGE_BUCKETS, Figures, Tally},
    web::{AppError, AppState, csv::Table, session::CurrentUser},
};

/// The tables, by the name in their address.
pub(super) const TABLES: &[&str] = &[
    "completion",
    "overdue-by-team",
    "overdue-by-owner",
    "open-item-age",
    "awaiting-decision",
    "pushed-back",
    "published",
    "repeats",
];

pub(super) async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((raw_quarter, name)): Path<(String, String)>,
    Query(query): Query<TeamQuery>,
) -> Result<Response, AppError> {
    let quarter = parse_quarter(&raw_quarter)?;
    if !TABLES.contains(&name.as_str()) {
        return Err(AppError::NotFound);
    }
    let Loaded { figures, .. } = load(&state, &user, quarter, query.team_id(), None).await?;
    let table = table(&name, quarter, &figures);
    Ok(table.into_response(&format!("debrief-review-{quarter}-{name}.csv")))
}

/// What a row of a restricted postmortem says in place of its name.
const RESTRICTED: &str = "(restricted)";

fn named(hidden: bool, title: &str) -> String {
    if hidden { RESTRICTED } else { title }.to_owned()
}

fn number(hidden: bool, number: i32) -> String {
    if hidden {
        RESTRICTED.to_owned()
    } else {
        display_number(number)
    }
}

fn text(value: Option<impl ToString>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn decimal(value: Option<f64>) -> String {
    value.map(|value| format!("{value:.2}")).unwrap_or_default()
}

fn tallies(header: &'static str, tallies: &[Tally]) -> Table {
    Table {
        header: vec![header, "overdue items"],
        rows: tallies
            .iter()
            .map(|tally| vec![tally.name.clone(), tally.count.to_string()])
            .collect(),
    }
}

fn table(name: &str, quarter: Quarter, figures: &Figures) -> Table {
    match name {
        "completion" => Table {
            header: vec![
                "quarter",
                "due",
                "done on time",
                "done late",
                "open",
                "dropped",
                "completion rate",
            ],
            rows: quarter
                .trailing(8)
                .into_iter()
                .map(|q| {
                    let o = figures.outcomes(q.first_day());
                    let rate = percent(o.completion_percent());
                    [
                        q.to_string(),
                        o.total.to_string(),
                        o.on_time.to_string(),
                        o.late.to_string(),
                        o.open.to_string(),
                        o.dropped.to_string(),
                        rate.replace(" %", "%"),
                    ]
                    .to_vec()
                })
                .collect(),
        },
        "overdue-by-team" => tallies("team", &figures.overdue_by_team),
        "overdue-by-owner" => tallies("owner", &figures.overdue_by_owner),
        "open-item-age" => Table {
            header: vec!["age", "open items"],
            rows: AGE_BUCKETS
                .iter()
                .zip(&figures.age.buckets)
                .map(|(label, count)| vec![(*label).to_owned(), count.to_string()])
                .collect(),
        },
        "awaiting-decision" => Table {
            header: vec![
                "item", "incident", "owner", "team", "due", "created", "overdue", "stale", "link",
            ],
            rows: figures
                .awaiting
                .iter()
                .map(|item| {
                    vec![
                        named(item.hidden, &item.title),
                        number(item.hidden, item.incident_number),
                        text(item.owner_name.as_ref()),
                        text(item.team_name.as_ref()),
                        text(item.due_on),
                        item.created_at.date_naive().to_string(),
                        item.overdue.to_string(),
                        item.stale.to_string(),
                        if item.hidden {
                            String::new()
                        } else {
                            format!("/action-items/{}", item.id)
                        },
                    ]
                })
                .collect(),
        },
        "pushed-back" => Table {
            header: vec![
                "item",
                "incident",
                "owner",
                "team",
                "pushes in quarter",
                "due before",
                "due now",
            ],
            rows: figures
                .pushed_back
                .iter()
                .map(|item| {
                    vec![
                        named(item.hidden, &item.title),
                        number(item.hidden, item.incident_number),
                        text(item.owner_name.as_ref()),
                        text(item.team_name.as_ref()),
                        item.pushes.to_string(),
                        text(item.from.as_ref()),
                        text(item.due_on),
                    ]
                })
                .collect(),
        },
        "published" => Table {
            header: vec![
                "incident",
                "title",
                "severity",
                "resolved",
                "published",
                "days to publish",
                "met review due date",
            ],
            rows: figures
                .published
                .iter()
                .map(|p| {
                    vec![
                        number(p.hidden, p.incident_number),
                        named(p.hidden, &p.title),
                        p.severity.label().to_owned(),
                        text(p.resolved_at.map(|at| at.to_rfc3339())),
                        p.published_at.to_rfc3339(),
                        decimal(p.days),
                        p.met_due.to_string(),
                    ]
                })
                .collect(),
        },
        _ => Table {
            header: vec![
                "incident",
                "title",
                "started",
                "repeat of",
                "repeat of title",
            ],
            rows: figures
                .repeats
                .iter()
                .map(|r| {
                    vec![
                        number(r.hidden, r.incident_number),
                        named(r.hidden, &r.title),
                        r.started_at.to_rfc3339(),
                        number(r.hidden, r.of_number),
                        named(r.hidden, &r.of_title),
                    ]
                })
                .collect(),
        },
    }
}

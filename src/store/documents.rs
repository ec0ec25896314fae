//! A postmortem read as one [`Document`]: for revisions and exports.

use sqlx::PgConnection;

use crate::{
    domain::document::{ActionLine, AttachmentLine, Document, Factor, TimelineLine},
    store,
};

/// The postmortem as it stands now, as one document.
pub async fn load_document(
    db: &mut PgConnection,
    incident_number: i32,
) -> sqlx::Result<Option<Document>> {
    let Some(store::postmortems::Found {
        incident,
        postmortem,
        authors,
        ..
    }) = store::postmortems::find_by_number(&mut *db, incident_number, None, None, None).await?
    else {
        return Ok(None);
    };
    let teams = store::incidents::list_teams(&mut *db, incident.id).await?;
    let factor_rows = store::postmortems::list_factors(&mut *db, postmortem.id).await?;
    let entries = store::timeline::list_entries(&mut *db, postmortem.id).await?;
    let items = store::action_items::list_for_postmortem(&mut *db, postmortem.id).await?;
    let imported_from = store::imports::find_source(&mut *db, incident.id).await?;
    let attachments = store::attachments::list_for_postmortem(&mut *db, postmortem.id).await?;
    Ok(Some(Document {
        number: incident.number,
        title: incident.title,
        kind: incident.kind,
        severity: incident.severity,
        status: postmortem.status,
        services: incident.services,
        tags: incident.tags,
        teams: teams.into_iter().map(|team| team.name).collect(),
        authors: authors
            .into_iter()
            .map(|person| person.display_name)
            .collect(),
        started_at: incident.started_at,
        detected_at: incident.detected_at,
        mitigated_at: incident.mitigated_at,
        resolved_at: incident.resolved_at,
        sections: postmortem.sections,
        factors: factor_rows
            .iter()
            .map(|factor| Factor {
                id: Some(factor.id),
                categories: factor.categories.clone(),
                description: factor.description.clone(),
            })
            .collect(),
        timeline: entries
            .into_iter()
            .map(|entry| TimelineLine {
                id: Some(entry.id),
                at: entry.occurred_at,
                kind: entry.kind,
                speaker: entry.speaker,
                text: entry.text,
                source: entry.source,
                link: entry.link,
                written_at: entry.written_at,
                time_unknown: entry.time_unknown,
            })
            .collect(),
        action_items: items
            .into_iter()
            .map(|item| ActionLine {
                id: Some(item.id),
                answers: item
                    .factor_id
                    .and_then(|id| factor_rows.iter().find(|factor| factor.id == id))
                    .map(|factor| factor.description.clone()),
                title: item.title,
                kind: item.kind,
                priority: item.priority,
                status: item.status,
                owner: item.owner_name,
                team: item.team_name,
                due_on: item.due_on,
                tracker_url: item.tracker_url,
                description: item.description,
                closing_reason: item.closing_reason,
            })
            .collect(),
        imported_from,
        attachments: Some(
            attachments
                .into_iter()
                .map(|attachment| AttachmentLine {
                    id: attachment.id,
                    file_name: attachment.file_name,
                    content_type: attachment.content_type,
                    byte_size: attachment.byte_size,
                })
                .collect(),
        ),
    }))
}

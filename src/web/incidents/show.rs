//! The postmortem reading page: the header with key times and durations,
//! the phase chart, every section, the timeline, factors and action items.

use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, extract::State, routing::get};
use uuid::Uuid;

use super::{
    Case, ForReading,
    comments::{CommentDraft, ThreadView, thread_views},
    views::{EntryView, Fact, ItemView, PhaseChart, entry_views, item_views, key_facts},
};
use crate::{
    domain::{
        document::ImportedFrom,
        incident::display_number,
        markdown,
        postmortem::{PostmortemStatus, review_due},
        search::stemmed_words,
        section::Section,
        time,
    },
    store::{
        self,
        attachments::AttachmentInfo,
        incidents::{LinkedIncident, TeamRef},
        search::Similar,
        users::PersonOption,
    },
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/incidents/{number}", get(show_postmortem))
}

/// A contributing factor, its description rendered.
pub struct FactorView {
    pub id: Uuid,
    /// Each category as (slug, name), the main one first.
    pub categories: Vec<(String, String)>,
    pub html: String,
    pub themes: Vec<store::postmortems::ThemeRef>,
}

/// A written section, rendered.
pub struct SectionView {
    pub anchor: &'static str,
    pub heading: &'static str,
    pub html: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/show.html")]
pub struct PostmortemPage {
    pub layout: Layout,
    pub case: Case,
    pub teams: Vec<TeamRef>,
    pub facts: Vec<Fact>,
    pub durations: Vec<Fact>,
    pub chart: Option<PhaseChart>,
    pub sections: Vec<SectionView>,
    pub factors: Vec<FactorView>,
    pub entries: Vec<EntryView>,
    pub items: Vec<ItemView>,
    pub links: Vec<LinkedIncident>,
    pub review_due: Option<String>,
    pub review_late: bool,
    /// People who could review or co-author (only loaded for editors).
    pub people: Vec<PersonOption>,
    pub can_publish: bool,
    /// For whoever may publish it now: the checks that fail as of now
    /// (what publishing will ask them to acknowledge).
    pub publish_failing: Vec<&'static str>,
    pub attachments: Vec<AttachmentInfo>,
    pub imported_from: Option<ImportedFrom>,
    pub similar: Vec<SimilarView>,
    /// Themes the factors might belong to, each with its reasons.
    pub suggestions: Vec<crate::domain::theme::Suggestion>,
    /// Every theme's name, for the "add to a theme" pickers.
    pub theme_names: Vec<String>,
    /// The review checklist as of the last save: passed, total, failing rules.
    pub checklist: Option<(i16, i16, Vec<&'static crate::domain::checklist::Rule>)>,
    /// Review comments, by thread.
    pub threads: Vec<ThreadView>,
    /// A comment that was refused, back in its form.
    pub comment_draft: Option<CommentDraft>,
    pub can_comment: bool,
    /// Approvals publishing needs (the setting).
    pub required_approvals: i64,
    /// Who took part in the incident, and how.
    pub participants: Vec<store::participants::Participant>,
    /// A refused participant, back in its form.
    pub participant_draft: Option<super::participants::ParticipantDraft>,
    /// Who may read it besides authors, reviewers and admins (empty unless
    /// it is restricted).
    pub access: Vec<store::access::AccessEntry>,
    /// Every team, for an editor's access form.
    pub team_options: Vec<store::incidents::TeamRef>,
}

impl PostmortemPage {
    pub async fn load(
        state: &AppState,
        user: &CurrentUser,
        case: Case,
        stamp: &store::postmortems::PageStamp,
    ) -> Result<Self, AppError> {
        let zone = user.time_zone;
        let postmortem_id = case.postmortem.id;
        let cached = page_parts(state, &case, stamp).await?;
        let (parts, words) = (&cached.parts, &cached.words);
        let related = related(state, user, postmortem_id, stamp).await?;
        let entries = &parts.entries;
        let linked: Vec<i32> = stamp.links.iter().map(|link| link.number).collect();
        let (facts, durations, times) = key_facts(&case.incident, entries, zone);
        let now = state.clock.now();
        let due = review_due(times.resolved, state.config.review_due_days);
        let postmortem = &case.postmortem;
        let rendered = state.caches.rendered_sections.get_or_insert_with(
            &(postmortem.id, postmortem.version),
            || {
                Section::ALL
                    .into_iter()
                    .map(|section| markdown::render(postmortem.sections.text(section.field())))
                    .collect()
            },
        );
        let sections = Section::ALL
            .into_iter()
            .zip(rendered.iter())
            .filter(|(section, _)| {
                !section.optional() || !postmortem.sections.text(section.field()).trim().is_empty()
            })
            .map(|(section, html)| SectionView {
                anchor: section.field(),
                heading: section.heading(),
                html: html.clone(),
            })
            .collect();
        let threads = thread_views(&case, &stamp.discussion.comments, user, |comment| {
            state
                .caches
                .rendered_comments
                .get_or_insert_with(&(comment.id, comment.version), || {
                    markdown::render(&comment.body)
                })
                .as_ref()
                .clone()
        });
        // An unrestricted postmortem's access list is empty by definition.
        let access = if case.postmortem.restricted {
            store::access::list(&state.db, postmortem_id).await?
        } else {
            Vec::new()
        };
        let team_options = if case.access.can_edit {
            parts.all_teams.clone()
        } else {
            Vec::new()
        };
        Ok(PostmortemPage {
            access,
            team_options,
            threads,
            comment_draft: None,
            can_comment: user.can_write(),
            required_approvals: state.config.required_approvals,
            participants: stamp.discussion.participants.clone(),
            participant_draft: None,
            layout: Layout::for_user(user, Nav::Incidents),
            teams: parts.teams.clone(),
            chart: PhaseChart::build(&times, entries, zone),
            facts,
            durations,
            sections,
            factors: parts
                .factors
                .iter()
                .map(|factor| FactorView {
                    id: factor.id,
                    categories: parts
                        .taxonomy
                        .canonical(&factor.categories)
                        .into_iter()
                        .map(|slug| {
                            let name = parts.taxonomy.label(&slug);
                            (slug, name)
                        })
                        .collect(),
                    html: render_inline(state, &factor.description),
                    themes: factor.themes.clone(),
                })
                .collect(),
            entries: entry_views(entries, zone, |text| render_inline(state, text)),
            items: item_views(parts.items.clone(), user.today(now)),
            links: stamp.links.clone(),
            review_due: due.map(|due| time::format_in(due, zone)),
            review_late: due.is_some_and(|due| now > due)
                && case.postmortem.status != PostmortemStatus::Published,
            people: if case.access.can_edit {
                active_people(state, &stamp.directory).await?
            } else {
                Vec::new()
            },
            can_publish: user.can_write() && (case.access.is_reviewer || user.is_admin()),
            publish_failing: if user.can_write()
                && (case.access.is_reviewer || user.is_admin())
                && case.postmortem.status == crate::domain::postmortem::PostmortemStatus::InReview
            {
                super::saved_panel(state, &case)
                    .await?
                    .findings
                    .iter()
                    .filter(|finding| !finding.passed())
                    .map(|finding| finding.rule.title)
                    .collect()
            } else {
                Vec::new()
            },
            attachments: parts.attachments.clone(),
            imported_from: parts.imported_from.clone(),
            similar: related
                .similar
                .iter()
                .map(|other| SimilarView::new(other, &linked, &words.page))
                .collect(),
            suggestions: if user.can_write() {
                theme_suggestions(
                    parts,
                    &words.factors,
                    &case.incident.services,
                    &related.profiles,
                )
            } else {
                Vec::new()
            },
            theme_names: related.theme_names.clone(),
            checklist: case
                .postmortem
                .checklist
                .as_ref()
                .map(|(passed, total, failing)| {
                    let rules = failing
                        .iter()
                        .filter_map(|id| crate::domain::checklist::rule(id))
                        .collect();
                    (*passed, *total, rules)
                }),
            case,
        })
    }

    /// Images shown with one timeline entry.
    fn entry_images(&self, entry_id: &str) -> Vec<&AttachmentInfo> {
        self.attachments
            .iter()
            .filter(|a| {
                a.timeline_entry_id
                    .is_some_and(|id| id.to_string() == entry_id)
            })
            .collect()
    }

    fn import_report(&self) -> Vec<&str> {
        self.imported_from
            .as_ref()
            .and_then(|source| source.report.as_deref())
            .map(|report| report.lines().collect())
            .unwrap_or_default()
    }

    fn number(&self) -> String {
        display_number(self.case.incident.number)
    }

    fn names(&self, people: &[crate::store::postmortems::Person]) -> String {
        people
            .iter()
            .map(|person| person.display_name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn impact_figures(&self) -> Vec<(&'static str, String)> {
        let sections = &self.case.postmortem.sections;
        [
            ("Users affected", sections.users_affected.map(group_digits)),
            (
                "Failed requests",
                sections.failed_requests.map(group_digits),
            ),
            (
                "Revenue lost",
                sections
                    .revenue_lost_cents
                    .map(|cents| format!("{}.{:02}", group_digits(cents / 100), cents % 100)),
            ),
            (
                "SLO error budget",
                sections
                    .slo_budget_consumed
                    .map(|percent| format!("{percent}%")),
            ),
        ]
        .into_iter()
        .filter_map(|(label, value)| value.map(|value| (label, value)))
        .collect()
    }

    /// Members and admins who could review: not the authors.
    fn reviewer_options(&self) -> Vec<&PersonOption> {
        self.people
            .iter()
            .filter(|person| person.role.can_write())
            .filter(|person| {
                !self
                    .case
                    .authors
                    .iter()
                    .any(|author| author.id == person.id)
            })
            .collect()
    }

    fn is_reviewer(&self, person: &PersonOption) -> bool {
        self.case
            .reviewers
            .iter()
            .any(|reviewer| reviewer.id == person.id)
    }

    fn can_send_back(&self) -> bool {
        self.case.access.can_edit || self.can_publish
    }

    /// The threads anchored to one section (or to the whole postmortem).
    fn threads_for(&self, section: &str) -> Vec<&ThreadView> {
        self.threads
            .iter()
            .filter(|thread| thread.section == section)
            .collect()
    }

    fn unresolved(&self) -> usize {
        self.threads
            .iter()
            .filter(|thread| thread.resolved.is_none())
            .count()
    }

    /// The refused comment of one form (a section's, `reply-{id}`, `edit-{id}`).
    fn draft_for(&self, form: &str) -> Option<&CommentDraft> {
        self.comment_draft
            .as_ref()
            .filter(|draft| draft.form == form)
    }

    fn comment_prompt(&self, anchor: &str) -> &'static str {
        if anchor == crate::domain::comment::GENERAL {
            "Comment on the postmortem"
        } else {
            "Comment on this section"
        }
    }

    fn roles(&self) -> &'static [&'static str] {
        super::participants::ROLES
    }

    /// Whether this team or person is on the access list.
    fn has_access(&self, id: &uuid::Uuid) -> bool {
        self.access
            .iter()
            .any(|entry| entry.team_id.as_ref() == Some(id) || entry.user_id.as_ref() == Some(id))
    }

    /// The participant form's values: as refused, or empty.
    fn participant_form(&self) -> super::participants::ParticipantDraft {
        self.participant_draft.clone().unwrap_or_default()
    }

    /// The incident list of those a participant took part in.
    fn participant_link(&self, name: &str) -> String {
        format!(
            "/incidents?{}",
            crate::web::query::encode([("participant", name)])
        )
    }

    /// The passage a refused new comment quoted, or nothing.
    fn draft_quote(&self, form: &str) -> &str {
        self.draft_for(form)
            .map_or("", |draft| draft.quote.as_str())
    }

    fn is_draft(&self) -> bool {
        self.case.postmortem.status != PostmortemStatus::Published
    }
}

/// What the reading page shows about other postmortems: the five most
/// like this one, and the themes to compare its factors with. Kept per
/// (postmortem, reader, access epoch, content stamp) for a minute: they
/// change when other postmortems do, and finding them costs more than the
/// rest of the page; a change to this postmortem (a theme linked to one
/// of its factors, say) makes a new entry.
pub struct Related {
    pub similar: Vec<Similar>,
    pub profiles: Vec<crate::domain::theme::Profile>,
    pub theme_names: Vec<String>,
}

async fn related(
    state: &AppState,
    user: &CurrentUser,
    postmortem_id: Uuid,
    stamp: &store::postmortems::PageStamp,
) -> Result<std::sync::Arc<Related>, AppError> {
    let (db, reader) = (state.db.clone(), user.reader());
    let key = (
        postmortem_id,
        user.id,
        stamp.access_epoch,
        stamp.content.clone(),
    );
    Ok(state
        .caches
        .similar
        .get(key, move || async move {
            Ok::<_, sqlx::Error>(Related {
                similar: store::search::list_similar(&db, reader, postmortem_id, 5).await?,
                profiles: store::themes::profiles(&db).await?,
                theme_names: store::themes::names(&db).await?,
            })
        })
        .await?)
}

/// The words of a postmortem, stemmed once per content stamp and process
/// (cached with the page's parts): the page's own (to name the words a similar incident shares) and each
/// factor's (to suggest themes for it).
pub struct PageWords {
    /// Each stem with the word as it is first written.
    page: std::collections::HashMap<String, String>,
    /// Each factor's words, in the order of `PageParts::factors`.
    factors: Vec<Vec<(String, String)>>,
}

impl PageWords {
    fn new(case: &Case, parts: &store::postmortems::PageParts) -> PageWords {
        let sections = &case.postmortem.sections;
        let factors: Vec<Vec<(String, String)>> = parts
            .factors
            .iter()
            .map(|factor| stemmed_words(&factor.description))
            .collect();
        let mut page = std::collections::HashMap::new();
        let own = std::iter::once(case.incident.title.as_str())
            .chain([
                sections.text("summary"),
                sections.text("trigger"),
                sections.text("root_cause"),
            ])
            .flat_map(stemmed_words);
        for (stem, word) in own.chain(factors.iter().flatten().cloned()) {
            page.entry(stem).or_insert(word);
        }
        PageWords { page, factors }
    }
}

/// A similar incident as the card shows it: what it shares, and how much.
pub struct SimilarView {
    pub number: i32,
    pub title: String,
    pub linked: bool,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub words: Vec<String>,
    pub themes: Vec<String>,
    pub strength: crate::domain::theme::Strength,
}

impl SimilarView {
    fn new(
        other: &Similar,
        linked: &[i32],
        words: &std::collections::HashMap<String, String>,
    ) -> SimilarView {
        let shown: Vec<String> = other
            .shared_words
            .iter()
            .map(|stem| words.get(stem).cloned().unwrap_or_else(|| stem.clone()))
            .take(5)
            .collect();
        SimilarView {
            number: other.number,
            title: other.title.clone(),
            linked: linked.contains(&other.number),
            strength: crate::domain::theme::Strength::of(
                other.shared_words.len(),
                other.shared_services.len(),
                other.shared_tags.len() + other.shared_themes.len() * 2,
            ),
            services: other.shared_services.clone(),
            tags: other.shared_tags.clone(),
            words: shown,
            themes: other.shared_themes.clone(),
        }
    }
}

/// For each factor, the themes it might belong to that nobody has linked
/// or dismissed for it yet.
fn theme_suggestions(
    parts: &store::postmortems::PageParts,
    factor_words: &[Vec<(String, String)>],
    services: &[String],
    profiles: &[crate::domain::theme::Profile],
) -> Vec<crate::domain::theme::Suggestion> {
    parts
        .factors
        .iter()
        .zip(factor_words)
        .flat_map(|(factor, words)| {
            let open = profiles.iter().filter(|p| {
                !factor.themes.iter().any(|t| t.slug == p.slug)
                    && !factor.dismissed.contains(&p.slug)
            });
            crate::domain::theme::suggest(
                &crate::domain::theme::Factor {
                    id: factor.id,
                    words,
                    categories: &factor.categories,
                    services,
                },
                open,
            )
        })
        .collect()
}

impl PostmortemPage {
    /// Whether the reader may link factors to themes.
    fn may_theme(&self) -> bool {
        self.layout.can_write()
    }

    /// The description of the factor a suggestion is for.
    fn factor_text(&self, id: &Uuid) -> String {
        self.factors
            .iter()
            .position(|f| f.id == *id)
            .map(|i| format!("Factor {}", i + 1))
            .unwrap_or_default()
    }
}

/// The parts of the page and its words, which change only with them.
pub struct CachedParts {
    parts: store::postmortems::PageParts,
    words: PageWords,
}

/// The parts of the page, from this process's cache while the postmortem
/// and the directory are as they were when it was filled.
async fn page_parts(
    state: &AppState,
    case: &Case,
    stamp: &store::postmortems::PageStamp,
) -> Result<std::sync::Arc<CachedParts>, AppError> {
    let key = (
        case.postmortem.id,
        stamp.content.clone(),
        stamp.directory.clone(),
    );
    if !stamp.content.is_empty()
        && let Some(cached) = state.caches.page_parts.get(&key)
    {
        return Ok(cached);
    }
    let parts =
        store::postmortems::load_page_parts(&state.db, case.incident.id, case.postmortem.id)
            .await?;
    let cached = CachedParts {
        words: PageWords::new(case, &parts),
        parts,
    };
    if stamp.content.is_empty() {
        return Ok(std::sync::Arc::new(cached));
    }
    Ok(state.caches.page_parts.insert(key, cached))
}

/// Everyone who can be named author or reviewer: read once per change of
/// the directory (its digest, `stamp`) and process.
async fn active_people(state: &AppState, stamp: &str) -> Result<Vec<PersonOption>, AppError> {
    if let Some(people) = state.caches.people.get(stamp) {
        return Ok(people.as_ref().clone());
    }
    let people = store::users::list_active_people(&state.db).await?;
    state.caches.people.insert(stamp.to_owned(), people.clone());
    Ok(people)
}

/// Short Markdown rendered once per distinct text and process.
fn render_inline(state: &AppState, text: &str) -> String {
    state
        .caches
        .rendered_inline
        .get_or_insert_with(text, || markdown::render_inline(text))
        .as_ref()
        .clone()
}

/// 1234567 as 1,234,567.
pub fn group_digits(number: i64) -> String {
    let digits = number.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if number < 0 { format!("-{out}") } else { out }
}

async fn show_postmortem(
    State(state): State<AppState>,
    user: CurrentUser,
    ForReading(case, stamp): ForReading,
) -> Result<PostmortemPage, AppError> {
    PostmortemPage::load(&state, &user, case, &stamp).await
}

#[cfg(test)]
mod tests {
    use super::group_digits;

    #[test]
    fn digits_are_grouped_in_threes() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(group_digits(-4500), "-4,500");
    }
}

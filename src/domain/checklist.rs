//! The blameless review checklist: each rule checks a postmortem against the
//! practice of blameless reviews and says, kindly and specifically, what is
//! missing and how to fix it. Rules are data: an admin switches each on or
//! off, makes some block publishing, and edits the phrase lists.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{
    document::Document, incident::IncidentKind, postmortem::TimelineKind, section::Section,
};

/// A rule of the checklist, as people read it.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

pub const SECTIONS: &str = "sections";
pub const TIMELINE: &str = "timeline";
pub const CAUSES: &str = "causes";
pub const BLAME: &str = "blame";
pub const ACTIONS: &str = "actions";
pub const REVIEW_DUE: &str = "review-due";
pub const IMPACT: &str = "impact";

/// Every rule, in the order the panel shows them.
pub const RULES: &[Rule] = &[
    Rule {
        id: SECTIONS,
        title: "Every section is filled",
        why: "An empty section usually means thinking that was skipped, not a section that did not apply.",
        fix: "Write at least a sentence in each section. Near misses and chaos experiments need only the summary, the trigger and the lessons.",
    },
    Rule {
        id: TIMELINE,
        title: "The timeline runs from trigger to resolution, built from data",
        why: "Memory rewrites the order of events; logs, alerts and deploy records do not.",
        fix: "Cover the trigger, detection, mitigation and resolution (as entries or as the incident's key times), and import entries from chat, alerts or deploys, or attach a screenshot.",
    },
    Rule {
        id: CAUSES,
        title: "A trigger and at least two contributing factors",
        why: "There is rarely one cause: the factors are what let a reasonable decision lead to failure.",
        fix: "Name the trigger, then list the conditions that made the failure possible, likely or worse.",
    },
    Rule {
        id: BLAME,
        title: "No blame",
        why: "Naming a person as the cause teaches people to hide mistakes; asking what made the mistake easy fixes the system.",
        fix: "Describe the condition instead of the person: what made the wrong thing possible or easy, and what would have caught it?",
    },
    Rule {
        id: ACTIONS,
        title: "Action items are specific, owned and dated",
        why: "A vague or unowned action item does not ship, and a postmortem whose items do not ship is theater.",
        fix: "Give each item an owner and a due date, and say what will exist when it is done (not \"improve monitoring\" but \"alert when p99 exceeds the SLO for 5 minutes\").",
    },
    Rule {
        id: REVIEW_DUE,
        title: "Reviewed within its due date",
        why: "Details fade within days; a late review reconstructs instead of remembering.",
        fix: "Publish the review within the review due date after resolution.",
    },
    Rule {
        id: IMPACT,
        title: "The impact has a number",
        why: "Numbers (users, failed requests, revenue, error budget) make incidents comparable and priorities honest.",
        fix: "Add at least one figure: users affected, failed requests, revenue lost or SLO budget used.",
    },
];

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// The organization's settings of the checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Rules switched off.
    pub disabled: Vec<String>,
    /// Rules that must pass before a postmortem can be published.
    pub blocking: Vec<String>,
    /// Phrases that blame (matched as whole words, any case).
    pub blame_phrases: Vec<String>,
    /// Action item wording too vague to ship.
    pub vague_phrases: Vec<String>,
    /// Incidents that affected users need at least one action item.
    pub items_when_users_affected: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
        Settings {
            disabled: Vec::new(),
            blocking: Vec::new(),
            blame_phrases: list(&[
                "human error",
                "operator error",
                "should have been more careful",
                "be more careful",
                "careless",
                "negligent",
                "negligence",
                "fault of",
                "his fault",
                "her fault",
                "their fault",
                "blame",
                "to blame",
                "should have known",
                "sloppy",
                "failed to",
                "dropped the ball",
                "asleep at the wheel",
                "messed up",
                "screwed up",
                "fat-fingered",
                "fat fingered",
                "forgot to",
            ]),
            vague_phrases: list(&[
                "improve monitoring",
                "better monitoring",
                "be more careful",
                "be careful",
                "improve testing",
                "better testing",
                "more testing",
                "improve communication",
                "better communication",
                "pay more attention",
                "raise awareness",
                "double check",
                "double-check",
            ]),
            items_when_users_affected: true,
        }
    }
}

impl Settings {
    pub fn is_on(&self, id: &str) -> bool {
        !self.disabled.iter().any(|off| off == id)
    }
}

/// What the checks need besides the postmortem.
pub struct Context<'a> {
    /// Names of people (the user directory): a passage naming one as the
    /// cause is blame.
    pub people: &'a [String],
    pub attachments: usize,
    pub review_due_days: i64,
    /// When it was published, if it was.
    pub published_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// A passage that breaks a rule, in its context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub before: String,
    pub matched: String,
    pub after: String,
}

/// One thing to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: "Summary", "Root cause", "Action item “…”".
    pub place: String,
    pub message: String,
    pub passage: Option<Passage>,
}

/// A rule's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    pub problems: Vec<Problem>,
    pub blocking: bool,
}

impl Finding {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the postmortem against every rule switched on.
pub fn evaluate(doc: &Document, ctx: &Context<'_>, settings: &Settings) -> Vec<Finding> {
    let matchers = matchers(settings, ctx.people);
    RULES
        .iter()
        .filter(|rule| settings.is_on(rule.id))
        .map(|rule| Finding {
            rule,
            blocking: settings.blocking.iter().any(|id| id == rule.id),
            problems: match rule.id {
                SECTIONS => sections(doc),
                TIMELINE => timeline(doc, ctx),
                CAUSES => causes(doc),
                BLAME => blame(doc, &matchers),
                ACTIONS => actions(doc, settings, &matchers),
                REVIEW_DUE => review_due(doc, ctx),
                _ => impact(doc),
            },
        })
        .collect()
}

/// Passed and total, for the quality score.
pub fn score(findings: &[Finding]) -> (usize, usize) {
    (
        findings.iter().filter(|f| f.passed()).count(),
        findings.len(),
    )
}

fn problem(place: &str, message: impl Into<String>) -> Problem {
    Problem {
        place: place.to_owned(),
        message: message.into(),
        passage: None,
    }
}

fn is_light(kind: IncidentKind) -> bool {
    matches!(kind, IncidentKind::NearMiss | IncidentKind::ChaosExperiment)
}

fn sections(doc: &Document) -> Vec<Problem> {
    let s = &doc.sections;
    let required: &[(&str, &String)] = if is_light(doc.kind) {
        &[
            ("Summary", &s.summary),
            ("Trigger and root cause", &s.trigger),
            ("Lessons learned", &s.lessons),
        ]
    } else {
        &[
            ("Summary", &s.summary),
            ("Impact", &s.impact),
            ("Trigger and root cause", &s.trigger),
            ("What went well", &s.went_well),
            ("What went poorly", &s.went_poorly),
            ("Lessons learned", &s.lessons),
        ]
    };
    required
        .iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(place, _)| problem(place, "This section is empty."))
        .collect()
}

fn timeline(doc: &Document, ctx: &Context<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let has = |kind: TimelineKind| doc.timeline.iter().any(|entry| entry.kind == kind);
    let phases = [
        (
            "trigger",
            has(TimelineKind::Trigger) || doc.started_at.is_some(),
        ),
        (
            "detection",
            has(TimelineKind::Detection) || doc.detected_at.is_some(),
        ),
        (
            "mitigation",
            has(TimelineKind::Mitigation) || doc.mitigated_at.is_some(),
        ),
        (
            "resolution",
            has(TimelineKind::Resolution) || doc.resolved_at.is_some(),
        ),
    ];
    let missing: Vec<&str> = phases
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() && !is_light(doc.kind) {
        problems.push(problem(
            "Timeline",
            format!("Nothing marks the {}.", missing.join(", ")),
        ));
    }
    let minimum = if is_light(doc.kind) { 2 } else { 3 };
    if doc.timeline.len() < minimum {
        problems.push(problem(
            "Timeline",
            format!(
                "The timeline has {} entries; write at least {minimum}.",
                doc.timeline.len()
            ),
        ));
    }
    let from_data = doc.timeline.iter().any(|entry| entry.source != "typed") || ctx.attachments > 0;
    if !doc.timeline.is_empty() && !from_data {
        problems.push(problem(
            "Timeline",
            "Every entry was typed from memory: import chat logs, alerts or deploys, or attach a screenshot.",
        ));
    }
    problems
}

fn causes(doc: &Document) -> Vec<Problem> {
    let mut problems = Vec::new();
    if doc.sections.trigger.trim().is_empty() {
        problems.push(problem(
            "Trigger and root cause",
            "Name what triggered the incident.",
        ));
    }
    if doc.factors.len() < 2 {
        problems.push(problem(
            "Contributing factors",
            format!(
                "{} contributing factor{} listed; there is rarely only one. List at least two.",
                doc.factors.len(),
                if doc.factors.len() == 1 {
                    " is"
                } else {
                    "s are"
                }
            ),
        ));
    }
    problems
}

/// Words that make a person the subject of "failed to".
const PERSON_WORDS: &[&str] = &[
    "he",
    "she",
    "someone",
    "somebody",
    "engineer",
    "developer",
    "operator",
    "on-call",
    "oncall",
    "admin",
    "administrator",
    "reviewer",
    "author",
    "intern",
    "employee",
];

/// The compiled patterns of the phrase lists and the people's names.
/// Compiling costs more than checking a postmortem, so the last set is
/// kept and reused while the settings and the directory stay the same.
struct Matchers {
    /// Every name, and stand-ins such as "Engineer X".
    names: Vec<Regex>,
    /// People's first names ("Maria"), which blame only as the subject of a
    /// blaming verb or after "because of".
    first_names: Option<Regex>,
    /// Every blame phrase, as one pattern.
    blame: Option<Regex>,
    /// Every vague phrase, as one pattern.
    vague: Option<Regex>,
}

fn matchers(settings: &Settings, people: &[String]) -> std::sync::Arc<Matchers> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    static LAST: std::sync::Mutex<Option<(u64, std::sync::Arc<Matchers>)>> =
        std::sync::Mutex::new(None);
    let mut hasher = DefaultHasher::new();
    (&settings.blame_phrases, &settings.vague_phrases, people).hash(&mut hasher);
    let key = hasher.finish();
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((known, compiled)) = &*last
        && *known == key
    {
        return compiled.clone();
    }
    let names: Vec<&str> = people
        .iter()
        .map(|name| name.trim())
        .filter(|name| name.chars().count() >= 3)
        .collect();
    let mut first_names: Vec<&str> = names
        .iter()
        .filter_map(|name| name.split_whitespace().next())
        .filter(|first| first.chars().count() >= 3)
        .collect();
    first_names.sort_unstable();
    first_names.dedup();
    let compiled = std::sync::Arc::new(Matchers {
        first_names: any_of(&first_names, false),
        names: any_of(&names, false)
            .into_iter()
            .chain(Regex::new(
                r"\b(?:Engineer|Developer|Operator|Person|User) [A-Z]\b",
            ))
            .collect(),
        blame: any_of(
            &settings
                .blame_phrases
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            true,
        ),
        vague: any_of(
            &settings
                .vague_phrases
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            true,
        ),
    });
    *last = Some((key, compiled.clone()));
    compiled
}

/// One pattern matching any of `words` as whole words, longest first (so
/// "should have been more careful" wins over "more careful").
fn any_of(words: &[&str], ignore_case: bool) -> Option<Regex> {
    let mut escaped: Vec<String> = words
        .iter()
        .map(|word| word.trim())
        .filter(|word| !word.is_empty())
        .map(regex::escape)
        .collect();
    if escaped.is_empty() {
        return None;
    }
    escaped.sort_by_key(|word| std::cmp::Reverse(word.len()));
    let flags = if ignore_case { "(?i)" } else { "" };
    Regex::new(&format!(r"{flags}\b(?:{})\b", escaped.join("|"))).ok()
}

fn passage(text: &str, start: usize, end: usize) -> Passage {
    let before_start = text[..start]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(index, _)| index);
    let after_end = text[end..]
        .char_indices()
        .nth(40)
        .map_or(text.len(), |(index, _)| end + index);
    Passage {
        before: text[before_start..start].to_owned(),
        matched: text[start..end].to_owned(),
        after: text[end..after_end].to_owned(),
    }
}

/// Whether a person is the subject just before `start`: a known name, a
/// word such as "engineer" or "he", or a stand-in such as "Engineer X".
fn person_before(text: &str, start: usize, names: &[Regex], first_names: Option<&Regex>) -> bool {
    let window: Vec<&str> = text[..start].split_whitespace().rev().take(3).collect();
    let lowered: Vec<String> = window
        .iter()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                .to_lowercase()
        })
        .collect();
    if lowered
        .iter()
        .any(|word| PERSON_WORDS.contains(&word.as_str()))
    {
        return true;
    }
    let mut from = start.saturating_sub(60);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = &text[from..start];
    names.iter().any(|name| name.is_match(before))
        || first_names.is_some_and(|first| {
            // The name must be among the last three words: "Maria failed to",
            // "Maria quickly failed to", not a name a sentence earlier.
            window
                .iter()
                .any(|word| first.is_match(word.trim_matches(|c: char| !c.is_alphanumeric())))
        })
}

/// Verbs that blame when a person is their subject ("Maria failed to
/// notice", "Bob should've caught it"), and are fine after a system ("the
/// alert failed to fire", "the job did not start").
static PERSON_VERBS: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:failed to|did not|didn't|didn’t|forgot|missed|should've|should’ve|should have|could've|could’ve|could have|shouldn't have|neglected to|overlooked)\b",
    )
    .expect("person verbs pattern")
});

static BECAUSE_OF: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:because of|due to|thanks to|caused by)\s+(?:the\s+)?")
        .expect("because-of pattern")
});

/// Whether a person comes right after `at`: a name, a first name, or a word
/// such as "him" or "the engineer" ("because of Sam").
fn person_after(text: &str, at: usize, matchers: &Matchers) -> Option<usize> {
    let rest = &text[at..];
    let word_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '-'))
        .unwrap_or(rest.len());
    let word = &rest[..word_end];
    let lower = word.to_lowercase();
    let named = matchers
        .names
        .iter()
        .find_map(|name| name.find(rest).filter(|m| m.start() == 0).map(|m| m.end()));
    if let Some(end) = named {
        return Some(at + end);
    }
    let is_person = ["him", "her", "them"].contains(&lower.as_str())
        || PERSON_WORDS.contains(&lower.as_str())
        || matchers
            .first_names
            .as_ref()
            .is_some_and(|first| first.find(word).is_some_and(|m| m.as_str() == word));
    (is_person && !word.is_empty()).then_some(at + word_end)
}

fn blame(doc: &Document, matchers: &Matchers) -> Vec<Problem> {
    // Every section where people write about causes; not what went well,
    // where naming people is thanking them, nor the lessons, where "be more
    // careful" is a team's resolution rather than a cause.
    let mut places: Vec<(String, &str)> = [
        Section::Summary,
        Section::Trigger,
        Section::Detection,
        Section::Resolution,
        Section::WentPoorly,
    ]
    .into_iter()
    .map(|section| {
        (
            section.heading().to_owned(),
            doc.sections.text(section.field()),
        )
    })
    .collect();
    for factor in &doc.factors {
        places.push((
            "Contributing factor".to_owned(),
            factor.description.as_str(),
        ));
    }
    for item in &doc.action_items {
        places.push((format!("Action item “{}”", item.title), item.title.as_str()));
        places.push((
            format!("Action item “{}”", item.title),
            item.description.as_str(),
        ));
    }
    let mut problems = Vec::new();
    for (place, text) in places {
        for hit in blame_in(text, matchers) {
            problems.push(Problem {
                place: place.clone(),
                message: hit.message,
                passage: Some(passage(text, hit.start, hit.end)),
            });
        }
    }
    problems
}

/// A passage that puts the cause on a person.
struct BlameHit {
    start: usize,
    end: usize,
    message: String,
    /// Only a person's name: blame in a section about causes, fine in a
    /// comment (which may well address them).
    names_only: bool,
}

/// The passages of `text` that put the cause on a person, without overlaps.
fn blame_in(text: &str, matchers: &Matchers) -> Vec<BlameHit> {
    let names = &matchers.names;
    let first = matchers.first_names.as_ref();
    let mut found: Vec<BlameHit> = Vec::new();
    let mut add = |start, end, message, names_only| {
        found.push(BlameHit {
            start,
            end,
            message,
            names_only,
        })
    };
    for phrase in matchers.blame.iter().flat_map(|re| re.find_iter(text)) {
        let failed_to = phrase.as_str().eq_ignore_ascii_case("failed to");
        if failed_to && !person_before(text, phrase.start(), names, first) {
            continue;
        }
        let message = format!("“{}” puts the cause on a person.", phrase.as_str());
        add(phrase.start(), phrase.end(), message, false);
    }
    for verb in PERSON_VERBS.find_iter(text) {
        if person_before(text, verb.start(), names, first) {
            let message = format!(
                "“{}” with a person as its subject puts the cause on them.",
                verb.as_str()
            );
            add(verb.start(), verb.end(), message, false);
        }
    }
    for because in BECAUSE_OF.find_iter(text) {
        if let Some(end) = person_after(text, because.end(), matchers) {
            let message = format!(
                "“{}” makes a person the cause.",
                &text[because.start()..end]
            );
            add(because.start(), end, message, false);
        }
    }
    for re in names {
        for name in re.find_iter(text) {
            let message = format!("“{}” names a person as part of the cause.", name.as_str());
            add(name.start(), name.end(), message, true);
        }
    }
    found.sort_by_key(|hit| (hit.start, std::cmp::Reverse(hit.end)));
    let mut last_end = 0;
    found.retain(|hit| {
        let keep = hit.start >= last_end;
        if keep {
            last_end = hit.end;
        }
        keep
    });
    found
}

/// What in a piece of free text (a comment) puts the cause on a person:
/// the same phrases, names and patterns as the "No blame" rule, one message
/// each. Naming someone is fine in a comment; blaming them is not, so names
/// alone are not reported.
pub fn blame_in_comment(text: &str, settings: &Settings, people: &[String]) -> Vec<String> {
    if !settings.is_on(BLAME) {
        return Vec::new();
    }
    let matchers = matchers(settings, people);
    blame_in(text, &matchers)
        .into_iter()
        .filter(|hit| !hit.names_only)
        .map(|hit| hit.message)
        .collect()
}

/// Words that make "investigate X" an item with an outcome.
const OUTCOME_WORDS: &[&str] = &[
    "decide",
    "so that",
    "and fix",
    "and document",
    "report",
    "propose",
    "write up",
    "recommend",
];

fn actions(doc: &Document, settings: &Settings, matchers: &Matchers) -> Vec<Problem> {
    let mut problems = Vec::new();
    let vague = &matchers.vague;
    for item in doc
        .action_items
        .iter()
        .filter(|item| item.status.is_open() || item.status.as_str() == "done")
    {
        let place = format!("Action item “{}”", item.title);
        if item
            .owner
            .as_deref()
            .is_none_or(|owner| owner.trim().is_empty())
        {
            problems.push(problem(&place, "It has no owner."));
        }
        if item.due_on.is_none() {
            problems.push(problem(&place, "It has no due date."));
        }
        if let Some(hit) = vague.iter().find_map(|re| re.find(&item.title)) {
            problems.push(Problem {
                place: place.clone(),
                message: "Too vague to ship: say what will exist when it is done.".to_owned(),
                passage: Some(passage(&item.title, hit.start(), hit.end())),
            });
            continue;
        }
        let lowered = item.title.to_lowercase();
        let exploring = ["investigate", "look into", "explore", "research"]
            .iter()
            .find(|verb| lowered.starts_with(*verb));
        if let Some(verb) = exploring
            && !OUTCOME_WORDS.iter().any(|word| lowered.contains(word))
        {
            problems.push(Problem {
                place: place.clone(),
                message: "An investigation with no outcome: say what it decides or delivers (\"…and decide whether to…\").".to_owned(),
                passage: Some(passage(&item.title, 0, verb.len())),
            });
        }
    }
    let affected = doc.sections.users_affected.is_some_and(|n| n > 0)
        || doc.sections.failed_requests.is_some_and(|n| n > 0);
    if settings.items_when_users_affected
        && doc.kind == IncidentKind::Incident
        && affected
        && doc.action_items.is_empty()
    {
        problems.push(problem(
            "Action items",
            "Users were affected, and no action item says what will change.",
        ));
    }
    problems
}

fn review_due(doc: &Document, ctx: &Context<'_>) -> Vec<Problem> {
    // An imported postmortem was reviewed elsewhere, on its own schedule.
    if doc.imported_from.is_some() {
        return Vec::new();
    }
    let Some(resolved) = doc.resolved_at else {
        return Vec::new();
    };
    let reviewed = ctx.published_at.unwrap_or(ctx.now);
    let due = resolved + chrono::Duration::days(ctx.review_due_days);
    if reviewed > due {
        let late = (reviewed - due).num_days().max(1);
        let what = if ctx.published_at.is_some() {
            "was published"
        } else {
            "is still unpublished"
        };
        vec![problem(
            "Review",
            format!(
                "It {what} {late} day{} after its review due date.",
                if late == 1 { "" } else { "s" }
            ),
        )]
    } else {
        Vec::new()
    }
}

fn impact(doc: &Document) -> Vec<Problem> {
    let s = &doc.sections;
    let numbers = s.users_affected.is_some()
        || s.failed_requests.is_some()
        || s.revenue_lost_cents.is_some()
        || s.slo_budget_consumed.is_some()
        || s.impact.chars().any(|c| c.is_ascii_digit());
    if numbers || is_light(doc.kind) {
        Vec::new()
    } else {
        vec![problem("Impact", "No number says how big the impact was.")]
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::{
        action::{ActionKind, ActionStatus, Priority},
        document::{ActionLine, Factor, ImportedFrom, Sections, TimelineLine},
        incident::Severity,
        postmortem::PostmortemStatus,
    };

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn item(title: &str, owner: Option<&str>, due: Option<&str>) -> ActionLine {
        ActionLine {
            id: None,
            title: title.to_owned(),
            kind: ActionKind::Prevent,
            priority: Priority::P1,
            status: ActionStatus::Open,
            owner: owner.map(str::to_owned),
            team: None,
            due_on: due.map(|d| d.parse::<NaiveDate>().unwrap()),
            tracker_url: None,
            description: String::new(),
            closing_reason: None,
            answers: None,
        }
    }

    fn entry(kind: TimelineKind, source: &str) -> TimelineLine {
        TimelineLine {
            id: None,
            at: at("2026-03-10T14:02:00Z"),
            kind,
            speaker: None,
            text: "Something happened".to_owned(),
            source: source.to_owned(),
            link: None,
            written_at: None,
            time_unknown: false,
        }
    }

    /// A postmortem that passes every rule.
    fn good() -> Document {
        Document {
            number: 1,
            title: "Checkout latency".to_owned(),
            kind: IncidentKind::Incident,
            severity: Severity::Sev2,
            status: PostmortemStatus::Published,
            services: vec![],
            tags: vec![],
            teams: vec![],
            authors: vec![],
            started_at: Some(at("2026-03-10T14:02:00Z")),
            detected_at: Some(at("2026-03-10T14:06:00Z")),
            mitigated_at: Some(at("2026-03-10T14:13:00Z")),
            resolved_at: Some(at("2026-03-10T14:15:00Z")),
            sections: Sections {
                summary: "A new algorithm made checkout slow.".to_owned(),
                impact: "4% of requests timed out.".to_owned(),
                trigger: "The algorithm is quadratic in the batch size.".to_owned(),
                went_well: "Thanks to Sam Okafor for finding the deploy fast.".to_owned(),
                went_poorly: "Rollback took five minutes.".to_owned(),
                lessons: "Canaries are too short.".to_owned(),
                ..Sections::default()
            },
            factors: vec![
                Factor {
                    id: None,
                    categories: vec!["process".to_owned()],
                    description: "Load tests did not replay real batch sizes.".to_owned(),
                },
                Factor {
                    id: None,
                    categories: vec!["detection".to_owned()],
                    description: "The alert failed to fire for 90 seconds.".to_owned(),
                },
            ],
            timeline: vec![
                entry(TimelineKind::Trigger, "deploy"),
                entry(TimelineKind::Detection, "alert"),
                entry(TimelineKind::Resolution, "typed"),
            ],
            action_items: vec![item(
                "Alert when p99 exceeds the SLO for 5 minutes",
                Some("Sam Okafor"),
                Some("2026-03-24"),
            )],
            imported_from: None,
            attachments: None,
        }
    }

    fn ctx<'a>(people: &'a [String]) -> Context<'a> {
        Context {
            people,
            attachments: 0,
            review_due_days: 5,
            published_at: Some(at("2026-03-12T10:00:00Z")),
            now: at("2026-03-20T10:00:00Z"),
        }
    }

    fn failing(doc: &Document, people: &[String]) -> Vec<&'static str> {
        evaluate(doc, &ctx(people), &Settings::default())
            .into_iter()
            .filter(|finding| !finding.passed())
            .map(|finding| finding.rule.id)
            .collect()
    }

    fn people() -> Vec<String> {
        vec!["Sam Okafor".to_owned(), "Nina Kowalski".to_owned()]
    }

    #[test]
    fn a_good_postmortem_passes_every_rule_and_a_thank_you_is_not_blame() {
        assert_eq!(failing(&good(), &people()), Vec::<&str>::new());
        let findings = evaluate(&good(), &ctx(&people()), &Settings::default());
        assert_eq!(score(&findings), (7, 7));
    }

    #[test]
    fn empty_sections_are_named_and_light_reviews_need_fewer() {
        let mut doc = good();
        doc.sections.went_poorly.clear();
        doc.sections.impact = "  ".to_owned();
        let findings = evaluate(&doc, &ctx(&people()), &Settings::default());
        let sections = findings.iter().find(|f| f.rule.id == SECTIONS).unwrap();
        let places: Vec<&str> = sections.problems.iter().map(|p| p.place.as_str()).collect();
        assert_eq!(places, ["Impact", "What went poorly"]);
        doc.kind = IncidentKind::NearMiss;
        assert!(!failing(&doc, &people()).contains(&SECTIONS));
    }

    #[test]
    fn blame_phrases_and_names_are_caught_with_their_passage() {
        let mut doc = good();
        doc.sections.trigger =
            "Human error: Nina Kowalski failed to test the change properly.".to_owned();
        let findings = evaluate(&doc, &ctx(&people()), &Settings::default());
        let blame = findings.iter().find(|f| f.rule.id == BLAME).unwrap();
        let matched: Vec<&str> = blame
            .problems
            .iter()
            .filter_map(|p| p.passage.as_ref())
            .map(|p| p.matched.as_str())
            .collect();
        assert_eq!(matched, ["Human error", "Nina Kowalski", "failed to"]);
        assert_eq!(blame.problems[0].place, "Trigger and root cause");
        let mut doc = good();
        doc.sections.summary =
            "Engineer X deployed a change that made fraud-check slower.".to_owned();
        assert_eq!(failing(&doc, &people()), [BLAME]);
        let mut doc = good();
        doc.action_items.push(item(
            "Engineers should be more careful during deploys",
            Some("Sam Okafor"),
            Some("2026-04-01"),
        ));
        assert!(failing(&doc, &people()).contains(&BLAME));
    }

    /// The passages the blame rule highlights in `text` written as the
    /// root cause.
    fn blamed(field: &str, text: &str) -> Vec<String> {
        let mut doc = good();
        *doc.sections.text_mut(field).expect("a section") = text.to_owned();
        evaluate(&doc, &ctx(&people()), &Settings::default())
            .into_iter()
            .filter(|finding| finding.rule.id == BLAME)
            .flat_map(|finding| finding.problems)
            .filter_map(|problem| problem.passage.map(|p| p.matched))
            .collect()
    }

    #[test]
    fn contractions_idioms_subjects_and_because_of_a_person_are_blame() {
        let cases = [
            ("Nina should've caught it in review.", "should've"),
            ("Nina could have rolled back sooner.", "could have"),
            ("Jon dropped the ball on the renewal.", "dropped the ball"),
            (
                "The on-call was asleep at the wheel.",
                "asleep at the wheel",
            ),
            ("Someone messed up the config.", "messed up"),
            ("We screwed up the rollout.", "screwed up"),
            ("An operator fat-fingered the CIDR.", "fat-fingered"),
            ("The team forgot to renew the certificate.", "forgot to"),
            ("The outage happened because of Sam.", "because of Sam"),
            ("It broke because of him.", "because of him"),
            ("Nina failed to notice the alert.", "failed to"),
            ("Nina did not check the dashboard.", "did not"),
            ("Nina didn't page anyone.", "didn't"),
            ("Nina forgot the flag.", "forgot"),
            ("Nina missed the warning.", "missed"),
        ];
        for (text, expected) in cases {
            let found = blamed("trigger", text);
            assert!(found.iter().any(|m| m == expected), "{text}: {found:?}");
        }
        assert_eq!(
            blamed("went_poorly", "Sam Okafor missed the page."),
            ["Sam Okafor", "missed"],
            "what went poorly is checked too"
        );
    }

    #[test]
    fn systems_that_miss_or_fail_and_thanks_are_not_blame() {
        for text in [
            "The alert failed to fire.",
            "The job did not start and the cache missed every key.",
            "The probe should have caught it; we are adding one.",
            "It broke because of the config change.",
            "The deploy was slow due to the registry.",
        ] {
            assert_eq!(blamed("trigger", text), Vec::<String>::new(), "{text}");
        }
        assert_eq!(
            blamed("went_well", "Nina missed nothing; thanks, Nina Kowalski."),
            Vec::<String>::new(),
            "what went well is where people are thanked"
        );
    }

    #[test]
    fn no_false_alarm_on_systems_that_fail_or_blameless_words() {
        let mut doc = good();
        doc.sections.trigger =
            "The alert failed to fire and the cron job failed to start. This blameless review"
                .to_owned();
        doc.sections.went_well =
            "Nina Kowalski noticed the alert; thanks, Nina Kowalski.".to_owned();
        assert_eq!(failing(&doc, &people()), Vec::<&str>::new());
        let mut doc = good();
        doc.sections.trigger = "He failed to run the migration.".to_owned();
        assert_eq!(failing(&doc, &people()), [BLAME]);
    }

    #[test]
    fn action_items_need_an_owner_a_date_and_an_outcome() {
        let mut doc = good();
        doc.action_items = vec![
            item("Improve monitoring", Some("Sam Okafor"), Some("2026-04-01")),
            item(
                "Investigate the queue",
                Some("Sam Okafor"),
                Some("2026-04-01"),
            ),
            item(
                "Investigate the queue and decide whether to shard it",
                Some("Sam Okafor"),
                Some("2026-04-01"),
            ),
            item("Add a batch-size replay to the load test", None, None),
        ];
        let findings = evaluate(&doc, &ctx(&people()), &Settings::default());
        let actions = findings.iter().find(|f| f.rule.id == ACTIONS).unwrap();
        let messages: Vec<&str> = actions
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("Too vague"));
        assert!(messages[1].starts_with("An investigation with no outcome"));
        assert_eq!(&messages[2..], ["It has no owner.", "It has no due date."]);
        let mut doc = good();
        doc.action_items.clear();
        doc.sections.users_affected = Some(1200);
        assert_eq!(failing(&doc, &people()), [ACTIONS]);
        doc.sections.users_affected = None;
        assert_eq!(failing(&doc, &people()), Vec::<&str>::new());
    }

    #[test]
    fn the_timeline_needs_its_phases_entries_and_data() {
        let mut doc = good();
        doc.timeline = vec![
            entry(TimelineKind::Note, "typed"),
            entry(TimelineKind::Note, "typed"),
            entry(TimelineKind::Note, "typed"),
        ];
        let findings = evaluate(&doc, &ctx(&people()), &Settings::default());
        let timeline = findings.iter().find(|f| f.rule.id == TIMELINE).unwrap();
        assert_eq!(
            timeline.problems.len(),
            1,
            "the key times cover the phases; only the data is missing"
        );
        doc.detected_at = None;
        doc.mitigated_at = None;
        let findings = evaluate(&doc, &ctx(&people()), &Settings::default());
        let timeline = findings.iter().find(|f| f.rule.id == TIMELINE).unwrap();
        assert!(
            timeline.problems[0]
                .message
                .contains("detection, mitigation")
        );
        let mut with_screenshot = ctx(&[]);
        with_screenshot.attachments = 1;
        let mut doc = good();
        doc.timeline
            .iter_mut()
            .for_each(|e| e.source = "typed".to_owned());
        assert!(
            evaluate(&doc, &with_screenshot, &Settings::default())
                .iter()
                .all(|f| f.passed())
        );
    }

    #[test]
    fn causes_review_date_and_impact_numbers() {
        let mut doc = good();
        doc.factors.pop();
        assert_eq!(failing(&doc, &people()), [CAUSES]);
        let mut late = ctx(&[]);
        late.published_at = Some(at("2026-03-20T10:00:00Z"));
        let findings = evaluate(&good(), &late, &Settings::default());
        assert!(
            !findings
                .iter()
                .find(|f| f.rule.id == REVIEW_DUE)
                .unwrap()
                .passed()
        );
        let mut imported = good();
        imported.imported_from = Some(ImportedFrom {
            file: "a.md".to_owned(),
            url: None,
            report: None,
        });
        assert!(
            evaluate(&imported, &late, &Settings::default())
                .iter()
                .all(|f| f.passed())
        );
        let mut doc = good();
        doc.sections.impact = "Checkout was slow.".to_owned();
        assert_eq!(failing(&doc, &people()), [IMPACT]);
    }

    #[test]
    fn rules_switched_off_are_not_run_and_blocking_ones_are_marked() {
        let settings = Settings {
            disabled: vec![BLAME.to_owned()],
            blocking: vec![CAUSES.to_owned()],
            ..Settings::default()
        };
        let mut doc = good();
        doc.sections.trigger = "Human error.".to_owned();
        let findings = evaluate(&doc, &ctx(&people()), &settings);
        assert_eq!(findings.len(), 6);
        assert!(findings.iter().all(|f| f.passed()));
        assert!(
            findings
                .iter()
                .find(|f| f.rule.id == CAUSES)
                .unwrap()
                .blocking
        );
    }
}

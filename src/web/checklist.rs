//! The review checklist's rules, documented for everyone at `/checklist`,
//! and their settings for admins at `/admin/checklist`.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{
    AppError, AppState,
    layout::{Layout, Nav},
    session::{Admin, CurrentUser},
};
use crate::{
    domain::checklist::{RULES, Rule, Settings},
    store::{self, audit::AuditEvent},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checklist", get(show_rules))
        .route("/admin/checklist", get(edit_settings).post(save_settings))
}

#[derive(Template, WebTemplate)]
#[template(path = "checklist.html")]
struct RulesPage {
    layout: Layout,
    settings: Settings,
    /// The admin form (on `/admin/checklist`) or the documentation.
    editing: bool,
}

impl RulesPage {
    fn rules(&self) -> &'static [Rule] {
        RULES
    }

    fn is_on(&self, rule: &Rule) -> bool {
        self.settings.is_on(rule.id)
    }

    fn blocks(&self, rule: &Rule) -> bool {
        self.settings.blocking.iter().any(|id| id == rule.id)
    }

    fn blame_text(&self) -> String {
        self.settings.blame_phrases.join("\n")
    }

    fn vague_text(&self) -> String {
        self.settings.vague_phrases.join("\n")
    }
}

async fn show_rules(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<RulesPage, AppError> {
    Ok(RulesPage {
        layout: Layout::for_user(&user, Nav::None),
        settings: store::checklist::settings(&state.db).await?,
        editing: false,
    })
}

async fn edit_settings(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<RulesPage, AppError> {
    Ok(RulesPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        settings: store::checklist::settings(&state.db).await?,
        editing: true,
    })
}

#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    /// Rules switched on.
    #[serde(default)]
    on: Vec<String>,
    /// Rules that block publishing.
    #[serde(default)]
    blocking: Vec<String>,
    #[serde(default)]
    blame_phrases: String,
    #[serde(default)]
    vague_phrases: String,
    #[serde(default)]
    items_when_users_affected: String,
}

/// One phrase per line, trimmed, without blanks or repeats.
fn phrases(text: &str) -> Vec<String> {
    let mut list: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let phrase: String = line.chars().take(100).collect();
        if !list.iter().any(|known| known.eq_ignore_ascii_case(&phrase)) {
            list.push(phrase);
        }
    }
    list
}

async fn save_settings(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let known = |id: &String| RULES.iter().any(|rule| rule.id == id);
    let settings = Settings {
        disabled: RULES
            .iter()
            .filter(|rule| !form.on.iter().any(|id| id == rule.id))
            .map(|rule| rule.id.to_owned())
            .collect(),
        // A late review cannot become early: that check never blocks.
        blocking: form
            .blocking
            .iter()
            .filter(|id| known(id) && id.as_str() != crate::domain::checklist::REVIEW_DUE)
            .cloned()
            .collect(),
        blame_phrases: phrases(&form.blame_phrases),
        vague_phrases: phrases(&form.vague_phrases),
        items_when_users_affected: form.items_when_users_affected == "yes",
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::checklist::save_settings(&mut *tx, &settings, admin.id, now).await?;
    let event = AuditEvent::new(admin.id, "checklist_settings_saved").detail(serde_json::json!({
        "rules_off": settings.disabled,
        "blocking": settings.blocking,
        "blame_phrases": settings.blame_phrases.len(),
        "vague_phrases": settings.vague_phrases.len(),
    }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    admin
        .flash(
            &state,
            "Checklist saved. Postmortems are checked against it from their next save.",
        )
        .await?;
    Ok(Redirect::to("/admin/checklist").into_response())
}

#[cfg(test)]
mod tests {
    use super::phrases;

    #[test]
    fn phrase_lists_are_one_per_line_without_blanks_or_repeats() {
        assert_eq!(
            phrases("human error\n\n  careless \nHuman Error\n"),
            ["human error", "careless"]
        );
    }
}

//! The factor taxonomy: admins add, rename, merge, retire and restore
//! categories. Every change is kept (`factor_category_changes`) and shown
//! here; old factors and revisions keep reading right because they name a
//! category by its slug.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use serde_json::json;

use crate::{
    domain::{
        name::parse_name,
        taxonomy::{Category, Taxonomy, slug_of},
        time,
    },
    store::{self, audit::AuditEvent, taxonomy::Change},
    web::{
        AppError, AppState,
        form::FormErrors,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

/// Longest category name.
const NAME_MAX: usize = 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(show).post(create))
        .route("/admin/categories/{slug}", post(change))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/categories.html")]
struct CategoriesPage {
    layout: Layout,
    taxonomy: Taxonomy,
    usage: Vec<(String, i64)>,
    changes: Vec<Change>,
    new_name: String,
    new_description: String,
    errors: FormErrors,
}

impl CategoriesPage {
    async fn load(
        state: &AppState,
        admin: &CurrentUser,
        new_name: String,
        new_description: String,
        errors: FormErrors,
    ) -> Result<CategoriesPage, AppError> {
        Ok(CategoriesPage {
            layout: Layout::for_user(admin, Nav::Admin),
            taxonomy: store::taxonomy::load(&state.db).await?,
            usage: store::taxonomy::usage(&state.db).await?,
            changes: store::taxonomy::list_changes(&state.db, 50).await?,
            new_name,
            new_description,
            errors,
        })
    }

    fn used(&self, category: &Category) -> i64 {
        self.usage
            .iter()
            .find(|(slug, _)| *slug == category.slug)
            .map_or(0, |(_, n)| *n)
    }

    fn merged_label(&self, category: &Category) -> String {
        category
            .merged_into
            .as_deref()
            .map(|slug| self.taxonomy.label(slug))
            .unwrap_or_default()
    }

    fn others(&self, category: &Category) -> Vec<&Category> {
        self.taxonomy
            .0
            .iter()
            .filter(|c| c.merged_into.is_none() && c.slug != category.slug)
            .collect()
    }

    fn when(&self, change: &Change) -> String {
        time::format_in(change.at, self.layout.zone())
    }
}

async fn show(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<CategoriesPage, AppError> {
    CategoriesPage::load(
        &state,
        &admin,
        String::new(),
        String::new(),
        FormErrors::default(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct NewCategory {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<NewCategory>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let name = errors.check("name", parse_name(&form.name, NAME_MAX));
    if form.description.chars().count() > 500 {
        errors.add(
            "description",
            "Keep the description to 500 characters or fewer.",
        );
    }
    let slug = name.as_deref().and_then(|name| slug_of(name, 40));
    if name.is_some() && slug.is_none() {
        errors.add(
            "name",
            "Use at least one letter or digit (a–z, 0–9) in the name.",
        );
    }
    if let (Some(name), Some(slug), true) = (&name, &slug, errors.is_empty()) {
        let now = state.clock.now();
        let mut tx = crate::store::begin(&state.db).await?;
        match store::taxonomy::create(&mut tx, name, form.description.trim(), slug, admin.id, now)
            .await
        {
            Ok(slug) => {
                audit(
                    &mut tx,
                    &admin,
                    "category_created",
                    json!({ "slug": slug, "name": name }),
                    now,
                )
                .await?;
                tx.commit().await?;
                admin
                    .flash(&state, &format!("Category “{name}” added."))
                    .await?;
                return Ok(Redirect::to("/admin/categories").into_response());
            }
            Err(store::taxonomy::Refusal::Db(error)) => return Err(error.into()),
            Err(refusal) => errors.add("name", refusal.to_string()),
        }
    }
    Ok(
        CategoriesPage::load(&state, &admin, form.name, form.description, errors)
            .await?
            .into_response(),
    )
}

async fn audit(
    tx: &mut sqlx::PgConnection,
    admin: &CurrentUser,
    action: &str,
    detail: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    store::audit::record(
        &mut *tx,
        AuditEvent::new(admin.id, action).detail(detail),
        now,
    )
    .await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct ChangeForm {
    /// `rename`, `merge`, `retire` or `restore`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    into: String,
}

async fn change(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(slug): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let done = match form.action.as_str() {
        "rename" => match parse_name(&form.name, NAME_MAX) {
            Ok(name) => store::taxonomy::rename(
                &mut tx,
                &slug,
                &name,
                form.description.trim(),
                admin.id,
                now,
            )
            .await
            .map(|()| {
                format!("Saved: “{name}”. Every factor of the category reads under this name.")
            }),
            Err(problem) => {
                drop(tx);
                admin
                    .flash_refusal(&state, &format!("Not renamed: {problem}"))
                    .await?;
                return Ok(Redirect::to("/admin/categories").into_response());
            }
        },
        "merge" => store::taxonomy::merge(&mut tx, &slug, form.into.trim(), admin.id, now)
            .await
            .map(|moved| {
                format!("Merged: {moved} factors moved to the category they were merged into.")
            }),
        "retire" => store::taxonomy::set_retired(&mut tx, &slug, true, admin.id, now)
            .await
            .map(|()| "Retired: no longer offered for new factors; old ones keep it.".to_owned()),
        "restore" => store::taxonomy::set_retired(&mut tx, &slug, false, admin.id, now)
            .await
            .map(|()| "Restored: offered for new factors again.".to_owned()),
        _ => return Err(AppError::BadForm),
    };
    match done {
        Ok(message) => {
            let action = format!("category_{}", form.action);
            audit(
                &mut tx,
                &admin,
                &action,
                json!({ "slug": slug, "name": form.name, "into": form.into }),
                now,
            )
            .await?;
            tx.commit().await?;
            admin.flash(&state, &message).await?;
        }
        Err(store::taxonomy::Refusal::Db(error)) => return Err(error.into()),
        Err(refusal) => {
            drop(tx);
            admin.flash_refusal(&state, &refusal.to_string()).await?;
        }
    }
    Ok(Redirect::to("/admin/categories").into_response())
}

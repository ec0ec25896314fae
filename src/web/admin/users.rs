//! The list of users and the invitation form.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::user::LinkPage;
use crate::{
    accounts::{self, InviteError},
    domain::{email::Email, name, role::Role},
    store::{self, users::User},
    web::{
        AppError, AppState,
        form::FormErrors,
        layout::{Layout, Nav},
        pagination::{PageQuery, Pagination},
        session::{Admin, CurrentUser},
    },
};

const PAGE_SIZE: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/users", get(list_users).post(invite_user))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    pagination: Pagination,
    email: String,
    display_name: String,
    role: Role,
    errors: FormErrors,
}

impl UsersPage {
    async fn load(
        state: &AppState,
        admin: &CurrentUser,
        query: &PageQuery,
    ) -> Result<Self, AppError> {
        let mut pagination = query.pagination(PAGE_SIZE);
        let mut users =
            store::users::list_users(&state.db, pagination.limit(), pagination.offset()).await?;
        pagination.trim(&mut users);
        Ok(UsersPage {
            layout: Layout::for_user(admin, Nav::Admin),
            users,
            pagination,
            email: String::new(),
            display_name: String::new(),
            role: Role::Member,
            errors: FormErrors::default(),
        })
    }
}

async fn list_users(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<PageQuery>,
) -> Result<UsersPage, AppError> {
    UsersPage::load(&state, &admin, &query).await
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

async fn invite_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let email = errors.check("email", Email::parse(&form.email));
    let display_name = errors.check(
        "display_name",
        name::parse_name(&form.display_name, name::DISPLAY_NAME_MAX),
    );
    let role = errors.check("role", Role::parse(&form.role).ok_or("Pick a role."));
    let (Some(email), Some(display_name), Some(role)) = (email, display_name, role) else {
        return invalid(&state, &admin, form, errors).await;
    };

    let now = state.clock.now();
    let base_url = state.config.public_base_url();
    let mut tx = crate::store::begin(&state.db).await?;
    let invited = accounts::invite_user(
        &mut tx,
        &email,
        &display_name,
        role,
        Some(admin.id),
        &base_url,
        now,
    )
    .await;
    let (user_id, link) = match invited {
        Ok(invited) => invited,
        Err(InviteError::EmailTaken) => {
            errors.add(
                "email",
                "Someone with this email address already has an account.",
            );
            return invalid(&state, &admin, form, errors).await;
        }
        Err(InviteError::Database(error)) => return Err(error.into()),
    };
    tx.commit().await?;
    let user = store::users::get_user(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(LinkPage::new(&admin, user, link).into_response())
}

/// The list again, with the invitation form as typed and its problems.
async fn invalid(
    state: &AppState,
    admin: &CurrentUser,
    form: InviteForm,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let mut page = UsersPage::load(state, admin, &PageQuery::default()).await?;
    page.email = form.email.trim().to_owned();
    page.display_name = form.display_name.trim().to_owned();
    page.role = Role::parse(&form.role).unwrap_or(Role::Member);
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

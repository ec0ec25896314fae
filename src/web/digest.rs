//! The digest as its reader sees it: `/digest/preview` (what I would get
//! now), and the unsubscribe link every digest carries, which works without
//! signing in.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    AppError, AppState,
    layout::{Layout, Nav},
    session::CurrentUser,
};
use crate::{
    domain::{
        digest::{Frequency, LinkCheck, check_unsubscribe},
        notice::Kind,
    },
    jobs::{
        digest::{UNSUBSCRIBE_KEY, render},
        notices,
    },
    store::{self, outbox::NewMessage},
};

/// Pages for the signed-in reader.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/digest/preview", get(preview))
        .route("/digest/preview/html", get(preview_html))
}

/// The unsubscribe link, outside the session layer: a mail client's
/// one-click POST carries no session and no form token; the signed link
/// itself is the proof.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/unsubscribe/{user}/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route(
            "/unsubscribe/notices/{user}/{token}",
            get(notices_page).post(stop_notices),
        )
}

/// The messages the user would get now, at their frequency (weekly when off).
async fn messages_for(
    state: &AppState,
    user: &CurrentUser,
) -> Result<(Frequency, Vec<NewMessage>), AppError> {
    let frequency = store::outbox::get_frequency(&state.db, user.id)
        .await?
        .unwrap_or(Frequency::Weekly);
    let settings = state.config.digest();
    let today = state
        .clock
        .now()
        .with_timezone(&settings.schedule.zone)
        .date_naive();
    let messages = render(
        &state.db,
        &settings,
        frequency,
        today,
        Some(user.id),
        &state.clock,
    )
    .await?;
    Ok((frequency, messages))
}

#[derive(Template, WebTemplate)]
#[template(path = "digest/preview.html")]
struct PreviewPage {
    layout: Layout,
    frequency: Frequency,
    messages: Vec<NewMessage>,
    mail_on: bool,
}

async fn preview(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<PreviewPage, AppError> {
    let (frequency, messages) = messages_for(&state, &user).await?;
    Ok(PreviewPage {
        layout: Layout::for_user(&user, Nav::Account),
        frequency,
        messages,
        mail_on: state.config.mail.smtp_url.is_some(),
    })
}

#[derive(Debug, Default, Deserialize)]
struct KindQuery {
    #[serde(default)]
    kind: String,
}

/// The HTML part as a mail client would show it. It has inline styles, so
/// it gets a policy of its own: those styles, and nothing else.
async fn preview_html(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<KindQuery>,
) -> Result<Response, AppError> {
    let (_, messages) = messages_for(&state, &user).await?;
    let message = messages
        .into_iter()
        .find(|message| message.kind == query.kind)
        .ok_or(AppError::NotFound)?;
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        message.html_body,
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}

#[derive(Template, WebTemplate)]
#[template(path = "digest/unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    action: String,
    done: bool,
    /// The link is past its lifetime.
    expired: bool,
    /// The link of notification emails (not of digests).
    notices: bool,
}

/// The user of a valid link; an altered link is not found, and an expired
/// one gets a page saying where to switch the emails off instead.
async fn check_link(
    state: &AppState,
    (key_name, notices): (&str, bool),
    user: &str,
    token: &str,
) -> Result<Result<Uuid, Response>, AppError> {
    let user_id = Uuid::parse_str(user).map_err(|_| AppError::NotFound)?;
    let key = store::outbox::app_secret(&state.db, key_name).await?;
    match check_unsubscribe(&key, user_id, token, state.clock.now()) {
        LinkCheck::Valid => Ok(Ok(user_id)),
        LinkCheck::Invalid => Err(AppError::NotFound),
        LinkCheck::Expired => {
            let page = UnsubscribePage {
                layout: Layout::anonymous(),
                action: String::new(),
                done: false,
                expired: true,
                notices,
            };
            Ok(Err((StatusCode::GONE, page).into_response()))
        }
    }
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    Path((user, token)): Path<(String, String)>,
) -> Result<Response, AppError> {
    if let Err(expired) = check_link(&state, (UNSUBSCRIBE_KEY, false), &user, &token).await? {
        return Ok(expired);
    }
    Ok(UnsubscribePage {
        layout: Layout::anonymous(),
        action: format!("/unsubscribe/{user}/{token}"),
        done: false,
        expired: false,
        notices: false,
    }
    .into_response())
}

/// Turns the user's digests off: the page's button, or a mail client's
/// one-click request (`List-Unsubscribe-Post`).
async fn unsubscribe(
    State(state): State<AppState>,
    Path((user, token)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let user_id = match check_link(&state, (UNSUBSCRIBE_KEY, false), &user, &token).await? {
        Ok(user_id) => user_id,
        Err(expired) => return Ok(expired),
    };
    store::outbox::set_frequency(&state.db, user_id, Frequency::Off).await?;
    tracing::info!(%user_id, "unsubscribed from digests");
    Ok(UnsubscribePage {
        layout: Layout::anonymous(),
        action: String::new(),
        done: true,
        expired: false,
        notices: false,
    }
    .into_response())
}

async fn notices_page(
    State(state): State<AppState>,
    Path((user, token)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let key = (notices::UNSUBSCRIBE_KEY, true);
    if let Err(expired) = check_link(&state, key, &user, &token).await? {
        return Ok(expired);
    }
    Ok(UnsubscribePage {
        layout: Layout::anonymous(),
        action: format!("/unsubscribe/notices/{user}/{token}"),
        done: false,
        expired: false,
        notices: true,
    }
    .into_response())
}

/// Switches every kind of notification off (the page's button, or a mail
/// client's one-click request).
async fn stop_notices(
    State(state): State<AppState>,
    Path((user, token)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let key = (notices::UNSUBSCRIBE_KEY, true);
    let user_id = match check_link(&state, key, &user, &token).await? {
        Ok(user_id) => user_id,
        Err(expired) => return Ok(expired),
    };
    let every: Vec<String> = Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect();
    let mut tx = crate::store::begin(&state.db).await?;
    store::notifications::set_opted_out(&mut tx, user_id, &every).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "unsubscribed from notifications");
    Ok(UnsubscribePage {
        layout: Layout::anonymous(),
        action: String::new(),
        done: true,
        expired: false,
        notices: true,
    }
    .into_response())
}

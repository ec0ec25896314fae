//! Account operations shared by the web pages and the command line:
//! inviting a user and issuing the one-time link with which they choose a
//! password.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{email::Email, role::Role, token::Token},
    store::{self, audit::AuditEvent, links::LinkPurpose, users::NewUser},
};

/// How long an invitation link works.
pub const INVITE_LINK_HOURS: i64 = 72;
/// How long a password reset link works.
pub const RESET_LINK_HOURS: i64 = 24;

/// A one-time link just made; its token exists nowhere else, so it is shown once.
pub struct IssuedLink {
    pub url: String,
    pub is_invite: bool,
    pub hours: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("a user with this email address exists already")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The address of a one-time password link.
pub fn welcome_url(base_url: &str, token: &Token) -> String {
    format!(
        "{}/welcome/{}",
        base_url.trim_end_matches('/'),
        token.as_str()
    )
}

/// Creates a user without a password and their invitation link, recording
/// `actor` (none from the command line) in the audit trail.
pub async fn invite_user(
    tx: &mut PgConnection,
    email: &Email,
    display_name: &str,
    role: Role,
    actor: Option<Uuid>,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, IssuedLink), InviteError> {
    let new_user = NewUser {
        email,
        display_name,
        role,
        password_hash: None,
    };
    let user_id = match store::users::insert_user(&mut *tx, new_user, now).await {
        Ok(id) => id,
        Err(error) if store::is_unique_violation(&error) => return Err(InviteError::EmailTaken),
        Err(error) => return Err(error.into()),
    };
    // Someone exists now, so first-run setup is over.
    store::links::delete_setup_links(&mut *tx).await?;
    let detail = serde_json::json!({ "email": email.as_str(), "role": role });
    let event = AuditEvent::new(actor, "user_invited")
        .target(user_id)
        .detail(detail);
    store::audit::record(&mut *tx, event, now).await?;
    let link = issue_password_link(tx, user_id, true, actor, base_url, now).await?;
    Ok((user_id, link))
}

/// Issues a new invite link (for a user who never chose a password) or reset
/// link, replacing any earlier one.
pub async fn issue_password_link(
    tx: &mut PgConnection,
    user_id: Uuid,
    is_invite: bool,
    actor: Option<Uuid>,
    base_url: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<IssuedLink> {
    let (purpose, hours, action) = if is_invite {
        (LinkPurpose::Invite, INVITE_LINK_HOURS, "invite_link_issued")
    } else {
        (LinkPurpose::Reset, RESET_LINK_HOURS, "reset_link_issued")
    };
    let token = Token::generate();
    let expires_at = now + Duration::hours(hours);
    store::links::insert_link(tx, &token.digest(), purpose, Some(user_id), now, expires_at).await?;
    store::audit::record(
        &mut *tx,
        AuditEvent::new(actor, action).target(user_id),
        now,
    )
    .await?;
    Ok(IssuedLink {
        url: welcome_url(base_url, &token),
        is_invite,
        hours,
    })
}

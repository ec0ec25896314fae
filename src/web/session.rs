//! Server-side sessions: the cookie, the per-request lookup, the CSRF token
//! check on every state-changing request, and the extractors handlers use to
//! demand a signed-in user or a role.
//!
//! Every visitor has a session, so that even the sign-in and setup forms
//! carry a CSRF token. A signed-in session is a database row; an anonymous
//! one is not stored at all: its cookie holds when it was made and a random
//! nonce, and its CSRF token is an HMAC of both under the installation's
//! key, so any replica can check it and a crowd of cookieless requests
//! writes nothing. Signing in always starts a new session (no fixation).

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Duration;
use uuid::Uuid;

use super::{
    AppError, AppState, BODY_LIMIT_BYTES,
    error::{ErrorDetails, details_for_bare_status, is_bare_error},
    layout::Layout,
};
use crate::{
    domain::{role::Role, token::Token},
    store::{self, sessions::NewSession},
};

/// Name of the cookie holding the session token.
pub const SESSION_COOKIE: &str = "debrief_session";
/// Name of the form field (or `x-csrf-token` header) carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// Starts a stored flash message that reports a refusal.
pub const REFUSAL_MARK: char = '\u{1}';

/// How long a visitor who has not signed in keeps a session (and so how long
/// a sign-in form may stay open before it has to be reloaded).
const ANONYMOUS_SESSION_MINUTES: i64 = 120;

/// Starts the cookie value of an anonymous session: `a.{made}.{nonce}`.
const ANONYMOUS_PREFIX: &str = "a.";

/// The name of the installation's key that signs anonymous CSRF tokens.
const ANONYMOUS_KEY: &str = "anonymous-csrf";

/// Activity is written back at most this often, not on every request.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The session of this request, signed in or not.
#[derive(Clone, Debug)]
pub struct Session {
    pub csrf_token: String,
    /// A message left by the previous request, shown once.
    pub flash: Option<String>,
    pub user: Option<CurrentUser>,
}

/// The signed-in user of this request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// The zone this user reads times in.
    pub time_zone: chrono_tz::Tz,
    pub csrf_token: String,
    pub flash: Option<String>,
    session_hash: Vec<u8>,
}

impl CurrentUser {
    /// The user behind an API token: no session, so no CSRF token and no
    /// flash.
    pub fn from_token(user: crate::store::sessions::SessionUser) -> CurrentUser {
        CurrentUser {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            time_zone: crate::domain::time::parse_zone(&user.time_zone)
                .unwrap_or(chrono_tz::Tz::UTC),
            csrf_token: String::new(),
            flash: None,
            session_hash: Vec::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this user may change archive content at all (not a viewer).
    pub fn can_write(&self) -> bool {
        self.role.can_write()
    }

    /// Today's date where this user is (for "overdue").
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }

    /// This user as a reader, for queries that filter by visibility.
    pub fn reader(&self) -> crate::store::incidents::Reader {
        crate::store::incidents::Reader {
            user_id: self.id,
            is_admin: self.is_admin(),
        }
    }

    /// Leaves a message for the next page this session shows.
    /// A message for the next page: what just succeeded.
    pub async fn flash(&self, state: &AppState, message: &str) -> Result<(), AppError> {
        store::sessions::set_flash(&state.db, &self.session_hash, message).await?;
        Ok(())
    }

    /// A message for the next page: what was refused and why. It is shown
    /// as a problem, never in the style of a success.
    pub async fn flash_refusal(&self, state: &AppState, message: &str) -> Result<(), AppError> {
        let marked = format!("{REFUSAL_MARK}{message}");
        store::sessions::set_flash(&state.db, &self.session_hash, &marked).await?;
        Ok(())
    }

    pub fn session_hash(&self) -> &[u8] {
        &self.session_hash
    }
}

/// Middleware: resolves the session cookie, refuses state-changing requests
/// without the session's CSRF token, and gives a new visitor a session for
/// the page they view.
pub async fn load_session(
    State(state): State<AppState>,
    jar: CookieJar,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let found = match jar.get(SESSION_COOKIE) {
        Some(cookie) => find_session(&state, cookie.value()).await?,
        None => None,
    };
    let is_safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let mut request = if is_safe {
        request
    } else {
        let Some(session) = &found else {
            return Ok(expired_form(Layout::anonymous()));
        };
        let (request, presented) = take_csrf_token(request).await?;
        if !presented.is_some_and(|token| same_token(&token, &session.csrf_token)) {
            tracing::warn!("refused a request without the session's CSRF token");
            return Ok(expired_form(Layout::for_session(session)));
        }
        request
    };
    let Some(session) = found else {
        return serve_new_visitor(&state, jar, request, next).await;
    };
    if let Some(user) = &session.user {
        tracing::Span::current().record("user", tracing::field::display(user.id));
    }
    request.extensions_mut().insert(session.clone());
    let response = next.run(request).await;
    Ok(in_session_layout(response, &session))
}

/// A visitor without a session gets a CSRF token for the page; the session
/// behind it is stored only when the page is a real one (200), so 404s and
/// redirects leave nothing in the database.
async fn serve_new_visitor(
    state: &AppState,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let made = state.clock.now().timestamp();
    let nonce = Token::generate();
    let key = anonymous_key(state).await?;
    request.extensions_mut().insert(Session {
        csrf_token: anonymous_csrf(key, made, nonce.as_str()),
        flash: None,
        user: None,
    });
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return Ok(response);
    }
    let value = format!("{ANONYMOUS_PREFIX}{made}.{}", nonce.as_str());
    let cookie = session_cookie(state, value, Duration::minutes(ANONYMOUS_SESSION_MINUTES));
    Ok((jar.add(cookie), response).into_response())
}

/// The installation's key for anonymous CSRF tokens, read once per process.
async fn anonymous_key(state: &AppState) -> Result<&[u8], AppError> {
    let key = state
        .caches
        .anonymous_key
        .get_or_try_init(|| store::outbox::app_secret(&state.db, ANONYMOUS_KEY))
        .await?;
    Ok(key)
}

/// The CSRF token of the anonymous session made at `made` (Unix seconds)
/// with `nonce`.
fn anonymous_csrf(key: &[u8], made: i64, nonce: &str) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("anonymous-csrf:{made}:{nonce}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The anonymous session a cookie value stands for, while it is young enough.
fn anonymous_session(
    key: &[u8],
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Session> {
    let (made, nonce) = value.strip_prefix(ANONYMOUS_PREFIX)?.split_once('.')?;
    let made: i64 = made.parse().ok()?;
    let age = now.timestamp() - made;
    if !(0..ANONYMOUS_SESSION_MINUTES * 60).contains(&age) || nonce.is_empty() {
        return None;
    }
    Some(Session {
        csrf_token: anonymous_csrf(key, made, nonce),
        flash: None,
        user: None,
    })
}

/// The session cookie carrying `value` for `lifetime`.
fn session_cookie(state: &AppState, value: String, lifetime: Duration) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookies_secure())
        .max_age(cookie::time::Duration::seconds(lifetime.num_seconds()))
        .build()
}

/// Error pages are made without the request at hand; for a signed-in user
/// they are drawn again in the layout with their navigation. Bare refusals
/// (an extractor's plain-text 400 for `/search?page=x`) become the site's
/// error page here too.
fn in_session_layout(response: Response, session: &Session) -> Response {
    // For a visitor, `security::finish_response` turns bare refusals into
    // the anonymous error page.
    if session.user.is_none() {
        return response;
    }
    let details = match response.extensions().get::<ErrorDetails>() {
        Some(details) => Some(details.clone()),
        None if is_bare_error(&response) => details_for_bare_status(response.status()),
        None => None,
    };
    match details {
        Some(details) => details.render(Layout::for_session(session)),
        None => response,
    }
}

async fn find_session(state: &AppState, cookie_value: &str) -> Result<Option<Session>, AppError> {
    let now = state.clock.now();
    if cookie_value.starts_with(ANONYMOUS_PREFIX) {
        let key = anonymous_key(state).await?;
        return Ok(anonymous_session(key, cookie_value, now));
    }
    let hash = Token::from_presented(cookie_value).digest();
    let idle_cutoff = now - Duration::minutes(state.config.session_idle_minutes);
    let Some(found) =
        store::sessions::find_live_session(&state.db, &hash, now, idle_cutoff).await?
    else {
        return Ok(None);
    };
    if found.flash.is_some() || now - found.last_seen_at > Duration::seconds(TOUCH_EVERY_SECONDS) {
        store::sessions::touch_session(&state.db, &hash, now).await?;
    }
    let user = found.user.map(|user| CurrentUser {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        role: user.role,
        time_zone: crate::domain::time::parse_zone(&user.time_zone).unwrap_or(chrono_tz::Tz::UTC),
        csrf_token: found.csrf_token.clone(),
        flash: found.flash.clone(),
        session_hash: hash,
    });
    Ok(Some(Session {
        csrf_token: found.csrf_token,
        flash: found.flash,
        user,
    }))
}

/// Reads the CSRF token from the `x-csrf-token` header or, for a form post,
/// from the `_csrf` field; the body is handed on unchanged.
async fn take_csrf_token(request: Request) -> Result<(Request, Option<String>), AppError> {
    if let Some(token) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|value| value.to_str().ok())
    {
        let token = token.to_owned();
        return Ok((request, Some(token)));
    }
    // A file upload's token rides in the form's action URL: reading it from
    // a multipart body here would mean buffering the whole upload twice.
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    if is_multipart {
        let token = request.uri().query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == CSRF_FIELD)
                .map(|(_, value)| value.into_owned())
        });
        return Ok((request, token));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT_BYTES)
        .await
        .map_err(AppError::unreadable_body)?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// Compares without stopping at the first difference.
/// Compares tokens in time that does not depend on where they differ.
fn same_token(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

fn expired_form(layout: Layout) -> Response {
    ErrorDetails {
        status: StatusCode::FORBIDDEN,
        heading: "This form has expired",
        message: "The page was open for too long, or it came from another site. Go back, reload the page and submit it again.",
        reference: None,
    }
    .render(layout)
}

/// The two secrets of a new session: the cookie value and the CSRF token.
struct SessionSecrets {
    cookie_token: Token,
    csrf_token: Token,
}

impl SessionSecrets {
    fn generate() -> SessionSecrets {
        SessionSecrets {
            cookie_token: Token::generate(),
            csrf_token: Token::generate(),
        }
    }

    /// Stores the user's session and returns the jar holding its cookie.
    async fn persist(
        self,
        state: &AppState,
        jar: CookieJar,
        user_id: Uuid,
        flash: Option<&str>,
    ) -> Result<CookieJar, AppError> {
        let now = state.clock.now();
        let lifetime = Duration::hours(state.config.session_lifetime_hours);
        let new_session = NewSession {
            id_hash: &self.cookie_token.digest(),
            user_id: Some(user_id),
            csrf_token: self.csrf_token.as_str(),
            expires_at: now + lifetime,
            flash,
        };
        store::sessions::insert_session(&state.db, new_session, now).await?;
        let value = self.cookie_token.as_str().to_owned();
        Ok(jar.add(session_cookie(state, value, lifetime)))
    }
}

/// Signs `user_id` in: ends the browser's current session and starts a new
/// one (always a new id, so no fixation). `flash` is shown on the first page.
pub async fn start_session(
    state: &AppState,
    jar: CookieJar,
    user_id: Uuid,
    flash: Option<&str>,
) -> Result<CookieJar, AppError> {
    if let Some(old) = jar.get(SESSION_COOKIE)
        && !old.value().starts_with(ANONYMOUS_PREFIX)
    {
        let old_hash = Token::from_presented(old.value()).digest();
        store::sessions::delete_session(&state.db, &old_hash).await?;
    }
    SessionSecrets::generate()
        .persist(state, jar, user_id, flash)
        .await
}

/// Ends the browser's session server-side and clears its cookie.
pub async fn end_session(state: &AppState, jar: CookieJar) -> Result<CookieJar, AppError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE)
        && !cookie.value().starts_with(ANONYMOUS_PREFIX)
    {
        let hash = Token::from_presented(cookie.value()).digest();
        store::sessions::delete_session(&state.db, &hash).await?;
    }
    Ok(jar.remove(Cookie::build(SESSION_COOKIE).path("/")))
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session middleware not installed")))
    }
}

/// The user, if someone is signed in.
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(
            Session::from_request_parts(parts, state).await?.user,
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        // Come back to the page after signing in; a form post cannot be
        // replayed, so it comes back to the home page instead.
        let next = match parts.method {
            Method::GET => parts.uri.path_and_query().map(|path| path.as_str()),
            _ => None,
        };
        user.ok_or_else(|| AppError::NeedsSignIn {
            next: next.unwrap_or("/").to_owned(),
        })
    }
}

/// A signed-in admin; anyone else gets 403.
pub struct Admin(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Admin(user))
        } else {
            Err(AppError::Forbidden(
                "Only admins can manage users and teams.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ANONYMOUS_SESSION_MINUTES, anonymous_csrf, anonymous_session, same_token};

    #[test]
    fn an_anonymous_session_is_read_from_its_cookie_while_young_and_its_token_needs_the_key() {
        let now: chrono::DateTime<chrono::Utc> = "2026-12-03T12:00:00Z".parse().unwrap();
        let made = now.timestamp() - 60;
        let value = format!("a.{made}.{}", "ab".repeat(32));
        let session = anonymous_session(b"key", &value, now).expect("a young session");
        assert_eq!(
            session.csrf_token,
            anonymous_csrf(b"key", made, &"ab".repeat(32))
        );
        assert!(session.user.is_none());
        let other_key = anonymous_session(b"other key", &value, now).expect("a session");
        assert_ne!(
            other_key.csrf_token, session.csrf_token,
            "the token depends on the key"
        );
        let old = now + chrono::Duration::minutes(ANONYMOUS_SESSION_MINUTES);
        assert!(anonymous_session(b"key", &value, old).is_none(), "expired");
        let early = now - chrono::Duration::minutes(5);
        assert!(
            anonymous_session(b"key", &value, early).is_none(),
            "made in the future"
        );
        for bad in ["a.", "a.x.y", &format!("a.{made}."), "a.12"] {
            assert!(anonymous_session(b"key", bad, now).is_none(), "{bad}");
        }
    }

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(same_token("abc123", "abc123"));
        assert!(!same_token("abc124", "abc123"));
        assert!(!same_token("abc12", "abc123"));
        assert!(!same_token("", "abc123"));
    }
}

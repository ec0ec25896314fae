//! Signing in through the organization's OpenID provider: the authorization
//! code flow with PKCE, `state` bound to the browser by a cookie and used
//! once, and the ID token checked by `openidconnect` (issuer, audience,
//! expiry, nonce, and a signature by one of the provider's published keys).
//! A first sign-in makes the account, its role from the provider's groups;
//! groups named like a team join it; a deactivated account stays out.

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use chrono::Duration;
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    AppError, AppState,
    auth::{local_path, sign_in_refusal},
    session::{self, Session},
};
use crate::{
    config::IntegrationsConfig,
    domain::{email::Email, role::Role, token::Token},
    store::{self, audit::AuditEvent, users::NewUser},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc", get(start))
        .route("/auth/oidc/callback", get(callback))
}

/// The cookie that ties a sign-in's `state` to the browser that began it.
const STATE_COOKIE: &str = "debrief_sso_state";
/// How long a started sign-in may take.
pub const STARTED_WITHIN_MINUTES: i64 = 10;

/// The provider as configured; none when single sign-on is off.
pub struct Provider<'a> {
    issuer: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    config: &'a IntegrationsConfig,
}

impl<'a> Provider<'a> {
    pub fn configured(config: &'a IntegrationsConfig) -> Option<Provider<'a>> {
        Some(Provider {
            issuer: config.oidc_issuer.as_deref()?,
            client_id: config.oidc_client_id.as_deref()?,
            client_secret: config.oidc_client_secret.as_deref()?,
            config,
        })
    }

    /// Whether `email` is at an allowed domain.
    fn allows(&self, email: &str) -> bool {
        let domains = list(&self.config.oidc_allowed_domains);
        let domain = email
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or_default();
        domains.is_empty()
            || domains
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(domain))
    }

    /// The role a new account gets from the person's groups.
    fn role_for(&self, groups: &[String]) -> Role {
        let in_any = |setting: &str| {
            let wanted = list(setting);
            groups
                .iter()
                .any(|group| wanted.iter().any(|w| w.eq_ignore_ascii_case(group)))
        };
        if in_any(&self.config.oidc_admin_groups) {
            Role::Admin
        } else if in_any(&self.config.oidc_member_groups) {
            Role::Member
        } else {
            Role::parse(&self.config.oidc_default_role)
                .filter(|role| *role != Role::Admin)
                .unwrap_or(Role::Viewer)
        }
    }
}

fn list(setting: &str) -> Vec<&str> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

/// One HTTP call of the OpenID library, made with reqwest (no redirects
/// followed: the provider's endpoints are called as published).
async fn send(
    http: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut answer = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(answer
        .body(body)
        .unwrap_or_else(|_| openidconnect::http::Response::new(Vec::new())))
}

fn http_client() -> reqwest::Client {
    crate::trackers::outbound()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The provider's published metadata and keys, and a client for it.
async fn client_for(
    state: &AppState,
    provider: &Provider<'_>,
    http: &reqwest::Client,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    String,
> {
    let issuer = IssuerUrl::new(provider.issuer.to_owned()).map_err(|e| e.to_string())?;
    let call = |request| send(http.clone(), request);
    let metadata = CoreProviderMetadata::discover_async(issuer, &call)
        .await
        .map_err(|error| format!("its discovery document could not be read ({error})"))?;
    let redirect = RedirectUrl::new(format!(
        "{}/auth/oidc/callback",
        state.config.public_base_url()
    ))
    .map_err(|e| e.to_string())?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.to_owned()),
        Some(ClientSecret::new(provider.client_secret.to_owned())),
    )
    .set_redirect_uri(redirect))
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
    Query(query): Query<StartQuery>,
) -> Result<Response, AppError> {
    let Some(provider) = Provider::configured(&state.config.integrations) else {
        return Err(AppError::NotFound);
    };
    let http = http_client();
    let client = match client_for(&state, &provider, &http).await {
        Ok(client) => client,
        Err(why) => {
            tracing::warn!(%why, "the OpenID provider could not be reached");
            return Ok(sign_in_refusal(
                &state,
                &session,
                StatusCode::BAD_GATEWAY,
                &format!(
                    "The sign-in provider could not be reached: {why}. Try again in a moment."
                ),
            ));
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in provider.config.oidc_scopes.split_whitespace() {
        if scope != "openid" {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
    }
    let (url, csrf, nonce) = request.url();
    let now = state.clock.now();
    let pending = store::sso::Pending {
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        next_path: local_path(query.next.as_deref()).to_owned(),
    };
    let state_hash = Token::from_presented(csrf.secret()).digest();
    store::sso::insert(&state.db, &state_hash, &pending, now).await?;
    let cookie = Cookie::build((STATE_COOKIE, csrf.secret().clone()))
        .path("/auth/oidc")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookies_secure())
        .max_age(cookie::time::Duration::minutes(STARTED_WITHIN_MINUTES))
        .build();
    Ok((jar.add(cookie), Redirect::to(url.as_str())).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Why a sign-in through the provider was refused, for the person and the log.
struct Refused(StatusCode, String);

async fn callback(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let Some(provider) = Provider::configured(&state.config.integrations) else {
        return Err(AppError::NotFound);
    };
    let remembered = jar.get(STATE_COOKIE).map(|c| c.value().to_owned());
    let jar = jar.remove(Cookie::build(STATE_COOKIE).path("/auth/oidc"));
    match finish(&state, &provider, remembered, query).await? {
        Ok((user_id, next)) => {
            let jar = session::start_session(&state, jar, user_id, None).await?;
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(Refused(status, message)) => {
            tracing::info!(%message, "a single sign-on was refused");
            Ok((jar, sign_in_refusal(&state, &session, status, &message)).into_response())
        }
    }
}

/// Checks the provider's answer and finds or makes the account.
async fn finish(
    state: &AppState,
    provider: &Provider<'_>,
    remembered: Option<String>,
    query: CallbackQuery,
) -> Result<Result<(uuid::Uuid, String), Refused>, AppError> {
    let refused = |message: &str| Ok(Err(Refused(StatusCode::FORBIDDEN, message.to_owned())));
    if let Some(error) = query.error {
        let detail = query.error_description.unwrap_or(error);
        return refused(&format!("The sign-in provider refused: {detail}."));
    }
    let (Some(code), Some(returned)) = (query.code, query.state) else {
        return refused("The sign-in provider's answer is incomplete. Start again.");
    };
    let same_browser = remembered
        .is_some_and(|remembered| crate::domain::signature::same_secret(&returned, &remembered));
    if !same_browser {
        return refused(
            "This sign-in was not started in this browser (its state does not match). Start again.",
        );
    }
    let now = state.clock.now();
    let Some(pending) = store::sso::take(
        &state.db,
        &Token::from_presented(&returned).digest(),
        now - Duration::minutes(STARTED_WITHIN_MINUTES),
    )
    .await?
    else {
        return refused("This sign-in expired or was already used. Start again.");
    };

    let http = http_client();
    let client = match client_for(state, provider, &http).await {
        Ok(client) => client,
        Err(why) => {
            return Ok(Err(Refused(
                StatusCode::BAD_GATEWAY,
                format!("The sign-in provider could not be reached: {why}. Try again in a moment."),
            )));
        }
    };
    let call = |request| send(http.clone(), request);
    let exchange = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(request) => {
            request
                .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
                .request_async(&call)
                .await
        }
        Err(error) => return refused(&format!("The provider has no token endpoint ({error}).")),
    };
    let tokens = match exchange {
        Ok(tokens) => tokens,
        Err(error) => {
            return refused(&format!(
                "The provider did not accept the sign-in code ({error})."
            ));
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return refused("The provider sent no ID token.");
    };
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce)) {
        Ok(claims) => claims,
        Err(error) => {
            return refused(&format!(
                "The provider's ID token was refused: {error}. Nobody was signed in."
            ));
        }
    };
    let Some(email) = claims.email().map(|email| email.as_str().to_lowercase()) else {
        return refused("The provider did not say who you are (no email in the ID token).");
    };
    if claims.email_verified() == Some(false) {
        return refused("The provider has not verified this email address.");
    }
    if !provider.allows(&email) {
        return refused(&format!(
            "{email} is not at a domain allowed to sign in here. Ask an admin."
        ));
    }
    let Ok(address) = Email::parse(&email) else {
        return refused("The provider's email address cannot be read.");
    };
    let groups = groups_of(&id_token.to_string(), &provider.config.oidc_groups_claim);
    let name = claims
        .name()
        .and_then(|names| names.get(None))
        .map(|name| name.as_str().trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());

    let mut tx = crate::store::begin(&state.db).await?;
    let user_id = match store::users::find_credentials(&mut *tx, &email).await? {
        Some(user) if !user.active => {
            let event = AuditEvent::new(user.id, "sign_in_refused_inactive")
                .target(user.id)
                .detail(json!({"via": "oidc"}));
            store::audit::record(&mut *tx, event, now).await?;
            tx.commit().await?;
            return refused("This account has been deactivated. Ask an admin if you need it back.");
        }
        Some(user) => user.id,
        None => {
            let role = provider.role_for(&groups);
            let new_user = NewUser {
                email: &address,
                display_name: &name,
                role,
                password_hash: None,
            };
            let id = store::users::insert_user(&mut *tx, new_user, now).await?;
            store::links::delete_setup_links(&mut *tx).await?;
            let event = AuditEvent::new(id, "user_created_by_sso")
                .target(id)
                .detail(json!({"email": email, "role": role, "groups": groups}));
            store::audit::record(&mut *tx, event, now).await?;
            id
        }
    };
    let joined = store::teams::join_named(&mut *tx, user_id, &groups).await?;
    let event = AuditEvent::new(user_id, "sign_in")
        .target(user_id)
        .detail(json!({"via": "oidc", "teams_joined": joined}));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Ok((user_id, pending.next_path)))
}

/// The groups an ID token lists under `claim`. The token's signature was
/// checked before this reads its payload.
fn groups_of(id_token: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    match claims.get(claim) {
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .filter_map(|value| value.as_str())
            .map(|group| group.chars().take(200).collect())
            .take(200)
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> IntegrationsConfig {
        IntegrationsConfig {
            oidc_issuer: Some("https://id.acme.test".into()),
            oidc_client_id: Some("debrief".into()),
            oidc_client_secret: Some("secret".into()),
            oidc_allowed_domains: "acme.test, acme.co.uk".into(),
            oidc_admin_groups: "debrief-admins".into(),
            oidc_member_groups: "engineering".into(),
            ..IntegrationsConfig::default()
        }
    }

    #[test]
    fn groups_map_to_roles_and_domains_are_checked() {
        let config = config();
        let provider = Provider::configured(&config).unwrap();
        assert_eq!(provider.role_for(&["Debrief-Admins".into()]), Role::Admin);
        assert_eq!(provider.role_for(&["engineering".into()]), Role::Member);
        assert_eq!(provider.role_for(&[]), Role::Viewer);
        assert!(provider.allows("ada@acme.test"));
        assert!(provider.allows("ada@ACME.co.uk"));
        assert!(!provider.allows("eve@elsewhere.test"));
        assert!(!provider.allows("eve@acme.test.evil"));
    }

    #[test]
    fn the_default_role_is_never_admin() {
        let config = IntegrationsConfig {
            oidc_default_role: "admin".into(),
            ..config()
        };
        assert_eq!(
            Provider::configured(&config).unwrap().role_for(&[]),
            Role::Viewer
        );
    }

    #[test]
    fn groups_are_read_from_the_payload() {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"1","groups":["a","b"],"team":"sre"}"#);
        let token = format!("header.{payload}.signature");
        assert_eq!(groups_of(&token, "groups"), ["a", "b"]);
        assert_eq!(groups_of(&token, "team"), ["sre"]);
        assert!(groups_of(&token, "roles").is_empty());
        assert!(groups_of("garbage", "groups").is_empty());
    }
}

//! Facts about the connection: the client address and the request's log span.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{Request, request::Parts},
};
use tracing::Span;

use super::AppState;

/// The client's address: the socket peer, or the last `X-Forwarded-For`
/// entry (the one our own load balancer added) when configured to trust it.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy
            && let Some(forwarded) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.rsplit(',').next())
                .map(str::trim)
                .filter(|value| !value.is_empty())
        {
            return Ok(ClientIp(forwarded.to_owned()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(ClientIp(peer))
    }
}

/// The tracing span of one request, named by its request id; the signed-in
/// user's id is recorded on it once the session is known.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        id = %request_id,
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
        user = tracing::field::Empty,
    )
}

/// Paths that carry a secret in one of their segments: the prefix, then
/// which segment after it is the secret. Longer prefixes first.
const SECRET_SEGMENTS: &[(&str, usize)] = &[
    // An invitation or password reset: /welcome/{token}
    ("/welcome/", 0),
    // /unsubscribe/notices/{user}/{token}
    ("/unsubscribe/notices/", 1),
    // /unsubscribe/{user}/{token}
    ("/unsubscribe/", 1),
    // /feeds/{secret}/postmortems.atom
    ("/feeds/", 0),
];

/// The path as it may be logged: the secret segment of a link (invitations,
/// resets, unsubscribe and feed links) is replaced by `{token}`. Query
/// strings, which carry the setup token and sign-in codes, are never logged.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    let Some((prefix, secret)) = SECRET_SEGMENTS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
    else {
        return path.into();
    };
    let rest = path[prefix.len()..]
        .split('/')
        .enumerate()
        .map(
            |(index, segment)| {
                if index == *secret { "{token}" } else { segment }
            },
        );
    format!("{prefix}{}", rest.collect::<Vec<_>>().join("/")).into()
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn secrets_in_paths_never_reach_the_log() {
        let cases = [
            ("/welcome/4f2a9c", "/welcome/{token}"),
            (
                "/unsubscribe/0190-ab/1767225600-9f9f",
                "/unsubscribe/0190-ab/{token}",
            ),
            (
                "/unsubscribe/notices/0190-ab/1767-9f",
                "/unsubscribe/notices/0190-ab/{token}",
            ),
            (
                "/feeds/d00d/postmortems.atom",
                "/feeds/{token}/postmortems.atom",
            ),
            (
                "/feeds/d00d/action-items.ics",
                "/feeds/{token}/action-items.ics",
            ),
            ("/admin/users", "/admin/users"),
            ("/unsubscribe/", "/unsubscribe/"),
        ];
        for (path, logged) in cases {
            assert_eq!(loggable_path(path), logged, "{path}");
        }
    }
}

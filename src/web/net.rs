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

/// The tracing span of one request, named by its request id.
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
    )
}

/// The path as it may be logged: one-time link tokens are secrets, so they
/// are replaced (query strings, which carry the setup token, are never logged).
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/welcome/") {
        "/welcome/{token}"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn one_time_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/welcome/4f2a9c"), "/welcome/{token}");
        assert_eq!(loggable_path("/admin/users"), "/admin/users");
    }
}

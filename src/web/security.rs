//! Response headers that every page carries, and cross-site request forgery
//! protection for every state-changing request.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use tower_http::csrf::{CsrfLayer, ProtectionError};

use super::{AppState, error::error_page};

/// No inline script or style, nothing from other origins, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers; pages that carry private data are not cached.
pub async fn set_security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_asset = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if state.config.cookies_secure() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses cross-site POSTs (by `Sec-Fetch-Site`, or `Origin` against
/// `Host`) with the site's 403 page.
pub fn csrf_layer() -> CsrfLayer<impl FnMut(ProtectionError) -> Response + Clone> {
    CsrfLayer::new().with_rejection_response(|error: ProtectionError| {
        tracing::warn!(kind = ?error.kind(), "refused a cross-site request");
        error_page(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form was sent from another site, so it was not accepted. Open the page in Debrief and submit it again.",
            None,
        )
    })
}

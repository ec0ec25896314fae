//! Response headers that every page carries, and cross-site request forgery
//! protection for every state-changing request.

use axum::{
    BoxError,
    body::{Body, Bytes, HttpBody},
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use tower_http::csrf::{CsrfLayer, ProtectionError};

use super::{AppState, error};

/// No inline script or style, nothing from other origins, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The last step of every response: bare error responses that no inner
/// step turned into a page (a tower layer's 413 or timeout) become the
/// site's error page, and every response gets the security headers.
/// Private pages are not cached.
pub async fn finish_response<B>(State(state): State<AppState>, response: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut response = response.map(Body::new);
    if error::is_bare_error(&response)
        && let Some(details) = error::details_for_bare_status(response.status())
    {
        response = details.render(super::layout::Layout::anonymous());
    }
    let headers = response.headers_mut();
    // A handler may set a policy of its own (the email preview allows its
    // inline styles and nothing else); every other response gets ours.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    let fixed = [
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
    // Assets set their own (long) caching; everything else may be private.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses cross-site POSTs (by `Sec-Fetch-Site`, or `Origin` against
/// `Host`) with the site's 403 page.
pub fn csrf_layer() -> CsrfLayer<impl FnMut(ProtectionError) -> Response + Clone> {
    CsrfLayer::new().with_rejection_response(|error: ProtectionError| {
        tracing::warn!(kind = ?error.kind(), "refused a cross-site request");
        error::error_page(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form was sent from another site, so it was not accepted. Open the page in Debrief and submit it again.",
            None,
        )
    })
}

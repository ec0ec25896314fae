//! One rule at the input boundary: no NUL character gets past it. Postgres
//! cannot store one in text, and a file name holding one is cut short, so
//! every request that carries one (in its path, its query string, a form
//! or a JSON body) is refused here with 400 and a sentence saying why,
//! before any handler reads it. Uploads (multipart) carry binary files and
//! are left to the handlers that read them.

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{BODY_LIMIT_BYTES, api::problem::Problem, error::error_page};

const REFUSAL: &str = "The request holds a NUL character (%00), which Debrief never stores. Remove it and send again.";

pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("");
    if has_escaped_nul(path_and_query.as_bytes()) {
        return refused(request.uri().path());
    }
    let kind = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json") || kind.contains("+json");
    if !form && !json {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => return super::error::AppError::unreadable_body(error).into_response(),
    };
    let holds_nul = if form {
        has_escaped_nul(&bytes)
    } else {
        has_json_nul(&bytes)
    };
    if holds_nul {
        return refused(&path);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn refused(path: &str) -> Response {
    if path.starts_with("/api/") {
        Problem::bad_request(REFUSAL).into_response()
    } else {
        error_page(StatusCode::BAD_REQUEST, "Request refused", REFUSAL, None)
    }
}

/// A NUL byte, or `%00`, in URL-encoded text. A `%` that stands for itself
/// is sent as `%25`, so `%00` is always an escape.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

/// A NUL byte, or the escape `\u0000`, in JSON (an escaped backslash
/// followed by `u0000` is text, not a NUL).
fn has_json_nul(bytes: &[u8]) -> bool {
    if bytes.contains(&0) {
        return true;
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u')
                && bytes
                    .get(i + 2..i + 6)
                    .is_some_and(|hex| hex.iter().all(|b| *b == b'0'))
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_of_nul_are_found_and_look_alikes_are_not() {
        assert!(has_escaped_nul(b"q=a%00b"));
        assert!(has_escaped_nul(b"email=x\0y"));
        assert!(!has_escaped_nul(b"q=100%25&n=500"));
        assert!(!has_escaped_nul(b"q=%2500"));
        assert!(has_json_nul(br#"{"text":"a\u0000b"}"#));
        assert!(!has_json_nul(br#"{"text":"a\\u0000b"}"#));
        assert!(has_json_nul(br#"{"text":"a\\\u0000b"}"#));
        assert!(!has_json_nul(br#"{"text":"\u00e9t\u00e9"}"#));
    }
}

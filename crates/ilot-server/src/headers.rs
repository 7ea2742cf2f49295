//! Headers every answer carries, and the media type every JSON endpoint insists on; one
//! middleware over the whole router, so a new route gets them without thinking of it.
//!
//! - `X-Content-Type-Options: nosniff`: a browser never guesses a type from the bytes;
//! - `Cache-Control: no-store`: nothing the server answers (patient data, tokens, errors) is
//!   kept by a browser, a proxy or a shared cache (the console's content-hashed script and style
//!   files excepted: they hold no data and are served `immutable`);
//! - `Strict-Transport-Security` (one year) when the server is reached over HTTPS, i.e. when its
//!   public address is `https://` (served with TLS, or behind a TLS proxy);
//! - a request with a body to any endpoint but the sealed ones (push, pull) must say
//!   `Content-Type: application/json`, else 415 before any handler runs.

use axum::body::HttpBody;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ilot_wire::api::{ErrorCode, paths};

use crate::error::ServerError;
use crate::http::AppState;

const HSTS: &str = "max-age=31536000";

pub(crate) async fn secure(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = state
        .0
        .config
        .public_url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let mut resp = match wrong_media_type(&req) {
        Some(refusal) => refusal.into_response(),
        None => next.run(req).await,
    };
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Only the console's hashed files say otherwise (`console.rs`: `immutable`, no data in them).
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    resp
}

/// The refusal of a body that is not JSON sent to a JSON endpoint.
fn wrong_media_type(req: &Request) -> Option<ServerError> {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        return None;
    }
    let path = req.uri().path();
    if path == paths::PUSH || path == paths::PULL {
        return None;
    }
    // An empty body (a POST that only names its resource) has no type to check.
    if req.body().size_hint().upper() == Some(0) {
        return None;
    }
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    (!json).then(|| {
        ServerError::refused(
            ErrorCode::UnsupportedMediaType,
            "this endpoint takes JSON: send the body with Content-Type: application/json",
        )
    })
}

//! The care team's console in the browser: its files (built by `scripts/build-console.sh` and
//! embedded at build time with `rust-embed`; a "console not built" page when they were not),
//! the session cookie, CSRF protection and the security headers of every response.
//!
//! **Session cookie.** `POST /v1/console/login` runs the operator login (same handler, same
//! limits, a TOTP code accepted once) and puts the session token in an `HttpOnly;
//! SameSite=Strict; Path=/` cookie, `Secure` (and named with the `__Host-` prefix) unless the
//! server speaks plain http, which it does only on loopback. The token never reaches the page's
//! JavaScript. Every operator endpoint takes the cookie as well as `Authorization: Bearer`
//! (a bearer header wins, so API clients are unchanged): the `operator::Session` extractor
//! reads the bearer header first, then this cookie.
//!
//! **Routes.** `/v1/console/login`, `/session` and `/logout` are API operations: rows of the
//! route table (`routes.rs`), documented with their statuses and walked by the scoping test.
//! The page (`/`) and its files (`/assets/…`) are not: they are the same bytes for everyone,
//! hold no data, need no session, and a static file is no operation a client could call; the
//! router adds them beside the table ([`pages`]), so `/openapi.json` stays the API's contract.
//!
//! **CSRF.** A request that authenticates with the cookie and may change state (any method
//! but GET, HEAD, OPTIONS) must carry `X-CSRF-Token`, a value derived from the session token
//! (SHA-256 with a fixed label, of the token's own SHA-256), which the page receives in the login answer and from
//! `GET /v1/console/session`; a cross-site page can neither read it (same-origin policy) nor
//! send a custom header without a CORS preflight the server never grants. Besides, any unsafe
//! request carrying the cookie, or to `/v1/console/…`, whose `Origin` is not this server is
//! refused, which covers the login form too.
//! Requests with a bearer header are not concerned: browsers never add one by themselves.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ilot_wire::CareRole;
use ilot_wire::api::ErrorCode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth;
use crate::client::Client;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::Session;

/// The console's files, from `console/dist` at build time (missing: an empty set).
#[derive(rust_embed::Embed)]
#[folder = "console/dist"]
#[allow_missing = true]
struct Assets;

/// The header carrying the CSRF token on unsafe requests made with the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// No inline script or style, nothing from elsewhere, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The console's page and files (outside the route table: see the module's documentation).
/// Its session endpoints are rows of `routes.rs`.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*file}", get(asset))
}

/// True when the server's public address is plain http (loopback only, see `main`): then the
/// cookie cannot be `Secure` and cannot take the `__Host-` prefix.
fn plain_http(state: &AppState) -> bool {
    state.0.config.public_url.starts_with("http://")
}

/// The session cookie's name: `__Host-ilot_session` over HTTPS (the browser then guarantees it
/// was set by this host over HTTPS, for path `/`), `ilot_session` on loopback plain http.
pub fn cookie_name(state: &AppState) -> &'static str {
    if plain_http(state) {
        "ilot_session"
    } else {
        "__Host-ilot_session"
    }
}

/// The console's session cookie, if the request has one.
pub(crate) fn cookie_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(std::result::Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
}

/// The session token of a request: the bearer header, else the console's cookie.
pub fn request_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    bearer_token(headers).or_else(|| cookie_token(state, headers))
}

/// The CSRF token bound to a session, from the SHA-256 of its token (what the server keeps);
/// one-way: it reveals nothing of the session.
pub fn csrf_token(token_hash: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"ilot console csrf v1\0");
    h.update(token_hash);
    hex::encode(h.finalize())
}

pub(crate) fn session_cookie(state: &AppState, token: &str, expires_at: DateTime<Utc>) -> String {
    let max_age = (expires_at - state.now()).num_seconds().max(0);
    cookie::Cookie::build((cookie_name(state), token.to_string()))
        .http_only(true)
        .secure(!plain_http(state))
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string()
}

fn cleared_cookie(state: &AppState) -> String {
    cookie::Cookie::build((cookie_name(state), ""))
        .http_only(true)
        .secure(!plain_http(state))
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

fn forbidden(msg: &str) -> Response {
    ServerError::refused(ErrorCode::Forbidden, msg).into_response()
}

/// `Origin` absent (not a browser, or a same-origin GET) or naming this server's host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// Middleware on every route: refuses cross-site unsafe requests and cookie requests without
/// the CSRF token, and adds the security headers to every answer.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let cookie = cookie_token(&state, req.headers());
    let console = req.uri().path().starts_with("/v1/console/");
    if !safe {
        if (cookie.is_some() || console) && !same_origin(req.headers()) {
            return with_headers(forbidden(
                "this request comes from another site (Origin); it was refused",
            ));
        }
        if bearer_token(req.headers()).is_none()
            && let Some(token) = cookie
        {
            let expected = csrf_token(&auth::token_hash(&token));
            let given = req
                .headers()
                .get(CSRF_HEADER)
                .map(HeaderValue::as_bytes)
                .unwrap_or_default();
            if !bool::from(given.ct_eq(expected.as_bytes())) {
                return with_headers(forbidden(
                    "missing or wrong X-CSRF-Token header: reload the console and try again",
                ));
            }
        }
    }
    with_headers(next.run(req).await)
}

fn with_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // nosniff and Cache-Control come from `headers.rs`, on every answer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// What the console knows of its session (the token itself stays in the cookie).
#[derive(Debug, Serialize)]
pub struct ConsoleSession {
    pub name: String,
    pub role: CareRole,
    pub csrf_token: String,
}

/// `POST /v1/console/login`: logs in as `POST /v1/operator/login` does (same limits, same
/// audit), and answers with the session in a cookie. A body that is not JSON was refused with
/// 415 before (`headers.rs`): a cross-site form cannot send this media type without a preflight.
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    body: axum::body::Bytes,
) -> Result<Response> {
    let Json(r) = crate::operator::login(State(state.clone()), client, body).await?;
    let cookie = session_cookie(&state, &r.token, r.expires_at);
    let body = ConsoleSession {
        name: r.name,
        role: r.role,
        csrf_token: csrf_token(&auth::token_hash(&r.token)),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `GET /v1/console/session`: who is logged in, and the CSRF token of the session (for a page
/// that was reloaded).
pub async fn session(op: Session) -> Json<ConsoleSession> {
    Json(ConsoleSession {
        name: op.name.clone(),
        role: op.role,
        csrf_token: csrf_token(&op.token_hash),
    })
}

/// `POST /v1/console/logout`: ends the session server-side as `POST /v1/operator/logout` does
/// (the cookie is then refused everywhere) and clears the cookie.
pub async fn logout(State(state): State<AppState>, op: Session) -> Result<Response> {
    crate::operator::logout(State(state.clone()), op).await?;
    Ok((
        [(header::SET_COOKIE, cleared_cookie(&state))],
        Json(serde_json::json!({ "logged_out": true })),
    )
        .into_response())
}

async fn index() -> Response {
    match Assets::get("index.html") {
        Some(f) => file(f.data.into_owned(), "text/html; charset=utf-8", "no-cache"),
        None => file(
            NOT_BUILT.as_bytes().to_vec(),
            "text/html; charset=utf-8",
            "no-store",
        ),
    }
}

async fn asset(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    match Assets::get(&format!("assets/{path}")) {
        Some(f) => {
            let mime = f.metadata.mimetype().to_string();
            // Vite names every file by its content hash: it never changes under one name.
            file(
                f.data.into_owned(),
                &mime,
                "public, max-age=31536000, immutable",
            )
        }
        None => {
            ServerError::refused(ErrorCode::NotFound, "no such file in the console").into_response()
        }
    }
}

fn file(bytes: Vec<u8>, mime: &str, cache: &'static str) -> Response {
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// Whether the console's files were embedded in this build.
pub fn built() -> bool {
    Assets::get("index.html").is_some()
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Ilot: console not built</title></head><body><h1>The console was not built</h1>\
<p>This <code>ilot</code> binary was compiled without the care team's console. Build it with \
<code>bash scripts/build-console.sh</code> (needs Node.js 20+), then build <code>ilot</code> \
again. The API is served as usual under <code>/v1</code> (see <code>/openapi.json</code>).</p>\
</body></html>";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Config;

    #[test]
    fn over_https_the_cookie_is_secure_and_host_prefixed() {
        let st = AppState::new(
            crate::storage::open("sqlite::memory:", &crate::atrest::ServerKey::generate()).unwrap(),
            Config::new("https://ilot.example"),
        )
        .unwrap();
        let c = session_cookie(&st, "abc", st.now() + chrono::TimeDelta::hours(12));
        assert!(c.starts_with("__Host-ilot_session=abc;"), "{c}");
        // 12 hours from "now", read twice from the real clock.
        assert!(
            c.contains("Max-Age=4319") || c.contains("Max-Age=43200"),
            "{c}"
        );
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(flag), "{flag} missing in {c}");
        }
        assert!(!c.contains("Domain"), "{c}");
        // Read back under that name only: a plain-http cookie is not taken over HTTPS.
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("ilot_session=zzz; __Host-ilot_session=abc"),
        );
        assert_eq!(request_token(&st, &h).as_deref(), Some("abc"));
        h.insert(header::COOKIE, HeaderValue::from_static("ilot_session=zzz"));
        assert_eq!(request_token(&st, &h), None);
        // A bearer header wins over the cookie.
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok"),
        );
        assert_eq!(request_token(&st, &h).as_deref(), Some("tok"));
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session_and_reveals_nothing_of_it() {
        let a = csrf_token(&auth::token_hash("a"));
        assert_eq!(a, csrf_token(&auth::token_hash("a")));
        assert_ne!(a, csrf_token(&auth::token_hash("b")));
        assert_eq!(a.len(), 64);
    }
}

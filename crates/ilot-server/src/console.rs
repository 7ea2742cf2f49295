//! The care team's console in the browser: its files (built by `scripts/build-console.sh` and
//! embedded at build time with `rust-embed`; a "console not built" page when they were not),
//! the session cookie, CSRF protection and the security headers of every response.
//!
//! **Session cookie.** `POST /v1/console/login` runs the operator login (same handler, same
//! limits, a TOTP code accepted once) and puts the session token in an `HttpOnly;
//! SameSite=Strict; Path=/` cookie, `Secure` (and named with the `__Host-` prefix) unless the
//! server speaks plain http, which it does only on loopback. The token never reaches the page's
//! JavaScript. Every operator endpoint takes the cookie as well as `Authorization: Bearer`
//! (a bearer header wins, so API clients are unchanged).
//!
//! **CSRF.** A request that authenticates with the cookie and may change state (any method
//! but GET, HEAD, OPTIONS) must carry `X-CSRF-Token`, a value derived from the session token
//! (SHA-256 with a fixed label), which the page receives in the login answer and from
//! `GET /v1/console/session`; a cross-site page can neither read it (same-origin policy) nor
//! send a custom header without a CORS preflight the server never grants. Besides, any unsafe
//! request whose `Origin` is not this server is refused, which covers the login form too.
//! Requests with a bearer header are not concerned: browsers never add one by themselves.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ilot_wire::CareRole;
use ilot_wire::api::ErrorCode;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth;
use crate::error::{Result, ServerError};
use crate::http::AppState;

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

/// The routes of the console: its files and its session endpoints (`/v1/console/…`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*file}", get(asset))
        .route("/v1/console/login", post(login))
        .route("/v1/console/session", get(session))
        .route("/v1/console/logout", post(logout))
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

fn cookie_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
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

/// The CSRF token bound to a session token (one-way: it reveals nothing of the session).
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ilot console csrf v1\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

fn session_cookie(state: &AppState, token: &str, expires_at: DateTime<Utc>) -> String {
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
    if !safe {
        if !same_origin(req.headers()) {
            return with_headers(forbidden(
                "this request comes from another site (Origin); it was refused",
            ));
        }
        if bearer_token(req.headers()).is_none()
            && let Some(token) = cookie_token(&state, req.headers())
        {
            let expected = csrf_token(&token);
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
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
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

/// Logs in as `POST /v1/operator/login` does, and answers with the session in a cookie.
async fn login(
    State(state): State<AppState>,
    connect: ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        // A cross-site form cannot send this media type without a preflight.
        return Err(crate::operator::bad(
            "the console logs in with an application/json body",
        ));
    }
    let Json(r) = crate::operator::login(State(state.clone()), connect, body).await?;
    let cookie = session_cookie(&state, &r.token, r.expires_at);
    let body = ConsoleSession {
        name: r.name,
        role: r.role,
        csrf_token: csrf_token(&r.token),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Who is logged in, and the CSRF token of the session (for a page that was reloaded).
async fn session(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>> {
    let op = crate::operator::current(&state, &headers).await?;
    let token = request_token(&state, &headers).unwrap_or_default();
    Ok(Json(serde_json::to_value(ConsoleSession {
        name: op.name.clone(),
        role: op.role,
        csrf_token: csrf_token(&token),
    })?))
}

/// Revokes the session server-side (the cookie is then refused everywhere) and clears it.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let op = crate::operator::current(&state, &headers).await?;
    let token = request_token(&state, &headers).unwrap_or_default();
    state
        .blocking(move |s| {
            s.storage().revoke_session(&auth::token_hash(&token))?;
            s.storage().audit(op.id, "logout", None, s.now())
        })
        .await?;
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
            crate::storage::open("sqlite::memory:").unwrap(),
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
        let a = csrf_token("a");
        assert_eq!(a, csrf_token("a"));
        assert_ne!(a, csrf_token("b"));
        assert_eq!(a.len(), 64);
    }
}

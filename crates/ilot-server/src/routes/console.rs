//! The rows of the route table for the care team's console: its cookie login and session, and
//! the Pro Santé Connect login (`crate::console`, `crate::psc`). Part of the one table:
//! `routes()` appends them.

use serde_json::json;

use super::{Access, Body, Route, r};
use crate::{console, psc};

pub(super) fn rows() -> Vec<Route> {
    use Access::*;
    use Body::Json;
    vec![
        Route::new(
            "post",
            "/v1/console/login",
            Credentials,
            "Log in as /v1/operator/login does; the session is set in an HttpOnly SameSite=Strict cookie (Secure over HTTPS) and the answer holds the CSRF token",
            Json(r("ConsoleSession")),
            console::login,
        )
        .body(Json(r("LoginRequest")))
        // 403: a request from another site (`Origin`).
        .errors(&[401, 403, 429]),
        Route::new(
            "get",
            "/v1/console/session",
            Session,
            "Who is logged in (session cookie or bearer) and the session's CSRF token",
            Json(r("ConsoleSession")),
            console::session,
        ),
        Route::new(
            "post",
            "/v1/console/logout",
            Session,
            "End the session now, server-side, and clear the cookie (with the cookie: needs X-CSRF-Token, else 403)",
            Json(json!({
                "type": "object", "required": ["logged_out"],
                "properties": { "logged_out": { "const": true } }
            })),
            console::logout,
        ),
        Route::new(
            "get",
            "/v1/console/login-options",
            Open,
            "Which ways to log in this server offers: `psc` is true when Pro Santé Connect is configured (the console then offers its button)",
            Json(json!({
                "type": "object", "required": ["psc"],
                "properties": { "psc": { "type": "boolean" } }
            })),
            psc::login_options,
        ),
        Route::new(
            "get",
            "/v1/console/psc/start",
            Federation,
            "Log in with Pro Santé Connect: 303 to the provider's authorisation endpoint (code flow, PKCE S256, state and nonce kept server-side for 10 minutes, scope `openid scope_all`, acr_values `eidas1`); when the provider cannot be reached, 303 to the console with `?psc_error=unavailable`",
            Body::Redirect,
            psc::start,
        ),
        Route::new(
            "get",
            "/v1/console/psc/callback",
            Federation,
            "Where Pro Santé Connect sends the browser back (`state`, `code` or `error`): 303 to the console, with the session cookie when the ID token, userinfo and the linked RPPS were accepted, else with `?psc_error=<kind>` (state, provider, token, audience, expired, nonce, acr, id_token, userinfo, unknown_rpps, unavailable), audited, no session",
            Body::Redirect,
            psc::callback,
        ),
    ]
}

//! Operator login: user name, password (argon2id) and the current TOTP code of the operator's
//! authenticator app. Attempts are counted per client network and per user name before any
//! work (429 past the limit), Argon2 runs in a bounded number of slots (503 when none frees
//! up), every failure gets the same answer and is audited with the client's address; a code is
//! accepted once. Nothing secret reaches `Debug` or an error message.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use ilot_wire::CareRole;
use ilot_wire::api::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::parse_json;
use crate::auth;
use crate::client::Client;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::ratelimit::{self, RateKey};
use crate::storage::AuditEvent;

#[derive(Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit code the operator's authenticator app shows now.
    pub totp: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub name: String,
    pub role: CareRole,
}

/// The hash an unknown user name is checked against. Made at start (see `AppState::new`), so
/// that the first unknown name does not cost a second Argon2 run.
pub(crate) fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| auth::hash_password("no operator has this password").unwrap_or_default())
}

/// The one answer to every failed login whatever failed (name, password, code, or no
/// authenticator set up), so that it tells nothing about which part was right.
const FAILED: &str = "wrong user name, password or code";

fn too_many_logins(wait: u64) -> ServerError {
    ServerError::Refused {
        code: ErrorCode::RateLimited,
        message: format!("too many failed login attempts; wait {wait} seconds"),
        retry_after_s: Some(wait),
    }
}

fn busy() -> ServerError {
    ServerError::Refused {
        code: ErrorCode::Unavailable,
        message: "the server is busy checking other logins; try again in a few seconds".into(),
        retry_after_s: Some(2),
    }
}

/// Logs in with user name, password and the current TOTP code.
///
/// The attempt is counted against the client's network and the user name *before* the
/// password is checked, in one transaction shared by every node (429 once either is used up),
/// and taken back when the login succeeds; so however many guesses arrive at once, at most the
/// limit's worth is evaluated. A code is accepted once (its step is stored).
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    body: axum::body::Bytes,
) -> Result<Json<LoginResponse>> {
    let req: LoginRequest = parse_json(&body)?;
    auth::check_username(&req.username)?;
    let cfg = &state.0.config;
    let keys = vec![
        RateKey::new("login-ip", client.network().as_bytes(), cfg.login_per_ip),
        RateKey::new("login-user", req.username.as_bytes(), cfg.login_per_user),
    ];
    if let Err(wait) = ratelimit::count(&state, keys.clone()).await? {
        tracing::info!(%client, "login refused: too many failed attempts");
        return Err(too_many_logins(wait));
    }
    let Some(slot) = state.0.passwords.slot().await else {
        // Not evaluated, so not a guess.
        ratelimit::forgive(&state, keys).await?;
        return Err(busy());
    };
    let r = state
        .blocking(move |s| {
            let r = check(s, &slot, req, client);
            drop(slot);
            r
        })
        .await?;
    match r {
        Ok(resp) => {
            ratelimit::forgive(&state, keys).await?;
            Ok(Json(resp))
        }
        Err(why) => Err(ServerError::refused(ErrorCode::Unauthorized, why)),
    }
}

/// Checks the credentials (holding an Argon2 slot) and opens the session, or says why not.
///
/// Every failure does the same work: one Argon2 verification (against a dummy hash for an
/// unknown name), one look for the operator's authenticator, one audit record; so neither the
/// answer nor the time tells whether the name exists or the password was right.
fn check(
    s: &AppState,
    slot: &tokio::sync::OwnedSemaphorePermit,
    req: LoginRequest,
    client: Client,
) -> Result<std::result::Result<LoginResponse, &'static str>> {
    let now = s.now();
    let op = s.storage().operator_by_username(&req.username)?;
    let phc = op
        .as_ref()
        .map_or(dummy_hash(), |o| o.password_hash.as_str());
    let password_ok = s.0.passwords.verify(slot, &req.password, phc);
    let secret = match &op {
        Some(o) => s.storage().totp_secret(o.id)?,
        None => None,
    };
    let now_s = u64::try_from(now.timestamp()).unwrap_or(0);
    let step = secret
        .as_ref()
        .and_then(|sec| sec.matching_step(&req.totp, now_s));
    let failed = |reason: &str| -> Result<()> {
        let mut e = AuditEvent::new("login-failed", now)
            .from(client)
            .detail(json!({ "reason": reason }));
        e.operator_id = op.as_ref().map(|o| o.id);
        s.storage().record_audit(&e)
    };
    let (op, step) = match (&op, password_ok, &secret, step) {
        (Some(op), true, Some(_), Some(step)) => (op, step),
        (None, ..) => return failed("unknown user name").map(|()| Err(FAILED)),
        (Some(_), false, ..) => return failed("wrong password").map(|()| Err(FAILED)),
        (Some(_), true, None, _) => {
            return failed("no authenticator set up").map(|()| Err(FAILED));
        }
        (Some(_), true, Some(_), None) => return failed("wrong code").map(|()| Err(FAILED)),
    };
    if !s.storage().accept_totp_step(op.id, step)? {
        failed("code already used")?;
        return Ok(Err(
            "this code was already used; wait for the next code of your authenticator app",
        ));
    }
    open_session(s, op, client, None).map(Ok)
}

/// Opens a session of `op` (the password + TOTP login, or Pro Santé Connect: `method`
/// `Some("psc")`, written in the audit record) and audits the login.
pub(crate) fn open_session(
    s: &AppState,
    op: &crate::storage::Operator,
    client: Client,
    method: Option<&str>,
) -> Result<LoginResponse> {
    let now = s.now();
    let (token, hash) = auth::new_token();
    let expires_at = now + s.0.config.session_ttl;
    s.storage().create_session(&hash, op.id, now, expires_at)?;
    let mut e = AuditEvent::new("login", now).by(op.id).from(client);
    if let Some(m) = method {
        e = e.detail(json!({ "method": m }));
    }
    s.storage().record_audit(&e)?;
    Ok(LoginResponse {
        token,
        expires_at,
        name: op.name.clone(),
        role: op.role,
    })
}

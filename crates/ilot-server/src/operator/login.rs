//! Operator login: user name, password (argon2id) and the current TOTP code of the operator's
//! authenticator app. Failures are counted per client address and per user name (429 past the
//! limit); a code is accepted once. Nothing secret reaches `Debug` or an error message.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use chrono::{DateTime, Utc};
use ilot_wire::CareRole;
use ilot_wire::api::ErrorCode;
use serde::{Deserialize, Serialize};

use super::parse_json;
use crate::auth;
use crate::error::{Result, ServerError};
use crate::http::AppState;

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

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| auth::hash_password("no operator has this password").unwrap_or_default())
}

fn too_many_logins(wait: u64) -> ServerError {
    ServerError::Refused {
        code: ErrorCode::RateLimited,
        message: format!("too many failed login attempts; wait {wait} seconds"),
        retry_after_s: Some(wait),
    }
}

/// Logs in with user name, password and the current TOTP code. Failures are counted per client
/// address and per user name; a code is accepted once (its step is stored).
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Json<LoginResponse>> {
    let req: LoginRequest = parse_json(&body)?;
    let cfg = &state.0.config;
    let keys = [
        (format!("login-ip:{}", peer.ip()), cfg.login_per_ip),
        (format!("login-user:{}", req.username), cfg.login_per_user),
    ];
    for (key, limit) in &keys {
        if let Err(wait) = state.0.limiter.check(key, *limit, Instant::now()) {
            return Err(too_many_logins(wait));
        }
    }
    let r = state
        .blocking(move |s| {
            let Some(op) = s.storage().operator_by_username(&req.username)? else {
                // The same argon2 work as for a known name, so that timing does not tell
                // which user names exist.
                auth::verify_password(&req.password, dummy_hash());
                return Ok(Err("wrong user name, password or code"));
            };
            if !auth::verify_password(&req.password, &op.password_hash) {
                return Ok(Err("wrong user name, password or code"));
            }
            let Some(secret) = s.storage().totp_secret(op.id)? else {
                return Ok(Err(
                    "this operator has no authenticator set up; ask an administrator to run ilot operator reset-totp",
                ));
            };
            let now_s = u64::try_from(s.now().timestamp()).unwrap_or(0);
            let Some(step) = secret.matching_step(&req.totp, now_s) else {
                return Ok(Err("wrong user name, password or code"));
            };
            if !s.storage().accept_totp_step(op.id, step)? {
                return Ok(Err(
                    "this code was already used; wait for the next code of your authenticator app",
                ));
            }
            let (token, hash) = auth::new_token();
            let expires_at = s.now() + s.0.config.session_ttl;
            s.storage().create_session(&hash, op.id, s.now(), expires_at)?;
            s.storage().audit(op.id, "login", None, s.now())?;
            Ok(Ok(LoginResponse {
                token,
                expires_at,
                name: op.name,
                role: op.role,
            }))
        })
        .await?;
    match r {
        Ok(resp) => Ok(Json(resp)),
        Err(why) => {
            for (key, limit) in &keys {
                state.0.limiter.hit(key, *limit, Instant::now());
            }
            Err(ServerError::refused(ErrorCode::Unauthorized, why))
        }
    }
}

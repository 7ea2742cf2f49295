//! Authentication as an extractor: a handler that takes a [`Session`] argument runs only for a
//! logged-in operator of a care team. The token is the `Authorization: Bearer` header's, else
//! the console's session cookie (`console.rs`; unsafe requests made with the cookie passed its
//! CSRF guard before any handler runs). It is looked up by its SHA-256; the answer
//! for a missing, unknown, logged-out, idle (`Config::session_idle`) or expired token, or one
//! of a disabled operator, is 401; for an operator without a team 403.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ilot_wire::api::ErrorCode;

use crate::auth;
use crate::client::Client;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::storage::{AuditEvent, Operator};
use chrono::{DateTime, Utc};
use ilot_wire::PatientId;

/// A logged-in operator and the care team whose patients it may see.
#[derive(Debug, Clone)]
pub struct Session {
    pub op: Operator,
    pub team: i64,
    /// The SHA-256 of the session token (what logout deletes); never the token itself.
    pub(crate) token_hash: [u8; 32],
    /// Where the operator asks from (the peer, or the client a trusted proxy names).
    pub client: Client,
    /// The `exceptional_reason` query parameter, as given: a physician's reason to read a
    /// restricted record (`crate::record::guard`).
    pub(crate) exceptional_reason: Option<String>,
    /// A `GET`: only a read may be exceptional.
    pub(crate) read_only: bool,
    /// The request's path, for the audit record of an exceptional read.
    pub(crate) path: String,
}

impl Session {
    /// An audit record of this operator's act, with the client's address.
    pub fn event(&self, action: &str, at: DateTime<Utc>) -> AuditEvent {
        AuditEvent::new(action, at).by(self.op.id).from(self.client)
    }

    /// Writes [`Session::event`] about `patient`.
    pub fn audit(&self, s: &AppState, action: &str, patient: Option<PatientId>) -> Result<()> {
        let mut e = self.event(action, s.now());
        e.patient_id = patient;
        s.storage().record_audit(&e)
    }
}

impl std::ops::Deref for Session {
    type Target = Operator;
    fn deref(&self) -> &Operator {
        &self.op
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = crate::console::request_token(state, &parts.headers).ok_or_else(|| {
            ServerError::refused(
                ErrorCode::Unauthorized,
                "log in first (POST /v1/operator/login)",
            )
        })?;
        let token_hash = auth::token_hash(&token);
        let client = crate::client::current();
        let read_only = parts.method == axum::http::Method::GET;
        let path = parts.uri.path().to_string();
        // A malformed query is the handler's to refuse; here it only has no reason.
        let exceptional_reason =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
                .ok()
                .and_then(|q| {
                    q.0.into_iter()
                        .find(|(k, _)| k == crate::record::EXCEPTIONAL_REASON)
                        .map(|(_, v)| v)
                });
        state
            .blocking(move |s| {
                let now = s.now();
                let idle_since = now - s.0.config.session_idle;
                let op = s
                    .storage()
                    .session(&token_hash, now, idle_since)?
                    .ok_or_else(|| {
                        ServerError::refused(
                            ErrorCode::Unauthorized,
                            "the session ended (logged out, unused for too long, or expired) or is unknown; log in again",
                        )
                    })?;
                let team = s.storage().operator_team(op.id)?.ok_or_else(|| {
                    ServerError::refused(
                        ErrorCode::Forbidden,
                        "this operator belongs to no care team; ask an administrator to add it to one",
                    )
                })?;
                Ok(Session {
                    op,
                    team,
                    token_hash,
                    client,
                    exceptional_reason,
                    read_only,
                    path,
                })
            })
            .await
    }
}

//! Administration of operators on the database (what `ilot operator` runs): new password, new
//! TOTP secret, disable and enable, and the RPPS number its Pro Santé Connect login carries. Each ends every session of the operator, so that a stolen
//! token or a shoulder-surfed password stops working at once; a disabled operator cannot log in
//! (it answers like an unknown user name) and its tokens are refused.

use chrono::{DateTime, Utc};
use ilot_wire::api::ErrorCode;

use crate::error::{Result, ServerError};
use crate::storage::{OperatorState, Storage};
use crate::totp::TotpSecret;

fn find(s: &dyn Storage, username: &str) -> Result<OperatorState> {
    s.operator_state(username)?.ok_or_else(|| {
        ServerError::refused(
            ErrorCode::NotFound,
            format!(
                "no operator named {username:?}; create one with ilot operator create-operator"
            ),
        )
    })
}

/// Sets a new password (at least 12 characters) and ends the operator's sessions.
pub fn reset_password(s: &dyn Storage, username: &str, password: &str) -> Result<()> {
    let op = find(s, username)?;
    let hash = crate::auth::hash_password(password)?;
    s.set_password_hash(op.id, &hash)
}

/// Gives the operator a new TOTP secret (lost phone) and ends its sessions; the caller shows
/// the secret once.
pub fn reset_totp(s: &dyn Storage, username: &str) -> Result<TotpSecret> {
    let op = find(s, username)?;
    let secret = TotpSecret::generate();
    s.set_totp_secret(op.id, &secret)?;
    s.end_operator_sessions(op.id)?;
    Ok(secret)
}

/// Disables the operator and ends its sessions; `false` when it already was.
pub fn disable(s: &dyn Storage, username: &str, now: DateTime<Utc>) -> Result<bool> {
    let op = find(s, username)?;
    if op.disabled_at.is_some() {
        // Still make sure no session is left.
        s.end_operator_sessions(op.id)?;
        return Ok(false);
    }
    s.set_operator_disabled(op.id, Some(now))?;
    Ok(true)
}

/// Lets a disabled operator log in again; `false` when it was not disabled.
pub fn enable(s: &dyn Storage, username: &str) -> Result<bool> {
    let op = find(s, username)?;
    if op.disabled_at.is_none() {
        return Ok(false);
    }
    s.set_operator_disabled(op.id, None)?;
    Ok(true)
}

/// The RPPS number an administrator types: its 11 digits, or PSC's national id (`8` and the
/// 11 digits), kept as the 11 digits.
pub fn parse_rpps(given: &str) -> Result<String> {
    crate::psc::rpps_from_subject(given.trim()).ok_or_else(|| {
        ServerError::refused(
            ErrorCode::BadRequest,
            format!(
                "{given:?} is not an RPPS number: 11 digits (or the national id, 8 and the 11 digits)"
            ),
        )
    })
}

/// Links the operator's RPPS number, once, so that it can log in with Pro Santé Connect:
/// refused when the RPPS is already linked (to this operator or another) or the operator
/// already has one. Answers the RPPS as stored (11 digits).
pub fn link_rpps(
    s: &dyn Storage,
    username: &str,
    rpps: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let op = find(s, username)?;
    let rpps = parse_rpps(rpps)?;
    s.link_rpps(op.id, &rpps, now)?;
    Ok(rpps)
}

/// Removes the operator's RPPS link (linked to the wrong account, a card given back) and ends
/// every session of the operator, since a session opened through Pro Santé Connect may have
/// been opened by the holder of that RPPS. Answers the RPPS it held, `None` when it had none
/// (the sessions are ended all the same, so that running it again finishes a failed run).
pub fn unlink_rpps(s: &dyn Storage, username: &str) -> Result<Option<String>> {
    let op = find(s, username)?;
    let removed = s.unlink_rpps(op.id)?;
    s.end_operator_sessions(op.id)?;
    Ok(removed)
}

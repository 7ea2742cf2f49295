//! Re-enrolment in place (`POST /v1/enrol` with `replaces`): a phone the care team revoked is
//! enrolled again with a new code, for the same patient, keeping what it has not sent. The
//! request names the device it was and proves it holds that device's secret
//! (`ilot_wire::Replaces`); the server checks, before the code is looked at:
//!
//! 1. the replaced device exists and the proof opens with its key (else 401
//!    `authentication_failed`: a stranger cannot take over another device's entries);
//! 2. it is revoked (else 409 `device_still_enrolled`: a device the server still accepts
//!    needs no new identity);
//!
//! then, in the code's transaction (`Storage::redeem_code_replacing`), that the code is the
//! replaced device's patient's (else 409 `code_for_another_patient`, nothing created, the code
//! still usable). Every outcome is audited with the client's address.

use ilot_wire::api::ErrorCode;
use ilot_wire::{EnrolmentCode, PublicKey, Replaces};
use serde_json::json;

use crate::client::Client;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::storage::{AuditEvent, CodeRefusal};

/// Steps 1 and 2 above; a refusal is audited (`enrol-refused`) and nothing is written.
pub(crate) fn check(
    s: &AppState,
    r: &Replaces,
    code: &EnrolmentCode,
    new_key: &PublicKey,
    client: &Client,
) -> Result<()> {
    let now = s.now();
    let refuse = |reason: &str, e: ServerError| -> Result<()> {
        s.storage().record_audit(
            &AuditEvent::new("enrol-refused", now)
                .from(*client)
                .detail(json!({ "reason": reason, "replaces": r.device_id.to_string() })),
        )?;
        Err(e)
    };
    let Some((old, revoked)) = s.storage().device_any(r.device_id)? else {
        return refuse("replaced-unknown", unproven());
    };
    let proven = old.patient_id == r.patient_id
        && s.0
            .secret
            .agree(&old.public_key, old.patient_id, old.id)
            .map_err(|e| ServerError::from(&e))?
            .check_reenrol_proof(code, new_key, &r.proof)
            .is_ok();
    if !proven {
        return refuse("proof", unproven());
    }
    if !revoked {
        return refuse("still-enrolled", still_enrolled());
    }
    Ok(())
}

fn unproven() -> ServerError {
    ServerError::refused(
        ErrorCode::AuthenticationFailed,
        "this device could not prove it is the device it replaces; nothing was created; the code is still valid",
    )
}

fn still_enrolled() -> ServerError {
    ServerError::refused(
        ErrorCode::DeviceStillEnrolled,
        "this device is still enrolled and accepted by the server; it needs no new code; nothing was created",
    )
}

/// The answer to a refused redemption of either kind.
pub(crate) fn refusal(why: CodeRefusal) -> ServerError {
    match why {
        CodeRefusal::ReplacedUnknown => unproven(),
        CodeRefusal::Unknown => ServerError::refused(
            ErrorCode::EnrolmentCodeInvalid,
            "this enrolment code is not known; check it with the care team",
        ),
        CodeRefusal::Expired => ServerError::refused(
            ErrorCode::EnrolmentCodeExpired,
            "this enrolment code has expired (codes last 72 hours); ask the care team for a new one",
        ),
        CodeRefusal::Used => ServerError::refused(
            ErrorCode::EnrolmentCodeUsed,
            "this enrolment code was already used; ask the care team for a new one",
        ),
        CodeRefusal::OtherPatient => ServerError::refused(
            ErrorCode::CodeForAnotherPatient,
            "this code is for another patient than the one this device belongs to; nothing was created and the code is still valid; check the code with the care team",
        ),
        CodeRefusal::StillEnrolled => still_enrolled(),
    }
}

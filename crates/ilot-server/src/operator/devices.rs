//! A patient's devices and their revocation (the lost-phone procedure), and logout. Both device
//! routes are scoped to the operator's care team and audited; another team's device answers
//! exactly like a missing one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ilot_wire::DeviceId;
use ilot_wire::api::ErrorCode;

use super::{Session, read_patient};
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::storage::DeviceInfo;

/// `GET /v1/operator/patients/{id}/devices`: every device the patient enrolled, revoked ones
/// included, with when each last sent data.
pub async fn list(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Vec<DeviceInfo>>> {
    let v = read_patient(&state, op, &id, "list-devices", |s, row| {
        s.storage().patient_devices(row.id)
    })
    .await?;
    Ok(Json(v))
}

/// `POST /v1/operator/devices/{id}/revoke`: from now on the device's pushes and pulls are
/// refused (`unknown_device`, which the app shows as "ask your care team for a new code").
/// Revoking twice keeps the first time.
pub async fn revoke(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<DeviceInfo>> {
    let missing = || ServerError::refused(ErrorCode::NotFound, "no such device");
    let id: DeviceId = id.parse().map_err(|_| missing())?;
    let v = state
        .blocking(move |s| {
            let device = s.storage().device_info(id)?.ok_or_else(missing)?;
            // Another team's device answers exactly like a missing one and stays untouched.
            let p = super::in_team(s, device.patient_id, op.team).map_err(|_| missing())?;
            crate::record::guard(s, &p, &op)?;
            let now = s.now();
            let d = s.storage().revoke_device(id, now)?.ok_or_else(missing)?;
            op.audit(s, "revoke-device", Some(d.patient_id))?;
            Ok(d)
        })
        .await?;
    Ok(Json(v))
}

/// `POST /v1/operator/logout`: the session's token is refused from now on.
pub async fn logout(State(state): State<AppState>, op: Session) -> Result<StatusCode> {
    state
        .blocking(move |s| {
            s.storage().end_session(&op.token_hash)?;
            op.audit(s, "logout", None)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

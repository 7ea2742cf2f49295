//! "Marquer comme revu" and its undo: `POST` and `DELETE /v1/operator/patients/{id}/review`.
//! A mark records who looked at the patient's data and when; the triage shows the latest one
//! and filters on it ("not reviewed this week", "my patients"). Undo removes the caller's own
//! latest mark (kept in the database with the time it was undone); both are audited.

use axum::Json;
use axum::extract::{Path, State};
use ilot_wire::api::ErrorCode;

use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::{Session, existing, patient_id};
use crate::storage::ReviewRow;

/// `POST /v1/operator/patients/{id}/review`: marks the patient reviewed by the caller now.
pub async fn review(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<ReviewRow>> {
    let id = patient_id(&id)?;
    let row = state
        .blocking(move |s| {
            let p = existing(s, id, &op)?;
            let row = s.storage().add_review(p.id, op.op.id, s.now())?;
            op.audit(s, "review-patient", Some(p.id))?;
            Ok(row)
        })
        .await?;
    Ok(Json(row))
}

/// `DELETE /v1/operator/patients/{id}/review`: undoes the caller's latest mark of the patient
/// (404 when there is none: another operator's mark is theirs to undo).
pub async fn undo_review(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<ReviewRow>> {
    let id = patient_id(&id)?;
    let row = state
        .blocking(move |s| {
            let p = existing(s, id, &op)?;
            let row = s
                .storage()
                .undo_review(p.id, op.op.id, s.now())?
                .ok_or_else(|| {
                    ServerError::refused(
                        ErrorCode::NotFound,
                        "you have no review mark of this patient to undo",
                    )
                })?;
            op.audit(s, "undo-review", Some(p.id))?;
            Ok(row)
        })
        .await?;
    Ok(Json(row))
}

//! The patient's consent as the arrêté on telesurveillance describes it: consent covers the act
//! of telesurveillance *and* the processing of its data, is collected by a professional before
//! monitoring starts (or given by the patient in the app), and every decision is traced — a
//! refusal too. The history lives in storage (migration V10); here are the operator routes:
//!
//! - `GET /v1/operator/patients/{id}/consent`: the state the server holds and the history;
//! - `POST /v1/operator/patients/{id}/consent`: a physician or nurse records a decision
//!   collected in consultation (given, refused, withdrawn).
//!
//! A withdrawal or refusal stops data collection (`Storage::ingest` refuses entries from then)
//! and billing (`billing::consent_of` reads the same history) from its date.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, TimeDelta, Utc};
use ilot_wire::api::ErrorCode;
use ilot_wire::{CareRole, ConsentDecision};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::{Session, bad, existing, parse_json, patient_id, read_patient};
use crate::storage::{ConsentEvent, ConsentSource, NewConsent};

/// The version of the information notice the app shows today (`ui` catalogue
/// `consent.notice-*`; `src-tauri` `CONSENT_TEXT_VERSION`): the console offers it by default.
pub const NOTICE_VERSION: u32 = 2;

/// How far in the future a decision's time may be (clocks of the console's machine).
const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(5);

/// `GET …/consent`.
#[derive(Debug, Serialize)]
pub struct ConsentPage {
    /// The latest decision in time, `None` before any.
    pub current: Option<ConsentEvent>,
    /// Oldest first.
    pub history: Vec<ConsentEvent>,
    pub notice_version: u32,
}

pub async fn history(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<ConsentPage>> {
    let page = read_patient(&state, op, &id, "read-consent", |s, row| {
        let history = s.storage().consent_history(row.id)?;
        Ok(ConsentPage {
            current: crate::storage::latest(&history).cloned(),
            history,
            notice_version: NOTICE_VERSION,
        })
    })
    .await?;
    Ok(Json(page))
}

/// `POST …/consent`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    pub decision: ConsentDecision,
    /// The version of the information notice the patient was given.
    pub notice_version: u32,
    /// When the patient decided; now when absent.
    pub at: Option<DateTime<Utc>>,
}

/// Who may record a decision collected in consultation: the physicians and nurses who see the
/// patient. A new role added to `CareRole` must be decided here.
pub fn may_collect_consent(role: CareRole) -> bool {
    match role {
        CareRole::Physician | CareRole::Nurse => true,
    }
}

pub async fn record(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<ConsentEvent>> {
    if !may_collect_consent(op.role) {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only a physician or a nurse can record a patient's consent",
        ));
    }
    let req: RecordConsent = parse_json(&body)?;
    if req.notice_version == 0 || req.notice_version > NOTICE_VERSION {
        return Err(bad(format!(
            "notice_version must be a version of the information notice, 1 to {NOTICE_VERSION}"
        )));
    }
    let id = patient_id(&id)?;
    let e = state
        .blocking(move |s| {
            let now = s.now();
            existing(s, id, &op)?;
            // A decision collected on paper may be entered later: any past time is taken.
            let at = req.at.unwrap_or(now);
            if at > now + CLOCK_SLACK {
                return Err(bad("the decision's time is in the future"));
            }
            let c = NewConsent {
                decision: req.decision,
                at,
                notice_version: req.notice_version,
                by: ConsentSource::Operator(op.op.id),
            };
            let e = s.storage().record_consent(id, &c, now)?;
            let mut ev = op.event("record-consent", now);
            ev.patient_id = Some(id);
            ev.detail = Some(serde_json::json!({
                "decision": req.decision.as_str(),
                "notice_version": req.notice_version,
                "consent_id": e.id,
            }));
            s.storage().record_audit(&ev)?;
            Ok(e)
        })
        .await?;
    Ok(Json(e))
}

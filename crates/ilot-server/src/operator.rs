//! Operator endpoints (JSON): login, triage, a patient's data, metrics, alerts, observance,
//! prescription, messages and appointments. Every one needs a session token
//! (`Authorization: Bearer …`), and every read of patient data is written to the audit log
//! (who, what, when) before the data is returned.
//!
//! Every endpoint is scoped to the operator's care team: another team's patient, alert or
//! audit record answers exactly like a missing one (404, nothing changed), and lists show only
//! the team's patients. This module must never reach a patient without `existing`.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ilot_domain::Prescription;
use ilot_wire::api::ErrorCode;
use ilot_wire::{CareRole, EnrolmentCode, EnrolmentInvite, PatientId, ServerUrl};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod appointment;
pub mod devices;
mod list;
mod login;
pub mod report;
mod session;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::storage::{AuditEvent, NewPatient, Operator, PatientRow};
pub use appointment::{NewAppointment, appointment};
pub use devices::logout;
pub use list::{ClosedFilter, TriageRow, list_patients};
pub(crate) use list::{team_open_alerts, team_set};
pub(crate) use login::dummy_hash;
pub(crate) use login::open_session;
pub use login::{LoginRequest, LoginResponse, login};
pub use session::Session;

pub(crate) fn bad(msg: impl Into<String>) -> ServerError {
    ServerError::refused(ErrorCode::BadRequest, msg)
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "the request body is not what this endpoint takes: {e}"
        ))
    })
}

pub(crate) fn patient_id(id: &str) -> Result<PatientId> {
    id.parse()
        .map_err(|e: ilot_wire::WireError| ServerError::refused(ErrorCode::NotFound, e.to_string()))
}

/// The patient when it exists, belongs to the operator's team and is not restricted (or the
/// operator makes an exceptional read of it: `crate::record::guard`). Another team's patient
/// gets exactly the answer of a missing one, so that nobody learns which ids exist elsewhere.
pub(crate) fn existing(s: &AppState, id: PatientId, op: &Session) -> Result<PatientRow> {
    let row = in_team(s, id, op.team)?;
    crate::record::guard(s, &row, op)?;
    Ok(row)
}

/// The patient when it exists and belongs to `team`, restricted or not (the closure and
/// restriction routes, which must reach a restricted record).
pub(crate) fn in_team(s: &AppState, id: PatientId, team: i64) -> Result<PatientRow> {
    let missing = || ServerError::refused(ErrorCode::NotFound, "no such patient");
    if s.storage().patient_team(id)? != Some(team) {
        return Err(missing());
    }
    s.storage().patient(id)?.ok_or_else(missing)
}

/// Runs `f` for an operator after checking the patient exists and writing the audit record.
pub(crate) async fn read_patient<T: Send + 'static>(
    state: &AppState,
    op: Session,
    id: &str,
    action: &'static str,
    f: impl FnOnce(&AppState, PatientRow) -> Result<T> + Send + 'static,
) -> Result<T> {
    let id = patient_id(id)?;
    state
        .blocking(move |s| {
            let row = existing(s, id, &op)?;
            op.audit(s, action, Some(id))?;
            f(s, row)
        })
        .await
}

#[derive(Debug, Deserialize)]
pub struct CreatePatient {
    pub pseudonym: String,
    #[serde(default)]
    pub ins: Option<String>,
    #[serde(default)]
    pub tz: Option<Tz>,
    pub prescription: Prescription,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Enrolment {
    pub patient_id: PatientId,
    /// To type: `ABCDE-FGHJK`.
    pub code: String,
    /// To show as a QR code.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// Creates a patient in the care team of `by` with a prescription and returns a one-time
/// enrolment code. Usable without HTTP (the `ilot operator` command calls it on the database).
pub fn create_patient_with_code(
    s: &AppState,
    req: CreatePatient,
    by: &Operator,
) -> Result<Enrolment> {
    let team = s.storage().operator_team(by.id)?.ok_or_else(|| {
        ServerError::refused(
            ErrorCode::Forbidden,
            "this operator belongs to no care team; add it to one first",
        )
    })?;
    create_patient_in_team(s, req, by, team, "in-process")
}

/// As [`create_patient_with_code`], in the given care team; `client` is where the request came
/// from, for the audit log (a client address, or [`crate::audit::cli_client`]).
pub fn create_patient_in_team(
    s: &AppState,
    req: CreatePatient,
    by: &Operator,
    team: i64,
    client: &str,
) -> Result<Enrolment> {
    if by.role != CareRole::Physician {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only a physician can prescribe telesurveillance",
        ));
    }
    req.prescription
        .validate()
        .map_err(|e| bad(format!("invalid prescription: {e}")))?;
    if req.pseudonym.trim().is_empty() {
        return Err(bad("give the patient a pseudonym"));
    }
    let id = PatientId::random(&mut rand::rng());
    let now = s.now();
    let new = NewPatient {
        pseudonym: req.pseudonym,
        ins: req.ins,
        tz: req.tz.unwrap_or(chrono_tz::Europe::Paris),
        prescription: req.prescription,
    };
    s.storage().create_patient(&new, id, &by.member(), now)?;
    s.storage().set_patient_team(id, team)?;
    let e = new_enrolment(s, id)?;
    s.storage().record_audit(
        &AuditEvent::new("create-patient", now)
            .by(by.id)
            .patient(id)
            .from(client)
            .detail(json!({ "enrolment_code_expires_at": e.expires_at })),
    )?;
    Ok(e)
}

/// Who may give a patient an enrolment code. A code links a phone to the patient's record, so
/// it is a care act of the team: the physician (at inclusion, with the prescription) and the
/// nurses who set up and replace patients' phones in practice. A new role added to `CareRole`
/// (a secretary, an administrator) must be decided here before it compiles.
pub fn may_issue_codes(role: CareRole) -> bool {
    match role {
        CareRole::Physician | CareRole::Nurse => true,
    }
}

/// A new one-time code for the patient; the patient's pending codes stop working (a code
/// handed to the wrong person, or an older one still on paper, cannot enrol a phone).
fn new_enrolment(s: &AppState, id: PatientId) -> Result<Enrolment> {
    let code = EnrolmentCode::generate(&mut rand::rng());
    let now = s.now();
    s.storage().cancel_enrolment_codes(id, now)?;
    let expires_at = now + s.0.config.code_ttl;
    s.storage()
        .add_enrolment_code(&code.canonical(), id, expires_at)?;
    let server = ServerUrl::parse(&s.0.config.public_url)
        .map_err(|e| ServerError::Storage(format!("public URL: {e}")))?;
    let invite = EnrolmentInvite {
        server,
        code: code.clone(),
        fingerprint: s.server_public_key().fingerprint(),
        // The link carries whole seconds.
        expires_at: DateTime::from_timestamp(expires_at.timestamp(), 0),
    };
    Ok(Enrolment {
        patient_id: id,
        code: code.to_string(),
        link: invite.to_link(),
        expires_at,
    })
}

pub async fn create_patient(
    State(state): State<AppState>,
    op: Session,
    body: axum::body::Bytes,
) -> Result<Json<Enrolment>> {
    let req: CreatePatient = parse_json(&body)?;
    Ok(Json(
        state
            .blocking(move |s| {
                create_patient_in_team(s, req, &op.op, op.team, &op.client.to_string())
            })
            .await?,
    ))
}

pub async fn new_code(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Enrolment>> {
    if !may_issue_codes(op.role) {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only the care team's physicians and nurses can give enrolment codes",
        ));
    }
    Ok(Json(
        read_patient(&state, op, &id, "new-enrolment-code", |s, row| {
            crate::record::refuse_if_closed(s, row.id)?;
            new_enrolment(s, row.id)
        })
        .await?,
    ))
}

pub async fn patient(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let v = read_patient(&state, op, &id, "read-patient", |s, mut row| {
        // The qualified INS only (identitovigilance), as every export shows it.
        row.ins = crate::identity::exported_ins(s.storage(), row.id)?;
        let p = s.storage().prescription(row.id)?;
        let record = crate::record::view(s, &row)?;
        Ok(json!({ "patient": row, "prescription": p, "record": record }))
    })
    .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct Days {
    pub days: Option<u32>,
}

pub async fn metrics(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    Query(r): Query<Days>,
) -> Result<Json<Value>> {
    let days = r.days.unwrap_or(14).clamp(1, 366);
    let v = read_patient(&state, op, &id, "read-metrics", move |s, row| {
        Ok(serde_json::to_value(crate::rules::metrics(
            s.storage(),
            row.id,
            days,
            s.now(),
        )?)?)
    })
    .await?;
    Ok(Json(v))
}

pub async fn patient_alerts(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let v = read_patient(&state, op, &id, "read-alerts", |s, row| {
        Ok(serde_json::to_value(
            s.storage().alerts(Some(row.id), false)?,
        )?)
    })
    .await?;
    Ok(Json(v))
}

pub async fn all_alerts(State(state): State<AppState>, op: Session) -> Result<Json<Value>> {
    let v = state
        .blocking(move |s| {
            let alerts = team_open_alerts(s, &team_set(s, op.team)?)?;
            // Each patient with an alert listed sees this read in their access log.
            let mut shown: Vec<PatientId> = alerts.iter().map(|a| a.patient_id).collect();
            shown.sort_by_key(|p| p.to_string());
            shown.dedup();
            s.storage()
                .record_audit(&op.event("read-open-alerts", s.now()).shows(shown))?;
            Ok(serde_json::to_value(alerts)?)
        })
        .await?;
    Ok(Json(v))
}

pub async fn observance(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let v = read_patient(&state, op, &id, "read-observance", |s, row| {
        let o = crate::rules::observance(s.storage(), row.id, s.now())?;
        Ok(serde_json::to_value(o)?)
    })
    .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct SetPrescription {
    pub prescription: Prescription,
}

pub async fn set_prescription(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    if op.role != CareRole::Physician {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only a physician can change the prescription",
        ));
    }
    let req: SetPrescription = parse_json(&body)?;
    req.prescription
        .validate()
        .map_err(|e| bad(format!("invalid prescription: {e}")))?;
    let id = patient_id(&id)?;
    let v = state
        .blocking(move |s| {
            existing(s, id, &op)?;
            crate::record::refuse_if_closed(s, id)?;
            let mut p = req.prescription;
            // Each change is a new policy version, so every alert names the thresholds it used.
            if let Some(cur) = s.storage().prescription(id)? {
                p.policy.version = p.policy.version.max(cur.prescription.policy.version + 1);
            }
            let u = s
                .storage()
                .set_prescription(id, &p, &op.member(), s.now())?;
            op.audit(s, "set-prescription", Some(id))?;
            Ok(json!({ "version": u.version, "policy_version": u.prescription.policy.version }))
        })
        .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct NewMessage {
    pub text: String,
}

pub async fn message(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let req: NewMessage = parse_json(&body)?;
    if req.text.trim().is_empty() {
        return Err(bad("the message is empty"));
    }
    let id = patient_id(&id)?;
    let m = state
        .blocking(move |s| {
            existing(s, id, &op)?;
            crate::record::refuse_if_closed(s, id)?;
            let m = s
                .storage()
                .add_message(id, &op.member(), &req.text, s.now())?;
            op.audit(s, "send-message", Some(id))?;
            Ok(m)
        })
        .await?;
    Ok(Json(serde_json::to_value(m)?))
}

#[derive(Debug, Deserialize)]
pub struct AckRequest {
    pub note: Option<String>,
}

pub async fn ack_alert(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    // Parsed here rather than by axum so that a bad id gets our JSON error, not plain text.
    let id: i64 = id
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(format!("alert id {id:?} is not a positive number")))?;
    let req: AckRequest = if body.is_empty() {
        AckRequest { note: None }
    } else {
        parse_json(&body)?
    };
    let row = state
        .blocking(move |s| {
            let missing = || ServerError::refused(ErrorCode::NotFound, "no such alert");
            // Another team's alert answers exactly like a missing one, and is left untouched.
            let alert = s.storage().alert(id)?.ok_or_else(missing)?;
            let p = in_team(s, alert.patient_id, op.team).map_err(|_| missing())?;
            crate::record::guard(s, &p, &op)?;
            let row = s
                .storage()
                .acknowledge_alert(id, &op.member(), req.note.as_deref(), s.now())?
                .ok_or_else(missing)?;
            op.audit(s, "acknowledge-alert", Some(row.patient_id))?;
            Ok(row)
        })
        .await?;
    Ok(Json(serde_json::to_value(row)?))
}

pub async fn audit(State(state): State<AppState>, op: Session) -> Result<Json<Value>> {
    if op.role != CareRole::Physician {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only a physician can read the audit log",
        ));
    }
    let v = state
        .blocking(move |s| {
            let log = s.storage().team_audit_log(op.team, 1000)?;
            op.audit(s, "read-audit-log", None)?;
            Ok(serde_json::to_value(log)?)
        })
        .await?;
    Ok(Json(v))
}

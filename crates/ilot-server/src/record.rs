//! The record's life, for the care team: the end of telesurveillance (closure) and the
//! restriction that answers a patient's erasure request, and the guard every route to a
//! patient goes through (`operator::existing`).
//!
//! - **Closure** (`POST /v1/operator/patients/{id}/closure`, physician): the last day of
//!   monitoring and why. From the end of that day (patient's zone) the devices' batches are
//!   refused (`monitoring_ended`, as a consent withdrawal is), no billing period starts
//!   (`billing::patient_billing` ends the prescription there), the triage hides the patient
//!   unless asked for closed records, no new care act is taken (prescription, message,
//!   appointment, enrolment code: `refuse_if_closed`), and the end is kept as the last care the
//!   20-year retention counts from (`crate::retention`). Reads stay possible.
//! - **Reopening** (`POST /v1/operator/patients/{id}/reopening`, physician): a telesurveillance
//!   ended by mistake is opened again, with why (at most [`MAX_REOPEN_REASON`] characters,
//!   audited `reopen-monitoring`). Devices' batches are accepted again from then, the retention
//!   clock (last care) is cleared, and the closure is kept as a
//!   [`crate::storage::MonitoringGap`]: from the end of its last day to the reopening nothing
//!   was monitored, so no 30-day period holding any of that time is billable
//!   (`billing::patient_billing`, reason `not-monitored`).
//! - **History** ([`RecordView`]): the patient page reads the status with the record's past
//!   interruptions (each closure undone by a reopening: the days not monitored, who ended it and
//!   why, who reopened it and why, by name and role), oldest first; closure, reopening and
//!   restriction answer the same.
//! - **Restriction** (`PUT /v1/operator/patients/{id}/restriction`, physician): the data is
//!   kept for its retention (the CNIL admits that lawfully kept health data is not erased
//!   before it) but every ordinary read or act answers 451 `restricted` and lists leave the
//!   patient out. A physician may read it with `exceptional_reason=…` on a `GET`; each such
//!   read is written to the audit log with its reason and path.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Days, NaiveDate, Utc};
use ilot_wire::api::ErrorCode;
use ilot_wire::{CareRole, CareTeamMember, PatientId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::{Session, bad, existing, in_team, parse_json, patient_id};
use crate::storage::{Closure, PatientRow, RecordStatus, Reopening, Restriction};

/// The query parameter of an exceptional read.
pub const EXCEPTIONAL_REASON: &str = "exceptional_reason";
/// The longest reason kept (closure, restriction, exceptional read), in characters.
pub const MAX_REASON: usize = 500;
/// The longest reason for a reopening, in characters.
pub const MAX_REOPEN_REASON: usize = 200;

/// A reason as the audit log keeps it: trimmed, not empty, at most [`MAX_REASON`] characters.
pub fn reason(what: &str, text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(bad(format!("give the reason for {what}")));
    }
    let n = t.chars().count();
    if n > MAX_REASON {
        return Err(bad(format!(
            "the reason for {what} is {n} characters long; at most {MAX_REASON}"
        )));
    }
    Ok(t.to_string())
}

/// A past interruption of the telesurveillance (a closure undone by a reopening), as the care
/// team reads it: the days not monitored, who ended it and why, who reopened it and why.
/// Operators by name and role (`null` for one the server no longer knows), never by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interruption {
    /// The closure's last day of monitoring (patient's zone).
    pub last_day: NaiveDate,
    /// The day after `last_day`: the first day not monitored.
    pub first_day_off: NaiveDate,
    /// The end of `last_day`: the first instant not monitored.
    pub from: DateTime<Utc>,
    /// The reopening: monitored again from then. Never before `from`, and equal to it when the
    /// record was reopened before its last day ended (no time went unmonitored).
    pub until: DateTime<Utc>,
    /// The day of `until` in the patient's zone.
    pub reopened_on: NaiveDate,
    pub closure_reason: String,
    pub closed_by: Option<CareTeamMember>,
    /// When the closure was recorded.
    pub closure_recorded_at: DateTime<Utc>,
    pub reopen_reason: String,
    pub reopened_by: Option<CareTeamMember>,
}

/// The record as the patient page reads it (`record` of `GET /v1/operator/patients/{id}`, and
/// the answer of closure, reopening and restriction): its status and its past interruptions,
/// **oldest first**.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    #[serde(flatten)]
    pub status: RecordStatus,
    pub interruptions: Vec<Interruption>,
}

/// `row`'s [`RecordView`].
pub(crate) fn view(s: &AppState, row: &PatientRow) -> Result<RecordView> {
    let status = s.storage().record_status(row.id)?;
    let interruptions = s
        .storage()
        .monitoring_history(row.id)?
        .into_iter()
        .map(|n| {
            let g = n.gap;
            Ok(Interruption {
                first_day_off: g.last_day.succ_opt().ok_or_else(|| {
                    ServerError::Storage(format!("closure day {} out of range", g.last_day))
                })?,
                last_day: g.last_day,
                from: g.from,
                until: g.until,
                reopened_on: g.until.with_timezone(&row.tz).date_naive(),
                closure_reason: g.closure_reason,
                closed_by: n.closed_by,
                closure_recorded_at: g.closure_recorded_at,
                reopen_reason: g.reopen_reason,
                reopened_by: n.reopened_by,
            })
        })
        .collect::<Result<_>>()?;
    Ok(RecordView {
        status,
        interruptions,
    })
}

fn restricted(r: &Restriction) -> ServerError {
    ServerError::refused(
        ErrorCode::Restricted,
        format!(
            "this patient's record is restricted since {} (erasure request): it is kept but not read; a physician may read it with ?{EXCEPTIONAL_REASON}=… (the read and its reason are audited)",
            r.at.date_naive()
        ),
    )
}

/// Lets `op` reach `row` (already checked to be in its team): a restricted record only for a
/// physician's `GET` with a valid `exceptional_reason`, which is audited here.
pub(crate) fn guard(s: &AppState, row: &PatientRow, op: &Session) -> Result<()> {
    // A reason given on a read is checked whatever the record's state: an empty or overlong one
    // is refused (400) rather than silently ignored on a record that is not restricted.
    if let Some(given) = op.exceptional_reason.as_deref().filter(|_| op.read_only) {
        reason("this exceptional read", given)?;
    }
    let status = s.storage().record_status(row.id)?;
    let Some(r) = &status.restriction else {
        return Ok(());
    };
    let Some(given) = op.exceptional_reason.as_deref().filter(|_| op.read_only) else {
        return Err(restricted(r));
    };
    if op.role != CareRole::Physician {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only a physician may read a restricted record",
        ));
    }
    let why = reason("this exceptional read", given)?;
    s.storage().record_audit(
        &op.event("exceptional-read", s.now())
            .patient(row.id)
            .detail(json!({ "reason": why, "path": op.path })),
    )
}

/// Refuses a new care act on a closed record.
pub(crate) fn refuse_if_closed(s: &AppState, id: PatientId) -> Result<()> {
    match s.storage().record_status(id)?.closure {
        Some(c) => Err(ServerError::refused(
            ErrorCode::MonitoringEnded,
            format!(
                "this patient's telesurveillance ended on {}: the record takes no new care act",
                c.last_day
            ),
        )),
        None => Ok(()),
    }
}

fn physician_only(op: &Session, what: &str) -> Result<()> {
    if op.role == CareRole::Physician {
        Ok(())
    } else {
        Err(ServerError::refused(
            ErrorCode::Forbidden,
            format!("only a physician can {what}"),
        ))
    }
}

#[derive(Debug, Deserialize)]
pub struct CloseRequest {
    /// The last day of monitoring, in the patient's time zone.
    pub last_day: NaiveDate,
    pub reason: String,
}

/// `POST /v1/operator/patients/{id}/closure`.
pub async fn close(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RecordView>> {
    physician_only(&op, "end a patient's telesurveillance")?;
    let req: CloseRequest = parse_json(&body)?;
    let why = reason("ending the telesurveillance", &req.reason)?;
    let id = patient_id(&id)?;
    let v = state
        .blocking(move |s| {
            let row = in_team(s, id, op.team)?;
            let now = s.now();
            let today = now.with_timezone(&row.tz).date_naive();
            let created = row.created_at.with_timezone(&row.tz).date_naive();
            if req.last_day > today {
                return Err(bad(format!(
                    "the last day of monitoring ({}) is after today ({today}); record the end on that day",
                    req.last_day
                )));
            }
            if req.last_day < created {
                return Err(bad(format!(
                    "the last day of monitoring ({}) is before the patient's inclusion ({created})",
                    req.last_day
                )));
            }
            let next = req
                .last_day
                .checked_add_days(Days::new(1))
                .ok_or_else(|| bad("the last day of monitoring is out of range"))?;
            let ends_at = ilot_rules::observance::local_midnight(row.tz, next);
            let closure = Closure {
                last_day: req.last_day,
                ends_at,
                reason: why.clone(),
                by: op.op.id,
                recorded_at: now,
                last_care_at: ends_at,
            };
            if !s.storage().close_monitoring(id, &closure)? {
                return Err(refuse_if_closed(s, id).err().unwrap_or_else(|| {
                    ServerError::Storage("the closure was not recorded".into())
                }));
            }
            s.storage().record_audit(
                &op.event("close-monitoring", now)
                    .patient(id)
                    .detail(json!({ "last_day": req.last_day, "reason": why })),
            )?;
            view(s, &row)
        })
        .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    pub reason: String,
}

/// `POST /v1/operator/patients/{id}/reopening`.
pub async fn reopen(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RecordView>> {
    physician_only(&op, "reopen a patient's telesurveillance")?;
    let req: ReopenRequest = parse_json(&body)?;
    let why = reason("reopening the telesurveillance", &req.reason)?;
    let n = why.chars().count();
    if n > MAX_REOPEN_REASON {
        return Err(bad(format!(
            "the reason for reopening the telesurveillance is {n} characters long; at most {MAX_REOPEN_REASON}"
        )));
    }
    let id = patient_id(&id)?;
    let v = state
        .blocking(move |s| {
            let row = existing(s, id, &op)?;
            let now = s.now();
            let r = Reopening {
                at: now,
                by: op.op.id,
                reason: why.clone(),
            };
            let Some(gap) = s.storage().reopen_monitoring(id, &r)? else {
                return Err(bad(
                    "this patient's telesurveillance has not ended: there is nothing to reopen",
                ));
            };
            s.storage().record_audit(
                &op.event("reopen-monitoring", now)
                    .patient(id)
                    .detail(json!({ "closed_on": gap.last_day, "reason": why })),
            )?;
            view(s, &row)
        })
        .await?;
    Ok(Json(v))
}

pub fn reopen_body() -> serde_json::Value {
    json!({
        "type": "object", "required": ["reason"], "additionalProperties": false,
        "properties": {
            "reason": { "type": "string", "minLength": 1, "maxLength": MAX_REOPEN_REASON }
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct RestrictionRequest {
    /// `true` records the restriction, `false` lifts it (the patient takes the request back).
    pub restricted: bool,
    pub reason: String,
}

/// `PUT /v1/operator/patients/{id}/restriction`.
pub async fn restrict(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RecordView>> {
    physician_only(&op, "record or lift a restriction")?;
    let req: RestrictionRequest = parse_json(&body)?;
    let why = reason("the restriction", &req.reason)?;
    let id = patient_id(&id)?;
    let v = state
        .blocking(move |s| {
            let row = in_team(s, id, op.team)?;
            let now = s.now();
            let current = s.storage().record_status(id)?;
            if current.is_restricted() == req.restricted {
                return Err(bad(if req.restricted {
                    "this patient's record is already restricted"
                } else {
                    "this patient's record is not restricted"
                }));
            }
            let r = Restriction {
                at: now,
                by: op.op.id,
                reason: why.clone(),
            };
            s.storage()
                .set_restriction(id, req.restricted.then_some(&r))?;
            let action = if req.restricted {
                "restrict-record"
            } else {
                "lift-restriction"
            };
            s.storage().record_audit(
                &op.event(action, now)
                    .patient(id)
                    .detail(json!({ "reason": why })),
            )?;
            view(s, &row)
        })
        .await?;
    Ok(Json(v))
}

/// The OpenAPI schema of [`RecordView`] (named `RecordStatus` in the document).
pub fn schema() -> serde_json::Value {
    let ts = json!({ "type": "string", "format": "date-time" });
    let day = json!({ "type": "string", "format": "date" });
    let member = json!({
        "type": ["object", "null"], "required": ["name", "role"],
        "properties": {
            "name": { "type": "string" },
            "role": { "enum": ["physician", "nurse"] }
        }
    });
    let interruption = json!({
        "type": "object",
        "required": ["last_day", "first_day_off", "from", "until", "reopened_on", "closure_reason",
            "closed_by", "closure_recorded_at", "reopen_reason", "reopened_by"],
        "properties": {
            "last_day": day, "first_day_off": day, "from": ts, "until": ts, "reopened_on": day,
            "closure_reason": { "type": "string" }, "closed_by": member,
            "closure_recorded_at": ts, "reopen_reason": { "type": "string" },
            "reopened_by": member
        }
    });
    json!({
        "type": "object", "required": ["closure", "restriction", "interruptions"],
        "properties": {
            "interruptions": {
                "description": "The past interruptions (closures undone by a reopening), oldest first",
                "type": "array", "items": interruption
            },
            "closure": { "oneOf": [{ "type": "null" }, {
                "type": "object",
                "required": ["last_day", "ends_at", "reason", "by", "recorded_at", "last_care_at"],
                "properties": {
                    "last_day": { "type": "string", "format": "date" },
                    "ends_at": ts, "reason": { "type": "string" }, "by": { "type": "integer" },
                    "recorded_at": ts, "last_care_at": ts
                }
            }] },
            "restriction": { "oneOf": [{ "type": "null" }, {
                "type": "object", "required": ["at", "by", "reason"],
                "properties": { "at": ts, "by": { "type": "integer" }, "reason": { "type": "string" } }
            }] }
        }
    })
}

/// The body schemas of the two routes.
pub fn close_body() -> serde_json::Value {
    json!({
        "type": "object", "required": ["last_day", "reason"],
        "properties": {
            "last_day": { "type": "string", "format": "date" },
            "reason": { "type": "string", "minLength": 1, "maxLength": MAX_REASON }
        }
    })
}

pub fn restriction_body() -> serde_json::Value {
    json!({
        "type": "object", "required": ["restricted", "reason"],
        "properties": {
            "restricted": { "type": "boolean" },
            "reason": { "type": "string", "minLength": 1, "maxLength": MAX_REASON }
        }
    })
}

/// The prescription as billing and observance read it: a closed record's ends on its last day
/// of monitoring, so that no period starts after it (the one it ends in is cut short, as by the
/// prescription's own end).
pub fn in_force(
    mut p: ilot_domain::Prescription,
    status: &RecordStatus,
) -> ilot_domain::Prescription {
    if let Some(c) = &status.closure {
        p.end = p.end.min(c.last_day);
    }
    p
}

/// Statuses (closed or restricted) of every patient that has one, by id.
pub fn statuses(s: &AppState) -> Result<std::collections::HashMap<PatientId, RecordStatus>> {
    Ok(s.storage().record_statuses()?.into_iter().collect())
}

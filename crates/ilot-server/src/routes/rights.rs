//! The rows of the route table for the patient's rights over the record: the end of
//! telesurveillance and its reopening, the restriction of an erasure request (`crate::record`), and the consent
//! history (`crate::consent`). Part of the one table: `routes()` appends them.

use serde_json::{Value, json};

use super::{Access, Body, Route, r};
use crate::{consent, record};

fn consent_event_schema() -> Value {
    let member = json!({
        "type": ["object", "null"], "required": ["name", "role"],
        "properties": {
            "name": { "type": "string" },
            "role": { "enum": ["physician", "nurse"] }
        }
    });
    json!({
        "type": "object",
        "required": ["id", "decision", "at", "notice_version", "channel", "collected_by", "operator_id", "device_id", "recorded_at"],
        "properties": {
            "id": { "type": "integer" },
            "decision": { "enum": ["given", "refused", "withdrawn"] },
            "at": { "type": "string", "format": "date-time" },
            "notice_version": { "type": ["integer", "null"] },
            "channel": { "enum": ["app", "consultation"] },
            "collected_by": member,
            "operator_id": { "type": ["integer", "null"] },
            "device_id": { "type": ["string", "null"] },
            "recorded_at": { "type": "string", "format": "date-time" }
        }
    })
}

fn consent_page_schema() -> Value {
    let mut current = consent_event_schema();
    current["type"] = json!(["object", "null"]);
    json!({
        "type": "object", "required": ["current", "history", "notice_version"],
        "properties": {
            "current": current,
            "history": { "type": "array", "items": consent_event_schema() },
            "notice_version": { "type": "integer" }
        }
    })
}

pub(super) fn rows() -> Vec<Route> {
    use Access::*;
    use Body::Json;
    vec![
        // The record's life (`record.rs`): both reach a restricted record.
        Route::new(
            "post",
            "/v1/operator/patients/{id}/closure",
            Session,
            "End the patient's telesurveillance (physician): `last_day` (patient's zone, not after today nor before inclusion) and why; from the end of that day devices are refused (monitoring_ended), no billing period starts, no new care act is taken and the triage hides it; 403 when already closed",
            Json(r("RecordStatus")),
            record::close,
        )
        .body(Json(record::close_body())),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/reopening",
            Session,
            "Reopen a telesurveillance ended by mistake (physician; a nurse gets 403), with why (1 to 200 characters, audited `reopen-monitoring`): devices' batches are accepted again, the retention clock is cleared, and the time from the end of the closure's last day to now is kept as not monitored (no 30-day period holding any of it is billable: `not-monitored`); 400 when the telesurveillance has not ended or the reason is missing or too long; 451 on a restricted record",
            Json(r("RecordStatus")),
            record::reopen,
        )
        .body(Json(record::reopen_body())),
        Route::new(
            "put",
            "/v1/operator/patients/{id}/restriction",
            Session,
            "Record (`restricted: true`) or lift a patient's erasure request as a restriction (physician): the data is kept for its retention but every other route answers 451 and lists leave the patient out; a physician reads it with `exceptional_reason` (audited); 400 when already in that state",
            Json(r("RecordStatus")),
            record::restrict,
        )
        .body(Json(record::restriction_body())),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/consent",
            Session,
            "The patient's consent to telesurveillance (the act and the processing of its data): the latest decision and the whole history, oldest first (given, refused, withdrawn; when; notice version; in the app or collected in consultation by whom)",
            Json(consent_page_schema()),
            consent::history,
        ),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/consent",
            Session,
            "Record a decision collected in consultation (physician or nurse): given, refused or withdrawn, with the notice version given to the patient; a withdrawal or refusal stops data collection and billing from its time",
            Json(consent_event_schema()),
            consent::record,
        )
        .body(Json(json!({
            "type": "object", "required": ["decision", "notice_version"],
            "additionalProperties": false,
            "properties": {
                "decision": { "enum": ["given", "refused", "withdrawn"] },
                "notice_version": { "type": "integer", "minimum": 1, "maximum": crate::consent::NOTICE_VERSION },
                "at": { "type": "string", "format": "date-time" }
            }
        }))),
    ]
}

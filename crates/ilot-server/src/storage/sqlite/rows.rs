//! Row conversions and transaction helpers of the SQLite backend: times as milliseconds, ids as
//! hex text, and the few writes shared by several storage methods (feed, prescription, acks).

use chrono::{DateTime, Utc};
use ilot_domain::Prescription;
use ilot_wire::{BatchDigest, CareRole, CareTeamMember, PatientId, PrescriptionUpdate, WireOp};
use rusqlite::{OptionalExtension, Transaction, params};

use super::super::{AlertRow, FeedItem, PatientRow, StoredAck};
use crate::error::{Result, ServerError};

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(super) fn bad(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Storage(format!("stored {what} is invalid: {e}"))
}

pub(super) fn role_name(r: CareRole) -> &'static str {
    match r {
        CareRole::Physician => "physician",
        CareRole::Nurse => "nurse",
    }
}

pub(super) fn role_of(s: &str) -> Result<CareRole> {
    match s {
        "physician" => Ok(CareRole::Physician),
        "nurse" => Ok(CareRole::Nurse),
        o => Err(bad("role", o)),
    }
}

pub(super) fn push_feed(
    tx: &Transaction<'_>,
    patient: PatientId,
    item: &FeedItem,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO feed (patient_id, item, created_ms) VALUES (?1, ?2, ?3)",
        params![patient.to_string(), serde_json::to_string(item)?, ms(now)],
    )?;
    Ok(())
}

pub(super) fn read_patient(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawPatient> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

pub(super) type RawPatient = (
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<bool>,
    Option<i64>,
);

pub(super) fn patient_row(r: RawPatient) -> Result<PatientRow> {
    Ok(PatientRow {
        id: r.0.parse().map_err(|e| bad("patient id", e))?,
        pseudonym: r.1,
        ins: r.2,
        tz: r.3.parse().map_err(|e| bad("time zone", e))?,
        created_at: utc(r.4),
        enrolled_at: r.5.map(utc),
        last_data_at: r.6.map(utc),
        consent_granted: r.7,
        consent_at: r.8.map(utc),
    })
}

pub(super) const PATIENT_SELECT: &str = "SELECT id, pseudonym, ins, tz, created_ms, enrolled_ms, last_data_ms, consent_granted, consent_ms FROM patients";
pub(super) const ALERT_SELECT: &str = "SELECT id, patient_id, key, kind, severity, severity_rank, started_ms, ended_ms, detail, ack_ms, ack_by, note FROM alerts";

pub(super) type RawAlert = (
    i64,
    String,
    String,
    String,
    String,
    u8,
    i64,
    Option<i64>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

pub(super) fn read_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawAlert> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

pub(super) fn alert_row(r: RawAlert) -> Result<AlertRow> {
    Ok(AlertRow {
        id: r.0,
        patient_id: r.1.parse().map_err(|e| bad("patient id", e))?,
        key: r.2,
        kind: r.3,
        severity: r.4,
        severity_rank: r.5,
        started_at: utc(r.6),
        ended_at: r.7.map(utc),
        detail: serde_json::from_str(&r.8)?,
        acknowledged_at: r.9.map(utc),
        acknowledged_by: r.10,
        note: r.11,
    })
}

pub(super) type RawDevice = (String, String, String, Option<String>, i64, Option<i64>);

pub(super) fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDevice> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(super) fn op_code(op: WireOp) -> bool {
    op == WireOp::Delete
}

pub(super) fn ack_of(tx: &Transaction<'_>, device: &str, seq: i64) -> Result<Option<StoredAck>> {
    let raw: Option<(Vec<u8>, u32, u32, i64)> = tx
        .query_row(
            "SELECT digest, stored, duplicates, received_ms FROM batches WHERE device_id = ?1 AND seq = ?2",
            params![device, seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    raw.map(|(d, stored, duplicates, received)| {
        let d: [u8; 32] = d
            .as_slice()
            .try_into()
            .map_err(|_| bad("batch digest", "length"))?;
        Ok(StoredAck {
            digest: BatchDigest::from_bytes(d),
            stored,
            duplicates,
            received_at: utc(received),
        })
    })
    .transpose()
}

pub(super) fn insert_prescription(
    tx: &Transaction<'_>,
    patient: PatientId,
    p: &Prescription,
    by: &CareTeamMember,
    now: DateTime<Utc>,
) -> Result<PrescriptionUpdate> {
    let version: u32 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM prescriptions WHERE patient_id = ?1",
        [patient.to_string()],
        |r| r.get(0),
    )?;
    let u = PrescriptionUpdate {
        version,
        prescription: p.clone(),
        changed_at: now,
        changed_by: by.clone(),
    };
    tx.execute(
        "INSERT INTO prescriptions (patient_id, version, json) VALUES (?1, ?2, ?3)",
        params![patient.to_string(), version, serde_json::to_string(&u)?],
    )?;
    push_feed(tx, patient, &FeedItem::Prescription(u.clone()), now)?;
    Ok(u)
}

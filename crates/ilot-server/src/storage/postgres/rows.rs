//! Row conversions and transaction helpers of the PostgreSQL backend: ids as raw bytes, times
//! kept to the millisecond (as the SQLite backend, so both answer the same), and the writes
//! shared by several storage methods (feed, prescription, acks).

use chrono::{DateTime, Utc};
use ilot_domain::Prescription;
use ilot_wire::{BatchDigest, CareRole, CareTeamMember, DeviceId, PatientId, PrescriptionUpdate};
use r2d2_postgres::postgres::{Row, Transaction};

use super::super::{AlertRow, FeedItem, Operator, PatientRow, StoredAck};
use crate::error::{Result, ServerError};

/// Times are stored to the millisecond, like the SQLite backend.
pub(super) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// A query bound inside PostgreSQL's timestamptz range (4713 BC to 294276 AD): callers ask for
/// "everything" with chrono's extremes, which PostgreSQL cannot represent. No stored time lies
/// outside, so the answer is unchanged.
pub(super) fn bound(t: DateTime<Utc>) -> DateTime<Utc> {
    let lo = chrono::NaiveDate::from_ymd_opt(-4000, 1, 1)
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    let hi = chrono::NaiveDate::from_ymd_opt(200_000, 1, 1)
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    match (lo, hi) {
        (Some(lo), Some(hi)) => ts(t.clamp(lo, hi)),
        _ => ts(t),
    }
}

pub(super) fn bad(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Storage(format!("stored {what} is invalid: {e}"))
}

pub(super) fn patient_id(b: &[u8]) -> Result<PatientId> {
    let a: [u8; 16] = b.try_into().map_err(|_| bad("patient id", "length"))?;
    Ok(PatientId::from_bytes(a))
}

pub(super) fn device_id(b: &[u8]) -> Result<DeviceId> {
    let a: [u8; 16] = b.try_into().map_err(|_| bad("device id", "length"))?;
    Ok(DeviceId::from_bytes(a))
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

pub(super) const OPERATOR_COLUMNS: &str = "o.id, o.username, o.name, o.role, o.password_hash";

pub(super) fn operator_row(r: &Row) -> Result<Operator> {
    Ok(Operator {
        id: r.get(0),
        username: r.get(1),
        name: r.get(2),
        role: role_of(r.get(3))?,
        password_hash: r.get(4),
    })
}

pub(super) const PATIENT_SELECT: &str = "SELECT id, pseudonym, ins, tz, created_at, enrolled_at, last_data_at, consent_granted, consent_at FROM patients";

pub(super) fn patient_row(r: &Row) -> Result<PatientRow> {
    let tz: String = r.get(3);
    Ok(PatientRow {
        id: patient_id(r.get(0))?,
        pseudonym: r.get(1),
        ins: r.get(2),
        tz: tz.parse().map_err(|e| bad("time zone", e))?,
        created_at: r.get(4),
        enrolled_at: r.get(5),
        last_data_at: r.get(6),
        consent_granted: r.get(7),
        consent_at: r.get(8),
    })
}

pub(super) const ALERT_SELECT: &str = "SELECT id, patient_id, key, kind, severity, severity_rank, started_at, ended_at, detail, ack_at, ack_by, note FROM alerts";

pub(super) fn alert_row(r: &Row) -> Result<AlertRow> {
    let rank: i16 = r.get(5);
    let detail: String = r.get(8);
    Ok(AlertRow {
        id: r.get(0),
        patient_id: patient_id(r.get(1))?,
        key: r.get(2),
        kind: r.get(3),
        severity: r.get(4),
        severity_rank: u8::try_from(rank).map_err(|e| bad("severity rank", e))?,
        started_at: r.get(6),
        ended_at: r.get(7),
        detail: serde_json::from_str(&detail)?,
        acknowledged_at: r.get(9),
        acknowledged_by: r.get(10),
        note: r.get(11),
    })
}

/// Locks the patient's row for the rest of the transaction. Every writer of a patient's feed
/// or prescriptions takes it first, so their cursors and versions commit in order.
pub(super) fn lock_patient(tx: &mut Transaction<'_>, patient: PatientId) -> Result<()> {
    tx.query_opt(
        "SELECT 1 FROM patients WHERE id = $1 FOR UPDATE",
        &[&patient.as_bytes().as_slice()],
    )?;
    Ok(())
}

/// A new feed cursor for `patient` (whose row the caller locked).
pub(super) fn next_cursor(tx: &mut Transaction<'_>) -> Result<i64> {
    Ok(tx
        .query_one(
            "SELECT nextval(pg_get_serial_sequence('feed', 'cursor'))",
            &[],
        )?
        .get(0))
}

pub(super) fn push_feed(
    tx: &mut Transaction<'_>,
    patient: PatientId,
    cursor: Option<i64>,
    item: &FeedItem,
    now: DateTime<Utc>,
) -> Result<()> {
    lock_patient(tx, patient)?;
    let cursor = match cursor {
        Some(c) => c,
        None => next_cursor(tx)?,
    };
    tx.execute(
        "INSERT INTO feed (cursor, patient_id, item, created_at) VALUES ($1, $2, $3, $4)",
        &[
            &cursor,
            &patient.as_bytes().as_slice(),
            &serde_json::to_string(item)?,
            &ts(now),
        ],
    )?;
    Ok(())
}

pub(super) fn ack_of(
    tx: &mut Transaction<'_>,
    device: &[u8],
    seq: i64,
) -> Result<Option<StoredAck>> {
    let row = tx.query_opt(
        "SELECT digest, stored, duplicates, received_at FROM batches WHERE device_id = $1 AND seq = $2",
        &[&device, &seq],
    )?;
    row.map(|r| {
        let d: &[u8] = r.get(0);
        let d: [u8; 32] = d.try_into().map_err(|_| bad("batch digest", "length"))?;
        let stored: i32 = r.get(1);
        let duplicates: i32 = r.get(2);
        Ok(StoredAck {
            digest: BatchDigest::from_bytes(d),
            stored: u32::try_from(stored).map_err(|e| bad("stored count", e))?,
            duplicates: u32::try_from(duplicates).map_err(|e| bad("duplicate count", e))?,
            received_at: r.get(3),
        })
    })
    .transpose()
}

pub(super) fn insert_prescription(
    tx: &mut Transaction<'_>,
    patient: PatientId,
    p: &Prescription,
    by: &CareTeamMember,
    now: DateTime<Utc>,
) -> Result<PrescriptionUpdate> {
    lock_patient(tx, patient)?;
    let pid = patient.as_bytes().as_slice();
    let version: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM prescriptions WHERE patient_id = $1",
            &[&pid],
        )?
        .get(0);
    let u = PrescriptionUpdate {
        version: u32::try_from(version).map_err(|e| bad("prescription version", e))?,
        prescription: p.clone(),
        changed_at: now,
        changed_by: by.clone(),
    };
    tx.execute(
        "INSERT INTO prescriptions (patient_id, version, body) VALUES ($1, $2, $3)",
        &[&pid, &version, &serde_json::to_string(&u)?],
    )?;
    push_feed(tx, patient, None, &FeedItem::Prescription(u.clone()), now)?;
    Ok(u)
}

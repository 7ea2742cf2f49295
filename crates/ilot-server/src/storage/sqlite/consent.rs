//! The consent history and the access log of the SQLite backend (migration V11).

use chrono::{DateTime, Utc};
use ilot_wire::{CareTeamMember, ConsentChannel, ConsentDecision, PatientId};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStorage;
use super::rows::*;
use crate::error::Result;
use crate::storage::{AccessRow, ConsentEvent, ConsentSource, NewConsent};

const EVENT_SELECT: &str = "SELECT c.id, c.decision, c.at_ms, c.notice_version, c.channel, c.operator_id, o.name, o.role, c.device_id, c.recorded_ms
     FROM consent_events c LEFT JOIN operators o ON o.id = c.operator_id";

type RawEvent = (
    i64,
    String,
    i64,
    Option<u32>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

fn event(r: RawEvent) -> Result<ConsentEvent> {
    let collected_by = match (r.6, r.7) {
        (Some(name), Some(role)) => Some(CareTeamMember {
            name,
            role: role_of(&role)?,
        }),
        _ => None,
    };
    Ok(ConsentEvent {
        id: r.0,
        decision: ConsentDecision::parse(&r.1).ok_or_else(|| bad("consent decision", &r.1))?,
        at: utc(r.2),
        notice_version: r.3,
        channel: ConsentChannel::parse(&r.4).ok_or_else(|| bad("consent channel", &r.4))?,
        collected_by,
        operator_id: r.5,
        device_id: r
            .8
            .map(|d| d.parse().map_err(|e| bad("device id", e)))
            .transpose()?,
        recorded_at: utc(r.9),
    })
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEvent> {
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
    ))
}

/// Adds the decision inside the caller's transaction and makes the patient's latest decision
/// in time its consent state; the new record's id.
pub(super) fn insert(
    tx: &Connection,
    patient: PatientId,
    c: &NewConsent,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (operator, device) = match c.by {
        ConsentSource::Operator(o) => (Some(o), None),
        ConsentSource::Device(d) => (None, Some(d.to_string())),
    };
    let p = patient.to_string();
    tx.execute(
        "INSERT INTO consent_events (patient_id, decision, at_ms, notice_version, channel, operator_id, device_id, recorded_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            p,
            c.decision.as_str(),
            ms(c.at),
            c.notice_version,
            c.channel().as_str(),
            operator,
            device,
            ms(now)
        ],
    )?;
    let id = tx.last_insert_rowid();
    if let Some((decision, at)) = latest(tx, patient)? {
        tx.execute(
            "UPDATE patients SET consent_granted = ?1, consent_ms = ?2 WHERE id = ?3",
            params![decision.granted(), ms(at), p],
        )?;
    }
    Ok(id)
}

/// The patient's latest decision in time (ties: the later record), with its time.
pub(super) fn latest(
    conn: &Connection,
    patient: PatientId,
) -> Result<Option<(ConsentDecision, DateTime<Utc>)>> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT decision, at_ms FROM consent_events WHERE patient_id = ?1
             ORDER BY at_ms DESC, id DESC LIMIT 1",
            [patient.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(d, at)| {
        Ok((
            ConsentDecision::parse(&d).ok_or_else(|| bad("consent decision", &d))?,
            utc(at),
        ))
    })
    .transpose()
}

impl SqliteStorage {
    pub(super) fn consent_record(
        &self,
        patient: PatientId,
        c: &NewConsent,
        now: DateTime<Utc>,
    ) -> Result<ConsentEvent> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = insert(&tx, patient, c, now)?;
        let raw = tx.query_row(&format!("{EVENT_SELECT} WHERE c.id = ?1"), [id], read)?;
        tx.commit()?;
        event(raw)
    }

    pub(super) fn consent_list(&self, patient: PatientId) -> Result<Vec<ConsentEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{EVENT_SELECT} WHERE c.patient_id = ?1 ORDER BY c.at_ms, c.id"
        ))?;
        let rows = stmt
            .query_map([patient.to_string()], read)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(event).collect()
    }

    pub(super) fn consent_access_log(
        &self,
        patient: PatientId,
        after: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            // The records about the patient and the list reads that showed it (V13): one
            // set of ids (a record in both is once), in id order after the cursor.
            "SELECT a.id, a.at_ms, a.action, o.name, o.role FROM audit a JOIN operators o ON o.id = a.operator_id
             WHERE a.id IN (SELECT id FROM audit WHERE patient_id = ?1 AND id > ?2
                            UNION SELECT audit_id FROM audit_patients WHERE patient_id = ?1 AND audit_id > ?2)
               AND a.at_ms >= ?3 ORDER BY a.id LIMIT ?4",
        )?;
        let rows = stmt
            .query_map(params![patient.to_string(), after, ms(since), limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, at, action, name, role)| {
                Ok(AccessRow {
                    id,
                    at: utc(at),
                    by: CareTeamMember {
                        name,
                        role: role_of(&role)?,
                    },
                    action,
                })
            })
            .collect()
    }
}

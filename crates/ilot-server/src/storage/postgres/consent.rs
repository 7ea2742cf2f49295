//! The consent history and the access log of the PostgreSQL backend (migration V11). A decision
//! is written under the patient's row lock, like a batch, so that a withdrawal recorded on one
//! node and a batch ingested on another are ordered. The answers are the SQLite backend's.

use chrono::{DateTime, Utc};
use ilot_wire::{CareTeamMember, ConsentChannel, ConsentDecision, PatientId};
use r2d2_postgres::postgres::{GenericClient, Row, Transaction};

use super::PostgresStorage;
use super::rows::*;
use crate::error::Result;
use crate::storage::{AccessRow, ConsentEvent, ConsentSource, NewConsent};

const EVENT_SELECT: &str = "SELECT c.id, c.decision, c.at, c.notice_version, c.channel, c.operator_id, o.name, o.role, c.device_id, c.recorded_at
     FROM consent_events c LEFT JOIN operators o ON o.id = c.operator_id";

fn event(r: &Row) -> Result<ConsentEvent> {
    let decision: &str = r.get(1);
    let channel: &str = r.get(4);
    let collected_by = match (r.get::<_, Option<String>>(6), r.get::<_, Option<&str>>(7)) {
        (Some(name), Some(role)) => Some(CareTeamMember {
            name,
            role: role_of(role)?,
        }),
        _ => None,
    };
    let notice: Option<i32> = r.get(3);
    Ok(ConsentEvent {
        id: r.get(0),
        decision: ConsentDecision::parse(decision)
            .ok_or_else(|| bad("consent decision", decision))?,
        at: r.get(2),
        notice_version: notice
            .map(|v| u32::try_from(v).map_err(|e| bad("notice version", e)))
            .transpose()?,
        channel: ConsentChannel::parse(channel).ok_or_else(|| bad("consent channel", channel))?,
        collected_by,
        operator_id: r.get(5),
        device_id: r.get::<_, Option<&[u8]>>(8).map(device_id).transpose()?,
        recorded_at: r.get(9),
    })
}

/// Adds the decision inside the caller's transaction (which holds the patient's row lock) and
/// makes the patient's latest decision in time its consent state; the new record's id.
pub(super) fn insert(
    tx: &mut Transaction<'_>,
    patient: PatientId,
    c: &NewConsent,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (operator, device) = match c.by {
        ConsentSource::Operator(o) => (Some(o), None),
        ConsentSource::Device(d) => (None, Some(d.as_bytes().to_vec())),
    };
    let p = patient.as_bytes().as_slice();
    let notice = i32::try_from(c.notice_version).map_err(|e| bad("notice version", e))?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO consent_events (patient_id, decision, at, notice_version, channel, operator_id, device_id, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &p,
                &c.decision.as_str(),
                &ts(c.at),
                &notice,
                &c.channel().as_str(),
                &operator,
                &device,
                &ts(now),
            ],
        )?
        .get(0);
    if let Some((decision, at)) = latest(tx, patient)? {
        tx.execute(
            "UPDATE patients SET consent_granted = $1, consent_at = $2 WHERE id = $3",
            &[&decision.granted(), &at, &p],
        )?;
    }
    Ok(id)
}

/// The patient's latest decision in time (ties: the later record), with its time.
pub(super) fn latest(
    c: &mut impl GenericClient,
    patient: PatientId,
) -> Result<Option<(ConsentDecision, DateTime<Utc>)>> {
    let row = c.query_opt(
        "SELECT decision, at FROM consent_events WHERE patient_id = $1
         ORDER BY at DESC, id DESC LIMIT 1",
        &[&patient.as_bytes().as_slice()],
    )?;
    row.map(|r| {
        let d: &str = r.get(0);
        Ok((
            ConsentDecision::parse(d).ok_or_else(|| bad("consent decision", d))?,
            r.get(1),
        ))
    })
    .transpose()
}

impl PostgresStorage {
    pub(super) fn consent_record(
        &self,
        patient: PatientId,
        c: &NewConsent,
        now: DateTime<Utc>,
    ) -> Result<ConsentEvent> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        tx.execute(
            "SELECT 1 FROM patients WHERE id = $1 FOR UPDATE",
            &[&patient.as_bytes().as_slice()],
        )?;
        let id = insert(&mut tx, patient, c, now)?;
        let row = tx.query_one(&format!("{EVENT_SELECT} WHERE c.id = $1"), &[&id])?;
        let e = event(&row)?;
        tx.commit()?;
        Ok(e)
    }

    pub(super) fn consent_list(&self, patient: PatientId) -> Result<Vec<ConsentEvent>> {
        let rows = self.client()?.query(
            &format!("{EVENT_SELECT} WHERE c.patient_id = $1 ORDER BY c.at, c.id"),
            &[&patient.as_bytes().as_slice()],
        )?;
        rows.iter().map(event).collect()
    }

    pub(super) fn consent_access_log(
        &self,
        patient: PatientId,
        after: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        let rows = self.client()?.query(
            // The records about the patient and the list reads that showed it (V13): one
            // set of ids (a record in both is once), in id order after the cursor.
            "SELECT a.id, a.at, a.action, o.name, o.role FROM audit a JOIN operators o ON o.id = a.operator_id
             WHERE a.id IN (SELECT id FROM audit WHERE patient_id = $1 AND id > $2
                            UNION SELECT audit_id FROM audit_patients WHERE patient_id = $1 AND audit_id > $2)
               AND a.at >= $3 ORDER BY a.id LIMIT $4",
            &[
                &patient.as_bytes().as_slice(),
                &after,
                &bound(since),
                &i64::from(limit),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AccessRow {
                    id: r.get(0),
                    at: r.get(1),
                    by: CareTeamMember {
                        name: r.get(3),
                        role: role_of(r.get(4))?,
                    },
                    action: r.get(2),
                })
            })
            .collect()
    }
}

//! The record's life in the PostgreSQL backend (migration V10): closure, restriction and the
//! retention pass. Same answers as the SQLite backend (`tests/it/retention.rs`).

use chrono::{DateTime, Utc};
use ilot_wire::PatientId;
use r2d2_postgres::postgres::{Row, Transaction};

use super::PostgresStorage;
use super::rows::{patient_id, ts};
use crate::error::Result;
use crate::storage::{Closure, PurgeCounts, RecordStatus, Restriction, RetentionCutoffs};

const STATUS_SELECT: &str = "SELECT patient_id, closed_on, closed_at, closure_reason, closed_by,
    closure_recorded_at, last_care_at, restricted_at, restricted_by, restriction_reason
    FROM record_status";

fn status(r: &Row) -> Result<(PatientId, RecordStatus)> {
    let id = patient_id(r.get(0))?;
    let closure = match (
        r.get(1),
        r.get(2),
        r.get::<_, Option<String>>(3),
        r.get(4),
        r.get(5),
        r.get(6),
    ) {
        (Some(last_day), Some(ends_at), Some(reason), Some(by), Some(recorded_at), Some(care)) => {
            Some(Closure {
                last_day,
                ends_at,
                reason,
                by,
                recorded_at,
                last_care_at: care,
            })
        }
        _ => None,
    };
    let restriction = match (r.get(7), r.get(8), r.get::<_, Option<String>>(9)) {
        (Some(at), Some(by), Some(reason)) => Some(Restriction { at, by, reason }),
        _ => None,
    };
    Ok((
        id,
        RecordStatus {
            closure,
            restriction,
        },
    ))
}

/// Deletes `sql` (with the patient as `$1`) and adds what it removed to `n`.
fn del(tx: &mut Transaction<'_>, sql: &str, patient: &[u8], n: &mut u64) -> Result<()> {
    *n += tx.execute(sql, &[&patient])?;
    Ok(())
}

impl PostgresStorage {
    pub(super) fn rec_status(&self, patient: PatientId) -> Result<RecordStatus> {
        let row = self.client()?.query_opt(
            &format!("{STATUS_SELECT} WHERE patient_id = $1"),
            &[&patient.as_bytes().as_slice()],
        )?;
        Ok(row
            .map(|r| status(&r))
            .transpose()?
            .map(|s| s.1)
            .unwrap_or_default())
    }

    pub(super) fn rec_statuses(&self) -> Result<Vec<(PatientId, RecordStatus)>> {
        let rows = self
            .client()?
            .query(&format!("{STATUS_SELECT} ORDER BY patient_id"), &[])?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (id, s) = status(r)?;
            if s.is_closed() || s.is_restricted() {
                out.push((id, s));
            }
        }
        // The SQLite backend orders by the id's text, which is its bytes' order too.
        Ok(out)
    }

    pub(super) fn rec_close(&self, patient: PatientId, c: &Closure) -> Result<bool> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let id = patient.as_bytes().as_slice();
        let n = tx.execute(
            "INSERT INTO record_status (patient_id, closed_on, closed_at, closure_reason, closed_by,
                closure_recorded_at, last_care_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (patient_id) DO UPDATE SET closed_on = excluded.closed_on,
                closed_at = excluded.closed_at, closure_reason = excluded.closure_reason,
                closed_by = excluded.closed_by, closure_recorded_at = excluded.closure_recorded_at,
                last_care_at = excluded.last_care_at
             WHERE record_status.closed_at IS NULL",
            &[
                &id,
                &c.last_day,
                &ts(c.ends_at),
                &c.reason,
                &c.by,
                &ts(c.recorded_at),
                &ts(c.last_care_at),
            ],
        )?;
        if n == 1 {
            tx.execute(
                "UPDATE enrolment_codes SET expires_at = $1
                 WHERE patient_id = $2 AND used_at IS NULL AND expires_at > $1",
                &[&ts(c.recorded_at), &id],
            )?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    pub(super) fn rec_set_restriction(
        &self,
        patient: PatientId,
        r: Option<&Restriction>,
    ) -> Result<()> {
        self.client()?.execute(
            "INSERT INTO record_status (patient_id, restricted_at, restricted_by, restriction_reason)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (patient_id) DO UPDATE SET restricted_at = excluded.restricted_at,
                restricted_by = excluded.restricted_by,
                restriction_reason = excluded.restriction_reason",
            &[
                &patient.as_bytes().as_slice(),
                &r.map(|r| ts(r.at)),
                &r.map(|r| r.by),
                &r.map(|r| r.reason.as_str()),
            ],
        )?;
        Ok(())
    }

    pub(super) fn rec_purge(
        &self,
        cut: &RetentionCutoffs,
        now: DateTime<Utc>,
    ) -> Result<PurgeCounts> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let mut n = PurgeCounts::default();
        let expired: Vec<Vec<u8>> = tx
            .query(
                "SELECT patient_id FROM record_status
                 WHERE last_care_at IS NOT NULL AND last_care_at < $1 ORDER BY patient_id
                 FOR UPDATE",
                &[&ts(cut.care_before)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for p in &expired {
            let p = p.as_slice();
            let tx = &mut tx;
            del(
                tx,
                "DELETE FROM entries WHERE patient_id = $1",
                p,
                &mut n.entries,
            )?;
            del(
                tx,
                "DELETE FROM alerts WHERE patient_id = $1",
                p,
                &mut n.alerts,
            )?;
            del(tx, "DELETE FROM feed WHERE patient_id = $1", p, &mut n.feed)?;
            del(
                tx,
                "DELETE FROM prescriptions WHERE patient_id = $1",
                p,
                &mut n.prescriptions,
            )?;
            del(
                tx,
                "DELETE FROM glucose_days WHERE patient_id = $1",
                p,
                &mut n.glucose_days,
            )?;
            del(
                tx,
                "DELETE FROM reviews WHERE patient_id = $1",
                p,
                &mut n.reviews,
            )?;
            let mut cache = 0;
            del(
                tx,
                "DELETE FROM triage_observance WHERE patient_id = $1",
                p,
                &mut cache,
            )?;
            del(
                tx,
                "DELETE FROM batches WHERE device_id IN (SELECT id FROM devices WHERE patient_id = $1)",
                p,
                &mut n.batches,
            )?;
            del(
                tx,
                "DELETE FROM devices WHERE patient_id = $1",
                p,
                &mut n.devices,
            )?;
            del(
                tx,
                "DELETE FROM enrolment_codes WHERE patient_id = $1",
                p,
                &mut n.enrolment_codes,
            )?;
            del(
                tx,
                "DELETE FROM identity_versions WHERE patient_id = $1",
                p,
                &mut n.identity_versions,
            )?;
            del(
                tx,
                "DELETE FROM consent_events WHERE patient_id = $1",
                p,
                &mut n.consent_events,
            )?;
            let mut status = 0;
            // The list reads' links to the patient (V13) go with it; the audit records stay
            // (their detail names the patients the list showed).
            del(
                tx,
                "DELETE FROM audit_patients WHERE patient_id = $1",
                p,
                &mut status,
            )?;
            // The reopenings (V12) are part of the record.
            del(
                tx,
                "DELETE FROM monitoring_gaps WHERE patient_id = $1",
                p,
                &mut status,
            )?;
            del(
                tx,
                "DELETE FROM record_status WHERE patient_id = $1",
                p,
                &mut status,
            )?;
            del(tx, "DELETE FROM patients WHERE id = $1", p, &mut n.patients)?;
        }
        let t = ts(cut.trace_before);
        n.batches += tx.execute("DELETE FROM batches WHERE received_at < $1", &[&t])?;
        n.enrolment_codes += tx.execute(
            "DELETE FROM enrolment_codes WHERE COALESCE(used_at, expires_at) < $1",
            &[&t],
        )?;
        // A device's use ends at its revocation or its patient's closure, whichever is first
        // (LEAST ignores NULL); its batch records older than the limit are gone by now, so one
        // left means a later use.
        n.devices += tx.execute(
            "DELETE FROM devices WHERE id IN (
                SELECT d.id FROM devices d LEFT JOIN record_status r ON r.patient_id = d.patient_id
                WHERE LEAST(d.revoked_at, r.closed_at) < $1
                  AND d.enrolled_at < $1
                  AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.device_id = d.id))",
            &[&t],
        )?;
        if n.total() > 0 {
            let detail = crate::retention::audit_detail(&n, cut).to_string();
            tx.execute(
                "INSERT INTO audit (operator_id, action, patient_id, at, client, detail)
                 VALUES (NULL, $1, NULL, $2, $3, $4)",
                &[
                    &crate::retention::PURGE_ACTION,
                    &ts(now),
                    &crate::retention::CLIENT,
                    &detail,
                ],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }
}

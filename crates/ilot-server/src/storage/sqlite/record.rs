//! The record's life in the SQLite backend (migration V10): closure, restriction and the
//! retention pass. Same answers as the PostgreSQL backend (`tests/it/retention.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use ilot_wire::PatientId;
use rusqlite::{OptionalExtension, Transaction, params};

use super::SqliteStorage;
use super::rows::{bad, ms, utc};
use crate::error::Result;
use crate::storage::{Closure, PurgeCounts, RecordStatus, Restriction, RetentionCutoffs};

const STATUS_SELECT: &str = "SELECT patient_id, closed_on, closed_ms, closure_reason, closed_by,
    closure_recorded_ms, last_care_ms, restricted_ms, restricted_by, restriction_reason
    FROM record_status";

type RawStatus = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

fn read_status(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawStatus> {
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

fn status(r: RawStatus) -> Result<(PatientId, RecordStatus)> {
    let id: PatientId = r.0.parse().map_err(|e| bad("patient id", e))?;
    let closure = match (r.1, r.2, r.3, r.4, r.5, r.6) {
        (Some(day), Some(ends), Some(reason), Some(by), Some(recorded), Some(care)) => {
            Some(Closure {
                last_day: day
                    .parse::<NaiveDate>()
                    .map_err(|e| bad("closure day", e))?,
                ends_at: utc(ends),
                reason,
                by,
                recorded_at: utc(recorded),
                last_care_at: utc(care),
            })
        }
        _ => None,
    };
    let restriction = match (r.7, r.8, r.9) {
        (Some(at), Some(by), Some(reason)) => Some(Restriction {
            at: utc(at),
            by,
            reason,
        }),
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

/// Deletes `sql` (with the patient as `?1`) and adds what it removed to `n`.
fn del(tx: &Transaction<'_>, sql: &str, patient: &str, n: &mut u64) -> Result<()> {
    *n += tx.execute(sql, [patient])? as u64;
    Ok(())
}

impl SqliteStorage {
    pub(super) fn rec_status(&self, patient: PatientId) -> Result<RecordStatus> {
        let raw = self
            .conn()
            .query_row(
                &format!("{STATUS_SELECT} WHERE patient_id = ?1"),
                [patient.to_string()],
                read_status,
            )
            .optional()?;
        Ok(raw
            .map(status)
            .transpose()?
            .map(|s| s.1)
            .unwrap_or_default())
    }

    pub(super) fn rec_statuses(&self) -> Result<Vec<(PatientId, RecordStatus)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{STATUS_SELECT} ORDER BY patient_id"))?;
        let raws = stmt
            .query_map([], read_status)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter()
            .map(status)
            .filter(|s| {
                s.as_ref()
                    .map_or(true, |(_, s)| s.is_closed() || s.is_restricted())
            })
            .collect()
    }

    pub(super) fn rec_close(&self, patient: PatientId, c: &Closure) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = patient.to_string();
        let n = tx.execute(
            "INSERT INTO record_status (patient_id, closed_on, closed_ms, closure_reason, closed_by,
                closure_recorded_ms, last_care_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (patient_id) DO UPDATE SET closed_on = excluded.closed_on,
                closed_ms = excluded.closed_ms, closure_reason = excluded.closure_reason,
                closed_by = excluded.closed_by, closure_recorded_ms = excluded.closure_recorded_ms,
                last_care_ms = excluded.last_care_ms
             WHERE record_status.closed_ms IS NULL",
            params![
                id,
                c.last_day.to_string(),
                ms(c.ends_at),
                c.reason,
                c.by,
                ms(c.recorded_at),
                ms(c.last_care_at)
            ],
        )?;
        if n == 1 {
            tx.execute(
                "UPDATE enrolment_codes SET expires_ms = ?1
                 WHERE patient_id = ?2 AND used_ms IS NULL AND expires_ms > ?1",
                params![ms(c.recorded_at), id],
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
        self.conn().execute(
            "INSERT INTO record_status (patient_id, restricted_ms, restricted_by, restriction_reason)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (patient_id) DO UPDATE SET restricted_ms = excluded.restricted_ms,
                restricted_by = excluded.restricted_by,
                restriction_reason = excluded.restriction_reason",
            params![
                patient.to_string(),
                r.map(|r| ms(r.at)),
                r.map(|r| r.by),
                r.map(|r| r.reason.as_str())
            ],
        )?;
        Ok(())
    }

    pub(super) fn rec_purge(
        &self,
        cut: &RetentionCutoffs,
        now: DateTime<Utc>,
    ) -> Result<PurgeCounts> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut n = PurgeCounts::default();
        let expired: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT patient_id FROM record_status
                 WHERE last_care_ms IS NOT NULL AND last_care_ms < ?1 ORDER BY patient_id",
            )?;
            stmt.query_map([ms(cut.care_before)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for p in &expired {
            let p = p.as_str();
            del(
                &tx,
                "DELETE FROM entries WHERE patient_id = ?1",
                p,
                &mut n.entries,
            )?;
            del(
                &tx,
                "DELETE FROM alerts WHERE patient_id = ?1",
                p,
                &mut n.alerts,
            )?;
            del(
                &tx,
                "DELETE FROM feed WHERE patient_id = ?1",
                p,
                &mut n.feed,
            )?;
            del(
                &tx,
                "DELETE FROM prescriptions WHERE patient_id = ?1",
                p,
                &mut n.prescriptions,
            )?;
            del(
                &tx,
                "DELETE FROM glucose_days WHERE patient_id = ?1",
                p,
                &mut n.glucose_days,
            )?;
            del(
                &tx,
                "DELETE FROM reviews WHERE patient_id = ?1",
                p,
                &mut n.reviews,
            )?;
            let mut cache = 0;
            del(
                &tx,
                "DELETE FROM triage_observance WHERE patient_id = ?1",
                p,
                &mut cache,
            )?;
            del(
                &tx,
                "DELETE FROM batches WHERE device_id IN (SELECT id FROM devices WHERE patient_id = ?1)",
                p,
                &mut n.batches,
            )?;
            del(
                &tx,
                "DELETE FROM devices WHERE patient_id = ?1",
                p,
                &mut n.devices,
            )?;
            del(
                &tx,
                "DELETE FROM enrolment_codes WHERE patient_id = ?1",
                p,
                &mut n.enrolment_codes,
            )?;
            del(
                &tx,
                "DELETE FROM identity_versions WHERE patient_id = ?1",
                p,
                &mut n.identity_versions,
            )?;
            del(
                &tx,
                "DELETE FROM consent_events WHERE patient_id = ?1",
                p,
                &mut n.consent_events,
            )?;
            let mut status = 0;
            // The list reads' links to the patient (V13) go with it; the audit records stay
            // (their detail names the patients the list showed).
            del(
                &tx,
                "DELETE FROM audit_patients WHERE patient_id = ?1",
                p,
                &mut status,
            )?;
            // The reopenings (V12) are part of the record.
            del(
                &tx,
                "DELETE FROM monitoring_gaps WHERE patient_id = ?1",
                p,
                &mut status,
            )?;
            del(
                &tx,
                "DELETE FROM record_status WHERE patient_id = ?1",
                p,
                &mut status,
            )?;
            del(
                &tx,
                "DELETE FROM patients WHERE id = ?1",
                p,
                &mut n.patients,
            )?;
        }
        let t = ms(cut.trace_before);
        n.batches += tx.execute("DELETE FROM batches WHERE received_ms < ?1", [t])? as u64;
        n.enrolment_codes += tx.execute(
            "DELETE FROM enrolment_codes WHERE COALESCE(used_ms, expires_ms) < ?1",
            [t],
        )? as u64;
        // A device's use ends at its revocation or its patient's closure, whichever is first;
        // its batch records older than the limit are gone by now, so one left means a later use.
        n.devices += tx.execute(
            "DELETE FROM devices WHERE id IN (
                SELECT d.id FROM devices d LEFT JOIN record_status r ON r.patient_id = d.patient_id
                WHERE COALESCE(MIN(d.revoked_ms, r.closed_ms), d.revoked_ms, r.closed_ms) < ?1
                  AND d.enrolled_ms < ?1
                  AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.device_id = d.id))",
            [t],
        )? as u64;
        if n.total() > 0 {
            tx.execute(
                "INSERT INTO audit (operator_id, action, patient_id, at_ms, client, detail)
                 VALUES (NULL, ?1, NULL, ?2, ?3, ?4)",
                params![
                    crate::retention::PURGE_ACTION,
                    ms(now),
                    crate::retention::CLIENT,
                    crate::retention::audit_detail(&n, cut).to_string()
                ],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }
}

//! Reopening a closed record in the PostgreSQL backend (migration V12). Same answers as the
//! SQLite backend (`tests/it/reopen.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use ilot_wire::PatientId;
use r2d2_postgres::postgres::Row;

use super::PostgresStorage;
use super::rows::ts;
use crate::error::Result;
use crate::storage::{MonitoringGap, Reopening};

fn gap(r: &Row) -> MonitoringGap {
    MonitoringGap {
        last_day: r.get::<_, NaiveDate>(0),
        from: r.get(1),
        closure_reason: r.get(2),
        closed_by: r.get(3),
        closure_recorded_at: r.get(4),
        until: r.get(5),
        reopened_by: r.get(6),
        reopen_reason: r.get(7),
    }
}

impl PostgresStorage {
    pub(super) fn rec_reopen(
        &self,
        patient: PatientId,
        r: &Reopening,
    ) -> Result<Option<MonitoringGap>> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let id = patient.as_bytes().as_slice();
        let Some(closed) = tx.query_opt(
            "SELECT closed_at FROM record_status
             WHERE patient_id = $1 AND closed_at IS NOT NULL FOR UPDATE",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let from: DateTime<Utc> = closed.get(0);
        let until = ts(r.at).max(from);
        let row = tx.query_one(
            "INSERT INTO monitoring_gaps (patient_id, closed_on, closed_at, closure_reason,
                closed_by, closure_recorded_at, reopened_at, reopened_by, reopen_reason)
             SELECT patient_id, closed_on, closed_at, closure_reason, closed_by,
                closure_recorded_at, $2, $3, $4
             FROM record_status WHERE patient_id = $1
             RETURNING closed_on, closed_at, closure_reason, closed_by, closure_recorded_at,
                reopened_at, reopened_by, reopen_reason",
            &[&id, &until, &r.by, &r.reason],
        )?;
        tx.execute(
            "UPDATE record_status SET closed_on = NULL, closed_at = NULL, closure_reason = NULL,
                closed_by = NULL, closure_recorded_at = NULL, last_care_at = NULL
             WHERE patient_id = $1",
            &[&id],
        )?;
        tx.commit()?;
        Ok(Some(gap(&row)))
    }

    pub(super) fn rec_gaps(&self, patient: PatientId) -> Result<Vec<MonitoringGap>> {
        let rows = self.client()?.query(
            "SELECT closed_on, closed_at, closure_reason, closed_by, closure_recorded_at,
                reopened_at, reopened_by, reopen_reason
             FROM monitoring_gaps WHERE patient_id = $1 ORDER BY closed_at, id",
            &[&patient.as_bytes().as_slice()],
        )?;
        Ok(rows.iter().map(gap).collect())
    }
}

//! Reopening a closed record in the PostgreSQL backend (migration V12). Same answers as the
//! SQLite backend (`tests/it/reopen.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use ilot_wire::{CareTeamMember, PatientId};
use r2d2_postgres::postgres::Row;

use super::PostgresStorage;
use super::rows::{role_of, ts};
use crate::error::Result;
use crate::storage::{MonitoringGap, NamedGap, Reopening};

/// The columns of a gap, in [`gap`]'s order, from `monitoring_gaps g`.
const GAP_COLUMNS: &str = "g.closed_on, g.closed_at, g.closure_reason, g.closed_by,
    g.closure_recorded_at, g.reopened_at, g.reopened_by, g.reopen_reason";

/// A care team member from the `LEFT JOIN operators` columns `name` and `role` at `at`, `at + 1`:
/// `None` when the operator is not known.
fn member(r: &Row, at: usize) -> Result<Option<CareTeamMember>> {
    match (
        r.get::<_, Option<String>>(at),
        r.get::<_, Option<&str>>(at + 1),
    ) {
        (Some(name), Some(role)) => Ok(Some(CareTeamMember {
            name,
            role: role_of(role)?,
        })),
        _ => Ok(None),
    }
}

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
            &format!(
                "SELECT {GAP_COLUMNS} FROM monitoring_gaps g
                 WHERE g.patient_id = $1 ORDER BY g.closed_at, g.id"
            ),
            &[&patient.as_bytes().as_slice()],
        )?;
        Ok(rows.iter().map(gap).collect())
    }

    pub(super) fn rec_history(&self, patient: PatientId) -> Result<Vec<NamedGap>> {
        let rows = self.client()?.query(
            &format!(
                "SELECT {GAP_COLUMNS}, c.name, c.role, o.name, o.role
                 FROM monitoring_gaps g
                 LEFT JOIN operators c ON c.id = g.closed_by
                 LEFT JOIN operators o ON o.id = g.reopened_by
                 WHERE g.patient_id = $1 ORDER BY g.closed_at, g.id"
            ),
            &[&patient.as_bytes().as_slice()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(NamedGap {
                    gap: gap(r),
                    closed_by: member(r, 8)?,
                    reopened_by: member(r, 10)?,
                })
            })
            .collect()
    }
}

//! Reopening a closed record in the SQLite backend (migration V12). Same answers as the
//! PostgreSQL backend (`tests/it/reopen.rs`).

use chrono::NaiveDate;
use ilot_wire::{CareTeamMember, PatientId};
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use super::rows::{bad, ms, role_of, utc};
use crate::error::Result;
use crate::storage::{MonitoringGap, NamedGap, Reopening};

type RawGap = (String, i64, String, i64, i64, i64, i64, String);

/// The columns of a gap, in [`RawGap`]'s order, from `monitoring_gaps g`.
const GAP_COLUMNS: &str = "g.closed_on, g.closed_ms, g.closure_reason, g.closed_by,
    g.closure_recorded_ms, g.reopened_ms, g.reopened_by, g.reopen_reason";

fn raw(r: &rusqlite::Row) -> rusqlite::Result<RawGap> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

/// A care team member from a `LEFT JOIN operators`: `None` when the operator is not known.
fn member(name: Option<String>, role: Option<String>) -> Result<Option<CareTeamMember>> {
    match (name, role) {
        (Some(name), Some(role)) => Ok(Some(CareTeamMember {
            name,
            role: role_of(&role)?,
        })),
        _ => Ok(None),
    }
}

fn gap(r: RawGap) -> Result<MonitoringGap> {
    Ok(MonitoringGap {
        last_day: r
            .0
            .parse::<NaiveDate>()
            .map_err(|e| bad("closure day", e))?,
        from: utc(r.1),
        closure_reason: r.2,
        closed_by: r.3,
        closure_recorded_at: utc(r.4),
        until: utc(r.5),
        reopened_by: r.6,
        reopen_reason: r.7,
    })
}

impl SqliteStorage {
    pub(super) fn rec_reopen(
        &self,
        patient: PatientId,
        r: &Reopening,
    ) -> Result<Option<MonitoringGap>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = patient.to_string();
        let closed: Option<(String, i64, String, i64, i64)> = tx
            .query_row(
                "SELECT closed_on, closed_ms, closure_reason, closed_by, closure_recorded_ms
                 FROM record_status WHERE patient_id = ?1 AND closed_ms IS NOT NULL",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some(c) = closed else {
            return Ok(None);
        };
        let until = ms(r.at).max(c.1);
        tx.execute(
            "INSERT INTO monitoring_gaps (patient_id, closed_on, closed_ms, closure_reason,
                closed_by, closure_recorded_ms, reopened_ms, reopened_by, reopen_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id, c.0, c.1, c.2, c.3, c.4, until, r.by, r.reason],
        )?;
        tx.execute(
            "UPDATE record_status SET closed_on = NULL, closed_ms = NULL, closure_reason = NULL,
                closed_by = NULL, closure_recorded_ms = NULL, last_care_ms = NULL
             WHERE patient_id = ?1",
            [&id],
        )?;
        tx.commit()?;
        gap((c.0, c.1, c.2, c.3, c.4, until, r.by, r.reason.clone())).map(Some)
    }

    pub(super) fn rec_gaps(&self, patient: PatientId) -> Result<Vec<MonitoringGap>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {GAP_COLUMNS} FROM monitoring_gaps g
             WHERE g.patient_id = ?1 ORDER BY g.closed_ms, g.id"
        ))?;
        let raws = stmt
            .query_map([patient.to_string()], raw)?
            .collect::<rusqlite::Result<Vec<RawGap>>>()?;
        raws.into_iter().map(gap).collect()
    }

    pub(super) fn rec_history(&self, patient: PatientId) -> Result<Vec<NamedGap>> {
        type Names = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {GAP_COLUMNS}, c.name, c.role, o.name, o.role
             FROM monitoring_gaps g
             LEFT JOIN operators c ON c.id = g.closed_by
             LEFT JOIN operators o ON o.id = g.reopened_by
             WHERE g.patient_id = ?1 ORDER BY g.closed_ms, g.id"
        ))?;
        let raws = stmt
            .query_map([patient.to_string()], |r| {
                Ok((raw(r)?, (r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?)))
            })?
            .collect::<rusqlite::Result<Vec<(RawGap, Names)>>>()?;
        raws.into_iter()
            .map(|(g, n)| {
                Ok(NamedGap {
                    gap: gap(g)?,
                    closed_by: member(n.0, n.1)?,
                    reopened_by: member(n.2, n.3)?,
                })
            })
            .collect()
    }
}

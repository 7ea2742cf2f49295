//! SQLite bodies of the care-team and second-factor methods (migration V2), kept apart from
//! `sqlite.rs` so that each file stays readable; the `Storage` impl delegates here.

use chrono::{DateTime, Utc};
use ilot_wire::PatientId;
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use super::rows::{bad, ms};
use crate::atrest::Sealed;
use crate::error::{Result, ServerError};
use crate::storage::{AuditRow, TotpSecret};

impl SqliteStorage {
    pub(super) fn sec_create_team(&self, name: &str, now: DateTime<Utc>) -> Result<i64> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT OR IGNORE INTO teams (name, created_ms) VALUES (?1, ?2)",
            params![name, ms(now)],
        )?;
        if n == 0 {
            return Err(ServerError::refused(
                ilot_wire::api::ErrorCode::BadRequest,
                format!("a care team named {name:?} already exists; choose another name"),
            ));
        }
        Ok(conn.last_insert_rowid())
    }

    pub(super) fn sec_team_by_name(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM teams WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }

    pub(super) fn sec_set_operator_team(&self, operator_id: i64, team: i64) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE operators SET team_id = ?1 WHERE id = ?2",
            params![team, operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        Ok(())
    }

    pub(super) fn sec_operator_team(&self, operator_id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT team_id FROM operators WHERE id = ?1",
                [operator_id],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    pub(super) fn sec_set_patient_team(&self, patient: PatientId, team: i64) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE patients SET team_id = ?1 WHERE id = ?2",
            params![team, patient.to_string()],
        )?;
        if n == 0 {
            return Err(bad("patient", patient));
        }
        Ok(())
    }

    pub(super) fn sec_patient_team(&self, patient: PatientId) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT team_id FROM patients WHERE id = ?1",
                [patient.to_string()],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    pub(super) fn sec_team_patients(&self, team: i64) -> Result<Vec<PatientId>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT id FROM patients WHERE team_id = ?1 ORDER BY created_ms, id")?;
        let ids = stmt
            .query_map([team], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter()
            .map(|s| s.parse().map_err(|e| bad("patient id", e)))
            .collect()
    }

    /// Records written by the team's operators, and those about the team's patients written
    /// without an operator (a device's enrolment).
    pub(super) fn sec_team_audit_log(&self, team: i64, limit: u32) -> Result<Vec<AuditRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit a
             LEFT JOIN operators o ON o.id = a.operator_id
             LEFT JOIN patients p ON p.id = a.patient_id AND a.operator_id IS NULL
             WHERE o.team_id = ?1 OR p.team_id = ?1
             ORDER BY a.id DESC LIMIT ?2",
            super::limits::AUDIT_COLUMNS
        ))?;
        let rows = stmt
            .query_map(params![team, limit], super::limits::read_audit)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(super::limits::audit_row).collect()
    }

    pub(super) fn sec_set_totp_secret(&self, operator_id: i64, secret: &TotpSecret) -> Result<()> {
        let sealed = self
            .key
            .seal(Sealed::Totp { operator_id }, secret.as_bytes())?;
        let n = self.conn().execute(
            "UPDATE operators SET totp_secret = ?1, totp_last_step = NULL WHERE id = ?2",
            params![sealed, operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        Ok(())
    }

    pub(super) fn sec_totp_secret(&self, operator_id: i64) -> Result<Option<TotpSecret>> {
        let sealed = self
            .conn()
            .query_row(
                "SELECT totp_secret FROM operators WHERE id = ?1",
                [operator_id],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten();
        sealed
            .map(|s| {
                let plain = self.key.open(Sealed::Totp { operator_id }, &s)?;
                Ok(TotpSecret::from_bytes(plain.to_vec()))
            })
            .transpose()
    }

    pub(super) fn sec_accept_totp_step(&self, operator_id: i64, step: u64) -> Result<bool> {
        let step = i64::try_from(step).map_err(|_| bad("TOTP step", step))?;
        // One statement: two nodes racing with the same code cannot both succeed.
        let n = self.conn().execute(
            "UPDATE operators SET totp_last_step = ?1
             WHERE id = ?2 AND totp_secret IS NOT NULL
               AND (totp_last_step IS NULL OR totp_last_step < ?1)",
            params![step, operator_id],
        )?;
        Ok(n == 1)
    }
}

//! PostgreSQL bodies of the care-team and second-factor methods (migration V2), kept apart
//! from `postgres.rs`; the `Storage` impl delegates here. Same answers as the SQLite backend
//! (`tests/it/conformance_security.rs`).

use chrono::{DateTime, Utc};
use ilot_wire::PatientId;

use super::PostgresStorage;
use super::rows::{bad, patient_id, ts};
use crate::atrest::Sealed;
use crate::error::{Result, ServerError};
use crate::storage::{AuditRow, TotpSecret};

impl PostgresStorage {
    pub(super) fn sec_create_team(&self, name: &str, now: DateTime<Utc>) -> Result<i64> {
        let row = self.client()?.query_opt(
            "INSERT INTO teams (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[&name, &ts(now)],
        )?;
        row.map(|r| r.get(0)).ok_or_else(|| {
            ServerError::refused(
                ilot_wire::api::ErrorCode::BadRequest,
                format!("a care team named {name:?} already exists; choose another name"),
            )
        })
    }

    pub(super) fn sec_team_by_name(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .client()?
            .query_opt("SELECT id FROM teams WHERE name = $1", &[&name])?
            .map(|r| r.get(0)))
    }

    pub(super) fn sec_set_operator_team(&self, operator_id: i64, team: i64) -> Result<()> {
        let n = self.client()?.execute(
            "UPDATE operators SET team_id = $1 WHERE id = $2",
            &[&team, &operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        Ok(())
    }

    pub(super) fn sec_operator_team(&self, operator_id: i64) -> Result<Option<i64>> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT team_id FROM operators WHERE id = $1",
                &[&operator_id],
            )?
            .and_then(|r| r.get::<_, Option<i64>>(0)))
    }

    pub(super) fn sec_set_patient_team(&self, patient: PatientId, team: i64) -> Result<()> {
        let n = self.client()?.execute(
            "UPDATE patients SET team_id = $1 WHERE id = $2",
            &[&team, &patient.as_bytes().as_slice()],
        )?;
        if n == 0 {
            return Err(bad("patient", patient));
        }
        Ok(())
    }

    pub(super) fn sec_patient_team(&self, patient: PatientId) -> Result<Option<i64>> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT team_id FROM patients WHERE id = $1",
                &[&patient.as_bytes().as_slice()],
            )?
            .and_then(|r| r.get::<_, Option<i64>>(0)))
    }

    pub(super) fn sec_team_patients(&self, team: i64) -> Result<Vec<PatientId>> {
        let rows = self.client()?.query(
            "SELECT id FROM patients WHERE team_id = $1 ORDER BY created_at, id",
            &[&team],
        )?;
        rows.iter().map(|r| patient_id(r.get(0))).collect()
    }

    /// Records written by the team's operators, and those about the team's patients written
    /// without an operator (a device's enrolment).
    pub(super) fn sec_team_audit_log(&self, team: i64, limit: u32) -> Result<Vec<AuditRow>> {
        let rows = self.client()?.query(
            &format!(
                "SELECT {} FROM audit a
                 LEFT JOIN operators o ON o.id = a.operator_id
                 LEFT JOIN patients p ON p.id = a.patient_id AND a.operator_id IS NULL
                 WHERE o.team_id = $1 OR p.team_id = $1
                 ORDER BY a.id DESC LIMIT $2",
                super::limits::AUDIT_COLUMNS
            ),
            &[&team, &i64::from(limit)],
        )?;
        rows.iter().map(super::limits::audit_row).collect()
    }

    pub(super) fn sec_set_totp_secret(&self, operator_id: i64, secret: &TotpSecret) -> Result<()> {
        let sealed = self
            .key
            .seal(Sealed::Totp { operator_id }, secret.as_bytes())?;
        let n = self.client()?.execute(
            "UPDATE operators SET totp_secret = $1, totp_last_step = NULL WHERE id = $2",
            &[&sealed, &operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        Ok(())
    }

    pub(super) fn sec_totp_secret(&self, operator_id: i64) -> Result<Option<TotpSecret>> {
        let sealed = self
            .client()?
            .query_opt(
                "SELECT totp_secret FROM operators WHERE id = $1",
                &[&operator_id],
            )?
            .and_then(|r| r.get::<_, Option<Vec<u8>>>(0));
        sealed
            .map(|s| {
                let plain = self.key.open(Sealed::Totp { operator_id }, &s)?;
                Ok(TotpSecret::from_bytes(plain.to_vec()))
            })
            .transpose()
    }

    pub(super) fn sec_accept_totp_step(&self, operator_id: i64, step: u64) -> Result<bool> {
        let step = i64::try_from(step).map_err(|_| bad("TOTP step", step))?;
        // One statement: of two nodes racing with the same code, the second one's WHERE is
        // re-checked after the first commits, and fails.
        let n = self.client()?.execute(
            "UPDATE operators SET totp_last_step = $1
             WHERE id = $2 AND totp_secret IS NOT NULL
               AND (totp_last_step IS NULL OR totp_last_step < $1)",
            &[&step, &operator_id],
        )?;
        Ok(n == 1)
    }
}

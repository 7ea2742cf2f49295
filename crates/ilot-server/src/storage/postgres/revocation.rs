//! PostgreSQL bodies of the methods that end sessions and devices (migration V4); the `Storage`
//! impl delegates here. Same answers as the SQLite backend (`tests/it/conformance_revocation.rs`).

use chrono::{DateTime, Utc};
use ilot_wire::{DeviceId, PatientId};
use r2d2_postgres::postgres::Row;

use super::PostgresStorage;
use super::rows::{bad, device_id, patient_id, ts};
use crate::error::Result;
use crate::storage::{DeviceInfo, OperatorState};

const DEVICE_SELECT: &str = "SELECT d.id, d.patient_id, d.label, d.enrolled_at,
    (SELECT MAX(b.received_at) FROM batches b WHERE b.device_id = d.id), d.revoked_at
    FROM devices d";

fn device_info(r: &Row) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        id: device_id(r.get(0))?,
        patient_id: patient_id(r.get(1))?,
        label: r.get(2),
        enrolled_at: r.get(3),
        last_push_at: r.get(4),
        revoked_at: r.get(5),
    })
}

impl PostgresStorage {
    pub(super) fn rev_end_session(&self, token_hash: &[u8; 32]) -> Result<bool> {
        let n = self.client()?.execute(
            "DELETE FROM sessions WHERE token_hash = $1",
            &[&token_hash.as_slice()],
        )?;
        Ok(n == 1)
    }

    pub(super) fn rev_end_operator_sessions(&self, operator_id: i64) -> Result<u64> {
        Ok(self.client()?.execute(
            "DELETE FROM sessions WHERE operator_id = $1",
            &[&operator_id],
        )?)
    }

    pub(super) fn rev_operator_state(&self, username: &str) -> Result<Option<OperatorState>> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT id, disabled_at FROM operators WHERE username = $1",
                &[&username],
            )?
            .map(|r| OperatorState {
                id: r.get(0),
                disabled_at: r.get(1),
            }))
    }

    pub(super) fn rev_set_operator_disabled(
        &self,
        operator_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE operators SET disabled_at = $1 WHERE id = $2",
            &[&at.map(ts), &operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        if at.is_some() {
            tx.execute(
                "DELETE FROM sessions WHERE operator_id = $1",
                &[&operator_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn rev_set_password_hash(
        &self,
        operator_id: i64,
        password_hash: &str,
    ) -> Result<()> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE operators SET password_hash = $1 WHERE id = $2",
            &[&password_hash, &operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        tx.execute(
            "DELETE FROM sessions WHERE operator_id = $1",
            &[&operator_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn rev_patient_devices(&self, patient: PatientId) -> Result<Vec<DeviceInfo>> {
        let rows = self.client()?.query(
            &format!("{DEVICE_SELECT} WHERE d.patient_id = $1 ORDER BY d.enrolled_at, d.id"),
            &[&patient.as_bytes().as_slice()],
        )?;
        rows.iter().map(device_info).collect()
    }

    pub(super) fn rev_device_info(&self, id: DeviceId) -> Result<Option<DeviceInfo>> {
        let row = self.client()?.query_opt(
            &format!("{DEVICE_SELECT} WHERE d.id = $1"),
            &[&id.as_bytes().as_slice()],
        )?;
        row.as_ref().map(device_info).transpose()
    }

    pub(super) fn rev_revoke_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceInfo>> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        // Waits for a batch of this device being stored (its ingest locks the row): once this
        // commits, no batch of the device is stored any more.
        tx.execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
            &[&ts(now), &id.as_bytes().as_slice()],
        )?;
        let row = tx.query_opt(
            &format!("{DEVICE_SELECT} WHERE d.id = $1"),
            &[&id.as_bytes().as_slice()],
        )?;
        tx.commit()?;
        row.as_ref().map(device_info).transpose()
    }

    pub(super) fn rev_cancel_enrolment_codes(
        &self,
        patient: PatientId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(self.client()?.execute(
            "UPDATE enrolment_codes SET expires_at = $1
             WHERE patient_id = $2 AND used_at IS NULL AND expires_at > $1",
            &[&ts(now), &patient.as_bytes().as_slice()],
        )?)
    }
}

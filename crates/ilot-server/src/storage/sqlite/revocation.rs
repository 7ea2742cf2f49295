//! SQLite bodies of the methods that end sessions and devices (migration V4); the `Storage`
//! impl delegates here. Same answers as the PostgreSQL backend (`tests/it/conformance_revocation.rs`).

use chrono::{DateTime, Utc};
use ilot_wire::{DeviceId, PatientId};
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use super::rows::{bad, ms, role_of, utc};
use crate::error::Result;
use crate::storage::{DeviceInfo, Operator, OperatorState};

const DEVICE_SELECT: &str = "SELECT d.id, d.patient_id, d.label, d.enrolled_ms,
    (SELECT MAX(b.received_ms) FROM batches b WHERE b.device_id = d.id), d.revoked_ms
    FROM devices d";

type RawDevice = (
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);

fn read_device(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDevice> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn device_info((id, patient, label, enrolled, pushed, revoked): RawDevice) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        id: id.parse().map_err(|e| bad("device id", e))?,
        patient_id: patient.parse().map_err(|e| bad("patient id", e))?,
        label,
        enrolled_at: utc(enrolled),
        last_push_at: pushed.map(utc),
        revoked_at: revoked.map(utc),
    })
}

impl SqliteStorage {
    pub(super) fn rev_create_session(
        &self,
        token_hash: &[u8; 32],
        operator_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // Ended sessions are forgotten as new ones begin.
        tx.execute("DELETE FROM sessions WHERE expires_ms <= ?1", [ms(now)])?;
        tx.execute(
            "INSERT INTO sessions (token_hash, operator_id, expires_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash.as_slice(), operator_id, ms(expires_at), ms(now)],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn rev_session(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<Operator>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let live: Option<i64> = tx
            .query_row(
                "UPDATE sessions SET last_seen_ms = ?2
                 WHERE token_hash = ?1 AND expires_ms > ?2 AND last_seen_ms > ?3
                   AND operator_id IN (SELECT id FROM operators WHERE disabled_ms IS NULL)
                 RETURNING operator_id",
                params![token_hash.as_slice(), ms(now), ms(idle_since)],
                |r| r.get(0),
            )
            .optional()?;
        let raw: Option<(i64, String, String, String, String)> = match live {
            Some(id) => tx
                .query_row(
                    "SELECT id, username, name, role, password_hash FROM operators WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?,
            None => {
                // Idle, expired or its operator disabled: ended for good.
                tx.execute(
                    "DELETE FROM sessions WHERE token_hash = ?1",
                    [token_hash.as_slice()],
                )?;
                None
            }
        };
        tx.commit()?;
        raw.map(|(id, username, name, role, password_hash)| {
            Ok(Operator {
                id,
                username,
                name,
                role: role_of(&role)?,
                password_hash,
            })
        })
        .transpose()
    }

    pub(super) fn rev_end_session(&self, token_hash: &[u8; 32]) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [token_hash.as_slice()],
        )?;
        Ok(n == 1)
    }

    pub(super) fn rev_end_operator_sessions(&self, operator_id: i64) -> Result<u64> {
        let n = self
            .conn()
            .execute("DELETE FROM sessions WHERE operator_id = ?1", [operator_id])?;
        Ok(n as u64)
    }

    pub(super) fn rev_operator_state(&self, username: &str) -> Result<Option<OperatorState>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, disabled_ms FROM operators WHERE username = ?1",
                [username],
                |r| {
                    Ok(OperatorState {
                        id: r.get(0)?,
                        disabled_at: r.get::<_, Option<i64>>(1)?.map(utc),
                    })
                },
            )
            .optional()?)
    }

    pub(super) fn rev_set_operator_disabled(
        &self,
        operator_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE operators SET disabled_ms = ?1 WHERE id = ?2",
            params![at.map(ms), operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        if at.is_some() {
            tx.execute("DELETE FROM sessions WHERE operator_id = ?1", [operator_id])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn rev_set_password_hash(
        &self,
        operator_id: i64,
        password_hash: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE operators SET password_hash = ?1 WHERE id = ?2",
            params![password_hash, operator_id],
        )?;
        if n == 0 {
            return Err(bad("operator", operator_id));
        }
        tx.execute("DELETE FROM sessions WHERE operator_id = ?1", [operator_id])?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn rev_patient_devices(&self, patient: PatientId) -> Result<Vec<DeviceInfo>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{DEVICE_SELECT} WHERE d.patient_id = ?1 ORDER BY d.enrolled_ms, d.id"
        ))?;
        let raws = stmt
            .query_map([patient.to_string()], read_device)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(device_info).collect()
    }

    pub(super) fn rev_device_info(&self, id: DeviceId) -> Result<Option<DeviceInfo>> {
        let raw = self
            .conn()
            .query_row(
                &format!("{DEVICE_SELECT} WHERE d.id = ?1"),
                [id.to_string()],
                read_device,
            )
            .optional()?;
        raw.map(device_info).transpose()
    }

    pub(super) fn rev_revoke_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceInfo>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?1) WHERE id = ?2",
            params![ms(now), id.to_string()],
        )?;
        let raw = tx
            .query_row(
                &format!("{DEVICE_SELECT} WHERE d.id = ?1"),
                [id.to_string()],
                read_device,
            )
            .optional()?;
        tx.commit()?;
        raw.map(device_info).transpose()
    }

    pub(super) fn rev_cancel_enrolment_codes(
        &self,
        patient: PatientId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let n = self.conn().execute(
            "UPDATE enrolment_codes SET expires_ms = ?1
             WHERE patient_id = ?2 AND used_ms IS NULL AND expires_ms > ?1",
            params![ms(now), patient.to_string()],
        )?;
        Ok(n as u64)
    }
}

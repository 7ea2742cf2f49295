//! SQLite bodies of re-enrolment in place (`Storage::device_any`, `redeem_code_replacing`);
//! the same answers as the PostgreSQL backend (`tests/it/conformance_reenrol.rs`).

use chrono::{DateTime, Utc};
use ilot_wire::{DeviceId, PatientId};
use rusqlite::{OptionalExtension, params};

use super::rows::{bad, device_row, utc};
use super::{SqliteStorage, code_patient, register_device};
use crate::error::Result;
use crate::storage::{CodeRefusal, DeviceRow};

impl SqliteStorage {
    pub(super) fn re_device_any(&self, id: DeviceId) -> Result<Option<(DeviceRow, bool)>> {
        let conn = self.conn();
        let raw = conn
            .query_row(
                "SELECT id, patient_id, public_key, label, enrolled_ms, last_batch_seq, revoked_ms IS NOT NULL
                 FROM devices WHERE id = ?1",
                [id.to_string()],
                |r| Ok((device_row(r)?, r.get::<_, bool>(6)?)),
            )
            .optional()?;
        raw.map(|((id, patient, key, label, enrolled, last), revoked)| {
            Ok((
                DeviceRow {
                    id: id.parse().map_err(|e| bad("device id", e))?,
                    patient_id: patient.parse().map_err(|e| bad("patient id", e))?,
                    public_key: key.parse().map_err(|e| bad("device key", e))?,
                    label,
                    enrolled_at: utc(enrolled),
                    last_batch_seq: last.map(|s| s as u64),
                },
                revoked,
            ))
        })
        .transpose()
    }

    pub(super) fn re_redeem_code_replacing(
        &self,
        code: &str,
        device: &DeviceRow,
        replaces: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<PatientId, CodeRefusal>> {
        let code = &self.key.code_hash(code);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let patient = match code_patient(&tx, code, now)? {
            Ok(p) => p,
            Err(why) => return Ok(Err(why)),
        };
        let old: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT patient_id, revoked_ms FROM devices WHERE id = ?1",
                [replaces.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // Refusals return before any write: dropping the transaction leaves the code unused.
        match old {
            None => return Ok(Err(CodeRefusal::ReplacedUnknown)),
            Some((p, _)) if p != patient => return Ok(Err(CodeRefusal::OtherPatient)),
            Some((_, None)) => return Ok(Err(CodeRefusal::StillEnrolled)),
            Some(_) => {}
        }
        register_device(&tx, code, device, &patient, now)?;
        // The installation's entry ids go on under its new identity: a version the old
        // identity delivered is a duplicate when the new one sends it again, and a later
        // correction supersedes it rather than standing beside it.
        tx.execute(
            "UPDATE entries SET device_id = ?1 WHERE device_id = ?2",
            params![device.id.to_string(), replaces.to_string()],
        )?;
        tx.commit()?;
        Ok(Ok(patient.parse().map_err(|e| bad("patient id", e))?))
    }
}

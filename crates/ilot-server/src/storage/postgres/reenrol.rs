//! PostgreSQL bodies of re-enrolment in place (`Storage::device_any`, `redeem_code_replacing`);
//! the same answers as the SQLite backend (`tests/it/conformance_reenrol.rs`).

use chrono::{DateTime, Utc};
use ilot_wire::{DeviceId, PatientId};

use super::PostgresStorage;
use super::rows::{bad, device_id, patient_id, ts};
use crate::error::Result;
use crate::storage::{CodeRefusal, DeviceRow};

impl PostgresStorage {
    pub(super) fn re_device_any(&self, id: DeviceId) -> Result<Option<(DeviceRow, bool)>> {
        let row = self.client()?.query_opt(
            "SELECT id, patient_id, public_key, label, enrolled_at, last_batch_seq, revoked_at IS NOT NULL
             FROM devices WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )?;
        row.map(|r| {
            let key: String = r.get(2);
            let last: Option<i64> = r.get(5);
            Ok((
                DeviceRow {
                    id: device_id(r.get(0))?,
                    patient_id: patient_id(r.get(1))?,
                    public_key: key.parse().map_err(|e| bad("device key", e))?,
                    label: r.get(3),
                    enrolled_at: r.get(4),
                    last_batch_seq: last.map(|s| s as u64),
                },
                r.get(6),
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
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        let now = ts(now);
        // The code's row and the replaced device's are locked: of two nodes redeeming the same
        // code, one waits and then sees it used.
        let row = tx.query_opt(
            "SELECT patient_id, used_at IS NOT NULL, expires_at <= $2 FROM enrolment_codes
             WHERE code = $1 FOR UPDATE",
            &[&code, &now],
        )?;
        let Some(row) = row else {
            return Ok(Err(CodeRefusal::Unknown));
        };
        if row.get::<_, bool>(1) {
            return Ok(Err(CodeRefusal::Used));
        }
        if row.get::<_, bool>(2) {
            return Ok(Err(CodeRefusal::Expired));
        }
        let patient = patient_id(row.get(0))?;
        let old = tx.query_opt(
            "SELECT patient_id, revoked_at IS NOT NULL FROM devices WHERE id = $1 FOR UPDATE",
            &[&replaces.as_bytes().as_slice()],
        )?;
        // Refusals return before any write: the rolled-back transaction leaves the code unused.
        let Some(old) = old else {
            return Ok(Err(CodeRefusal::ReplacedUnknown));
        };
        if patient_id(old.get(0))? != patient {
            return Ok(Err(CodeRefusal::OtherPatient));
        }
        if !old.get::<_, bool>(1) {
            return Ok(Err(CodeRefusal::StillEnrolled));
        }
        tx.execute(
            "UPDATE enrolment_codes SET used_at = $2 WHERE code = $1",
            &[&code, &now],
        )?;
        tx.execute(
            "INSERT INTO devices (id, patient_id, public_key, label, enrolled_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                &device.id.as_bytes().as_slice(),
                &patient.as_bytes().as_slice(),
                &device.public_key.to_string(),
                &device.label,
                &now,
            ],
        )?;
        // The installation's entry ids go on under its new identity (see the SQLite body).
        tx.execute(
            "UPDATE entries SET device_id = $1 WHERE patient_id = $2 AND device_id = $3",
            &[
                &device.id.as_bytes().as_slice(),
                &patient.as_bytes().as_slice(),
                &replaces.as_bytes().as_slice(),
            ],
        )?;
        tx.execute(
            "UPDATE patients SET enrolled_at = $1 WHERE id = $2",
            &[&now, &patient.as_bytes().as_slice()],
        )?;
        tx.commit()?;
        Ok(Ok(patient))
    }
}

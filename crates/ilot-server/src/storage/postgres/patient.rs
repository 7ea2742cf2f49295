//! The patient page's reads of the PostgreSQL backend: a page of entries going back in time from
//! a cursor, every version of one entry, and the audit records about one patient. The answers
//! are the SQLite backend's (`tests/it/conformance.rs`).

use chrono::{DateTime, Utc};
use ilot_domain::Entry;
use ilot_wire::{DeviceId, PatientId};
use r2d2_postgres::postgres::Row;

use super::super::{AuditRow, EntryCursor, ServerEntry};
use super::PostgresStorage;
use super::rows::*;
use crate::error::Result;

const ENTRY_COLUMNS: &str =
    "e.device_id, e.entry_id, e.version, e.deleted, e.recorded_at, e.received_at, e.entry";

fn entry(r: &Row) -> Result<ServerEntry> {
    let version: i64 = r.get(2);
    let json: &str = r.get(6);
    let entry: Entry = serde_json::from_str(json)?;
    Ok(ServerEntry {
        device_id: device_id(r.get(0))?,
        entry_id: r.get(1),
        version: u32::try_from(version).map_err(|e| bad("entry version", e))?,
        deleted: r.get(3),
        recorded_at: r.get(4),
        received_at: r.get(5),
        entry,
    })
}

impl PostgresStorage {
    pub(super) fn pat_entries_before(
        &self,
        patient: PatientId,
        before: Option<EntryCursor>,
        limit: u32,
    ) -> Result<Vec<ServerEntry>> {
        let (at, device, id) = match before {
            Some(c) => (ts(c.at), c.device_id.as_bytes().to_vec(), c.entry_id),
            None => (bound(DateTime::<Utc>::MAX_UTC), Vec::new(), 0),
        };
        let rows = self.client()?.query(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM entries e
                 WHERE e.patient_id = $1 AND e.at <= $2 AND (e.at, e.device_id, e.entry_id) < ($2, $3, $4)
                   AND e.version = (SELECT MAX(x.version) FROM entries x
                                    WHERE x.patient_id = e.patient_id AND x.device_id = e.device_id AND x.entry_id = e.entry_id)
                 ORDER BY e.at DESC, e.device_id DESC, e.entry_id DESC LIMIT $5"
            ),
            &[
                &patient.as_bytes().as_slice(),
                &at,
                &device,
                &id,
                &i64::from(limit),
            ],
        )?;
        rows.iter().map(entry).collect()
    }

    pub(super) fn pat_entry_versions(
        &self,
        patient: PatientId,
        device: DeviceId,
        entry_id: i64,
    ) -> Result<Vec<ServerEntry>> {
        let rows = self.client()?.query(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM entries e
                 WHERE e.patient_id = $1 AND e.device_id = $2 AND e.entry_id = $3 ORDER BY e.version"
            ),
            &[
                &patient.as_bytes().as_slice(),
                &device.as_bytes().as_slice(),
                &entry_id,
            ],
        )?;
        rows.iter().map(entry).collect()
    }

    pub(super) fn pat_patient_audit(
        &self,
        patient: PatientId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(AuditRow, Option<String>)>> {
        let rows = self.client()?.query(
            &format!(
                "SELECT {}, o.name FROM audit a LEFT JOIN operators o ON o.id = a.operator_id
                 WHERE a.id IN (SELECT id FROM audit WHERE patient_id = $1 AND id < $2
                                UNION SELECT audit_id FROM audit_patients
                                      WHERE patient_id = $1 AND audit_id < $2)
                 ORDER BY a.id DESC LIMIT $3",
                super::limits::AUDIT_COLUMNS
            ),
            &[
                &patient.as_bytes().as_slice(),
                &before.unwrap_or(i64::MAX),
                &i64::from(limit),
            ],
        )?;
        rows.iter()
            .map(|r| Ok((super::limits::audit_row(r)?, r.get::<_, Option<String>>(7))))
            .collect()
    }

    pub(super) fn pat_record_pull(&self, device: DeviceId, cursor: u64) -> Result<()> {
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        self.client()?.execute(
            "UPDATE devices SET pulled_cursor = $2 WHERE id = $1 AND COALESCE(pulled_cursor, -1) < $2",
            &[&device.as_bytes().as_slice(), &cursor],
        )?;
        Ok(())
    }

    pub(super) fn pat_pulled_cursor(&self, patient: PatientId) -> Result<Option<u64>> {
        let c: Option<i64> = self
            .client()?
            .query_one(
                "SELECT MAX(pulled_cursor) FROM devices WHERE patient_id = $1",
                &[&patient.as_bytes().as_slice()],
            )?
            .get(0);
        Ok(c.map(|c| c as u64))
    }
}

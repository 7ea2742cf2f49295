//! The patient page's reads of the SQLite backend: a page of entries going back in time from a
//! cursor, every version of one entry, and the audit records about one patient.

use ilot_domain::Entry;
use ilot_wire::{DeviceId, PatientId};
use rusqlite::params;

use super::super::{AuditRow, EntryCursor, ServerEntry};
use super::SqliteStorage;
use super::rows::*;
use crate::error::Result;

const ENTRY_COLUMNS: &str =
    "e.device_id, e.entry_id, e.version, e.deleted, e.recorded_ms, e.received_ms, e.json";

type RawEntry = (String, i64, u32, bool, i64, i64, String);

fn read_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn entry(
    (device, id, version, deleted, recorded, received, json): RawEntry,
) -> Result<ServerEntry> {
    let entry: Entry = serde_json::from_str(&json)?;
    Ok(ServerEntry {
        device_id: device.parse().map_err(|e| bad("device id", e))?,
        entry_id: id,
        version,
        deleted,
        recorded_at: utc(recorded),
        received_at: utc(received),
        entry,
    })
}

impl SqliteStorage {
    pub(super) fn pat_entries_before(
        &self,
        patient: PatientId,
        before: Option<EntryCursor>,
        limit: u32,
    ) -> Result<Vec<ServerEntry>> {
        let (at, device, id) = match before {
            Some(c) => (ms(c.at), c.device_id.to_string(), c.entry_id),
            None => (i64::MAX, String::new(), 0),
        };
        let conn = self.conn();
        // `at_ms <= ?2` lets the (patient_id, at_ms) index bound the scan; the row value then
        // breaks ties between entries of the same millisecond.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e
             WHERE e.patient_id = ?1 AND e.at_ms <= ?2 AND (e.at_ms, e.device_id, e.entry_id) < (?2, ?3, ?4)
               AND e.version = (SELECT MAX(version) FROM entries x WHERE x.device_id = e.device_id AND x.entry_id = e.entry_id)
             ORDER BY e.at_ms DESC, e.device_id DESC, e.entry_id DESC LIMIT ?5"
        ))?;
        let rows = stmt
            .query_map(
                params![patient.to_string(), at, device, id, limit],
                read_entry,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(entry).collect()
    }

    pub(super) fn pat_entry_versions(
        &self,
        patient: PatientId,
        device: DeviceId,
        entry_id: i64,
    ) -> Result<Vec<ServerEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e
             WHERE e.device_id = ?1 AND e.entry_id = ?2 AND e.patient_id = ?3 ORDER BY e.version"
        ))?;
        let rows = stmt
            .query_map(
                params![device.to_string(), entry_id, patient.to_string()],
                read_entry,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(entry).collect()
    }

    pub(super) fn pat_patient_audit(
        &self,
        patient: PatientId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(AuditRow, Option<String>)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {}, o.name FROM audit a LEFT JOIN operators o ON o.id = a.operator_id
             WHERE a.id IN (SELECT id FROM audit WHERE patient_id = ?1 AND id < ?2
                            UNION SELECT audit_id FROM audit_patients
                                  WHERE patient_id = ?1 AND audit_id < ?2)
             ORDER BY a.id DESC LIMIT ?3",
            super::limits::AUDIT_COLUMNS
        ))?;
        let rows = stmt
            .query_map(
                params![patient.to_string(), before.unwrap_or(i64::MAX), limit],
                |r| {
                    Ok((
                        super::limits::read_audit(r)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(a, name)| Ok((super::limits::audit_row(a)?, name)))
            .collect()
    }

    pub(super) fn pat_record_pull(&self, device: DeviceId, cursor: u64) -> Result<()> {
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        self.conn().execute(
            "UPDATE devices SET pulled_cursor = ?2 WHERE id = ?1 AND COALESCE(pulled_cursor, -1) < ?2",
            params![device.to_string(), cursor],
        )?;
        Ok(())
    }

    pub(super) fn pat_pulled_cursor(&self, patient: PatientId) -> Result<Option<u64>> {
        let c: Option<i64> = self.conn().query_row(
            "SELECT MAX(pulled_cursor) FROM devices WHERE patient_id = ?1",
            [patient.to_string()],
            |r| r.get(0),
        )?;
        Ok(c.map(|c| c as u64))
    }
}

//! The SQLite body of `Storage::ingest`: one transaction holding the batch record (for
//! replays), the entry versions (deduplicated by device, entry id and version), the consent
//! change and the device's sequence number. Kept apart so that `sqlite.rs` stays readable.

use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use super::rows::*;
use crate::error::Result;
use crate::storage::{IngestBatch, IngestOutcome, StoredAck};

impl SqliteStorage {
    pub(super) fn ingest_batch(&self, b: &IngestBatch<'_>) -> Result<IngestOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let device = b.device_id.to_string();
        let patient = b.patient_id.to_string();
        let seq = i64::try_from(b.seq).map_err(|_| bad("batch seq", b.seq))?;
        let Some(last) = tx
            .query_row(
                "SELECT last_batch_seq FROM devices
                 WHERE id = ?1 AND patient_id = ?2 AND revoked_ms IS NULL",
                params![device, patient],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
        else {
            return Ok(IngestOutcome::DeviceRevoked);
        };
        if let Some(ack) = ack_of(&tx, &device, seq)? {
            return Ok(IngestOutcome::AlreadyAccepted(ack));
        }
        if let Some(last) = last.filter(|&l| l >= seq) {
            return Ok(IngestOutcome::Stale {
                last_accepted: last as u64,
            });
        }
        let tz: String =
            tx.query_row("SELECT tz FROM patients WHERE id = ?1", [&patient], |r| {
                r.get(0)
            })?;
        let tz: chrono_tz::Tz = tz.parse().map_err(|e| bad("patient time zone", e))?;
        // The consent history decides: the latest decision in time, this batch's included.
        let held = super::consent::latest(&tx, b.patient_id)?;
        let change = b
            .consent
            .map(|c| crate::storage::consent_of_device(b.device_id, &c));
        if !b.items.is_empty() && !crate::storage::may_collect(held, change.as_ref()) {
            return Ok(IngestOutcome::ConsentWithdrawn);
        }
        let closed_ms: Option<i64> = tx
            .query_row(
                "SELECT closed_ms FROM record_status WHERE patient_id = ?1",
                [&patient],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if !b.items.is_empty() && closed_ms.is_some_and(|c| ms(b.now) >= c) {
            return Ok(IngestOutcome::MonitoringEnded);
        }
        if let Some(c) = &change {
            super::consent::insert(&tx, b.patient_id, c, b.now)?;
        }
        let (mut stored, mut duplicates) = (0u32, 0u32);
        // Times of the new glucose entry versions and of their earlier versions: the days whose
        // summaries this batch changes.
        let mut touched = Vec::new();
        {
            let mut earlier = tx.prepare_cached(
                "SELECT at_ms FROM entries WHERE device_id = ?1 AND entry_id = ?2 AND version <> ?3",
            )?;
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO entries (patient_id, device_id, entry_id, version, deleted, at_ms, kind, recorded_ms, received_ms, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for it in b.items {
                let n = ins.execute(params![
                    patient,
                    device,
                    it.id,
                    it.version,
                    op_code(it.op),
                    ms(it.entry.at_utc()),
                    it.entry.kind.name(),
                    ms(it.recorded_at),
                    ms(b.now),
                    serde_json::to_string(&it.entry)?,
                ])?;
                if n == 1 {
                    if matches!(it.entry.kind, ilot_domain::EntryKind::Glucose(_)) {
                        touched.push(it.entry.at_utc());
                        if it.version > 1 {
                            for at in earlier
                                .query_map(params![device, it.id, it.version], |r| {
                                    r.get::<_, i64>(0)
                                })?
                            {
                                touched.push(utc(at?));
                            }
                        }
                    }
                    stored += 1;
                } else {
                    duplicates += 1;
                }
            }
        }
        super::triage::refresh_days(&tx, &patient, tz, &crate::summary::days_of(tz, touched))?;
        if crate::summary::changes_past_days(tz, b.now, b.items) {
            tx.execute(
                "DELETE FROM triage_observance WHERE patient_id = ?1",
                [&patient],
            )?;
        }
        let ack = StoredAck {
            digest: b.digest,
            stored,
            duplicates,
            received_at: b.now,
        };
        tx.execute(
            "INSERT INTO batches (device_id, seq, digest, stored, duplicates, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![device, seq, b.digest.as_bytes().as_slice(), stored, duplicates, ms(b.now)],
        )?;
        tx.execute(
            "UPDATE devices SET last_batch_seq = ?1 WHERE id = ?2",
            params![seq, device],
        )?;
        if !b.items.is_empty() {
            tx.execute(
                "UPDATE patients SET last_data_ms = ?1 WHERE id = ?2",
                params![ms(b.now), patient],
            )?;
        }
        tx.commit()?;
        Ok(IngestOutcome::Stored(ack))
    }
}

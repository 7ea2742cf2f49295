//! Adding, correcting and deleting entries. Each call is one transaction, with its outbox rows
//! (new entries: one batch row written by `writer.rs`; corrections and deletions: by the schema's
//! triggers, which also keep the history and widen the entry's batch time range).

use chrono::{DateTime, Utc};
use ilot_domain::{DomainError, Entry, EntryKind, MAX_FUTURE_SKEW};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::codes::{self, GlucoseCols};
use crate::error::{Result, StoreError};
use crate::writer::Writer;
use crate::{AddOutcome, BatchReport, EntryId, Store, ms};

impl Store {
    /// Stores one entry, unless the same device record or import row is already there.
    pub fn add(&mut self, entry: &Entry, now: DateTime<Utc>) -> Result<AddOutcome> {
        let tx = self.write_tx()?;
        let outcome = Writer::new(&tx, now).add_all(std::slice::from_ref(entry))?[0];
        tx.commit()?;
        Ok(outcome)
    }

    /// Stores many entries in one transaction: all of them are handled, or none is stored.
    pub fn add_batch(&mut self, entries: &[Entry], now: DateTime<Utc>) -> Result<BatchReport> {
        let tx = self.write_tx()?;
        let outcomes = Writer::new(&tx, now).add_all(entries)?;
        tx.commit()?;
        let mut report = BatchReport {
            ids: Vec::with_capacity(entries.len()),
            ..BatchReport::default()
        };
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let id = match outcome {
                AddOutcome::Added(id) => {
                    report.added += 1;
                    Some(id)
                }
                AddOutcome::Duplicate(id) => {
                    report.duplicates += 1;
                    Some(id)
                }
                AddOutcome::Conflict { existing } => {
                    report.conflicts.push((i, existing));
                    None
                }
            };
            report.ids.push(id);
        }
        Ok(report)
    }

    /// Replaces the content of entry `id` by `new`, keeping the previous version in its history.
    /// The source cannot change (a correction of a device reading is still that device's reading),
    /// nor the kind. Returns the new version number.
    pub fn correct(
        &mut self,
        id: EntryId,
        new: &Entry,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        check_not_future(new, now)?;
        let tx = self.write_tx()?;
        let current = current_state(&tx, id)?;
        let stored = crate::read::entry_at_version(&tx, id, current.version)?;
        if stored.source != new.source {
            return Err(StoreError::SourceMismatch);
        }
        let kind = codes::kind_code(&new.kind);
        if kind != current.kind {
            return Err(StoreError::KindMismatch {
                was: stored.kind.name(),
                now: new.kind.name(),
            });
        }
        let g = glucose_cols(&new.kind).map(GlucoseCols::stored);
        let detail = detail_json(&new.kind)?;
        let version = current.version + 1;
        tx.execute(
            "UPDATE entry_rows SET at_ms = ?2, utc_offset_s = ?3, g_mg_dl = ?4, g_given = ?5,
                g_code = ?6, detail = ?7, version = ?8, recorded_ms = ?9, reason = ?10
             WHERE id = ?1",
            params![
                id,
                new.at.timestamp_millis(),
                new.at.offset().local_minus_utc(),
                g.and_then(|g| g.0),
                g.and_then(|g| g.1),
                g.map(|g| g.2),
                detail,
                version,
                ms(now),
                reason,
            ],
        )?;
        tx.commit()?;
        Ok(version)
    }

    /// Marks entry `id` deleted: a new version (the tombstone) keeps its content, the previous
    /// version goes to its history. Returns the tombstone's version number.
    pub fn delete(&mut self, id: EntryId, reason: Option<&str>, now: DateTime<Utc>) -> Result<u32> {
        let tx = self.write_tx()?;
        let current = current_state(&tx, id)?;
        let version = current.version + 1;
        tx.execute(
            "UPDATE entry_rows SET deleted = 1, version = ?2, recorded_ms = ?3, reason = ?4
             WHERE id = ?1",
            params![id, version, ms(now), reason],
        )?;
        tx.commit()?;
        Ok(version)
    }

    /// An immediate transaction takes the write lock at once, so two writers queue on the busy
    /// timeout instead of failing when one upgrades its read lock.
    pub(crate) fn write_tx(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

struct Current {
    kind: u8,
    version: u32,
}

fn current_state(tx: &Transaction<'_>, id: EntryId) -> Result<Current> {
    let row = tx
        .prepare_cached("SELECT kind, version, deleted FROM entries WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, u8>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    match row {
        None => Err(StoreError::NotFound(id)),
        Some((_, _, true)) => Err(StoreError::Deleted(id)),
        Some((kind, version, false)) => Ok(Current { kind, version }),
    }
}

pub(crate) fn check_not_future(entry: &Entry, now: DateTime<Utc>) -> Result<()> {
    if entry.at_utc() > now + MAX_FUTURE_SKEW {
        return Err(StoreError::Invalid(DomainError::FutureTime {
            at: entry.at.to_rfc3339(),
            now: now.to_rfc3339(),
        }));
    }
    Ok(())
}

pub(crate) fn glucose_cols(kind: &EntryKind) -> Option<GlucoseCols> {
    match kind {
        EntryKind::Glucose(r) => Some(GlucoseCols::of(r)),
        _ => None,
    }
}

/// Glucose readings need no JSON: they are all typed columns.
pub(crate) fn detail_json(kind: &EntryKind) -> Result<Option<String>> {
    match kind {
        EntryKind::Glucose(_) => Ok(None),
        k => serde_json::to_string(k)
            .map(Some)
            .map_err(|e| StoreError::Codec(format!("entry detail: {e}"))),
    }
}

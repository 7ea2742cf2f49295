//! Adding, correcting and deleting entries. Each call is one transaction, with its outbox rows
//! (new entries: written here; corrections and deletions: by the schema's triggers, which also
//! keep the history).

use chrono::{DateTime, Utc};
use ilot_domain::{DomainError, Entry, EntryKind, MAX_FUTURE_SKEW, SourceKind};
use rusqlite::{CachedStatement, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::codes::{self, GlucoseCols};
use crate::error::{Result, StoreError};
use crate::{AddOutcome, BatchReport, EntryId, Store, ms};

const INSERT_ENTRY: &str = "INSERT INTO entries (kind, at_ms, utc_offset_s, source_kind, source_id,
        record_no, dedup_no, g_value, g_unit, g_mg_dl, g_flag, g_type, g_context, detail,
        recorded_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
    ON CONFLICT (source_id, dedup_no, kind) WHERE dedup_no IS NOT NULL DO NOTHING";

/// The outbox row of a new entry (version 1, op insert), written in the entry's transaction.
const INSERT_OUTBOX: &str = "INSERT INTO outbox (entity, entity_id, version, op, created_ms)
    VALUES (1, ?1, 1, 1, ?2)";

impl Store {
    /// Stores one entry, unless the same device record or import row is already there.
    pub fn add(&mut self, entry: &Entry, now: DateTime<Utc>) -> Result<AddOutcome> {
        let tx = self.write_tx()?;
        let outcome = Writer::new(&tx, now)?.add(entry)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Stores many entries in one transaction: all of them are handled, or none is stored.
    pub fn add_batch(&mut self, entries: &[Entry], now: DateTime<Utc>) -> Result<BatchReport> {
        let tx = self.write_tx()?;
        let mut w = Writer::new(&tx, now)?;
        let mut report = BatchReport {
            ids: Vec::with_capacity(entries.len()),
            ..BatchReport::default()
        };
        for (i, entry) in entries.iter().enumerate() {
            let id = match w.add(entry)? {
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
        drop(w);
        tx.commit()?;
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
        let g = glucose_cols(&new.kind);
        let detail = detail_json(&new.kind)?;
        let version = current.version + 1;
        tx.execute(
            "UPDATE entries SET at_ms = ?2, utc_offset_s = ?3, g_value = ?4, g_unit = ?5,
                g_mg_dl = ?6, g_flag = ?7, g_type = ?8, g_context = ?9, detail = ?10,
                version = ?11, recorded_ms = ?12, reason = ?13
             WHERE id = ?1",
            params![
                id,
                new.at.timestamp_millis(),
                new.at.offset().local_minus_utc(),
                g.and_then(|g| g.value),
                g.and_then(|g| g.unit),
                g.and_then(|g| g.mg_dl),
                g.map(|g| g.flag),
                g.map(|g| g.reading_type),
                g.map(|g| g.context),
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
            "UPDATE entries SET deleted = 1, version = ?2, recorded_ms = ?3, reason = ?4
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

fn check_not_future(entry: &Entry, now: DateTime<Utc>) -> Result<()> {
    if entry.at_utc() > now + MAX_FUTURE_SKEW {
        return Err(StoreError::Invalid(DomainError::FutureTime {
            at: entry.at.to_rfc3339(),
            now: now.to_rfc3339(),
        }));
    }
    Ok(())
}

fn glucose_cols(kind: &EntryKind) -> Option<GlucoseCols> {
    match kind {
        EntryKind::Glucose(r) => Some(GlucoseCols::of(r)),
        _ => None,
    }
}

/// Glucose readings need no JSON: they are all typed columns.
fn detail_json(kind: &EntryKind) -> Result<Option<String>> {
    match kind {
        EntryKind::Glucose(_) => Ok(None),
        k => serde_json::to_string(k)
            .map(Some)
            .map_err(|e| StoreError::Codec(format!("entry detail: {e}"))),
    }
}

/// The key under which a re-download or re-import of the same data is recognised: the device's
/// record number, or for a file import the time of the row as first recorded. Manual entries and
/// sources without a device id have none.
fn dedup_no(entry: &Entry) -> Option<i64> {
    let src = &entry.source;
    src.device.as_ref()?;
    match src.kind {
        SourceKind::Meter | SourceKind::Cgm => src.record_number.map(i64::from),
        SourceKind::Import => Some(entry.at.timestamp_millis()),
        SourceKind::Manual => None,
    }
}

/// The per-transaction write path: statements prepared once per transaction and a cache of
/// source ids, so that the common case (many readings from one device) costs one entry INSERT
/// and one outbox INSERT, with parameters bound directly (no per-row allocation on the glucose
/// path).
struct Writer<'t> {
    tx: &'t Transaction<'t>,
    insert: CachedStatement<'t>,
    outbox: CachedStatement<'t>,
    now_ms: i64,
    now: DateTime<Utc>,
    sources: Vec<(u8, String, i64)>,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t Transaction<'t>, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self {
            tx,
            insert: tx.prepare_cached(INSERT_ENTRY)?,
            outbox: tx.prepare_cached(INSERT_OUTBOX)?,
            now_ms: ms(now),
            now,
            sources: Vec::new(),
        })
    }

    fn add(&mut self, entry: &Entry) -> Result<AddOutcome> {
        check_not_future(entry, self.now)?;
        let source_kind = codes::source_kind_code(entry.source.kind);
        let device = entry.source.device.as_ref().map_or("", |d| d.as_str());
        let source_id = self.source_id(source_kind, device)?;
        let kind = codes::kind_code(&entry.kind);
        let dedup = dedup_no(entry);
        let g = glucose_cols(&entry.kind);
        let detail = detail_json(&entry.kind)?;
        let st = &mut self.insert;
        st.raw_bind_parameter(1, kind)?;
        st.raw_bind_parameter(2, entry.at.timestamp_millis())?;
        st.raw_bind_parameter(3, entry.at.offset().local_minus_utc())?;
        st.raw_bind_parameter(4, source_kind)?;
        st.raw_bind_parameter(5, source_id)?;
        st.raw_bind_parameter(6, entry.source.record_number)?;
        st.raw_bind_parameter(7, dedup)?;
        st.raw_bind_parameter(8, g.and_then(|g| g.value))?;
        st.raw_bind_parameter(9, g.and_then(|g| g.unit))?;
        st.raw_bind_parameter(10, g.and_then(|g| g.mg_dl))?;
        st.raw_bind_parameter(11, g.map(|g| g.flag))?;
        st.raw_bind_parameter(12, g.map(|g| g.reading_type))?;
        st.raw_bind_parameter(13, g.map(|g| g.context))?;
        st.raw_bind_parameter(14, detail)?;
        st.raw_bind_parameter(15, self.now_ms)?;
        if st.raw_execute()? == 1 {
            let id = self.tx.last_insert_rowid();
            self.outbox.raw_bind_parameter(1, id)?;
            self.outbox.raw_bind_parameter(2, self.now_ms)?;
            self.outbox.raw_execute()?;
            return Ok(AddOutcome::Added(id));
        }
        // Only the dedup key can make the upsert skip a row, so `dedup` is set here.
        let existing: EntryId = self
            .tx
            .prepare_cached(
                "SELECT id FROM entries WHERE source_id = ?1 AND dedup_no = ?2 AND kind = ?3",
            )?
            .query_row(params![source_id, dedup, kind], |r| r.get(0))?;
        // The incoming data is compared with the entry as first stored, so that re-downloading a
        // reading the person has since corrected or deleted is a duplicate, not a conflict.
        let original = crate::read::entry_at_version(self.tx, existing, 1)?;
        if original == codes::normalized(entry) {
            Ok(AddOutcome::Duplicate(existing))
        } else {
            Ok(AddOutcome::Conflict { existing })
        }
    }

    fn source_id(&mut self, kind: u8, device: &str) -> Result<i64> {
        if let Some((_, _, id)) = self
            .sources
            .iter()
            .find(|(k, d, _)| *k == kind && d == device)
        {
            return Ok(*id);
        }
        let found = self
            .tx
            .prepare_cached("SELECT id FROM sources WHERE kind = ?1 AND device = ?2")?
            .query_row(params![kind, device], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                self.tx
                    .prepare_cached("INSERT INTO sources (kind, device) VALUES (?1, ?2)")?
                    .execute(params![kind, device])?;
                self.tx.last_insert_rowid()
            }
        };
        self.sources.push((kind, device.to_string(), id));
        Ok(id)
    }
}

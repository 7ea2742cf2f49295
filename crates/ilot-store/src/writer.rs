//! The insert path for new entries, inside the caller's transaction: one B-tree insert per new
//! entry, plus per transaction one `batches` row per (source, kind) group and one outbox row.
//! Must not commit, and must not write anything for an entry that is a duplicate or a conflict.
//!
//! Entries are inserted in id order (a stable sort of the input, so that of two inputs with the
//! same key the first is stored and the second compared with it). That makes each group's new
//! entries one id run with consecutive outbox item numbers (`seq`), which `batches` then
//! describes exactly, and makes inserts of device data appends to the B-tree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ilot_domain::{Entry, SourceKind};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::codes::{self, GlucoseCols};
use crate::error::{Result, StoreError};
use crate::ids::{self, KeyType};
use crate::write::{check_not_future, detail_json, glucose_cols};
use crate::{AddOutcome, EntryId, ms};

const INSERT_ENTRY: &str = "INSERT INTO entry_rows (id, seq, key_type, at_ms, utc_offset_s, rec,
        g_mg_dl, g_given, g_code, detail, recorded_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
    ON CONFLICT (id) DO NOTHING";

/// One input entry with its id, before insertion.
struct Planned {
    id: EntryId,
    index: usize,
    key_type: KeyType,
}

/// New entries of one (source, kind) in this transaction (at most [`CHUNK`]): a future `batches`
/// row.
struct Group {
    group: i64,
    first_seq: i64,
    last_seq: i64,
    min_id: EntryId,
    max_id: EntryId,
    min_at_ms: i64,
    max_at_ms: i64,
}

pub(crate) struct Writer<'t> {
    tx: &'t Transaction<'t>,
    now: DateTime<Utc>,
    now_ms: i64,
    /// (source kind code, device, key type) → source id, for this transaction.
    sources: Vec<(u8, String, KeyType, i64)>,
    /// Next counter key per (source, kind) group without a dedup key.
    counters: HashMap<i64, i64>,
}

impl<'t> Writer<'t> {
    pub fn new(tx: &'t Transaction<'t>, now: DateTime<Utc>) -> Self {
        Self {
            tx,
            now,
            now_ms: ms(now),
            sources: Vec::new(),
            counters: HashMap::new(),
        }
    }

    /// Stores the entries that are new; returns what happened to each, in input order.
    pub fn add_all(&mut self, entries: &[Entry]) -> Result<Vec<AddOutcome>> {
        let mut plan = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            check_not_future(entry, self.now)?;
            let (id, key_type) = self.id_of(entry)?;
            plan.push(Planned {
                id,
                index,
                key_type,
            });
        }
        plan.sort_by_key(|p| p.id);

        let first_seq: i64 = self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM outbox")?
            .query_row([], |r| r.get(0))?;
        let mut next_seq = first_seq;
        let mut outcomes = vec![AddOutcome::Added(0); entries.len()];
        let mut groups: Vec<Group> = Vec::new();
        let mut insert = self.tx.prepare_cached(INSERT_ENTRY)?;
        for p in &plan {
            let entry = &entries[p.index];
            let at_ms = entry.at.timestamp_millis();
            let g = glucose_cols(&entry.kind).map(GlucoseCols::stored);
            let rec = match p.key_type {
                KeyType::Record => None,
                _ => entry.source.record_number,
            };
            insert.raw_bind_parameter(1, p.id)?;
            insert.raw_bind_parameter(2, next_seq)?;
            insert.raw_bind_parameter(3, p.key_type.code())?;
            insert.raw_bind_parameter(4, at_ms)?;
            insert.raw_bind_parameter(5, entry.at.offset().local_minus_utc())?;
            insert.raw_bind_parameter(6, rec)?;
            insert.raw_bind_parameter(7, g.and_then(|g| g.0))?;
            insert.raw_bind_parameter(8, g.and_then(|g| g.1))?;
            insert.raw_bind_parameter(9, g.map(|g| g.2))?;
            insert.raw_bind_parameter(10, detail_json(&entry.kind)?)?;
            insert.raw_bind_parameter(11, self.now_ms)?;
            if insert.raw_execute()? == 1 {
                note_added(&mut groups, p.id, next_seq, at_ms);
                next_seq += 1;
                outcomes[p.index] = AddOutcome::Added(p.id);
            } else {
                outcomes[p.index] = self.existing(p.id, entry)?;
            }
        }
        drop(insert);
        if next_seq > first_seq {
            self.record_batch(&groups, first_seq, next_seq - 1)?;
        }
        Ok(outcomes)
    }

    /// The batch map rows and the one outbox row of this transaction's new entries.
    fn record_batch(&self, groups: &[Group], first_seq: i64, last_seq: i64) -> Result<()> {
        let mut batch = self.tx.prepare_cached(
            "INSERT INTO batches (last_seq, first_seq, min_id, max_id, min_at_ms, max_at_ms,
                created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for g in groups {
            batch.execute(params![
                g.last_seq,
                g.first_seq,
                g.min_id,
                g.max_id,
                g.min_at_ms,
                g.max_at_ms,
                self.now_ms
            ])?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO outbox (seq, first_seq, entity, entity_id, version, op, created_ms,
                    pending_from)
                 VALUES (?1, ?2, 4, ?2, 1, 1, ?3, ?2)",
            )?
            .execute(params![last_seq, first_seq, self.now_ms])?;
        Ok(())
    }

    /// The PRIMARY KEY refused the insert, so an entry with this id exists: the same device
    /// record or import row. The incoming data is compared with the entry as first stored, so that
    /// re-downloading a reading the person has since corrected or deleted is a duplicate, not a
    /// conflict.
    fn existing(&self, id: EntryId, entry: &Entry) -> Result<AddOutcome> {
        let original = crate::read::entry_at_version(self.tx, id, 1)?;
        if original == codes::normalized(entry) {
            Ok(AddOutcome::Duplicate(id))
        } else {
            Ok(AddOutcome::Conflict { existing: id })
        }
    }

    /// The entry's id: its dedup key, or for sources without one the next counter value.
    fn id_of(&mut self, entry: &Entry) -> Result<(EntryId, KeyType)> {
        let src = &entry.source;
        let key_type = match (src.kind, &src.device, src.record_number) {
            (SourceKind::Meter | SourceKind::Cgm, Some(_), Some(_)) => KeyType::Record,
            (SourceKind::Import, Some(_), _) => KeyType::ImportSecond,
            _ => KeyType::Counter,
        };
        let source_kind = codes::source_kind_code(src.kind);
        let device = src.device.as_ref().map_or("", |d| d.as_str());
        let source_id = self.source_id(source_kind, device, key_type)?;
        let kind = codes::kind_code(&entry.kind);
        let key = match (key_type, src.record_number) {
            (KeyType::Record, Some(n)) => i64::from(n),
            (KeyType::ImportSecond, _) => ids::import_key(&entry.at)?,
            _ => self.next_counter(source_id, kind)?,
        };
        Ok((ids::pack(source_id, kind, key), key_type))
    }

    /// Next = highest id of the (source, kind) range + 1: one rowid seek, no index.
    fn next_counter(&mut self, source_id: i64, kind: u8) -> Result<i64> {
        let (lo, hi) = ids::range(source_id, kind);
        let group = ids::group(lo);
        let next = match self.counters.get(&group) {
            Some(&n) => n,
            None => self
                .tx
                .prepare_cached(
                    "SELECT id FROM entry_rows WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT 1",
                )?
                .query_row([lo, hi], |r| r.get::<_, i64>(0))
                .optional()?
                .map_or(0, |last| last - lo + 1),
        };
        if next > ids::MAX_KEY {
            return Err(StoreError::Codec(format!(
                "source {source_id} has no entry number left for kind {kind}"
            )));
        }
        self.counters.insert(group, next + 1);
        Ok(next)
    }

    fn source_id(&mut self, kind: u8, device: &str, key: KeyType) -> Result<i64> {
        if let Some((.., id)) = self
            .sources
            .iter()
            .find(|(k, d, t, _)| *k == kind && d == device && *t == key)
        {
            return Ok(*id);
        }
        let found = self
            .tx
            .prepare_cached("SELECT id FROM sources WHERE kind = ?1 AND device = ?2 AND key = ?3")?
            .query_row(params![kind, device, key.code()], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                // Sources are never erased, so the highest id is their number.
                let last: i64 = self
                    .tx
                    .prepare_cached("SELECT coalesce(max(id), 0) FROM sources")?
                    .query_row([], |r| r.get(0))?;
                if last >= ids::MAX_SOURCE_ID {
                    return Err(StoreError::TooManySources);
                }
                self.tx
                    .prepare_cached("INSERT INTO sources (kind, device, key) VALUES (?1, ?2, ?3)")?
                    .execute(params![kind, device, key.code()])?;
                self.tx.last_insert_rowid()
            }
        };
        self.sources.push((kind, device.to_string(), key, id));
        Ok(id)
    }
}

/// Most entries in one `batches` row: a time window reads whole rows' id ranges, so this bounds
/// what a 14-day window over a year-long batch reads beyond it (1,024 one-minute readings are
/// 17 hours), for one batch-map row per 1,024 readings.
const CHUNK: i64 = 1024;

/// Entries arrive in id order, so a group is a run of equal `ids::group`, cut every [`CHUNK`].
fn note_added(groups: &mut Vec<Group>, id: EntryId, seq: i64, at_ms: i64) {
    if let Some(g) = groups
        .last_mut()
        .filter(|g| g.group == ids::group(id) && g.last_seq - g.first_seq + 1 < CHUNK)
    {
        g.last_seq = seq;
        g.max_id = id;
        g.min_at_ms = g.min_at_ms.min(at_ms);
        g.max_at_ms = g.max_at_ms.max(at_ms);
        return;
    }
    groups.push(Group {
        group: ids::group(id),
        first_seq: seq,
        last_seq: seq,
        min_id: id,
        max_id: id,
        min_at_ms: at_ms,
        max_at_ms: at_ms,
    });
}

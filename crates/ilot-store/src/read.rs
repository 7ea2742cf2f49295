//! Read queries: stored entries with their history, and the plain time-sorted points the rules
//! take as input. Time windows are half-open, `[from, to)`; `None` leaves that side open.
//!
//! There is no time index on entries (it would be a second B-tree insert per reading): a window
//! reads the `batches` whose time range overlaps it (through their small index), then each
//! batch's entries by rowid range, keeping those of the batch (`seq` in its range) that are in
//! the window. Every entry is in exactly one batch, so none is read twice.

use chrono::{DateTime, Utc};
use ilot_domain::{Entry, EntryKind};
use ilot_rules::{GlucosePoint, HypoReport, InsulinPoint, Level};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::codes::{
    self, EntryRow, FLAG_HI, FLAG_LO, FLAG_VALUE, GlucoseCols, KIND_GLUCOSE, KIND_HYPO,
    KIND_INSULIN, READING_INTERSTITIAL, READING_SCAN,
};
use crate::error::{Result, StoreError};
use crate::{EntryId, Store, StoredEntry, utc_from_ms};

/// Columns of a current version; `HISTORY_SELECT` lists the same ones in the same order.
const ENTRY_SELECT: &str = "SELECT e.id, e.version, e.deleted, e.recorded_ms, e.reason, e.kind,
        e.at_ms, e.utc_offset_s, s.kind, s.device, e.record_no, e.g_value, e.g_unit, e.g_mg_dl,
        e.g_flag, e.g_type, e.g_context, e.detail
    FROM entries e JOIN sources s ON s.id = e.source_id";

const HISTORY_SELECT: &str = "SELECT h.entry_id, h.version, h.deleted, h.recorded_ms, h.reason,
        h.kind, h.at_ms, h.utc_offset_s, s.kind, s.device, e.record_no, h.g_value, h.g_unit,
        h.g_mg_dl, h.g_flag, h.g_type, h.g_context, h.detail
    FROM entry_history h JOIN entries e ON e.id = h.entry_id JOIN sources s ON s.id = e.source_id";

/// A row as read, before the fallible conversion into domain types.
struct RawStored {
    id: EntryId,
    version: u32,
    deleted: bool,
    recorded_ms: i64,
    reason: Option<String>,
    row: EntryRow,
}

impl RawStored {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        let kind: u8 = r.get(5)?;
        let glucose = if kind == KIND_GLUCOSE {
            Some(GlucoseCols {
                value: r.get(11)?,
                unit: r.get(12)?,
                mg_dl: r.get(13)?,
                flag: r.get(14)?,
                reading_type: r.get(15)?,
                context: r.get(16)?,
            })
        } else {
            None
        };
        Ok(Self {
            id: r.get(0)?,
            version: r.get(1)?,
            deleted: r.get(2)?,
            recorded_ms: r.get(3)?,
            reason: r.get(4)?,
            row: EntryRow {
                kind,
                at_ms: r.get(6)?,
                offset_s: r.get(7)?,
                source_kind: r.get(8)?,
                device: r.get(9)?,
                record_no: r.get(10)?,
                glucose,
                detail: r.get(17)?,
            },
        })
    }

    fn stored(self) -> Result<StoredEntry> {
        Ok(StoredEntry {
            id: self.id,
            version: self.version,
            deleted: self.deleted,
            recorded_at: utc_from_ms(self.recorded_ms)?,
            entry: self.row.into_entry()?,
            reason: self.reason,
        })
    }
}

/// The entries of the batches overlapping `[?1, ?2)` that are in it, with `bk` the batches'
/// kind (every entry of a batch has its kind). CROSS JOIN keeps batches as the outer loop, so
/// that entries are only ever read by rowid range.
const WINDOW: &str = "FROM batches b CROSS JOIN entries e
        ON e.id BETWEEN b.min_id AND b.max_id AND e.seq BETWEEN b.first_seq AND b.last_seq
    WHERE b.max_at_ms >= ?1 AND b.min_at_ms < ?2 AND e.at_ms >= ?1 AND e.at_ms < ?2";

/// [`WINDOW`] with each entry's source.
const WINDOW_WITH_SOURCE: &str = "FROM batches b CROSS JOIN entries e
        ON e.id BETWEEN b.min_id AND b.max_id AND e.seq BETWEEN b.first_seq AND b.last_seq
        JOIN sources s ON s.id = e.source_id
    WHERE b.max_at_ms >= ?1 AND b.min_at_ms < ?2 AND e.at_ms >= ?1 AND e.at_ms < ?2";

/// The kind code of a batch's entries, as SQL.
const BATCH_KIND: &str = "((b.min_id >> 40) & 15)";

fn bounds(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> (i64, i64) {
    (
        from.map_or(i64::MIN, crate::ms),
        to.map_or(i64::MAX, crate::ms),
    )
}

/// The content of version `version` of entry `id`, current or superseded.
pub(crate) fn entry_at_version(conn: &Connection, id: EntryId, version: u32) -> Result<Entry> {
    let sql = format!("{HISTORY_SELECT} WHERE h.entry_id = ?1 AND h.version = ?2");
    let old = conn
        .prepare_cached(&sql)?
        .query_row(params![id, version], RawStored::read)
        .optional()?;
    let raw = match old {
        Some(raw) => raw,
        None => {
            let sql = format!("{ENTRY_SELECT} WHERE e.id = ?1 AND e.version = ?2");
            conn.prepare_cached(&sql)?
                .query_row(params![id, version], RawStored::read)
                .optional()?
                .ok_or(StoreError::NotFound(id))?
        }
    };
    raw.row.into_entry()
}

impl Store {
    /// The current version of entry `id` (a tombstone if it was deleted).
    pub fn get(&self, id: EntryId) -> Result<Option<StoredEntry>> {
        let sql = format!("{ENTRY_SELECT} WHERE e.id = ?1");
        self.conn
            .prepare_cached(&sql)?
            .query_row([id], RawStored::read)
            .optional()?
            .map(RawStored::stored)
            .transpose()
    }

    /// Every version of entry `id`, oldest first, the current one last.
    pub fn history(&self, id: EntryId) -> Result<Vec<StoredEntry>> {
        let current = self.get(id)?.ok_or(StoreError::NotFound(id))?;
        let sql = format!("{HISTORY_SELECT} WHERE h.entry_id = ?1 ORDER BY h.version");
        let mut out = self
            .conn
            .prepare_cached(&sql)?
            .query_map([id], RawStored::read)?
            .map(|r| r.map_err(StoreError::from).and_then(RawStored::stored))
            .collect::<Result<Vec<_>>>()?;
        out.push(current);
        Ok(out)
    }

    /// Current versions of entries in `[from, to)`, by time; `kind` is a name such as `glucose`
    /// or `insulin`. Deleted entries (their tombstones) only with `include_deleted`.
    pub fn entries(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        kind: Option<&str>,
        include_deleted: bool,
    ) -> Result<Vec<StoredEntry>> {
        let kind = kind.map(codes::kind_code_by_name).transpose()?;
        let (from, to) = bounds(from, to);
        let sql = format!(
            "SELECT e.id, e.version, e.deleted, e.recorded_ms, e.reason, e.kind, e.at_ms,
                e.utc_offset_s, s.kind, s.device, e.record_no, e.g_value, e.g_unit, e.g_mg_dl,
                e.g_flag, e.g_type, e.g_context, e.detail
             {WINDOW_WITH_SOURCE} AND (?3 IS NULL OR {BATCH_KIND} = ?3) AND (?4 OR +e.deleted = 0)
             ORDER BY e.at_ms, e.id"
        );
        self.conn
            .prepare_cached(&sql)?
            .query_map(params![from, to, kind, include_deleted], RawStored::read)?
            .map(|r| r.map_err(StoreError::from).and_then(RawStored::stored))
            .collect()
    }

    /// Glucose readings in `[from, to)` that are not deleted, by time. `cgm` is set for a
    /// sensor's history (interstitial readings), `scan` for flash sensor scans.
    pub fn glucose_points(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<GlucosePoint>> {
        let (from, to) = bounds(from, to);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT e.id, e.at_ms, e.g_flag, e.g_mg_dl, e.g_type, e.g_context
                 {WINDOW} AND {BATCH_KIND} = {KIND_GLUCOSE} AND +e.deleted = 0"
        ))?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, u8>(2)?,
                r.get::<_, Option<f64>>(3)?,
                r.get::<_, u8>(4)?,
                r.get::<_, u8>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at_ms, flag, mg_dl, reading_type, context) = row?;
            let level = match (flag, mg_dl) {
                (FLAG_VALUE, Some(v)) => Level::MgDl(v),
                (FLAG_LO, _) => Level::Lo,
                (FLAG_HI, _) => Level::Hi,
                _ => {
                    return Err(StoreError::Codec(format!(
                        "glucose entry {id} has flag {flag} without a value"
                    )));
                }
            };
            out.push(GlucosePoint {
                id: entry_ref(id)?,
                at: utc_from_ms(at_ms)?,
                level,
                cgm: reading_type == READING_INTERSTITIAL,
                scan: reading_type == READING_SCAN,
                context: codes::context_from(context)?,
            });
        }
        // Sorted here rather than by SQL: the batches come by time and a device's records mostly
        // are, so the rows arrive nearly sorted, which a merge sort finishes in one pass, where
        // SQLite's sorter would sort a year of readings from scratch (measured twice as slow).
        out.sort_by_key(|p| (p.at, p.id));
        Ok(out)
    }

    /// Insulin doses in `[from, to)` that are not deleted, by time.
    pub fn insulin_points(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<InsulinPoint>> {
        self.details_of_kind(KIND_INSULIN, from, to, |id, at, kind| match kind {
            EntryKind::Insulin(d) => Some(InsulinPoint {
                id,
                at,
                kind: d.kind,
                units: d.units(),
            }),
            _ => None,
        })
    }

    /// Hypoglycaemias the patient reported in `[from, to)`, not deleted, by time, with the
    /// glucose measured with them.
    pub fn hypo_reports(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<HypoReport>> {
        self.details_of_kind(KIND_HYPO, from, to, |id, at, kind| match kind {
            EntryKind::Hypo(h) => Some(HypoReport {
                id,
                at,
                needed_help: h.needed_help,
                // The measured glucose counts like a capillary reading (SPEC §3).
                glucose: h.glucose.map(|g| Level::MgDl(g.mg_dl())),
            }),
            _ => None,
        })
    }

    /// Times of every other entry (carbohydrates, ketones, weight, HbA1c, activity, notes) in
    /// `[from, to)`, not deleted, by time: for the rules they count as data received.
    pub fn other_entry_times(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<DateTime<Utc>>> {
        self.times_where("NOT IN (1, 2, 4, 10)", from, to)
    }

    /// Times of the therapeutic-education sessions (first-month accompaniment) in `[from, to)`.
    pub fn education_session_times(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<DateTime<Utc>>> {
        self.times_where("= 10", from, to)
    }

    /// Times of the entries whose kind code matches `kinds` (a constant SQL condition), by time.
    fn times_where(
        &self,
        kinds: &'static str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<DateTime<Utc>>> {
        let (from, to) = bounds(from, to);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT e.at_ms {WINDOW} AND {BATCH_KIND} {kinds} AND +e.deleted = 0
             ORDER BY e.at_ms, e.id"
        ))?;
        let rows = stmt.query_map(params![from, to], |r| r.get::<_, i64>(0))?;
        rows.map(|r| utc_from_ms(r?)).collect()
    }

    /// Time of the latest entry that is not deleted: the batches with the latest time ranges
    /// first, until no remaining batch can hold a later one.
    pub fn last_entry_at(&self) -> Result<Option<DateTime<Utc>>> {
        let mut batches = self.conn.prepare_cached(
            "SELECT first_seq, last_seq, min_id, max_id, max_at_ms FROM batches
             ORDER BY max_at_ms DESC",
        )?;
        let mut latest = self.conn.prepare_cached(
            "SELECT max(at_ms) FROM entry_rows
             WHERE id BETWEEN ?1 AND ?2 AND seq BETWEEN ?3 AND ?4 AND deleted = 0",
        )?;
        let mut best: Option<i64> = None;
        let mut rows = batches.query([])?;
        while let Some(r) = rows.next()? {
            let max_at: i64 = r.get(4)?;
            if best.is_some_and(|b| b >= max_at) {
                break;
            }
            let found: Option<i64> = latest.query_row(
                params![
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?
                ],
                |r| r.get(0),
            )?;
            best = best.max(found);
        }
        best.map(utc_from_ms).transpose()
    }

    /// Number of entries that are not deleted.
    pub fn count_entries(&self) -> Result<u64> {
        crate::outbox::count(&self.conn, "SELECT count(*) FROM entries WHERE deleted = 0")
    }

    fn details_of_kind<T>(
        &self,
        kind: u8,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        pick: impl Fn(u64, DateTime<Utc>, EntryKind) -> Option<T>,
    ) -> Result<Vec<T>> {
        let (from, to) = bounds(from, to);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT e.id, e.at_ms, e.detail {WINDOW} AND {BATCH_KIND} = ?3 AND +e.deleted = 0
                 ORDER BY e.at_ms, e.id"
        ))?;
        let rows = stmt.query_map(params![from, to, kind], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at_ms, json) = row?;
            let detail: EntryKind = serde_json::from_str(&json)
                .map_err(|e| StoreError::Codec(format!("entry {id} detail: {e}")))?;
            let name = detail.name();
            let point = pick(entry_ref(id)?, utc_from_ms(at_ms)?, detail).ok_or_else(|| {
                StoreError::Codec(format!("entry {id} has kind code {kind} but holds {name}"))
            })?;
            out.push(point);
        }
        Ok(out)
    }
}

fn entry_ref(id: EntryId) -> Result<u64> {
    u64::try_from(id).map_err(|_| StoreError::Codec(format!("negative entry id {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite picks for a window: batches outside, entries by rowid range inside, never
    /// a scan of entries or an automatic index on them.
    fn plan(store: &Store, sql: &str) -> String {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt
            .query_map(params![0i64, 1i64, 1i64, false], |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn windows_read_entries_by_rowid_range() {
        let s = Store::open_in_memory().unwrap();
        for sql in [
            format!("SELECT e.id, e.g_flag {WINDOW} AND {BATCH_KIND} = ?3 AND +e.deleted = ?4"),
            format!(
                "SELECT e.id, s.device {WINDOW_WITH_SOURCE}
                 AND (?3 IS NULL OR {BATCH_KIND} = ?3) AND (?4 OR +e.deleted = 0)"
            ),
        ] {
            let p = plan(&s, &sql);
            assert!(p.starts_with("SEARCH b USING INDEX batches_at"), "{p}");
            assert!(
                p.contains("SEARCH entry_rows USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
                "{p}"
            );
            assert!(
                !p.contains("SCAN entry_rows") && !p.contains("AUTOMATIC"),
                "{p}"
            );
        }
    }
}

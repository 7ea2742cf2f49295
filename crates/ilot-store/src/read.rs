//! Read queries: stored entries with their history, and the plain time-sorted points the rules
//! take as input. Time windows are half-open, `[from, to)`; `None` leaves that side open.

use chrono::{DateTime, Utc};
use ilot_domain::{Entry, EntryKind};
use ilot_rules::{GlucosePoint, HypoReport, InsulinPoint, Level};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::codes::{
    self, EntryRow, FLAG_HI, FLAG_LO, FLAG_VALUE, GlucoseCols, KIND_GLUCOSE, KIND_HYPO,
    KIND_INSULIN, READING_INTERSTITIAL,
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
            "{ENTRY_SELECT} WHERE e.at_ms >= ?1 AND e.at_ms < ?2 AND (?3 IS NULL OR e.kind = ?3)
                AND (?4 OR e.deleted = 0)
             ORDER BY e.at_ms, e.id"
        );
        self.conn
            .prepare_cached(&sql)?
            .query_map(params![from, to, kind, include_deleted], RawStored::read)?
            .map(|r| r.map_err(StoreError::from).and_then(RawStored::stored))
            .collect()
    }

    /// Glucose readings in `[from, to)` that are not deleted, by time. `cgm` is set for
    /// interstitial readings.
    pub fn glucose_points(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<GlucosePoint>> {
        let (from, to) = bounds(from, to);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at_ms, g_flag, g_mg_dl, g_type, g_context FROM entries
             WHERE kind = 1 AND deleted = 0 AND at_ms >= ?1 AND at_ms < ?2
             ORDER BY at_ms, id",
        )?;
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
                context: codes::context_from(context)?,
            });
        }
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

    /// Hypoglycaemias the patient reported in `[from, to)`, not deleted, by time.
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
        self.times_where("kind NOT IN (1, 2, 4, 10)", from, to)
    }

    /// Times of the therapeutic-education sessions (first-month accompaniment) in `[from, to)`.
    pub fn education_session_times(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<DateTime<Utc>>> {
        self.times_where("kind = 10", from, to)
    }

    /// Times of the entries matching `kinds` (a constant SQL condition on `kind`), by time.
    fn times_where(
        &self,
        kinds: &'static str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<DateTime<Utc>>> {
        let (from, to) = bounds(from, to);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT at_ms FROM entries
             WHERE {kinds} AND deleted = 0 AND at_ms >= ?1 AND at_ms < ?2
             ORDER BY at_ms, id"
        ))?;
        let rows = stmt.query_map(params![from, to], |r| r.get::<_, i64>(0))?;
        rows.map(|r| utc_from_ms(r?)).collect()
    }

    /// Time of the latest entry that is not deleted.
    pub fn last_entry_at(&self) -> Result<Option<DateTime<Utc>>> {
        self.conn
            .prepare_cached(
                "SELECT at_ms FROM entries WHERE deleted = 0 ORDER BY at_ms DESC LIMIT 1",
            )?
            .query_row([], |r| r.get::<_, i64>(0))
            .optional()?
            .map(utc_from_ms)
            .transpose()
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at_ms, detail FROM entries
             WHERE kind = ?1 AND deleted = 0 AND at_ms >= ?2 AND at_ms < ?3
             ORDER BY at_ms, id",
        )?;
        let rows = stmt.query_map(params![kind, from, to], |r| {
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

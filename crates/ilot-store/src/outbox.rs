//! The outbox: every change to entries, the profile and the prescription, in commit order, for the
//! sync engine. Rows are appended in the transaction of the change itself (by the write path or
//! by triggers), so a committed change always has its outbox row; this module only reads them and
//! records sending.
//!
//! The new entries of one write transaction share one outbox row (entity 4, a batch) instead of
//! one row each: each of them is still its own [`OutboxItem`], numbered by the entry's `seq`, so
//! the items the sync engine sees are the same as with one row per change. What of a batch was
//! sent is the row's `pending_from` (every item below it) plus `outbox_sent` for the items sent
//! ahead of an earlier unsent one.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::{EntryId, Store, ms, utc_from_ms};

/// Outbox `entity` of a batch of new entries.
const ENTITY_BATCH: u8 = 4;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxTarget {
    Entry(EntryId),
    Profile,
    Prescription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxOp {
    Insert,
    Update,
    Delete,
}

/// One change waiting to be sent. The content is the `version` of the target (for an entry:
/// [`Store::history`] holds every version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub target: OutboxTarget,
    pub version: u32,
    pub op: OutboxOp,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The oldest `limit` changes not yet sent, in the order they were made (the new entries of
    /// one transaction in id order).
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, first_seq, entity, entity_id, version, op, created_ms, pending_from
             FROM outbox WHERE seq >= ?1 AND sent_ms IS NULL ORDER BY seq",
        )?;
        let mut rows = stmt.query([outbox_floor(&self.conn)?])?;
        while out.len() < limit {
            let Some(r) = rows.next()? else { break };
            let row = Row {
                seq: r.get(0)?,
                first_seq: r.get(1)?,
                entity: r.get(2)?,
                entity_id: r.get(3)?,
                version: r.get(4)?,
                op: r.get(5)?,
                created_at: utc_from_ms(r.get(6)?)?,
                pending_from: r.get(7)?,
            };
            if row.entity == ENTITY_BATCH {
                expand_batch(&self.conn, &row, limit, &mut out)?;
                continue;
            }
            let target = match row.entity {
                1 => OutboxTarget::Entry(row.entity_id),
                2 => OutboxTarget::Profile,
                3 => OutboxTarget::Prescription,
                e => return Err(StoreError::Codec(format!("unknown outbox entity {e}"))),
            };
            let op = match row.op {
                1 => OutboxOp::Insert,
                2 => OutboxOp::Update,
                3 => OutboxOp::Delete,
                o => return Err(StoreError::Codec(format!("unknown outbox op {o}"))),
            };
            out.push(OutboxItem {
                seq: row.seq,
                target,
                version: row.version,
                op,
                created_at: row.created_at,
            });
        }
        Ok(out)
    }

    /// Records that the changes `seqs` reached the server, in one transaction. Marking a change
    /// twice changes nothing; unknown sequence numbers are ignored (the server acknowledges what
    /// it received). An outbox row's `sent_ms` is when its last item was marked.
    pub fn mark_sent(&mut self, seqs: &[i64], now: DateTime<Utc>) -> Result<()> {
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        let tx = self.write_tx()?;
        let mut row: Option<SentState> = None;
        for s in seqs {
            if row.as_ref().is_none_or(|r| s > r.seq) {
                if let Some(r) = row.take() {
                    r.save(&tx, now)?;
                }
                row = SentState::load(&tx, s)?;
            }
            let Some(r) = row.as_mut() else { break };
            r.mark(s);
        }
        if let Some(r) = row {
            r.save(&tx, now)?;
        }
        // Raise the floor past the rows now sent; it only ever scans what was just marked.
        let floor = outbox_floor(&tx)?;
        let next: i64 = tx
            .prepare_cached(
                "SELECT coalesce(
                    (SELECT seq FROM outbox WHERE seq >= ?1 AND sent_ms IS NULL ORDER BY seq LIMIT 1),
                    (SELECT coalesce(max(seq), 0) + 1 FROM outbox))",
            )?
            .query_row([floor], |r| r.get(0))?;
        if next != floor {
            tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'outbox_floor'")?
                .execute([next.to_string()])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Number of changes not yet sent (each new entry of a batch counts as one).
    pub fn outbox_len(&self) -> Result<u64> {
        // Marks in `outbox_sent` only exist for items of unsent rows, above their pending_from.
        count_with(
            &self.conn,
            "SELECT coalesce(sum(seq - pending_from + 1), 0) - (SELECT count(*) FROM outbox_sent)
             FROM outbox WHERE seq >= ?1 AND sent_ms IS NULL",
            outbox_floor(&self.conn)?,
        )
    }
}

/// An unsent outbox row as read.
struct Row {
    seq: i64,
    first_seq: i64,
    entity: u8,
    entity_id: i64,
    version: u32,
    op: u8,
    created_at: DateTime<Utc>,
    pending_from: i64,
}

/// One `batches` row: the entries of one (source, kind) of the transaction.
struct Group {
    first_seq: i64,
    last_seq: i64,
    min_id: EntryId,
    max_id: EntryId,
}

/// Appends the unsent items of batch `row` to `out`, until it holds `limit` items.
fn expand_batch(
    conn: &Connection,
    row: &Row,
    limit: usize,
    out: &mut Vec<OutboxItem>,
) -> Result<()> {
    let lo = row.pending_from;
    let ahead: BTreeSet<i64> = conn
        .prepare_cached("SELECT seq FROM outbox_sent WHERE seq BETWEEN ?1 AND ?2")?
        .query_map([lo, row.seq], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let groups: Vec<Group> = conn
        .prepare_cached(
            "SELECT first_seq, last_seq, min_id, max_id FROM batches
             WHERE last_seq BETWEEN ?1 AND ?2 ORDER BY last_seq",
        )?
        .query_map([lo, row.seq], |r| {
            Ok(Group {
                first_seq: r.get(0)?,
                last_seq: r.get(1)?,
                min_id: r.get(2)?,
                max_id: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if groups.is_empty() || groups[0].first_seq > lo.max(row.first_seq) {
        return Err(StoreError::Codec(format!(
            "outbox batch {} has no batch map from item {lo}",
            row.seq
        )));
    }
    let mut items = conn.prepare_cached(
        "SELECT id, seq FROM entry_rows WHERE id BETWEEN ?1 AND ?2 AND seq BETWEEN ?3 AND ?4
         ORDER BY id",
    )?;
    for g in &groups {
        let from = lo.max(g.first_seq);
        let start = if from == g.first_seq {
            g.min_id
        } else {
            seek(conn, g, from)?
        };
        let mut rows = items.query(params![start, g.max_id, from, g.last_seq])?;
        while let Some(r) = rows.next()? {
            let (id, seq): (EntryId, i64) = (r.get(0)?, r.get(1)?);
            if ahead.contains(&seq) {
                continue;
            }
            out.push(OutboxItem {
                seq,
                target: OutboxTarget::Entry(id),
                version: 1,
                op: OutboxOp::Insert,
                created_at: row.created_at,
            });
            if out.len() >= limit {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// An id at or below the group's first entry with item number `from` or more, found by bisecting
/// the group's id range (its entries' item numbers grow with their ids), so that a partly sent
/// batch of a year of readings does not rescan what was sent.
fn seek(conn: &Connection, g: &Group, from: i64) -> Result<EntryId> {
    let mut probe = conn.prepare_cached(
        "SELECT id, seq FROM entry_rows WHERE id BETWEEN ?1 AND ?2 AND seq BETWEEN ?3 AND ?4
         ORDER BY id LIMIT 1",
    )?;
    let (mut a, mut b) = (g.min_id, g.max_id);
    while a < b {
        let mid = a + (b - a) / 2;
        // The group's last entry is at max_id, so there is always one at or after mid.
        let (id, seq): (EntryId, i64) = probe
            .query_row(params![mid, g.max_id, g.first_seq, g.last_seq], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if seq >= from {
            b = mid;
        } else {
            a = id + 1;
        }
    }
    Ok(a)
}

/// What of one outbox row is sent, while `mark_sent` works on it: worked out in memory, written
/// back once per row (marking a year of readings in order is one UPDATE).
struct SentState {
    seq: i64,
    first_seq: i64,
    pending_from: i64,
    /// Items of this row sent ahead of `pending_from`: stored ones and those marked now.
    ahead: BTreeSet<i64>,
    stored_ahead: usize,
    changed: bool,
}

impl SentState {
    /// The row holding item `s`, if any.
    fn load(conn: &Connection, s: i64) -> Result<Option<Self>> {
        let row = conn
            .prepare_cached(
                "SELECT seq, first_seq, pending_from FROM outbox WHERE seq >= ?1
                 ORDER BY seq LIMIT 1",
            )?
            .query_row([s], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((seq, first_seq, pending_from)) = row else {
            return Ok(None);
        };
        let ahead: BTreeSet<i64> = conn
            .prepare_cached("SELECT seq FROM outbox_sent WHERE seq BETWEEN ?1 AND ?2")?
            .query_map([pending_from, seq], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(Self {
            seq,
            first_seq,
            pending_from,
            stored_ahead: ahead.len(),
            ahead,
            changed: false,
        }))
    }

    /// Item `s` was sent: it extends the sent prefix (with the items sent ahead that follow it),
    /// or waits in `ahead`. Items of another row or already sent change nothing.
    fn mark(&mut self, s: i64) {
        if s < self.pending_from || s < self.first_seq || s > self.seq {
            return;
        }
        if s > self.pending_from {
            self.changed |= self.ahead.insert(s);
            return;
        }
        self.changed = true;
        self.pending_from += 1;
        while self.ahead.remove(&self.pending_from) {
            self.pending_from += 1;
        }
    }

    fn save(self, conn: &Connection, now: DateTime<Utc>) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        conn.prepare_cached(
            "UPDATE outbox SET pending_from = ?2, sent_ms = CASE WHEN ?2 > seq THEN ?3 END
             WHERE seq = ?1",
        )?
        .execute(params![self.seq, self.pending_from, ms(now)])?;
        if self.stored_ahead > 0 {
            // Stored marks the prefix has now reached.
            conn.prepare_cached("DELETE FROM outbox_sent WHERE seq BETWEEN ?1 AND ?2")?
                .execute([self.first_seq, self.pending_from - 1])?;
        }
        let mut add = conn
            .prepare_cached("INSERT INTO outbox_sent (seq) VALUES (?1) ON CONFLICT DO NOTHING")?;
        for s in self.ahead {
            add.execute([s])?;
        }
        Ok(())
    }
}

pub(crate) fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
    u64::try_from(n).map_err(|_| StoreError::Codec(format!("negative count {n}")))
}

fn count_with(conn: &Connection, sql: &str, p: i64) -> Result<u64> {
    let n: i64 = conn.prepare_cached(sql)?.query_row([p], |r| r.get(0))?;
    u64::try_from(n).map_err(|_| StoreError::Codec(format!("negative count {n}")))
}

/// Every outbox row below this sequence number was sent (see `schema.rs`).
fn outbox_floor(conn: &Connection) -> Result<i64> {
    let text: String = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'outbox_floor'")?
        .query_row([], |r| r.get(0))?;
    text.parse()
        .map_err(|_| StoreError::Codec(format!("invalid outbox floor {text:?}")))
}
